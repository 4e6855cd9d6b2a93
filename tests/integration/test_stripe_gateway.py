"""The Stripe gateway against localstripe (with Parley's extensions), in-process on 127.0.0.1.

Faults come from a proxy between the SDK and localstripe (tests/integration/stripe_faults.py):
a 500 the proxy answers itself (Stripe did nothing), and a response delayed past the client
timeout after localstripe did the work ("Stripe did the work but we timed out").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from datetime import time as dtime
from typing import Any

import pytest
import stripe
from aiohttp import web

from infra.local.localstripe_server import BackgroundAiohttpServer, LocalStripe
from parley.gateways.stripe_gateway import (
    IdempotencyKeyReused,
    InvoiceLine,
    PaymentMethodDeclined,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
    StripeGateway,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    parse_webhook,
)
from tests.integration.stripe_faults import StripeFaultProxy

pytestmark = pytest.mark.integration

WEBHOOK_SECRET = "whsec_local_test"
DUE = date(2031, 3, 11)
LINES = [
    InvoiceLine(description="Business Starter, Mar 1 - Mar 31", amount_cents=35_000, rule_id="CO-9",
                period_start=date(2031, 3, 1), period_end=date(2031, 3, 31)),
    InvoiceLine(description="Overage: 7 engaged chats x $1.99", amount_cents=1_393, rule_id="CO-9",
                period_start=date(2031, 2, 1), period_end=date(2031, 2, 28)),
    InvoiceLine(description="Setup fee", amount_cents=9_500, rule_id="CO-5"),
]
TOTAL = sum(line.amount_cents for line in LINES)


# ----------------------------------------------------------------------------- fixtures
@dataclass
class Delivery:
    body: bytes
    signature: str | None

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    """A tiny aiohttp endpoint on 127.0.0.1 recording what localstripe delivers."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._server = BackgroundAiohttpServer(self._app, name="webhook-receiver")

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/stripe/webhook", self._receive)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        delivery = Delivery(await request.read(), request.headers.get("Stripe-Signature"))
        with self._lock:
            self.deliveries.append(delivery)
        return web.Response(status=200)

    def start(self) -> WebhookReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url + "/stripe/webhook"

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> Delivery:
        # A wait, not a performance target: localstripe delivers an event to every registered
        # endpoint in turn, the stack's own (a Lambda cold start under load) among them.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for delivery in self.deliveries:
                    if predicate(delivery.event):
                        return delivery
            time.sleep(0.05)
        raise AssertionError("no matching webhook delivered")


@pytest.fixture(scope="module")
def stripe_server() -> Iterator[tuple[LocalStripe, bool]]:
    """Our own LocalStripe (owned=True), or the one already running in this process: there is
    one per process, and a shared one is not ours to stop or wipe."""
    shared = LocalStripe.running()
    if shared is not None:
        yield shared, False
        return
    own = LocalStripe().start()
    try:
        yield own, True
    finally:
        own.stop()


@pytest.fixture(scope="module")
def local_stripe(stripe_server: tuple[LocalStripe, bool]) -> LocalStripe:
    return stripe_server[0]


@pytest.fixture(scope="module")
def gateway(local_stripe: LocalStripe) -> StripeGateway:
    return StripeGateway(LocalStripe.API_KEY, api_base=local_stripe.url, timeout_seconds=5, max_network_retries=0)


