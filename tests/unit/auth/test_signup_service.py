"""SignupService with in-memory ports: no user outlives a failed signup, a failed tenant creation
leaves the code usable, and a code is claimed by one verification only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from parley.auth.signup import ExistingUser, PendingSignup, SignupForm, SignupService
from parley.clock import ControlledClock
from parley.email.models import OutboxEmail
from parley.email.outbox import EmailOutbox
from parley.errors import InvalidRequest
from parley.ratelimit import RateLimiter

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FORM = SignupForm(company="Unit Co", email="  Ana@Example.TEST ", password="Unit-pass-2026!", website="https://u.test")


class Users:
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.confirmed: list[str] = []

    def find(self, email: str) -> ExistingUser | None:
        for name, user in self.users.items():
            if user["email"] == email:
                return ExistingUser(username=name, verified=user["verified"])
        return None

    def create(self, email: str, password: str) -> tuple[str, str]:
        name = f"u{len(self.users) + 1}"
        self.users[name] = {"email": email, "verified": False}
        return name, f"sub-{name}"

    def delete(self, username: str) -> None:
        self.users.pop(username, None)

    def confirm(self, username: str) -> None:
        self.users[username]["verified"] = True
        self.confirmed.append(username)


class Pending:
    def __init__(self) -> None:
        self.items: dict[str, PendingSignup] = {}
        self.emails: list[OutboxEmail] = []
        self.fail_put = False

    def put(self, pending: PendingSignup, email: OutboxEmail | None) -> bool:
        if self.fail_put:
            raise RuntimeError("DynamoDB is down")
        if pending.email in self.items:
            return False
        self.items[pending.email] = pending
        if email:
            self.emails.append(email)
        return True

    def get(self, email: str) -> PendingSignup | None:
        return self.items.get(email)

    def replace_code(self, pending: PendingSignup, email: OutboxEmail) -> bool:
        self.items[pending.email] = pending
        self.emails.append(email)
        return True

    def count_attempt(self, pending: PendingSignup) -> bool:
        current = self.items.get(pending.email)
        if current is None or current.attempts != pending.attempts:
            return False
        self.items[pending.email] = current.model_copy(update={"attempts": current.attempts + 1})
        return True

    def delete(self, email: str, username: str) -> bool:
        if email in self.items and self.items[email].username == username:
            del self.items[email]
            return True
        return False


class Tenancy:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.fail = False

    def signup(self, company: str, email: str, website: str, user_sub: str | None) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("Stripe is down")
        self.created.append(email)
        return {"clientId": f"cl_{len(self.created)}"}


class NoLimits:
    def take(self, key: tuple[str, str], limit: int, expires_at: datetime) -> bool:
        return True

    def counts(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {}


class Outbox(EmailOutbox):
    def __init__(self, clock: ControlledClock) -> None:
        super().__init__(store=None, clock=clock)  # type: ignore[arg-type]  # compose() only


def service() -> tuple[SignupService, Users, Pending, Tenancy]:
    clock = ControlledClock()
    clock.set(NOW)
    users, pending, tenancy = Users(), Pending(), Tenancy()
    signup = SignupService(users, pending, tenancy, Outbox(clock), RateLimiter(NoLimits()), clock)
    return signup, users, pending, tenancy


def code_of(pending: Pending) -> str:
    return pending.emails[-1].text.split("is:\n\n    ")[1][:6]


def test_a_failure_after_the_user_exists_deletes_the_user() -> None:
    signup, users, pending, _ = service()
    pending.fail_put = True
    with pytest.raises(RuntimeError):
        signup.start(FORM, "10.0.0.1")
    assert users.users == {}


def test_a_weak_password_creates_nothing() -> None:
    signup, users, _, _ = service()
    with pytest.raises(InvalidRequest):
        signup.start(FORM.model_copy(update={"password": "password"}), "10.0.0.1")
    assert users.users == {}


def test_the_email_is_normalized_and_the_tenant_waits_for_the_code() -> None:
    signup, users, pending, tenancy = service()
    assert signup.start(FORM, "10.0.0.1")["email"] == "ana@example.test"
    assert [u["email"] for u in users.users.values()] == ["ana@example.test"] and tenancy.created == []
    assert signup.verify("ANA@example.test", code_of(pending)) == {"clientId": "cl_1"}
    assert tenancy.created == ["ana@example.test"] and users.confirmed == ["u1"]


def test_a_failed_tenant_creation_keeps_the_code_usable() -> None:
    signup, users, pending, tenancy = service()
    signup.start(FORM, "10.0.0.1")
    code = code_of(pending)
    tenancy.fail = True
    with pytest.raises(RuntimeError):
        signup.verify("ana@example.test", code)
    assert users.confirmed == [] and "ana@example.test" in pending.items
    tenancy.fail = False
    assert signup.verify("ana@example.test", code) == {"clientId": "cl_1"}
    assert tenancy.created == ["ana@example.test"]
