"""The `PaymentsGateway` contract: `InMemoryPayments` and `StripeGateway` on localstripe
(through the fault proxy for outages; marked integration: run it through /tmp/stackslot.sh
or `make test`) behave alike for what the ledger relies on — idempotent customers and
invoices, paid or declined results, typed errors, and outages as retryable errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from parley.billing.lines import InvoiceLine
from parley.gateways.stripe_models import IdempotencyKeyReused, PaymentProviderRejected, PaymentProviderUnavailable
from parley.ledger.memory import InMemoryPayments
from parley.ledger.ports import PaymentsGateway

DUE = date(2031, 3, 11)


def line(description: str, cents: int) -> InvoiceLine:
    return InvoiceLine(kind="monthly_fee_in_advance", description=description, quantity=Decimal(1),
                       unit_amount_cents=cents, amount_cents=cents, rule_id="CO-9")


LINES = [line("Business Starter", 35_000), line("Setup fee", 9_500)]


@dataclass
class Payments:
    gateway: PaymentsGateway
    card: Callable[[str, bool], None]  # (customer, works): a card that pays, or one that declines
    outage: Callable[[], AbstractContextManager[PaymentsGateway]]  # a gateway whose every call fails


def _memory() -> Payments:
    fake = InMemoryPayments()

    def card(customer: str, works: bool) -> None:
        (fake.declining.discard if works else fake.declining.add)(customer)

    @contextmanager
    def outage() -> Iterator[PaymentsGateway]:
        fake.unavailable = True
        try:
            yield fake
        finally:
            fake.unavailable = False

    return Payments(fake, card, outage)


def _localstripe() -> Iterator[Payments]:
    from infra.local.localstripe_server import LocalStripe
    from parley.gateways.stripe_gateway import StripeGateway
    from tests.integration.stripe_faults import StripeFaultProxy

    shared = LocalStripe.running()
    server = shared or LocalStripe().start()
    proxy = StripeFaultProxy(server.url).start()
    gateway = StripeGateway(LocalStripe.API_KEY, api_base=server.url, timeout_seconds=5, max_network_retries=0)

    def card(customer: str, works: bool) -> None:
        gateway.attach_test_payment_method(customer, "pm_card_visa" if works else "pm_card_chargeCustomerFail")

    @contextmanager
    def outage() -> Iterator[PaymentsGateway]:
        proxy.inject("error_500", method="POST", path=r"^/v1/", times=100)
        try:
            yield StripeGateway(LocalStripe.API_KEY, api_base=proxy.url, timeout_seconds=1.0, max_network_retries=0)
        finally:
            proxy.clear()

    try:
        yield Payments(gateway, card, outage)
    finally:
        proxy.stop()
        if shared is None:
            server.stop()


@pytest.fixture(scope="module", params=["memory", pytest.param("localstripe", marks=pytest.mark.integration)])
def payments(request: pytest.FixtureRequest) -> Iterator[Payments]:
    if request.param == "memory":
        yield _memory()
    else:
        yield from _localstripe()


def customer(payments: Payments, card: bool | None = True) -> str:
    client_id = f"cl_{uuid.uuid4().hex[:10]}"
    customer_id = payments.gateway.ensure_customer(client_id, f"Client {client_id}", f"{client_id}@example.test")
    if card is not None:
        payments.card(customer_id, card)
    return customer_id


def ledger_id() -> str:
    return f"in_{uuid.uuid4().hex[:12]}"


def test_a_client_has_one_customer(payments: Payments) -> None:
    client_id = f"cl_{uuid.uuid4().hex[:10]}"
    first = payments.gateway.ensure_customer(client_id, "A", "a@example.test")
    assert first.startswith("cus_")
    assert payments.gateway.ensure_customer(client_id, "A", "a@example.test") == first


def test_an_invoice_is_created_once_per_ledger_invoice(payments: Payments) -> None:
    cus, invoice_id = customer(payments), ledger_id()
    invoice = payments.gateway.create_invoice(invoice_id, cus, LINES, DUE)
    assert invoice.status == "open" and invoice.amount_due_cents == 44_500
    assert invoice.parley_invoice_id == invoice_id and invoice.customer_id == cus
    assert payments.gateway.create_invoice(invoice_id, cus, LINES, DUE).id == invoice.id


def test_the_same_ledger_invoice_with_other_lines_is_a_typed_error(payments: Payments) -> None:
    cus, invoice_id = customer(payments), ledger_id()
    payments.gateway.create_invoice(invoice_id, cus, LINES, DUE)
    with pytest.raises(IdempotencyKeyReused):
        payments.gateway.create_invoice(invoice_id, cus, [line("Business Starter", 1)], DUE)


def test_an_invoice_without_lines_is_refused(payments: Payments) -> None:
    with pytest.raises(ValueError, match="without lines"):
        payments.gateway.create_invoice(ledger_id(), customer(payments), [], DUE)


def test_a_good_card_pays_and_paying_again_changes_nothing(payments: Payments) -> None:
    cus = customer(payments)
    invoice = payments.gateway.create_invoice(ledger_id(), cus, LINES, DUE)
    result = payments.gateway.pay_invoice(invoice.id, f"{invoice.id}:1")
    assert result.paid and result.invoice_status == "paid" and result.amount_paid_cents == 44_500
    assert (result.payment_intent_id or "").startswith("pi_") and result.declined_reason is None
    again = payments.gateway.pay_invoice(invoice.id, f"{invoice.id}:2")
    assert again.paid and again.payment_intent_id == result.payment_intent_id


def test_a_declined_card_is_a_result_and_a_new_card_pays(payments: Payments) -> None:
    cus = customer(payments, card=False)
    invoice = payments.gateway.create_invoice(ledger_id(), cus, LINES, DUE)
    declined = payments.gateway.pay_invoice(invoice.id, f"{invoice.id}:1")
    assert not declined.paid and declined.invoice_status == "open"
    assert declined.declined_reason == "generic_decline" and (declined.charge_id or "").startswith("ch_")
    payments.card(cus, True)
    assert payments.gateway.pay_invoice(invoice.id, f"{invoice.id}:2").paid


def test_an_unknown_invoice_is_rejected_not_retryable(payments: Payments) -> None:
    with pytest.raises(PaymentProviderRejected) as err:
        payments.gateway.pay_invoice("in_doesnotexist", f"{ledger_id()}:1")
    assert not err.value.retryable and err.value.http_status == 404


def test_an_outage_is_a_retryable_error(payments: Payments) -> None:
    cus = customer(payments)
    with payments.outage() as down, pytest.raises(PaymentProviderUnavailable) as err:
        down.create_invoice(ledger_id(), cus, LINES, DUE)
    assert err.value.retryable


def test_an_open_invoice_is_voided_and_voiding_again_changes_nothing(payments: Payments) -> None:
    cus, invoice_id = customer(payments, card=False), ledger_id()
    invoice = payments.gateway.create_invoice(invoice_id, cus, LINES, DUE)
    assert not payments.gateway.pay_invoice(invoice.id, f"{invoice.id}:1").paid  # a declined attempt first
    payments.gateway.void_invoice(invoice.id)
    payments.gateway.void_invoice(invoice.id)
    assert payments.gateway.create_invoice(invoice_id, cus, LINES, DUE).status == "void"


def test_an_invoice_never_charged_is_voided_and_a_paid_one_is_refused(payments: Payments) -> None:
    cus = customer(payments)
    untried_id = ledger_id()
    untried = payments.gateway.create_invoice(untried_id, cus, LINES, DUE)
    payments.gateway.void_invoice(untried.id)
    assert payments.gateway.create_invoice(untried_id, cus, LINES, DUE).status == "void"
    paid = payments.gateway.create_invoice(ledger_id(), cus, LINES, DUE)
    assert payments.gateway.pay_invoice(paid.id, f"{paid.id}:1").paid
    with pytest.raises(PaymentProviderRejected) as err:
        payments.gateway.void_invoice(paid.id)
    assert not err.value.retryable
