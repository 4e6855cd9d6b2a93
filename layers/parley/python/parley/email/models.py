"""The email objects: a rendered message, and its outbox record (what is queued and its fate)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

# Deliberately plain: one @, a dotted domain, no spaces, quotes, angle brackets or line breaks
# (nothing that could smuggle a header into an SMTP message). RFC 5321 limits: 64 + 1 + 255.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
MAX_ADDRESS_CHARS = 254


def is_email_address(value: str) -> bool:
    return len(value) <= MAX_ADDRESS_CHARS and bool(_ADDRESS.match(value)) and ".." not in value


class EmailStatus(StrEnum):
    QUEUED = "queued"  # written, not tried yet
    SENDING = "sending"  # claimed by a sender (a lease: another may take over after it lapses)
    RETRYING = "retrying"  # a try failed; the retry workflow tries again at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # refused for good (a 5xx answer) or out of attempts; kept for inspection


class RenderedEmail(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    text: str
    html: str


class OutboxEmail(BaseModel):
    """One queued email: `OUTBOX#{email_id}` / `EMAIL` in the data table."""

    email_id: str
    to: list[str] = Field(min_length=1, max_length=50)
    subject: str
    text: str
    html: str
    template: str
    reply_to: str | None = None
    client_id: str | None = None  # the tenant it concerns (lead emails), for inspection and export
    status: EmailStatus = EmailStatus.QUEUED
    attempts: int = 0  # failed or lapsed tries so far
    created_at: datetime
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
