"""Collection fanned out on the local stack: the billing day's orders on the real (moto) SQS
queue, the real collection_worker Lambda draining it, localstripe behind a fault proxy — no
lost and no duplicate charge when Stripe fails mid-way, and none after Stripe has forgotten its
idempotency keys (a two-day outage)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import stripe

from infra.local import lambda_runtime
from infra.local.stack import LocalStack
from infra.wiring import QUEUES
from parley import aws, services
from parley.clock import get_clock
from parley.gateways.collection_queue import SqsCollectionQueue
from parley.gateways.stripe_gateway import StripeGateway
from parley.ledger.models import InvoiceStatus
from parley.ledger.service import Billing, build_billing
from tests.integration.billing_support import account, new_client
from tests.integration.stripe_faults import StripeFaultProxy

pytestmark = pytest.mark.integration


def stripe_api(stack: LocalStack) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_local", base_addresses={"api": stack.stripe.url})


def stripe_invoices_of(stack: LocalStack, client_id: str, ledger_invoice_id: str) -> list[Any]:
    customer = account(client_id).stripe_customer_id or ""
    found = stripe_api(stack).v1.invoices.list(params={"customer": customer, "limit": 100}).data
    return [i for i in found if i.to_dict().get("metadata", {}).get("parley_invoice_id") == ledger_invoice_id]


def paid_charges(stack: LocalStack, client_id: str) -> int:
    customer = account(client_id).stripe_customer_id or ""
    charges = stripe_api(stack).v1.charges.list(params={"customer": customer, "limit": 100}).data
    return len([c for c in charges if c.paid])


def queue_depth(stack: LocalStack, name: str = "collection") -> int:
    sqs = stack.boto("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=os.environ[QUEUES[name].env_var], AttributeNames=["All"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) + int(
        attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"])


def fanned_out_billing() -> Billing:
    """The billing day as the scheduled billing_cycle Lambda runs it: orders go to the queue."""
    queue = SqsCollectionQueue(aws.sqs(), os.environ[QUEUES["collection"].env_var])
    return build_billing(services.ledger_repository(), services.tenant_repository(), None, get_clock(), queue)


@pytest.fixture
def workers_behind_proxy(local_stack: LocalStack) -> Iterator[StripeFaultProxy]:
    """collection_worker's environments talk to Stripe through a fault proxy (new environments
    read the stack's configuration when they start)."""
    proxy = StripeFaultProxy(local_stack.stripe.url).start()
    before = os.environ["PARLEY_STRIPE_API_BASE"]
    os.environ["PARLEY_STRIPE_API_BASE"] = proxy.url
    lambda_runtime.reset()
    try:
        yield proxy
    finally:
        os.environ["PARLEY_STRIPE_API_BASE"] = before
        lambda_runtime.reset()
        proxy.stop()


def test_the_scheduled_billing_day_queues_collection_and_the_worker_charges_each_invoice_once(
        local_stack: LocalStack) -> None:
    today = services.billing_service().config.today()
    client_id, billing = new_client(local_stack, paid_start=today)
    day = account(client_id).next_billing_date
    assert day is not None
    local_stack.advance(timedelta(days=(day - today).days, hours=1))  # billing_cycle, then the queue
    cycle = [i for i in billing.ledger.invoices(client_id) if i.issue_date == day]
    assert len(cycle) == 1 and cycle[0].status is InvoiceStatus.PAID
    assert len(stripe_invoices_of(local_stack, client_id, cycle[0].invoice_id)) == 1
    assert paid_charges(local_stack, client_id) == 2  # the first invoice and this one
    assert queue_depth(local_stack) == 0


def test_stripe_failing_mid_fan_out_loses_no_charge_and_doubles_none(
        local_stack: LocalStack, workers_behind_proxy: StripeFaultProxy) -> None:
    today = services.billing_service().config.today()
    clients = [new_client(local_stack, paid_start=today)[0] for _ in range(3)]
    day = account(clients[0]).next_billing_date
    assert day is not None
    billing = fanned_out_billing()
    # Stripe answers 500 to the first two payment attempts (the SDK's retries included).
    workers_behind_proxy.inject("error_500", path=r"^/v1/invoices/[^/]+/pay$", times=6)
    report = billing.billing_day.run(day)
    assert set(clients) <= set(report.billed) and len(report.enqueued) >= 3
    local_stack.drain_streams()  # the first delivery: some orders fail, SQS keeps them
    workers_behind_proxy.clear()
    local_stack.drain_streams()  # redelivered
    for client_id in clients:
        cycle = [i for i in billing.ledger.invoices(client_id) if i.issue_date == day]
        assert len(cycle) == 1 and cycle[0].status is InvoiceStatus.PAID, client_id
        assert len(stripe_invoices_of(local_stack, client_id, cycle[0].invoice_id)) == 1
        assert paid_charges(local_stack, client_id) == 2, client_id
    assert queue_depth(local_stack) == 0


def test_a_retry_after_stripe_forgot_its_keys_finds_the_invoice_instead_of_creating_another(
        local_stack: LocalStack) -> None:
    """Stripe created and finalized the invoice, the answer was lost, and the outage lasted two
    days: the idempotency keys are gone (localstripe forgets them after 24 h of the stack's
    clock, as Stripe does). The retry finds the invoice by its ledger id and pays it once."""
    proxy = StripeFaultProxy(local_stack.stripe.url).start()
    try:
        gateway = StripeGateway("sk_test_local", api_base=proxy.url, timeout_seconds=1.0, max_network_retries=0)
        billing = build_billing(services.ledger_repository(), services.tenant_repository(), gateway, get_clock())
        client_id, _ = new_client(local_stack, paid_start=billing.config.today())
        day = account(client_id).next_billing_date
        assert day is not None
        # Every finalize of that day times out (other clients of the shared stack may be due too).
        proxy.inject("timeout_after_forward", path=r"^/v1/invoices/[^/]+/finalize$", times=50, delay=2.0)
        first = billing.billing_day.run(day)
        cycle_id = next((i for i in first.stripe_pending if i.endswith(client_id)), "")
        assert cycle_id
        assert len(stripe_invoices_of(local_stack, client_id, cycle_id)) == 1  # Stripe has it; the ledger not
        proxy.clear()
        local_stack.advance(timedelta(days=2))  # the outage: Stripe's 24-hour key window passes
        retry = billing.billing_day.run(day + timedelta(days=1))  # the deferred entry's day
        assert cycle_id in retry.collected
        on_stripe = stripe_invoices_of(local_stack, client_id, cycle_id)
        assert len(on_stripe) == 1 and on_stripe[0].status == "paid"
        ours = services.billing_service().ledger.invoice(client_id, cycle_id)
        assert ours is not None and len(on_stripe[0].lines.data) == len(ours.lines)  # each line once
        assert paid_charges(local_stack, client_id) == 2
    finally:
        proxy.stop()
