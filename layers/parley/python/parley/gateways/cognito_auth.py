"""The IdentityProvider port of parley.auth.login over the Cognito user pool (USER_PASSWORD_AUTH
on the app client, TOTP through AssociateSoftwareToken / VerifySoftwareToken).

The app client is confidential: every InitiateAuth / RespondToAuthChallenge carries a
SECRET_HASH made with the client secret, which only the login function can read (Secrets
Manager). Anyone holding the public client id alone is refused by Cognito, so sign-in cannot go
around this function's rate limits and forced TOTP setup (docs/security.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from parley import aws
from parley.auth.login import AuthStep, CodeMismatch, PoolUser, Tokens, WrongCredentials
from parley.errors import InvalidRequest
from parley.settings import get_settings


def secret_hash(client_secret: str, client_id: str, username: str) -> str:
    """Cognito's SECRET_HASH: base64 of HMAC-SHA256(key=client secret, message=username + client id)."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _client_secret() -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(get_settings().cognito_client_secret_name, max_age=300)
    return value.decode() if isinstance(value, bytes) else str(value)


def _step(reply: dict[str, Any]) -> AuthStep:
    result = reply.get("AuthenticationResult")
    if result:
        return AuthStep(tokens=Tokens(id_token=result["IdToken"], access_token=result["AccessToken"],
                                      expires_in=int(result["ExpiresIn"])))
    return AuthStep(challenge=str(reply.get("ChallengeName", "")), session=str(reply.get("Session", "")))


def _refused(exc: ClientError) -> Exception | None:
    code = exc.response["Error"]["Code"]
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return WrongCredentials()
    if code in ("CodeMismatchException", "EnableSoftwareTokenMFAException", "ExpiredCodeException"):
        return CodeMismatch()
    if code == "InvalidPasswordException":
        return InvalidRequest(f"newPassword: {exc.response['Error'].get('Message', 'not accepted')}")
    return None


def _call(method: Any, **kwargs: Any) -> Any:
    try:
        return method(**kwargs)
    except ClientError as exc:
        mapped = _refused(exc)
        if mapped is None:
            raise
        raise mapped from exc


class CognitoIdentityProvider:
    def __init__(self, client_secret: Callable[[], str] = _client_secret) -> None:
        settings = get_settings()
        self._pool = settings.cognito_user_pool_id
        self._client_id = settings.cognito_client_id
        self._client_secret = client_secret  # read per call: cached 5 minutes by Powertools

    def _hash(self, username: str) -> str:
        return secret_hash(self._client_secret(), self._client_id, username)

    def find(self, given: str) -> PoolUser | None:
        """Staff invited by an admin and self-service clients have opaque usernames and sign in
        with their email (an alias on AWS; moto has no aliases, so it is looked up the same way
        everywhere)."""
        if '"' in given or "\\" in given:
            return None  # it could not be quoted in the filter, and no username or email has one
        attribute = "email" if "@" in given else "username"
        found = aws.cognito().list_users(UserPoolId=self._pool, Filter=f'{attribute} = "{given}"',
                                         Limit=1).get("Users") or []
        if not found:
            return None
        attributes = {a["Name"]: a.get("Value", "") for a in found[0].get("Attributes", [])}
        return PoolUser(username=found[0]["Username"], email=attributes.get("email", ""),
                        email_verified=attributes.get("email_verified") == "true")

    def password_auth(self, username: str, password: str) -> AuthStep:
        return _step(_call(aws.cognito().initiate_auth, ClientId=self._client_id, AuthFlow="USER_PASSWORD_AUTH",
                           AuthParameters={"USERNAME": username, "PASSWORD": password,
                                           "SECRET_HASH": self._hash(username)}))

    def new_password(self, username: str, session: str, new_password: str) -> AuthStep:
        return _step(_call(aws.cognito().respond_to_auth_challenge, ClientId=self._client_id,
                           ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
                           ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password,
                                               "SECRET_HASH": self._hash(username)}))

    def answer_totp(self, username: str, session: str, code: str) -> AuthStep:
        return _step(_call(aws.cognito().respond_to_auth_challenge, ClientId=self._client_id,
                           ChallengeName="SOFTWARE_TOKEN_MFA", Session=session,
                           ChallengeResponses={"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code,
                                               "SECRET_HASH": self._hash(username)}))

    def start_totp_setup(self, access_token: str) -> str:
        return str(_call(aws.cognito().associate_software_token, AccessToken=access_token)["SecretCode"])

    def finish_totp_setup(self, access_token: str, code: str) -> None:
        idp = aws.cognito()
        verified = _call(idp.verify_software_token, AccessToken=access_token, UserCode=code,
                         FriendlyDeviceName="Parley")
        if verified.get("Status") != "SUCCESS":
            raise CodeMismatch()
        _call(idp.set_user_mfa_preference, AccessToken=access_token,
              SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
