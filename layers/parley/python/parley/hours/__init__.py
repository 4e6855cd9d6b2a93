"""Business hours and holiday calendars of clients (CO-8, PR-2), evaluated at injected instants.

``parse_hours`` validates an admin's settings; ``BusinessHours.is_open`` / ``routes_now`` /
``next_change`` answer "are we open" for an instant from the clock; ``availability`` is the
visitor-facing answer for a client whose hours may be unset (always open).
"""

from __future__ import annotations

from parley.hours.availability import Availability, availability
from parley.hours.errors import InvalidHours, NaiveInstant
from parley.hours.evaluation import day_ranges, is_open, next_change, next_routing_change
from parley.hours.models import (
    WEEKDAYS,
    BusinessHours,
    ClosedDay,
    HolidayCalendar,
    OnDate,
    OnHoliday,
    ShortDay,
    TimeRange,
    WeeklyHours,
)
from parley.hours.parsing import hours_preset, parse_hours
from parley.hours.presets import PRESETS
from parley.timezones import CALL_ON_ME_ZONE

__all__ = [
    "CALL_ON_ME_ZONE",
    "PRESETS",
    "WEEKDAYS",
    "Availability",
    "BusinessHours",
    "ClosedDay",
    "HolidayCalendar",
    "InvalidHours",
    "NaiveInstant",
    "OnDate",
    "OnHoliday",
    "ShortDay",
    "TimeRange",
    "WeeklyHours",
    "availability",
    "day_ranges",
    "hours_preset",
    "is_open",
    "next_change",
    "next_routing_change",
    "parse_hours",
]
