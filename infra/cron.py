"""EventBridge cron expressions: validated, and their fire times computed, for the local
scheduler (moto stores schedules but never fires them: measured, docs/local-stack.md).

Format: ``cron(minutes hours day-of-month month day-of-week year)``; one of day-of-month
and day-of-week must be ``?``. Supported: numbers, ``*``, ``?``, lists ``a,b``, ranges
``a-b`` and steps ``*/n`` — what our schedules use. Days of week are 1-7 = SUN-SAT or names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_FIELD = re.compile(r"^(\*|\?|[0-9A-Z]+(-[0-9A-Z]+)?)(/[0-9]+)?$")


class CronError(ValueError):
    pass


def _values(text: str, low: int, high: int, names: dict[str, int], field: str) -> frozenset[int] | None:
    if text in ("*", "?"):
        return None
    result: set[int] = set()
    for part in text.split(","):
        if not _FIELD.match(part):
            raise CronError(f"{field}: cannot read {part!r}")
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        else:
            first, _, last = base.partition("-")
            start = _number(first, names, field)
            end = _number(last, names, field) if last else (high if step_text else start)
        if not (low <= start <= high and low <= end <= high) or step < 1 or start > end:
            raise CronError(f"{field}: {part!r} is outside {low}-{high}")
        result.update(range(start, end + 1, step))
    return frozenset(result)


def _number(text: str, names: dict[str, int], field: str) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise CronError(f"{field}: {text!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # 1 = Sunday

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = re.fullmatch(r"cron\((.+)\)", expression.strip())
        if not match:
            raise CronError(f"{expression!r}: expected cron(minutes hours day month weekday year)")
        fields = match.group(1).upper().split()
        if len(fields) != 6:
            raise CronError(f"{expression!r}: expected 6 fields, got {len(fields)}")
        minute, hour, day, month, weekday, year = fields
        if (day == "?") == (weekday == "?"):
            raise CronError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
        if year != "*":
            raise CronError(f"{expression!r}: only '*' is supported for the year")
        return cls(
            minutes=_values(minute, 0, 59, {}, "minutes"), hours=_values(hour, 0, 23, {}, "hours"),
            days=_values(day, 1, 31, {}, "day-of-month"), months=_values(month, 1, 12, _MONTHS, "month"),
            weekdays=_values(weekday, 1, 7, _DAYS, "day-of-week"),
        )

    def matches(self, local: datetime) -> bool:
        weekday = (local.isoweekday() % 7) + 1  # Monday=2 … Sunday=1
        return all(allowed is None or value in allowed for allowed, value in (
            (self.minutes, local.minute), (self.hours, local.hour), (self.days, local.day),
            (self.months, local.month), (self.weekdays, weekday)))

    def fire_times(self, after: datetime, until: datetime, zone: tzinfo) -> list[datetime]:
        """Fire times in (after, until], as aware datetimes; walks hour by hour then minutes."""
        times: list[datetime] = []
        cursor = after.astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = until.astimezone(zone)
        while cursor <= end:
            if (self.hours is not None and cursor.hour not in self.hours) or not self._day_ok(cursor):
                cursor = (cursor + timedelta(hours=1)).replace(minute=0)
                continue
            if self.matches(cursor):
                times.append(cursor)
            cursor += timedelta(minutes=1)
        return times

    def _day_ok(self, local: datetime) -> bool:
        weekday = (local.isoweekday() % 7) + 1
        return all(allowed is None or value in allowed for allowed, value in (
            (self.days, local.day), (self.months, local.month), (self.weekdays, weekday)))
