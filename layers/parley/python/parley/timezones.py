"""Time-zone names as the settings spell them, turned into ``tzinfo`` (billing and hours alike).

Kept apart from ``parley.billing`` so that code which only needs a zone (a client's business
hours, loaded on every chat request) does not import the billing rules.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CALL_ON_ME_ZONE = "Etc/GMT+7"
"""CO-8 "MST": UTC-7 all year, no daylight saving (POSIX sign: ``Etc/GMT+7`` is seven hours
*behind* UTC). The one spelling used by the ``call_on_me`` billing policy and hours preset."""

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")


@lru_cache(maxsize=64)
def parse_time_zone(name: str) -> tzinfo:
    """An IANA zone (``Etc/GMT+7``, ``America/Los_Angeles``) or a fixed offset (``UTC-07:00``).

    Fixed offsets use the ISO sign (``-07:00`` is seven hours *behind* UTC), unlike the
    POSIX-style ``Etc/GMT+7``, which is the same zone. Raises ``ValueError`` if unknown.
    """
    text = name.strip()
    if text in {"UTC", "Z", "GMT"}:
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes > 59:
            raise ValueError(f"{name!r} is not a valid UTC offset")
        offset = timedelta(hours=hours, minutes=minutes)
        return timezone(-offset if sign == "-" else offset)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not a known time zone (IANA name or offset like UTC-07:00)") from exc
