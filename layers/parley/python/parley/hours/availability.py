"""The visitor-facing answer: are chats answered live now, and until when."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from parley.hours.evaluation import next_routing_change
from parley.hours.models import BusinessHours


class Availability(BaseModel):
    """``open``: chats are routed to agents now (within hours, or after-hours coverage, PR-2).
    ``next_change``: when that flips next, None if it does not within the look-ahead."""

    model_config = ConfigDict(frozen=True)

    open: bool
    next_change: datetime | None
    within_hours: bool


def availability(hours: BusinessHours | None, at: datetime) -> Availability:
    """For a client whose ``hours`` may be unset: no hours stored means always open."""
    if hours is None:
        return Availability(open=True, next_change=None, within_hours=True)
    return Availability(open=hours.routes_now(at), next_change=next_routing_change(hours, at),
                        within_hours=hours.is_open(at))
