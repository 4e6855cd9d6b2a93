"""The outbox: what features call to send email, and the delivery with its retry policy.

An email is first an item in the data table (written alone, or in the same transaction as the
record it is about — a lead and its notification are stored together or not at all). Delivery
happens after the write commits: the DynamoDB stream wakes `email_sender`, and a failed try is
retried by the `email_retry` workflow at growing intervals. A failure never touches the record
that caused the email.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from parley.clock import Clock
from parley.email.models import EmailStatus, OutboxEmail, is_email_address
from parley.email.port import EmailDeliveryError, EmailSender
from parley.email.templates import render
from parley.errors import InvalidRequest
from parley.ids import new_id
from parley.observability import logger


class OutboxStore(Protocol):
    def put(self, email: OutboxEmail) -> bool: ...
    def get(self, email_id: str) -> OutboxEmail | None: ...
    def claim(self, email_id: str, attempts: int, now: datetime, lease_until: datetime) -> bool: ...
    def mark_sent(self, email_id: str, now: datetime) -> None: ...
    def mark_retry(self, email_id: str, attempts: int, next_attempt_at: datetime, error: str) -> None: ...
    def mark_failed(self, email_id: str, attempts: int, error: str) -> None: ...


def email_id_for(key: str) -> str:
    """A deterministic id for an idempotency key: enqueueing twice for one event sends once."""
    return "em_" + hashlib.sha256(key.encode()).hexdigest()[:26]


class EmailOutbox:
    def __init__(self, store: OutboxStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def compose(self, *, to: Sequence[str], template: str, data: Mapping[str, str], key: str | None = None,
                reply_to: str | None = None, client_id: str | None = None) -> OutboxEmail:
        """Render a template into an outbox item, without writing it (for a caller's transaction)."""
        bad = [a for a in [*to, *([reply_to] if reply_to else [])] if not is_email_address(a)]
        if not to or bad:
            raise InvalidRequest(f"not an email address: {bad[0] if bad else '(no recipient)'}")
        rendered = render(template, data)
        return OutboxEmail(
            email_id=email_id_for(key) if key else new_id("em"), to=list(to), subject=rendered.subject,
            text=rendered.text, html=rendered.html, template=template, reply_to=reply_to, client_id=client_id,
            created_at=self._clock.now(),
        )

    def enqueue(self, *, to: Sequence[str], template: str, data: Mapping[str, str], key: str | None = None,
                reply_to: str | None = None, client_id: str | None = None) -> str:
        """Queue an email; returns its id. With `key`, a second call for the same key is a no-op."""
        email = self.compose(to=to, template=template, data=data, key=key, reply_to=reply_to, client_id=client_id)
        self._store.put(email)
        return email.email_id


class RetryPolicy(BaseModel):
    """Exponential backoff: 30 s, 1, 2, 4, 8, 16, 32 min, then hourly — 12 tries over ~5 hours."""

    model_config = ConfigDict(frozen=True)

    first_delay_seconds: int = Field(default=30, ge=1)
    factor: float = Field(default=2.0, ge=1.0)
    max_delay_seconds: int = Field(default=3600, ge=1)
    max_attempts: int = Field(default=12, ge=1)
    lease_seconds: int = Field(default=120, ge=1)  # a sender that dies mid-send is taken over after this

    def delay_after(self, failed_attempts: int) -> timedelta:
        """How long to wait after the n-th failed try (n >= 1)."""
        seconds = self.first_delay_seconds * self.factor ** max(failed_attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_delay_seconds))

    def gives_up(self, failed_attempts: int) -> bool:
        return failed_attempts >= self.max_attempts


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # try again at `retry_at`
    FAILED = "failed"  # given up (permanent refusal or out of attempts)
    SKIPPED = "skipped"  # already sent or failed, unknown, or another sender holds it


class DeliveryResult(BaseModel):
    email_id: str
    outcome: Outcome
    retry_at: datetime | None = None


class EmailDelivery:
    def __init__(self, store: OutboxStore, sender: EmailSender, clock: Clock,
                 policy: RetryPolicy | None = None) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self.policy = policy or RetryPolicy()

    def deliver(self, email_id: str) -> DeliveryResult:
        """One try. Safe to call twice: the claim lets one caller send at a time, and a sent or
        failed email is not sent again."""
        email = self._store.get(email_id)
        if email is None or email.status in (EmailStatus.SENT, EmailStatus.FAILED):
            return DeliveryResult(email_id=email_id, outcome=Outcome.SKIPPED)
        now = self._clock.now()
        if not self._store.claim(email_id, email.attempts, now, now + timedelta(seconds=self.policy.lease_seconds)):
            return self._held(email_id)
        try:
            self._sender.send(email)
        except EmailDeliveryError as exc:
            return self._failed(email, exc)
        self._store.mark_sent(email_id, self._clock.now())
        logger.info("email sent", email_id=email_id, template=email.template, attempts=email.attempts + 1)
        return DeliveryResult(email_id=email_id, outcome=Outcome.SENT)

    def _held(self, email_id: str) -> DeliveryResult:
        """Another sender holds the email: look again once its lease lapses (if it died meanwhile,
        that is when the email can be taken over)."""
        current = self._store.get(email_id)
        if current is not None and current.status is EmailStatus.SENDING and current.lease_until is not None:
            return DeliveryResult(email_id=email_id, outcome=Outcome.RETRY, retry_at=current.lease_until)
        return DeliveryResult(email_id=email_id, outcome=Outcome.SKIPPED)

    def _failed(self, email: OutboxEmail, exc: EmailDeliveryError) -> DeliveryResult:
        attempts = email.attempts + 1
        error = str(exc)[:500]
        if exc.permanent or self.policy.gives_up(attempts):
            self._store.mark_failed(email.email_id, attempts, error)
            logger.error("email given up", email_id=email.email_id, attempts=attempts, error=error,
                         permanent=exc.permanent)
            return DeliveryResult(email_id=email.email_id, outcome=Outcome.FAILED)
        retry_at = self._clock.now() + self.policy.delay_after(attempts)
        self._store.mark_retry(email.email_id, attempts, retry_at, error)
        logger.warning("email failed; will retry", email_id=email.email_id, attempts=attempts, error=error)
        return DeliveryResult(email_id=email.email_id, outcome=Outcome.RETRY, retry_at=retry_at)
