"""Self-service signup in two steps: `start` creates the Cognito user (opaque username, the email
as an unverified attribute) and mails a 6-digit code; `verify` checks the code and only then
creates the tenant (client, billing account, trial workflow) and puts the user in `clients`.

Why the tenant waits for the code: an unverified signup costs nothing but a Cognito user and a
pending item (no Stripe customer, no workflow, no client), so a flood of fake signups, already
bounded per IP and per email domain, leaves nothing behind that matters.

Invariants:
- the email is trimmed and lower-cased before any use (one account per mailbox, any case);
- the password is checked against the one policy (parley.auth.passwords) before Cognito sees
  it, and a user whose creation fails at any step is deleted: a refused signup never blocks
  the email;
- an unverified user cannot sign in (`email_not_verified`, functions/auth_login) and is
  replaced by the next signup with the same email, so nobody can squat someone else's address;
- a code is 6 digits, stored hashed, valid `CODE_TTL`, at most `MAX_ATTEMPTS` guesses; a
  resend replaces it (rate-limited per email).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from parley.auth.passwords import PASSWORD_POLICY
from parley.clock import Clock
from parley.email.models import OutboxEmail
from parley.email.outbox import EmailOutbox
from parley.errors import Conflict, InvalidRequest
from parley.observability import logger
from parley.ratelimit import Counter, FixedWindow, RateLimiter

CODE_TTL = timedelta(minutes=15)
MAX_ATTEMPTS = 5


def normalize_email(email: str) -> str:
    """The one form of an address everywhere (Cognito attribute, lookups, limits, the ledger)."""
    return email.strip().lower()


class EmailTaken(Conflict):
    code = "email_taken"


class InvalidCode(InvalidRequest):
    """Wrong code, or no signup waiting for this email (indistinguishable on purpose)."""

    code = "invalid_code"


class CodeExpired(InvalidRequest):
    """The code's time or its guesses ran out: ask for a new one (`POST /api/signup/resend`)."""

    code = "code_expired"


class SignupLimits(BaseModel):
    """Per source IP and per email domain (new signups), per email (code resends)."""

    model_config = ConfigDict(frozen=True)

    per_ip: FixedWindow = FixedWindow(name="signup_ip", limit=10, window_seconds=3600)
    per_domain: FixedWindow = FixedWindow(name="signup_domain", limit=30, window_seconds=3600)
    resend_per_email: FixedWindow = FixedWindow(name="signup_resend", limit=5, window_seconds=3600)


class ExistingUser(BaseModel):
    username: str
    verified: bool


class PendingSignup(BaseModel):
    """A signup waiting for its code (data table: SIGNUP#{email} / PENDING)."""

    email: str
    username: str  # the Cognito user's opaque username
    sub: str
    company: str
    website: str
    code_hash: str
    salt: str
    expires_at: datetime
    attempts: int = 0
    created_at: datetime


class SignupUsers(Protocol):
    def find(self, email: str) -> ExistingUser | None: ...
    def create(self, email: str, password: str) -> tuple[str, str]:
        """(username, sub) of a new user with a permanent password; nothing is left on failure."""
        ...
    def delete(self, username: str) -> None: ...
    def confirm(self, username: str) -> None:
        """email_verified = true and the `clients` group."""
        ...


class PendingStore(Protocol):
    def put(self, pending: PendingSignup, email: OutboxEmail | None) -> bool:
        """Store the pending signup and its email together; False if one is already pending."""
        ...
    def get(self, email: str) -> PendingSignup | None: ...
    def replace_code(self, pending: PendingSignup, email: OutboxEmail) -> bool: ...
    def count_attempt(self, pending: PendingSignup) -> bool:
        """attempts + 1 if still `pending.attempts` (False: another guess came first)."""
        ...
    def delete(self, email: str, username: str) -> bool:
        """Remove it if it is still this user's (False: already gone or replaced)."""
        ...


class Tenancy(Protocol):
    def signup(self, company: str, email: str, website: str, user_sub: str | None) -> dict[str, Any]: ...


class SignupForm(BaseModel):
    company: str
    email: str
    password: str
    website: str


