"""The password policy's rules and the fixed-window limiter at their edges (an in-memory counter
store; the DynamoDB one is exercised by tests/integration/test_signup.py and test_login.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.auth.passwords import PASSWORD_POLICY, SYMBOLS
from parley.errors import InvalidRequest
from parley.ratelimit import Counter, FixedWindow, RateLimited, RateLimiter

NOW = datetime(2026, 3, 2, 17, 59, 30, tzinfo=UTC)


@pytest.mark.parametrize(("password", "missing"), [
    ("password", ["at least 12 characters", "an upper-case letter", "a digit", "a symbol"]),
    ("Short-p4ss!", ["at least 12 characters"]),  # 11: the old API accepted it, the pool never did
    ("Long-enough-pass", ["a digit"]),
    ("long-enough-p4ss", ["an upper-case letter"]),
    ("LONG-ENOUGH-P4SS", ["a lower-case letter"]),
    ("Longenoughp4ss", ["a symbol"]),
    (" Longenoughp4ss ", ["a symbol"]),  # a space counts only inside
    ("Long enough p4ss", []),
    ("Long-enough-p4ss", []),
    ("Aa1!" + "x" * 125, ["at most 128 characters"]),
])
def test_the_policy_names_what_a_password_lacks(password: str, missing: list[str]) -> None:
    assert PASSWORD_POLICY.problems(password) == missing


def test_every_cognito_symbol_counts_and_a_refusal_names_the_field() -> None:
    for symbol in SYMBOLS:
        assert PASSWORD_POLICY.problems(f"Longenoughp4s{symbol}") == [], symbol
    with pytest.raises(InvalidRequest, match=r"^newPassword: needs at least 12 characters"):
        PASSWORD_POLICY.check("Sh0rt!", "newPassword")


class Store:
    """The CounterStore port in memory."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], int] = {}

    def take(self, key: tuple[str, str], limit: int, expires_at: datetime) -> bool:
        if self.values.get(key, 0) >= limit:
            return False
        self.values[key] = self.values.get(key, 0) + 1
        return True

    def counts(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return {k: self.values[k] for k in keys if k in self.values}


def test_a_window_refuses_past_its_limit_until_it_ends_and_retry_after_counts_to_the_end() -> None:
    store = Store()
    limiter = RateLimiter(store)
    per_ip = Counter(limit=FixedWindow(name="signup_ip", limit=2, window_seconds=60), subject="10.0.0.1")
    limiter.take([per_ip], NOW)
    limiter.take([per_ip], NOW)
    with pytest.raises(RateLimited) as refused:
        limiter.take([per_ip], NOW)
    assert refused.value.retry_after == 30 and refused.value.details() == {"retryAfter": 30}
    with pytest.raises(RateLimited) as refused:
        limiter.take([per_ip], NOW + timedelta(seconds=29, microseconds=500_000))
    assert refused.value.retry_after == 1  # never 0
    limiter.take([per_ip], NOW + timedelta(seconds=30))  # the next window


def test_failures_only_limits_check_without_counting() -> None:
    store = Store()
    limiter = RateLimiter(store)
    user = Counter(limit=FixedWindow(name="login_user", limit=2, window_seconds=900), subject="ana")
    for _ in range(5):
        limiter.check([user], NOW)  # successes count nothing
    limiter.record([user], NOW)
    limiter.check([user], NOW)
    limiter.record([user], NOW)
    with pytest.raises(RateLimited):
        limiter.check([user], NOW)
    assert store.values[user.key(NOW)] == 2
