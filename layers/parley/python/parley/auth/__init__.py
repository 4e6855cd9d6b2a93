"""Authentication: signed visitor tokens and Cognito JWTs."""
