"""Hours presets: ``call_on_me`` reproduces CO-8 exactly; ``always_open`` is 24/7.

``chat_outsource`` has no hours preset: its seed contract names no service hours, so its
clients get whatever hours they are given (no hours stored = always open, docs/hours.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parley.hours.models import WEEKDAYS
from parley.timezones import CALL_ON_ME_ZONE


def _us(name: str, offset_days: int = 0) -> dict[str, Any]:
    return {"kind": "holiday", "country": "US", "name": name, "offset_days": offset_days}


def _call_on_me() -> dict[str, Any]:
    """CO-8: 8am-5pm MST on weekdays ("normal business hours"; the seed names no weekend hours).

    Closed on Memorial Day, Independence Day, Labor Day, Thanksgiving Day, Black Friday
    (Thanksgiving + 1), Christmas Day and New Year's Day; 8am-12pm on Thanksgiving Eve
    (Thanksgiving - 1), Christmas Eve (December 24) and New Year's Eve (December 31). The
    days are the holidays' actual dates, never observed shifts: the seed names days, as the
    billing calendar of the same preset does. A holiday on a weekend changes nothing (the
    weekend is closed anyway) and moves no closure to Friday or Monday.
    """
    day = [{"start": "08:00", "end": "17:00"}]
    morning = [{"start": "08:00", "end": "12:00"}]
    return {
        "time_zone": CALL_ON_ME_ZONE,
        "weekly": {name: day for name in WEEKDAYS[:5]},
        "holidays": {
            "closed_days": [
                {"label": "Memorial Day", "on": _us("Memorial Day")},
                {"label": "Independence Day", "on": _us("Independence Day")},
                {"label": "Labor Day", "on": _us("Labor Day")},
                {"label": "Thanksgiving Day", "on": _us("Thanksgiving Day")},
                {"label": "Black Friday", "on": _us("Thanksgiving Day", 1)},
                {"label": "Christmas Day", "on": _us("Christmas Day")},
                {"label": "New Year's Day", "on": _us("New Year's Day")},
            ],
            "short_days": [
                {"label": "Thanksgiving Eve", "on": _us("Thanksgiving Day", -1), "ranges": morning},
                {"label": "Christmas Eve", "on": _us("Christmas Day", -1), "ranges": morning},
                {"label": "New Year's Eve", "on": _us("New Year's Day", -1), "ranges": morning},
            ],
        },
        "after_hours_coverage": False,
    }


def _always_open() -> dict[str, Any]:
    """Open around the clock, every day, no holidays (what a client without hours gets)."""
    return {"time_zone": "UTC", "weekly": {name: [{"start": "00:00", "end": "24:00"}] for name in WEEKDAYS}}


PRESETS: dict[str, Callable[[], dict[str, Any]]] = {
    "call_on_me": _call_on_me,
    "always_open": _always_open,
}
"""Preset name -> factory of the preset's field values."""
