"""Fires the declared schedules from their cron expressions against the controllable clock.

moto stores EventBridge schedules but never fires them (measured), so the local stack
does: `run_until(moment)` fires, in time order, every occurrence in (last run, moment] —
a person moving the clock a month forward sees every daily run of that month happen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from infra.cron import Cron
from infra.wiring import Schedule
from parley.clock import iso
from parley.interfaces import SchedulePayload


class LocalScheduler:
    def __init__(self, schedules: Sequence[Schedule], invoke: Callable[[str, dict[str, Any]], Any],
                 start: datetime) -> None:
        self._entries: list[tuple[Schedule, Cron, tzinfo]] = [
            (s, Cron.parse(s.cron), ZoneInfo(s.timezone)) for s in schedules]
        self._invoke = invoke
        self._last = start
        self._lock = threading.Lock()
        self.fired: list[tuple[str, datetime]] = []

    def set_zone(self, zone: tzinfo) -> None:
        """The provider's business time zone (its billing policy's), as the deployment sets it."""
        self._entries = [(s, cron, zone) for s, cron, _ in self._entries]

    def take_due(self, until: datetime) -> list[tuple[datetime, Schedule]]:
        """The occurrences in (last run, until], in time order; they count as fired from now on."""
        with self._lock:
            if until <= self._last:
                return []
            due = sorted(
                ((when, schedule) for schedule, cron, zone in self._entries
                 for when in self._occurrences(schedule, cron.fire_times(self._last, until, zone))),
                key=lambda pair: (pair[0], pair[1].name),
            )
            self._last = until
        return due

    @staticmethod
    def _occurrences(schedule: Schedule, times: list[datetime]) -> list[datetime]:
        """A sweep that does not catch up (every-minute routing sweep) fires once, at the latest
        missed occurrence, however far the clock jumped."""
        return times if schedule.catch_up else times[-1:]

    def fire(self, when: datetime, schedule: Schedule) -> None:
        self._invoke(schedule.function, SchedulePayload.template(schedule.name, iso(when)))
        self.fired.append((schedule.name, when))

    def run_until(self, moment: datetime) -> int:
        """Fire what is due by `moment` (the real-time ticker of `make dev`)."""
        due = self.take_due(moment)
        for when, schedule in due:
            self.fire(when, schedule)
        return len(due)
