"""Repositories: the only doors to DynamoDB."""
