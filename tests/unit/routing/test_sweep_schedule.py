"""The routing sweep on the local scheduler: a clock jump fires it once (at the last minute
boundary passed), while daily jobs still fire for every day jumped over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infra.local.scheduler import LocalScheduler
from infra.wiring import SCHEDULES

T0 = datetime(2026, 12, 1, 15, 0, 30, tzinfo=UTC)


def test_a_jump_of_three_days_fires_the_sweep_once_and_each_daily_job_three_times() -> None:
    scheduler = LocalScheduler(SCHEDULES, lambda name, event: None, T0)
    due = scheduler.take_due(T0 + timedelta(days=3))
    sweeps = [when for when, s in due if s.name == "routing-sweep"]
    assert sweeps == [datetime(2026, 12, 4, 15, 0, tzinfo=UTC)]
    assert sum(1 for _, s in due if s.name == "daily-billing") == 3


def test_minute_by_minute_the_sweep_fires_every_minute() -> None:
    scheduler = LocalScheduler(SCHEDULES, lambda name, event: None, T0)
    fired = [when for step in range(1, 4) for when, s in scheduler.take_due(T0 + timedelta(minutes=step))
             if s.name == "routing-sweep"]
    assert fired == [datetime(2026, 12, 1, 15, m, tzinfo=UTC) for m in (1, 2, 3)]