def _hash(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


class SignupService:
    def __init__(self, users: SignupUsers, pending: PendingStore, tenancy: Tenancy, outbox: EmailOutbox,
                 limiter: RateLimiter, clock: Clock) -> None:
        self._users = users
        self._pending = pending
        self._tenancy = tenancy
        self._outbox = outbox
        self._limiter = limiter
        self._clock = clock
        self.limits = SignupLimits()  # replaceable (a deployment's own limits, tests)

    def start(self, form: SignupForm, source_ip: str) -> dict[str, Any]:
        email = normalize_email(form.email)
        PASSWORD_POLICY.check(form.password)
        now = self._clock.now()
        domain = email.rsplit("@", 1)[-1]
        self._limiter.take([Counter(limit=self.limits.per_ip, subject=source_ip),
                            Counter(limit=self.limits.per_domain, subject=domain)], now, "signups")
        existing = self._users.find(email)
        if existing is not None:
            if existing.verified:
                raise EmailTaken("an account with this email exists; log in instead")
            # Nobody proved this mailbox: an abandoned (or someone else's) signup gives way.
            self._pending.delete(email, existing.username)
            self._users.delete(existing.username)
        username, sub = self._users.create(email, form.password)
        try:
            code, pending = self._new_code(email, now, username=username, sub=sub, company=form.company,
                                           website=form.website)
            if not self._pending.put(pending, self._code_email(pending, code)):
                raise EmailTaken("a signup with this email is in progress; use the code we sent")
        except BaseException:
            self._users.delete(username)  # atomic: no user outlives a failed signup
            raise
        logger.info("signup pending", username=username, domain=domain)
        return {"status": "verification_sent", "email": email,
                "expiresIn": int(CODE_TTL.total_seconds())}

    def verify(self, email: str, code: str) -> dict[str, Any]:
        email = normalize_email(email)
        now = self._clock.now()
        pending = self._pending.get(email)
        if pending is None:
            raise InvalidCode("this code is not valid")
        if pending.expires_at <= now or pending.attempts >= MAX_ATTEMPTS:
            raise CodeExpired("this code has expired; ask for a new one")
        if not self._pending.count_attempt(pending):
            raise InvalidCode("this code is not valid")  # a concurrent guess took this attempt
        if not hmac.compare_digest(_hash(code, pending.salt), pending.code_hash):
            left = MAX_ATTEMPTS - pending.attempts - 1
            raise InvalidCode(f"this code is not valid ({left} tries left)" if left else
                              "this code is not valid; ask for a new one")
        # Claim it: of two right guesses at once, one creates the tenant.
        if not self._pending.delete(email, pending.username):
            raise InvalidCode("this code is not valid")
        try:
            result = self._tenancy.signup(pending.company, email, pending.website, pending.sub)
            self._users.confirm(pending.username)
        except BaseException:
            self._pending.put(pending, None)  # the code stays usable: a retry can finish the signup
            raise
        logger.info("signup verified", client_id=result.get("clientId"))
        return result

    def resend(self, email: str) -> dict[str, Any]:
        email = normalize_email(email)
        now = self._clock.now()
        self._limiter.take([Counter(limit=self.limits.resend_per_email, subject=email)], now, "codes")
        pending = self._pending.get(email)
        if pending is not None:
            code, fresh = self._new_code(email, now, username=pending.username, sub=pending.sub,
                                         company=pending.company, website=pending.website)
            self._pending.replace_code(fresh, self._code_email(fresh, code))
        # The same answer whether or not a signup is pending: it tells nothing about the address.
        return {"status": "verification_sent", "email": email, "expiresIn": int(CODE_TTL.total_seconds())}

    def _new_code(self, email: str, now: datetime, **fields: str) -> tuple[str, PendingSignup]:
        code = f"{secrets.randbelow(1_000_000):06d}"
        salt = secrets.token_hex(8)
        pending = PendingSignup(email=email, code_hash=_hash(code, salt), salt=salt, expires_at=now + CODE_TTL,
                                created_at=now, **fields)
        return code, pending

    def _code_email(self, pending: PendingSignup, code: str) -> OutboxEmail:
        return self._outbox.compose(
            to=[pending.email], template="signup.verification", key=f"signup-{pending.email}-{pending.salt}",
            data={"code": code, "company": pending.company,
                  "expires_in_minutes": str(int(CODE_TTL.total_seconds() // 60))})


__all__ = ["CODE_TTL", "MAX_ATTEMPTS", "CodeExpired", "EmailTaken", "InvalidCode", "PendingSignup",
           "SignupForm", "SignupLimits", "SignupService", "normalize_email"]
