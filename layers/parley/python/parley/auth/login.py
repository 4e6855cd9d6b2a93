"""Sign-in (`POST /api/auth/login`, `POST /api/auth/mfa/setup`): the password against the user
pool, then what the account still needs before tokens are handed out.

- Brute force is slowed by failures-only counters, per user (the name given) and per source IP
  (parley.ratelimit): at the limit every attempt, right password included, is refused with
  429 `rate_limited` until the window ends; a success counts nothing.
- A user whose email is not verified (a signup without its code) gets no tokens
  (403 `email_not_verified`).
- TOTP MFA: a user who enabled it must send `totpCode` (409 `mfa_required` without it). Staff
  with the admin or supervisor role MUST have it: their first password sign-in without it gets
  no tokens but a setup (409 `mfa_setup_required` with the secret); any user may ask for the
  same setup with `setupMfa: true`. The setup is finished by `POST /api/auth/mfa/setup` with a
  code from the authenticator, which enables MFA and only then returns the tokens.
  Between the two requests the tokens Cognito issued are held server-side, encrypted with a key
  derived from the setup session that only the browser holds (parley.repositories.mfa_setups).
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from parley.auth.passwords import PASSWORD_POLICY
from parley.auth.roles import Group
from parley.auth.signup import normalize_email
from parley.clock import Clock
from parley.errors import Conflict, Forbidden, InvalidCredentials, ParleyError, Unauthorized
from parley.observability import logger
from parley.ratelimit import Counter, FixedWindow, RateLimiter

# Who must sign in with a second factor (docs/protocol.md: HTTP authentication).
MFA_REQUIRED_GROUPS = frozenset({Group.ADMINS.value, Group.SUPERVISORS.value})
SETUP_TTL = timedelta(minutes=10)
MAX_SETUP_ATTEMPTS = 5
TOTP_ISSUER = "Parley"


class NewPasswordRequired(Conflict):
    """An invited user signs in with a temporary password: they must choose their own."""

    code = "new_password_required"


class EmailNotVerified(Forbidden):
    code = "email_not_verified"


class MfaRequired(Conflict):
    """The account has TOTP enabled: send the authenticator's code as `totpCode`."""

    code = "mfa_required"


class InvalidMfaCode(Unauthorized):
    code = "invalid_mfa_code"


class MfaSetupRequired(ParleyError):
    """No tokens until TOTP is set up: the reply carries the secret and the setup session."""

    code = "mfa_setup_required"
    status = 409

    def __init__(self, message: str, setup: dict[str, Any]) -> None:
        super().__init__(message)
        self.setup = setup

    def details(self) -> dict[str, Any]:
        return self.setup


class LoginLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    failures_per_user: FixedWindow = FixedWindow(name="login_user", limit=10, window_seconds=900)
    failures_per_ip: FixedWindow = FixedWindow(name="login_ip", limit=50, window_seconds=900)


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    expires_in: int

    def public(self) -> dict[str, Any]:
        return {"idToken": self.id_token, "accessToken": self.access_token, "expiresIn": self.expires_in}

    def claims(self) -> dict[str, Any]:
        """The id token's payload, unverified: it came straight from Cognito over TLS, and only
        decides what more to ask of this caller (every API verifies tokens itself)."""
        payload = self.id_token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@dataclass(frozen=True)
class AuthStep:
    """What the pool answered: tokens, or a challenge (name + session)."""

    tokens: Tokens | None = None
    challenge: str = ""
    session: str = ""


@dataclass(frozen=True)
class PoolUser:
    username: str
    email: str
    email_verified: bool


class WrongCredentials(Exception):
    """The pool refused the username/password (or the user does not exist)."""


class CodeMismatch(Exception):
    """The pool refused a TOTP code."""


class IdentityProvider(Protocol):
    def find(self, given: str) -> PoolUser | None: ...
    def password_auth(self, username: str, password: str) -> AuthStep: ...
    def new_password(self, username: str, session: str, new_password: str) -> AuthStep: ...
    def answer_totp(self, username: str, session: str, code: str) -> AuthStep: ...
    def start_totp_setup(self, access_token: str) -> str:
        """A new TOTP secret (base32) for the user of this access token."""
        ...
    def finish_totp_setup(self, access_token: str, code: str) -> None:
        """Verify the first code and make TOTP the user's enabled, preferred MFA."""
        ...


class HeldSetup(BaseModel):
    tokens: dict[str, Any]
    attempts: int = 0
    expires_at: datetime


