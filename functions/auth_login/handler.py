"""POST /api/auth/login: username + password against the Cognito user pool (USER_PASSWORD_AUTH)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from parley import aws
from parley.errors import InvalidCredentials
from parley.http import build_resolver, parse_body
from parley.observability import logger, tracer
from parley.settings import get_settings

app = build_resolver()


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


@app.post("/api/auth/login")
def login() -> dict[str, Any]:
    request = parse_body(app, LoginRequest)
    try:
        result = aws.cognito().initiate_auth(
            ClientId=get_settings().cognito_client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": request.username, "PASSWORD": request.password},
        )["AuthenticationResult"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NotAuthorizedException", "UserNotFoundException"):
            raise InvalidCredentials("wrong username or password") from exc
        raise
    return {"idToken": result["IdToken"], "accessToken": result["AccessToken"], "expiresIn": result["ExpiresIn"]}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
