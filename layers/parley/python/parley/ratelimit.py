"""Fixed-window rate limits: at most `limit` events per `window_seconds` per subject (an IP, an
email domain, a user, a visitor). One module for every HTTP limit (offline forms, signups,
logins); the counters live in DynamoDB (parley.repositories.ratelimits: one conditional
UpdateItem per counted event, expired by TTL), so they hold across Lambda environments.

A refusal is `RateLimited` (429 `rate_limited` with `retryAfter` seconds and a `Retry-After`
header, docs/protocol.md); nothing else is written when a limit refuses.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from parley.errors import ParleyError


class RateLimited(ParleyError):
    """429: too many requests from this subject; `retry_after` seconds until the window ends."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def details(self) -> dict[str, Any]:
        return {"retryAfter": self.retry_after}


class FixedWindow(BaseModel):
    """`limit` events per window of `window_seconds`, windows aligned on the epoch."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z_]+$")  # names the counter: RATE#{name}#{subject}
    limit: int = Field(ge=1)
    window_seconds: int = Field(ge=1)

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        epoch = int(now.timestamp())
        start = datetime.fromtimestamp(epoch - epoch % self.window_seconds, tz=UTC)
        return start, start + timedelta(seconds=self.window_seconds)

    def window_label(self, now: datetime) -> str:
        return self.window(now)[0].strftime("%Y%m%dT%H%M%S")

    def retry_after(self, now: datetime) -> int:
        return max(1, math.ceil((self.window(now)[1] - now).total_seconds()))

    def refusal(self, now: datetime, what: str = "requests") -> RateLimited:
        retry = self.retry_after(now)
        return RateLimited(f"too many {what}; try again in {retry} seconds", retry)


class Counter(BaseModel):
    """One window's counter of one subject."""

    model_config = ConfigDict(frozen=True)

    limit: FixedWindow
    subject: str

    def key(self, now: datetime) -> tuple[str, str]:
        return f"RATE#{self.limit.name}#{self.subject}", self.limit.window_label(now)


class CounterStore(Protocol):
    def take(self, key: tuple[str, str], limit: int, expires_at: datetime) -> bool:
        """Count one event unless the counter is at `limit`: True if counted."""
        ...

    def counts(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The current values (absent counters are 0)."""
        ...


class RateLimiter:
    def __init__(self, store: CounterStore) -> None:
        self._store = store

    def take(self, counters: list[Counter], now: datetime, what: str = "requests") -> None:
        """Count one event on every counter, in order; the first at its limit refuses (the ones
        before it have counted this attempt, which a refused flood deserves)."""
        for counter in counters:
            expires = counter.limit.window(now)[1] + timedelta(seconds=counter.limit.window_seconds)
            if not self._store.take(counter.key(now), counter.limit.limit, expires):
                raise counter.limit.refusal(now, what)

    def check(self, counters: list[Counter], now: datetime, what: str = "requests") -> None:
        """Refuse if any counter is at its limit, counting nothing (for failures-only limits:
        `check` before the attempt, `take` after a failure)."""
        if not counters:
            return
        found = self._store.counts([c.key(now) for c in counters])
        for counter in counters:
            if found.get(counter.key(now), 0) >= counter.limit.limit:
                raise counter.limit.refusal(now, what)

    def record(self, counters: list[Counter], now: datetime) -> None:
        """Count a failure on every counter (never refuses: the next `check` does)."""
        for counter in counters:
            expires = counter.limit.window(now)[1] + timedelta(seconds=counter.limit.window_seconds)
            self._store.take(counter.key(now), 1_000_000, expires)