class SetupStore(Protocol):
    def hold(self, session: str, held: HeldSetup) -> None: ...
    def get(self, session: str) -> HeldSetup | None: ...
    def count_attempt(self, session: str, seen: int) -> bool: ...
    def drop(self, session: str) -> None: ...


class LoginForm(BaseModel):
    username: str
    password: str
    new_password: str | None = None
    totp_code: str | None = None
    setup_mfa: bool = False


class LoginService:
    def __init__(self, idp: IdentityProvider, setups: SetupStore, limiter: RateLimiter, clock: Clock) -> None:
        self._idp = idp
        self._setups = setups
        self._limiter = limiter
        self._clock = clock
        self.limits = LoginLimits()  # replaceable (a deployment's own limits, tests)

    def login(self, form: LoginForm, source_ip: str) -> dict[str, Any]:
        now = self._clock.now()
        given = normalize_email(form.username)  # usernames are case-insensitive too
        user = self._idp.find(given)
        username = user.username if user else given
        # Per user whichever name they give (email or username), and per source IP.
        counters = [Counter(limit=self.limits.failures_per_user, subject=username.lower()),
                    Counter(limit=self.limits.failures_per_ip, subject=source_ip)]
        self._limiter.check(counters, now, "failed sign-ins")
        try:
            tokens, with_mfa = self._authenticate(username, form)
        except (WrongCredentials, CodeMismatch) as exc:
            self._limiter.record(counters, now)
            if isinstance(exc, CodeMismatch):
                raise InvalidMfaCode("wrong or expired authenticator code") from exc
            raise InvalidCredentials("wrong username or password") from exc
        if user is not None and not user.email_verified:
            raise EmailNotVerified("confirm your email first: enter the code we sent (or ask for a new one)")
        groups = set(tokens.claims().get("cognito:groups", []))
        if not with_mfa and (form.setup_mfa or groups & MFA_REQUIRED_GROUPS):
            raise MfaSetupRequired(
                "set up an authenticator app: scan the code, then send its first code to /api/auth/mfa/setup"
                if not form.setup_mfa else "scan the code with an authenticator app, then confirm its first code",
                self._start_setup(tokens, user.email if user else given, now))
        return tokens.public()

    def _authenticate(self, username: str, form: LoginForm) -> tuple[Tokens, bool]:
        step = self._idp.password_auth(username, form.password)
        if step.challenge == "NEW_PASSWORD_REQUIRED":
            if not form.new_password:
                raise NewPasswordRequired("choose a new password (send it as newPassword with the temporary one)")
            PASSWORD_POLICY.check(form.new_password, "newPassword")
            step = self._idp.new_password(username, step.session, form.new_password)
        with_mfa = step.challenge == "SOFTWARE_TOKEN_MFA"
        if with_mfa:
            if not form.totp_code:
                raise MfaRequired("enter the code from your authenticator app (send it as totpCode)")
            step = self._idp.answer_totp(username, step.session, form.totp_code)
        if step.tokens is None:
            logger.warning("unexpected sign-in challenge", challenge=step.challenge)
            raise InvalidCredentials(f"this sign-in needs a step the service does not offer ({step.challenge})")
        return step.tokens, with_mfa

    def _start_setup(self, tokens: Tokens, label: str, now: datetime) -> dict[str, Any]:
        secret = self._idp.start_totp_setup(tokens.access_token)
        session = secrets.token_urlsafe(32)
        self._setups.hold(session, HeldSetup(tokens=tokens.public(), expires_at=now + SETUP_TTL))
        uri = f"otpauth://totp/{quote(TOTP_ISSUER)}:{quote(label)}?secret={secret}&issuer={quote(TOTP_ISSUER)}"
        return {"setupSession": session, "secretCode": secret, "otpauthUri": uri,
                "expiresIn": int(SETUP_TTL.total_seconds())}

    def finish_setup(self, session: str, code: str) -> dict[str, Any]:
        now = self._clock.now()
        held = self._setups.get(session)
        if held is None or held.expires_at <= now or held.attempts >= MAX_SETUP_ATTEMPTS:
            raise Unauthorized("this setup has expired; sign in again")
        if not self._setups.count_attempt(session, held.attempts):
            raise Unauthorized("this setup has expired; sign in again")
        try:
            self._idp.finish_totp_setup(str(held.tokens["accessToken"]), code)
        except CodeMismatch as exc:
            raise InvalidMfaCode("wrong or expired authenticator code") from exc
        self._setups.drop(session)
        return dict(held.tokens)
