"""POST /api/auth/login: username (or email) + password against the Cognito user pool
(USER_PASSWORD_AUTH); an invited user's first sign-in also sets their own password."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from parley import aws
from parley.errors import Conflict, InvalidCredentials, InvalidRequest
from parley.http import build_resolver, parse_body
from parley.observability import logger, tracer
from parley.settings import get_settings

app = build_resolver()


class NewPasswordRequired(Conflict):
    """An invited user signs in with a temporary password: they must choose their own."""

    code = "new_password_required"


class LoginRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    username: str = Field(min_length=1, max_length=128)  # the username or the email
    password: str = Field(min_length=1, max_length=256)
    # With a temporary password (an invited agent): the password they choose.
    new_password: str | None = Field(default=None, alias="newPassword", min_length=8, max_length=256)


def _username(given: str) -> str:
    """Staff invited by an admin have opaque usernames and sign in with their email (an alias
    on AWS; moto has no aliases, so the email is looked up the same way everywhere)."""
    if "@" not in given:
        return given
    found = aws.cognito().list_users(UserPoolId=get_settings().cognito_user_pool_id,
                                     Filter=f'email = "{given.lower()}"', Limit=1).get("Users") or []
    return found[0]["Username"] if found else given


def _authenticate(request: LoginRequest) -> dict[str, Any]:
    cognito, client_id = aws.cognito(), get_settings().cognito_client_id
    username = _username(request.username)
    reply = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": username, "PASSWORD": request.password})
    if reply.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        if not request.new_password:
            raise NewPasswordRequired("choose a new password (send it as newPassword with the temporary one)")
        reply = cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=reply["Session"],
            ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": request.new_password})
    return dict(reply["AuthenticationResult"])


@app.post("/api/auth/login")
def login() -> dict[str, Any]:
    request = parse_body(app, LoginRequest)
    try:
        result = _authenticate(request)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise InvalidCredentials("wrong username or password") from exc
        if code == "InvalidPasswordException":
            raise InvalidRequest(f"newPassword: {exc.response['Error'].get('Message', 'not accepted')}") from exc
        raise
    return {"idToken": result["IdToken"], "accessToken": result["AccessToken"], "expiresIn": result["ExpiresIn"]}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
