"""Values shared by the deployed app (CDK), the local stack, the functions and the front ends —
declared once here so the two sides cannot drift apart.

- `MAX_MESSAGE_CHARS`: the longest chat message (docs/protocol.md; a frame stays well under
  API Gateway's 32 KB).
- `SchedulePayload`: what EventBridge Scheduler (infra/constructs/schedules.py) and the local
  scheduler send to a daily job.
- `SiteConfig`: the `config.json` every static site (widget, console, dashboard) reads.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 4000


class SchedulePayload(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    schedule: str = Field(min_length=1)
    scheduled_time: datetime = Field(alias="scheduledTime")
    # An operator may re-run a given day explicitly: {"day": "2026-12-01"}.
    day: date | None = None

    @staticmethod
    def template(schedule: str, scheduled_time: Any) -> dict[str, Any]:
        """The payload's JSON shape, with `scheduled_time` as given (EventBridge's context
        attribute placeholder in CDK, an ISO time locally)."""
        return {"schedule": schedule, "scheduledTime": scheduled_time}


class SiteConfig(BaseModel):
    """`/<site>/config.json`. On AWS the values are CloudFormation tokens rendered at deploy."""

    model_config = ConfigDict(populate_by_name=True)

    api_url: str = Field(alias="apiUrl")  # "" locally: the sites call their own origin
    ws_url: str = Field(alias="wsUrl")
    region: str
    cognito_client_id: str = Field(alias="cognitoClientId")
    # Stripe.js needs the provider's publishable key (public by design) to collect a card.
    stripe_publishable_key: str | None = Field(default=None, alias="stripePublishableKey")
    local: bool | None = None  # True on the local stack only: clock controls and labelled test cards

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)