@pytest.fixture(scope="module")
def fault_proxy(local_stripe: LocalStripe) -> Iterator[StripeFaultProxy]:
    proxy = StripeFaultProxy(local_stripe.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def proxy(fault_proxy: StripeFaultProxy) -> Iterator[StripeFaultProxy]:
    fault_proxy.clear()
    yield fault_proxy
    fault_proxy.clear()


@pytest.fixture
def flaky_gateway(proxy: StripeFaultProxy) -> StripeGateway:
    """Through the fault proxy; short timeout, no SDK retries: every fault surfaces."""
    return StripeGateway(LocalStripe.API_KEY, api_base=proxy.url, timeout_seconds=1.0, max_network_retries=0)


@pytest.fixture(scope="module")
def webhooks(local_stripe: LocalStripe) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    webhook_id = local_stripe.register_webhook(receiver.url, WEBHOOK_SECRET, webhook_id="stripe-gateway-tests")
    try:
        yield receiver
    finally:
        local_stripe.unregister_webhook(webhook_id)
        receiver.stop()


def new_customer(gateway: StripeGateway, card: str | None = "pm_card_visa") -> str:
    client_id = f"cl_{uuid.uuid4().hex[:10]}"
    customer_id = gateway.ensure_customer(client_id, f"Client {client_id}", f"{client_id}@example.test")
    if card:
        gateway.attach_test_payment_method(customer_id, card)
    return customer_id


def ledger_id() -> str:
    return f"inv_{uuid.uuid4().hex[:12]}"


def items_of(gateway: StripeGateway, customer_id: str) -> list[Any]:
    return list(gateway.client.v1.invoice_items.list(params={"customer": customer_id, "limit": 100}).data)


def invoices_of(gateway: StripeGateway, customer_id: str) -> list[Any]:
    return list(gateway.client.v1.invoices.list(params={"customer": customer_id, "limit": 100}).data)


def charges_of(gateway: StripeGateway, customer_id: str) -> list[Any]:
    return list(gateway.client.v1.charges.list(params={"customer": customer_id, "limit": 100}).data)


def meta(obj: stripe.StripeObject) -> dict[str, Any]:
    metadata: dict[str, Any] = obj.to_dict().get("metadata") or {}
    return metadata


def end_of_day(day: date, tz: timezone = UTC) -> int:
    return int(datetime.combine(day, dtime(23, 59, 59), tz).timestamp())


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    ts = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


# ---------------------------------------------------------------------------- customers
def test_ensure_customer_is_idempotent_per_client(gateway: StripeGateway) -> None:
    client_id = f"cl_{uuid.uuid4().hex[:10]}"
    first = gateway.ensure_customer(client_id, "Sierra Vista Motors", "billing@sierra.test")
    again = gateway.ensure_customer(client_id, "Sierra Vista Motors", "billing@sierra.test")
    assert first == again and first.startswith("cus_")
    customer = gateway.client.v1.customers.retrieve(first)
    assert meta(customer)["parley_client_id"] == client_id
    matching = [c for c in gateway.client.v1.customers.list(params={"email": "billing@sierra.test"}).data
                if meta(c).get("parley_client_id") == client_id]
    assert [c.id for c in matching] == [first]


def test_same_key_with_other_parameters_is_a_typed_error(gateway: StripeGateway) -> None:
    client_id = f"cl_{uuid.uuid4().hex[:10]}"
    gateway.ensure_customer(client_id, "Harbor Dental Care", "a@harbor.test")
    with pytest.raises(IdempotencyKeyReused) as err:
        gateway.ensure_customer(client_id, "Harbor Dental Care (renamed)", "a@harbor.test")
    assert err.value.retryable is False and err.value.http_status == 400


# ----------------------------------------------------------------------------- invoices
def test_invoice_lines_in_cents_match_the_ledger(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway)
    lid = ledger_id()
    invoice = gateway.create_invoice(lid, customer_id, LINES, DUE)

    assert invoice.status == "open" and invoice.amount_due_cents == TOTAL
    assert invoice.parley_invoice_id == lid and invoice.customer_id == customer_id
    assert invoice.due_date == datetime.fromtimestamp(end_of_day(DUE), UTC)
    stripe_invoice = gateway.client.v1.invoices.retrieve(invoice.id)
    assert stripe_invoice.collection_method == "send_invoice"
    assert meta(stripe_invoice)["parley_invoice_id"] == lid
    lines = stripe_invoice.lines.data
    assert [(li.amount, li.description) for li in lines] == [(x.amount_cents, x.description) for x in LINES]
    assert [meta(li)["parley_rule_id"] for li in lines] == ["CO-9", "CO-9", "CO-5"]
    assert all(meta(li)["parley_invoice_id"] == lid for li in lines)
    first = lines[0].period
    assert (first.start, first.end) == (int(datetime(2031, 3, 1, tzinfo=UTC).timestamp()),
                                        end_of_day(date(2031, 3, 31)))


def test_due_dates_and_periods_follow_the_business_time_zone(local_stripe: LocalStripe) -> None:
    mst = timezone(timedelta(hours=-7))  # call_on_me: UTC-7
    gateway = StripeGateway(LocalStripe.API_KEY, api_base=local_stripe.url, max_network_retries=0,
                            business_tz=mst)
    invoice = gateway.create_invoice(ledger_id(), new_customer(gateway), LINES[:1], DUE)
    assert invoice.due_date == datetime.fromtimestamp(end_of_day(DUE, mst), UTC)
    period = gateway.client.v1.invoices.retrieve(invoice.id).lines.data[0].period
    assert period.start == int(datetime(2031, 3, 1, tzinfo=mst).timestamp())


def test_create_invoice_twice_gives_one_invoice_with_each_item_once(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway)
    lid = ledger_id()
    first = gateway.create_invoice(lid, customer_id, LINES, DUE)
    second = gateway.create_invoice(lid, customer_id, LINES, DUE)
    assert second.id == first.id and second.amount_due_cents == TOTAL
    assert [i.id for i in invoices_of(gateway, customer_id)] == [first.id]
    items = items_of(gateway, customer_id)
    assert len(items) == len(LINES) and {i.invoice for i in items} == {first.id}


def test_a_replayed_creation_reports_the_invoice_as_it_is_now(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway)
    lid = ledger_id()
    invoice = gateway.create_invoice(lid, customer_id, LINES, DUE)
    assert gateway.pay_invoice(invoice.id, f"{lid}:1").paid
    assert gateway.create_invoice(lid, customer_id, LINES, DUE).status == "paid"


def test_an_invoice_never_sweeps_in_another_invoices_pending_items(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway)
    stray = gateway.client.v1.invoice_items.create(
        params={"customer": customer_id, "amount": 777, "currency": "usd", "description": "pending elsewhere"})
    invoice = gateway.create_invoice(ledger_id(), customer_id, LINES[:1], DUE)
    assert invoice.amount_due_cents == LINES[0].amount_cents
    pending = gateway.client.v1.invoice_items.list(params={"customer": customer_id, "pending": True}).data
    assert [i.id for i in pending] == [stray.id]


def test_stripe_requests_are_counted_by_method_and_path(local_stripe: LocalStripe) -> None:
    gateway = StripeGateway(LocalStripe.API_KEY, api_base=local_stripe.url, max_network_retries=0)
    customer_id = new_customer(gateway)
    gateway.requests.reset()
    invoice = gateway.create_invoice(ledger_id(), customer_id, LINES, DUE)
    gateway.pay_invoice(invoice.id, "count:1")
    assert gateway.requests.snapshot() == {
        "POST /v1/invoices": 1,
        "POST /v1/invoiceitems": len(LINES),
        "POST /v1/invoices/{id}/finalize": 1,
        "POST /v1/invoices/{id}/pay": 1,
    }
    assert gateway.requests.total == len(LINES) + 3


# ------------------------------------------------------------------------------- faults
def test_a_500_is_retryable_and_the_retry_duplicates_nothing(
    gateway: StripeGateway, flaky_gateway: StripeGateway, proxy: StripeFaultProxy,
) -> None:
    customer_id = new_customer(gateway)
    lid = ledger_id()
    proxy.inject("error_500", path=r"^/v1/invoiceitems$", skip=1)  # the second line fails
    with pytest.raises(PaymentProviderUnavailable) as err:
        flaky_gateway.create_invoice(lid, customer_id, LINES, DUE)
    assert err.value.retryable and err.value.http_status == 500
    assert len(items_of(gateway, customer_id)) == 1  # the first line got through

    invoice = flaky_gateway.create_invoice(lid, customer_id, LINES, DUE)
    assert invoice.status == "open" and invoice.amount_due_cents == TOTAL
    assert [i.id for i in invoices_of(gateway, customer_id)] == [invoice.id]
    assert len(items_of(gateway, customer_id)) == len(LINES)


@pytest.mark.parametrize("step, path, skip", [
    ("invoice", r"^/v1/invoices$", 0),
    ("second item", r"^/v1/invoiceitems$", 1),
    ("finalize", r"/finalize$", 0),
])
def test_after_a_timeout_where_stripe_did_the_work_the_retry_returns_the_same_invoice(
    gateway: StripeGateway, flaky_gateway: StripeGateway, proxy: StripeFaultProxy,
    step: str, path: str, skip: int,
) -> None:
    customer_id = new_customer(gateway)
    lid = ledger_id()
    fault = proxy.inject("timeout_after_forward", path=path, skip=skip, delay=3.0)
    with pytest.raises(PaymentProviderUnavailable):
        flaky_gateway.create_invoice(lid, customer_id, LINES, DUE)
    assert fault.hits, step

    retried = flaky_gateway.create_invoice(lid, customer_id, LINES, DUE)
    invoices = invoices_of(gateway, customer_id)
    assert [i.id for i in invoices] == [retried.id]
    assert retried.status == "open" and retried.amount_due_cents == TOTAL
    items = items_of(gateway, customer_id)
    assert len(items) == len(LINES) and {i.invoice for i in items} == {retried.id}


def test_sdk_retries_heal_a_timeout_with_the_same_key(local_stripe: LocalStripe, proxy: StripeFaultProxy) -> None:
    gateway = StripeGateway(LocalStripe.API_KEY, api_base=proxy.url, timeout_seconds=1.0, max_network_retries=1)
    customer_id = new_customer(gateway)
    proxy.inject("timeout_after_forward", path=r"/finalize$", delay=3.0)
    gateway.requests.reset()
    invoice = gateway.create_invoice(ledger_id(), customer_id, LINES[:1], DUE)
    assert invoice.status == "open"
    assert gateway.requests.snapshot()["POST /v1/invoices/{id}/finalize"] == 2  # one timeout + one replay


def test_collection_survives_a_500_and_a_timeout_without_charging_twice(
    gateway: StripeGateway, flaky_gateway: StripeGateway, proxy: StripeFaultProxy,
) -> None:
    customer_id = new_customer(gateway)
    invoice = gateway.create_invoice(ledger_id(), customer_id, LINES, DUE)
    proxy.inject("error_500", path=r"/pay$")
    with pytest.raises(PaymentProviderUnavailable):
        flaky_gateway.pay_invoice(invoice.id, "attempt-1")
    assert charges_of(gateway, customer_id) == []

    proxy.inject("timeout_after_forward", path=r"/pay$", delay=3.0)
    with pytest.raises(PaymentProviderUnavailable):
        flaky_gateway.pay_invoice(invoice.id, "attempt-1")
    same = flaky_gateway.pay_invoice(invoice.id, "attempt-1")  # replayed
    other = flaky_gateway.pay_invoice(invoice.id, "attempt-2")  # a new attempt on a paid invoice
    assert same.paid and other.paid and same.payment_intent_id == other.payment_intent_id
    assert len(charges_of(gateway, customer_id)) == 1


# ------------------------------------------------------------------------------ payment
def test_an_invoice_is_paid_with_pm_card_visa(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway, "pm_card_visa")
    invoice = gateway.create_invoice(ledger_id(), customer_id, LINES, DUE)
    result = gateway.pay_invoice(invoice.id, "visa-1")
    assert result.paid and result.invoice_status == "paid" and result.amount_paid_cents == TOTAL
    assert result.declined_reason is None and (result.payment_intent_id or "").startswith("pi_")
    assert gateway.get_invoice(invoice.id).status == "paid"
    assert [c.amount for c in charges_of(gateway, customer_id)] == [TOTAL]


def test_a_declined_card_is_a_result_not_an_exception(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway, card=None)
    pm_id = gateway.attach_test_payment_method(customer_id, "pm_card_chargeCustomerFail")  # attaches fine
    card = gateway.client.v1.payment_methods.retrieve(pm_id).card
    assert card is not None and card.last4 == "0341"  # the test card 4000000000000341
    invoice = gateway.create_invoice(ledger_id(), customer_id, LINES, DUE)

    result = gateway.pay_invoice(invoice.id, "decline-1")
    assert not result.paid and result.declined_reason == "generic_decline"
    assert (result.charge_id or "").startswith("ch_") and (result.payment_intent_id or "").startswith("pi_")
    assert gateway.get_invoice(invoice.id).status == "open"
    assert gateway.pay_invoice(invoice.id, "decline-1") == result  # the same attempt is replayed

    gateway.attach_test_payment_method(customer_id, "pm_card_visa")  # the client fixes the card
    assert gateway.pay_invoice(invoice.id, "decline-2").paid


def test_paying_without_a_usable_card_is_a_failed_attempt_not_an_exception(gateway: StripeGateway) -> None:
    """A customer whose card on file is gone: the attempt fails like a decline (the client is
    told to fix the card), instead of raising out of a daily run that bills everyone else."""
    customer_id = new_customer(gateway, card=None)
    invoice = gateway.create_invoice(ledger_id(), customer_id, LINES, DUE)

    result = gateway.pay_invoice(invoice.id, "no-card-1")
    assert not result.paid and result.declined_reason and result.decline_message
    assert gateway.get_invoice(invoice.id).status == "open"
    gateway.attach_test_payment_method(customer_id, "pm_card_visa")
    assert gateway.pay_invoice(invoice.id, "no-card-2").paid


def test_a_card_refused_at_attach_is_a_typed_error(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway, card=None)
    with pytest.raises(PaymentMethodDeclined) as err:
        gateway.attach_test_payment_method(customer_id, "pm_card_visa_chargeDeclined")  # 4000000000000002
    assert err.value.stripe_code == "card_declined"


def test_unknown_objects_are_rejected_not_retryable(gateway: StripeGateway) -> None:
    with pytest.raises(PaymentProviderRejected) as err:
        gateway.pay_invoice("in_doesnotexist", "x")
    assert not err.value.retryable and err.value.http_status == 404


def test_setup_intent_client_secret(gateway: StripeGateway) -> None:
    secret = gateway.create_setup_intent(new_customer(gateway, card=None))
    assert re.fullmatch(r"seti_\w+_secret_\w+", secret)


# ------------------------------------------------------------------------------- portal
def test_portal_session_url_serves_the_local_portal_with_the_invoices(gateway: StripeGateway) -> None:
    customer_id = new_customer(gateway)
    paid = gateway.create_invoice(ledger_id(), customer_id, LINES[:1], DUE)
    gateway.pay_invoice(paid.id, "portal-paid")
    lid = ledger_id()
    open_invoice = gateway.create_invoice(lid, customer_id, LINES, DUE)

    url = gateway.portal_session_url(customer_id, "http://127.0.0.1:9/dashboard")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/_local/stripe-portal/bps_\w+", url)
    with urllib.request.urlopen(url, timeout=5) as resp:
        page = resp.read().decode()
    assert "Local stand-in for the Stripe customer portal" in page
    assert paid.id in page and open_invoice.id in page and lid in page
    assert "4242" in page and "http://127.0.0.1:9/dashboard" in page
    actions = re.findall(r"action='([^']+/pay)'", page)
    assert len(actions) == 1 and open_invoice.id in actions[0]  # only the open invoice has "Pay"

    base = url.split("/_local/")[0]
    with urllib.request.urlopen(urllib.request.Request(base + actions[0], data=b"", method="POST"),
                                timeout=5) as resp:
        after = resp.read().decode()  # 303 back to the portal page
    assert f"Invoice {open_invoice.id} paid." in after
    assert gateway.get_invoice(open_invoice.id).status == "paid"


# ------------------------------------------------------------------------------ webhooks
def test_webhooks_from_localstripe_are_verified_and_parsed(
    gateway: StripeGateway, webhooks: WebhookReceiver,
) -> None:
    customer_id = new_customer(gateway)
    lid = ledger_id()
    invoice = gateway.create_invoice(lid, customer_id, LINES, DUE)
    gateway.pay_invoice(invoice.id, "webhook-1")

    def paid_event(kind: str) -> Callable[[dict[str, Any]], bool]:
        return lambda event: bool(event["type"] == kind and event["data"]["object"]["id"] == invoice.id)

    succeeded = webhooks.wait_for(paid_event("invoice.payment_succeeded"))
    assert parse_webhook(succeeded.body, succeeded.signature, WEBHOOK_SECRET).parley_invoice_id == lid
    delivery = webhooks.wait_for(paid_event("invoice.paid"))  # what the ledger listens to
    event = parse_webhook(delivery.body, delivery.signature, WEBHOOK_SECRET)
    assert event.type == "invoice.paid" and event.id.startswith("evt_")
    assert event.stripe_invoice_id == invoice.id and event.parley_invoice_id == lid
    assert event.amount_paid_cents == TOTAL and event.customer_id == customer_id
    assert event.invoice_status == "paid" and event.object_type == "invoice"
    # A redelivery of the same event parses identically (deduplication is the ledger's job).
    assert gateway.parse_webhook(delivery.body, delivery.signature, WEBHOOK_SECRET) == event


def test_a_declined_payment_emits_invoice_payment_failed(gateway: StripeGateway, webhooks: WebhookReceiver) -> None:
    customer_id = new_customer(gateway, "pm_card_chargeCustomerFail")
    lid = ledger_id()
    invoice = gateway.create_invoice(lid, customer_id, LINES[:1], DUE)
    assert not gateway.pay_invoice(invoice.id, "failed-1").paid
    delivery = webhooks.wait_for(lambda e: e["type"] == "invoice.payment_failed"
                                 and e["data"]["object"]["id"] == invoice.id)
    event = parse_webhook(delivery.body, delivery.signature, WEBHOOK_SECRET)
    assert event.parley_invoice_id == lid and event.invoice_status == "open"
    assert event.amount_due_cents == LINES[0].amount_cents and event.amount_paid_cents == 0


def test_bad_signatures_and_payloads_are_refused() -> None:
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "invoice.paid", "created": int(time.time()),
                          "data": {"object": {"object": "invoice", "id": "in_1", "amount_paid": 100}}}).encode()
    good = sign(payload)
    assert parse_webhook(payload, good, WEBHOOK_SECRET).amount_paid_cents == 100

    tampered = payload.replace(b'"amount_paid": 100', b'"amount_paid": 1')
    refused: list[tuple[bytes, str | None, str]] = [
        (tampered, good, WEBHOOK_SECRET),                                     # body changed after signing
        (payload, None, WEBHOOK_SECRET),                                      # no Stripe-Signature header
        (payload, "", WEBHOOK_SECRET),
        (payload, "t=1,v1=deadbeef", WEBHOOK_SECRET),                         # garbage signature
        (payload, sign(payload, secret="whsec_other"), WEBHOOK_SECRET),       # someone else's secret
        (payload, sign(payload, at=int(time.time()) - 3600), WEBHOOK_SECRET),  # replayed an hour later
    ]
    for body, header, secret in refused:
        with pytest.raises(WebhookSignatureInvalid) as err:
            parse_webhook(body, header, secret)
        assert err.value.status == 400

    not_json = b"definitely not json"
    with pytest.raises(WebhookPayloadInvalid):
        parse_webhook(not_json, sign(not_json), WEBHOOK_SECRET)
    not_an_event = b'{"hello": "world"}'
    with pytest.raises(WebhookPayloadInvalid):
        parse_webhook(not_an_event, sign(not_an_event), WEBHOOK_SECRET)


