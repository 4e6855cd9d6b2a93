"""POST /api/auth/login: username (or email) + password against the Cognito user pool, then what
the account still needs (a new password, a TOTP code, a TOTP setup) — parley.auth.login.
POST /api/auth/mfa/setup: the first authenticator code of a setup → the tokens."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from parley.auth.login import LoginForm
from parley.auth.passwords import PASSWORD_POLICY
from parley.composition import auth as services
from parley.http import build_resolver, parse_body
from parley.observability import logger, tracer

app = build_resolver(billing_errors=False)


class LoginRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    username: str = Field(min_length=1, max_length=128)  # the username or the email
    password: str = Field(min_length=1, max_length=256)
    # With a temporary password (an invited agent): the password they choose (the one policy).
    new_password: str | None = Field(default=None, alias="newPassword", min_length=1,
                                     max_length=PASSWORD_POLICY.max_length)
    totp_code: str | None = Field(default=None, alias="totpCode", pattern=r"^[0-9]{6}$")
    setup_mfa: bool = Field(default=False, alias="setupMfa", strict=True)  # set up TOTP before signing in


class MfaSetupRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    setup_session: str = Field(alias="setupSession", min_length=20, max_length=100)
    totp_code: str = Field(alias="totpCode", pattern=r"^[0-9]{6}$")


@app.post("/api/auth/login")
def login() -> dict[str, Any]:
    request = parse_body(app, LoginRequest)
    form = LoginForm(username=request.username, password=request.password, new_password=request.new_password,
                     totp_code=request.totp_code, setup_mfa=request.setup_mfa)
    return services.login_service().login(form, app.current_event.request_context.http.source_ip or "unknown")


@app.post("/api/auth/mfa/setup")
def finish_mfa_setup() -> dict[str, Any]:
    request = parse_body(app, MfaSetupRequest)
    return services.login_service().finish_setup(request.setup_session, request.totp_code)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
