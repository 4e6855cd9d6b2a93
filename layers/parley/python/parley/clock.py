"""Time comes from a clock object, never from `datetime.now()` inside rules.

On AWS the clock is the system clock. The local stack installs a `ControlledClock` so a
person (or a test) can move time forward and watch a month of billing happen.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ControlledClock:
    """A clock that runs at real speed from an offset that can be moved forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0) if start is None else start - datetime.now(UTC)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            return self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
                return self._frozen
            self._offset += delta
            return datetime.now(UTC) + self._offset

    def set(self, moment: datetime) -> None:
        """Jump to `moment` (tests and the scenario runner; frozen there until moved)."""
        with self._lock:
            self._frozen = moment

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen is not None

    def unfreeze(self) -> None:
        """Run at real speed again from the current (frozen) moment."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
                self._frozen = None


_clock: Clock = SystemClock()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock) -> None:
    global _clock
    _clock = clock


def utcnow() -> datetime:
    return _clock.now()


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
