"""Email: rendering, address validation, the retry policy, delivery outcomes, and the SMTP
adapter against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from infra.local.smtp import LocalSmtpServer
from parley.clock import ControlledClock
from parley.email.models import EmailStatus, OutboxEmail, is_email_address
from parley.email.outbox import EmailDelivery, EmailOutbox, Outcome, RetryPolicy, email_id_for
from parley.email.port import EmailDeliveryError
from parley.email.smtp import SmtpEmailSender, SmtpSettings
from parley.email.templates import TemplateError, render
from parley.errors import InvalidRequest

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LEAD_DATA = {"visitor_name": "Ana <b>", "visitor_email": "ana@example.com", "visitor_phone": "",
             "page_url": "https://sierra.test/cars", "origin": "offline form (outside hours)", "client_name": "Sierra",
             "message": "Is the red one\nstill for sale?", "lead_id": "ld_1"}


class MemoryStore:
    """The OutboxStore port in memory, with the repository's conditions."""

    def __init__(self) -> None:
        self.items: dict[str, OutboxEmail] = {}

    def put(self, email: OutboxEmail) -> bool:
        if email.email_id in self.items:
            return False
        self.items[email.email_id] = email
        return True

    def get(self, email_id: str) -> OutboxEmail | None:
        return self.items.get(email_id)

    def claim(self, email_id: str, attempts: int, now: datetime, lease_until: datetime) -> bool:
        e = self.items[email_id]
        free = e.status in (EmailStatus.QUEUED, EmailStatus.RETRYING) or (
            e.status is EmailStatus.SENDING and e.lease_until is not None and e.lease_until < now)
        if e.attempts != attempts or not free:
            return False
        self.items[email_id] = e.model_copy(update={"status": EmailStatus.SENDING, "lease_until": lease_until})
        return True

    def mark_sent(self, email_id: str, now: datetime) -> None:
        self.items[email_id] = self.items[email_id].model_copy(update={"status": EmailStatus.SENT, "sent_at": now})

    def mark_retry(self, email_id: str, attempts: int, next_attempt_at: datetime, error: str) -> None:
        self.items[email_id] = self.items[email_id].model_copy(update={
            "status": EmailStatus.RETRYING, "attempts": attempts, "next_attempt_at": next_attempt_at,
            "last_error": error})

    def mark_failed(self, email_id: str, attempts: int, error: str) -> None:
        self.items[email_id] = self.items[email_id].model_copy(update={
            "status": EmailStatus.FAILED, "attempts": attempts, "last_error": error})


class FlakySender:
    def __init__(self, failures: list[EmailDeliveryError]) -> None:
        self.failures = failures
        self.sent: list[str] = []

    def send(self, email: OutboxEmail) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(email.email_id)


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


def test_lead_template_escapes_html_but_not_text() -> None:
    mail = render("lead.new", LEAD_DATA)
    assert mail.subject == "New message from Ana <b> via Sierra's website"
    assert "Ana <b>" in mail.text and "Is the red one\nstill for sale?" in mail.text
    assert "Ana &lt;b&gt;" in mail.html and "<b>" not in mail.html.replace("<br>", "")
    assert "Is the red one<br>still for sale?" in mail.html


def test_missing_value_or_unknown_template_is_an_error() -> None:
    with pytest.raises(TemplateError):
        render("lead.new", {k: v for k, v in LEAD_DATA.items() if k != "message"})
    with pytest.raises(TemplateError):
        render("nope", {})


def test_line_breaks_never_reach_the_subject() -> None:
    mail = render("lead.new", {**LEAD_DATA, "visitor_name": "Ana\r\nBcc: x@evil.test"})
    assert "\n" not in mail.subject and "\r" not in mail.subject


@pytest.mark.parametrize("address", ["ana@example.com", "a.b+tag@sub.example.co", "o'neil@x.io"])
def test_valid_addresses(address: str) -> None:
    assert is_email_address(address)


@pytest.mark.parametrize("address", ["", "ana", "ana@", "@x.com", "ana@x", "a b@x.com", "a@x..com", "a@-x.com",
                                     "a@x.com\r\nBcc: b@y.com", "<a@x.com>", "a" * 65 + "@x.com",
                                     "a@" + "b" * 250 + ".com"])
def test_invalid_addresses(address: str) -> None:
    assert not is_email_address(address)


def test_retry_policy_backs_off_exponentially_up_to_the_cap_then_gives_up() -> None:
    policy = RetryPolicy()
    assert [policy.delay_after(n).total_seconds() for n in (1, 2, 3, 7, 8, 11)] == [30, 60, 120, 1920, 3600, 3600]
    assert not policy.gives_up(11) and policy.gives_up(12)