def test_dispute_events_carry_the_dispute_fields() -> None:
    payload = json.dumps({
        "id": "evt_dispute", "object": "event", "type": "charge.dispute.created", "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": "dp_123", "object": "dispute", "amount": 36_393, "charge": "ch_456",
                            "payment_intent": "pi_789", "reason": "fraudulent", "status": "needs_response",
                            "metadata": {}}},
    }).encode()
    event = parse_webhook(payload, sign(payload), WEBHOOK_SECRET)
    assert (event.dispute_id, event.dispute_status, event.dispute_reason) == ("dp_123", "needs_response", "fraudulent")
    assert (event.dispute_amount_cents, event.charge_id, event.payment_intent_id) == (36_393, "ch_456", "pi_789")
    assert event.stripe_invoice_id is None


# -------------------------------------------------------------------------------- reset
def test_reset_forgets_objects_and_idempotency_keys(
    stripe_server: tuple[LocalStripe, bool], gateway: StripeGateway,
) -> None:
    local_stripe, owned = stripe_server
    if not owned:
        pytest.skip("this LocalStripe is shared (e.g. with the local stack): not wiping its data")
    client_id = f"cl_{uuid.uuid4().hex[:10]}"
    before = gateway.ensure_customer(client_id, "Reset Co", "reset@example.test")
    local_stripe.reset()
    with pytest.raises(stripe.InvalidRequestError):
        gateway.client.v1.customers.retrieve(before)
    after = gateway.ensure_customer(client_id, "Reset Co", "reset@example.test")
    assert after != before