def test_enqueue_with_a_key_is_idempotent_and_validates_recipients() -> None:
    store = MemoryStore()
    outbox = EmailOutbox(store, ControlledClock(NOW))
    first = outbox.enqueue(to=["c@sierra.test"], template="lead.new", data=LEAD_DATA, key="lead-ld_1")
    again = outbox.enqueue(to=["c@sierra.test"], template="lead.new", data=LEAD_DATA, key="lead-ld_1")
    assert first == again == email_id_for("lead-ld_1") and len(store.items) == 1
    with pytest.raises(InvalidRequest):
        outbox.enqueue(to=["not-an-address"], template="lead.new", data=LEAD_DATA)
    with pytest.raises(InvalidRequest):
        outbox.enqueue(to=[], template="lead.new", data=LEAD_DATA)


def _queued(store: MemoryStore, clock: ControlledClock) -> str:
    return EmailOutbox(store, clock).enqueue(to=["c@sierra.test"], template="lead.new", data=LEAD_DATA)


def test_transient_failure_is_retried_with_backoff_then_sent_once() -> None:
    store, clock = MemoryStore(), ControlledClock(NOW)
    clock.set(NOW)
    sender = FlakySender([EmailDeliveryError("down"), EmailDeliveryError("down")])
    delivery = EmailDelivery(store, sender, clock)
    email_id = _queued(store, clock)
    first = delivery.deliver(email_id)
    assert first.outcome is Outcome.RETRY and first.retry_at == NOW + timedelta(seconds=30)
    assert store.items[email_id].attempts == 1 and store.items[email_id].status is EmailStatus.RETRYING
    clock.set(NOW + timedelta(seconds=30))
    assert delivery.deliver(email_id).retry_at == NOW + timedelta(seconds=90)
    assert delivery.deliver(email_id).outcome is Outcome.SENT
    assert delivery.deliver(email_id).outcome is Outcome.SKIPPED  # a redelivered event sends nothing more
    assert sender.sent == [email_id] and store.items[email_id].status is EmailStatus.SENT


def test_permanent_refusal_fails_at_once_and_exhaustion_fails_after_max_attempts() -> None:
    store, clock = MemoryStore(), ControlledClock(NOW)
    delivery = EmailDelivery(store, FlakySender([EmailDeliveryError("550 no such user", permanent=True)]), clock)
    email_id = _queued(store, clock)
    assert delivery.deliver(email_id).outcome is Outcome.FAILED
    assert store.items[email_id].status is EmailStatus.FAILED

    always_down = FlakySender([EmailDeliveryError("down") for _ in range(10)])
    short = EmailDelivery(store, always_down, clock, RetryPolicy(max_attempts=3))
    other = _queued(store, clock)
    outcomes = [short.deliver(other).outcome for _ in range(3)]
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED]
    assert store.items[other].attempts == 3


def test_a_held_claim_is_not_taken_until_its_lease_lapses() -> None:
    store, clock = MemoryStore(), ControlledClock(NOW)
    clock.set(NOW)
    email_id = _queued(store, clock)
    assert store.claim(email_id, 0, NOW, NOW + timedelta(seconds=120))  # a sender that then died
    delivery = EmailDelivery(store, FlakySender([]), clock)
    held = delivery.deliver(email_id)
    assert held.outcome is Outcome.RETRY and held.retry_at == NOW + timedelta(seconds=120)
    clock.set(NOW + timedelta(seconds=121))
    assert delivery.deliver(email_id).outcome is Outcome.SENT


def test_smtp_adapter_delivers_text_and_html_to_a_real_server(smtp: LocalSmtpServer) -> None:
    store, clock = MemoryStore(), ControlledClock(NOW)
    email_id = EmailOutbox(store, clock).enqueue(to=["c@sierra.test"], template="lead.new", data=LEAD_DATA,
                                                 reply_to="ana@example.com")
    settings = SmtpSettings(host=smtp.host, port=smtp.port, from_address="leads@parley.test", starttls=False,
                            configuration_set="parley-mail")
    SmtpEmailSender(settings).send(store.items[email_id])
    (mail,) = smtp.to("c@sierra.test")
    assert mail.mail_from == "leads@parley.test" and mail.subject.startswith("New message from Ana")
    assert "Is the red one\nstill for sale?" in mail.text and "Ana &lt;b&gt;" in mail.html
    assert mail.headers["Reply-To"] == "ana@example.com"
    assert mail.headers["X-SES-CONFIGURATION-SET"] == "parley-mail"
    assert mail.headers["X-Parley-Email-Id"] == email_id


def test_smtp_adapter_reports_a_down_server_as_retryable(smtp: LocalSmtpServer) -> None:
    store, clock = MemoryStore(), ControlledClock(NOW)
    email_id = _queued(store, clock)
    smtp.stop()
    settings = SmtpSettings(host=smtp.host, port=smtp.port, from_address="leads@parley.test", starttls=False)
    with pytest.raises(EmailDeliveryError) as raised:
        SmtpEmailSender(settings).send(store.items[email_id])
    assert not raised.value.permanent
