"""The billing engine on the local stack: metering from the real DynamoDB stream, billing days
(re-run and concurrent), Stripe faults, declines, late charges, default, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import stripe

from infra.local import lambda_runtime
from infra.local.stack import LocalStack, table_name
from infra.local.streams import StreamPoller
from infra.wiring import STREAM_SUBSCRIPTIONS
from parley import aws, services
from parley.billing.calendar import next_billing_date
from parley.billing.money import percent_of
from parley.billing.payments import default_date, late_charge_date
from parley.clock import get_clock
from parley.gateways.stripe_gateway import StripeGateway
from parley.ledger.models import AccountStatus, InvoiceStatus, TerminationReason
from parley.ledger.service import Billing, build_billing
from parley.repositories.dynamo import to_item
from tests.integration.billing_support import account, engaged_chats, new_client, post_raw, request
from tests.integration.stripe_faults import StripeFaultProxy

pytestmark = pytest.mark.integration


def stripe_invoices(stack: LocalStack, customer_id: str) -> list[Any]:
    client = stripe.StripeClient("sk_test_local", base_addresses={"api": stack.stripe.url})
    return list(client.v1.invoices.list(params={"customer": customer_id, "limit": 100}).data)


def cycle_usage(client_id: str) -> int:
    acc = account(client_id)
    assert acc.paid_start is not None
    return services.billing_service().ledger.usage(client_id, acc.paid_start.isoformat()).engaged_chats


def replay_stream(stack: LocalStack) -> int:
    """Deliver the whole stream again from its start, as a retried event source would."""
    sub = STREAM_SUBSCRIPTIONS[0]
    arn = stack.boto("dynamodb").describe_table(TableName=table_name(sub.table))["Table"]["LatestStreamArn"]
    return StreamPoller(stack.boto("dynamodbstreams"), arn, sub, lambda_runtime.invoke).drain()


def test_engaged_chats_are_counted_once_even_when_the_stream_redelivers(local_stack: LocalStack) -> None:
    client_id, _ = new_client(local_stack, paid_start=services.billing_service().config.today())
    engaged_chats(client_id, 3)
    engaged_chats(client_id, 2, reply=False)  # no agent reply: not billable (engaged-chat Decision)
    local_stack.drain_streams()
    assert cycle_usage(client_id) == 3
    assert replay_stream(local_stack) > 0
    assert cycle_usage(client_id) == 3


def bill_next_cycle(billing: Billing, client_id: str) -> Any:
    acc = account(client_id)
    assert acc.next_billing_date is not None
    return acc.next_billing_date


def test_a_billing_day_run_twice_and_concurrently_charges_once(local_stack: LocalStack) -> None:
    client_id, billing = new_client(local_stack, paid_start=services.billing_service().config.today())
    engaged_chats(client_id, 2)
    local_stack.drain_streams()
    day = bill_next_cycle(billing, client_id)
    threads = [threading.Thread(target=services.billing_service().billing_day.run, args=(day,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    billing.billing_day.run(day)  # and once more, after
    invoices = [i for i in billing.ledger.invoices(client_id) if i.issue_date == day]
    assert len(invoices) == 1
    assert invoices[0].status is InvoiceStatus.PAID
    assert account(client_id).next_billing_date == next_billing_date(account(client_id).anchor_day or 1, day)
    customer = account(client_id).stripe_customer_id
    assert customer is not None
    on_stripe = stripe_invoices(local_stack, customer)
    assert len(on_stripe) == 2  # the first invoice (paid start) and this one — no duplicate
    assert sorted(i.amount_paid for i in on_stripe) == sorted(i.total_cents for i in billing.ledger.invoices(client_id))


@pytest.fixture
def faulty_billing(local_stack: LocalStack) -> Any:
    proxy = StripeFaultProxy(local_stack.stripe.url).start()
    gateway = StripeGateway("sk_test_local", api_base=proxy.url, timeout_seconds=1.0, max_network_retries=0)
    billing = build_billing(services.ledger_repository(), services.tenant_repository(), gateway, get_clock())
    yield proxy, billing
    proxy.stop()


def test_stripe_down_during_the_billing_day_loses_nothing_and_the_rerun_finishes(
        local_stack: LocalStack, faulty_billing: Any) -> None:
    proxy, billing = faulty_billing
    client_id, _ = new_client(local_stack, paid_start=billing.config.today())
    day = bill_next_cycle(billing, client_id)
    proxy.inject("error_500", path=r"^/v1/invoices$", times=10)
    report = billing.billing_day.run(day)
    assert client_id in report.billed
    stored = [i for i in billing.ledger.invoices(client_id) if i.issue_date == day]
    assert len(stored) == 1 and stored[0].stripe_invoice_id is None  # the ledger has it; Stripe not yet
    assert stored[0].invoice_id in report.stripe_pending
    proxy.clear()
    rerun = billing.billing_day.run(day)
    assert client_id in rerun.skipped and stored[0].invoice_id in rerun.collected
    paid = billing.ledger.invoice(client_id, stored[0].invoice_id)
    assert paid is not None and paid.status is InvoiceStatus.PAID and paid.stripe_invoice_id
    customer = account(client_id).stripe_customer_id or ""
    assert len(stripe_invoices(local_stack, customer)) == 2


def test_a_timeout_after_stripe_charged_is_retried_without_a_second_charge(
        local_stack: LocalStack, faulty_billing: Any) -> None:
    proxy, billing = faulty_billing
    client_id, _ = new_client(local_stack, paid_start=billing.config.today())
    day = bill_next_cycle(billing, client_id)
    proxy.inject("timeout_after_forward", path=r"^/v1/invoices/[^/]+/pay$", times=1, delay=2.0)
    first = billing.billing_day.run(day)
    assert first.stripe_pending  # we timed out; Stripe did charge
    proxy.clear()
    billing.billing_day.run(day)
    customer = account(client_id).stripe_customer_id or ""
    invoices = stripe_invoices(local_stack, customer)
    assert len(invoices) == 2
    assert all(i.status == "paid" for i in invoices)
    charges = stripe.StripeClient("sk_test_local", base_addresses={"api": local_stack.stripe.url}).v1.charges.list(
        params={"customer": customer, "limit": 100}).data
    assert len([c for c in charges if c.paid]) == 2  # one per invoice, none twice
    ours = [i for i in billing.ledger.invoices(client_id) if i.issue_date == day]
    assert len(ours) == 1 and ours[0].status is InvoiceStatus.PAID


def test_a_declined_card_leads_to_the_late_charge_then_default(local_stack: LocalStack) -> None:
    """call_on_me: Due = Billing Date + 10 (CO-10); a 5 % late charge on Due + 11 (CO-11);
    default on Billing Date + 31 (CO-10). Each consequence on its day, not the day before."""
    billing = services.billing_service()
    client_id, _ = new_client(local_stack, card="pm_card_chargeCustomerFail", paid_start=billing.config.today())
    policy = billing.config.policy
    first = billing.ledger.invoices(client_id)[0]
    assert first.status is InvoiceStatus.OPEN
    assert [h.kind for h in billing.ledger.history(client_id)].count("payment_failed") == 1

    late_day = late_charge_date(policy, first.due_date)
    assert first.invoice_id not in billing.dunning.run_late_charges(late_day - timedelta(days=1)).late_charges
    assert first.invoice_id in billing.dunning.run_late_charges(late_day).late_charges
    assert first.invoice_id not in billing.dunning.run_late_charges(late_day).late_charges  # once per invoice
    late = billing.ledger.invoice(client_id, f"{first.invoice_id}-late")
    assert late is not None and late.total_cents == percent_of(first.total_cents, policy.late_charge_percent)
    assert late.lines[0].rule_id == "CO-11"

    cut_off = default_date(policy, first.issue_date, first.due_date)
    assert client_id not in billing.dunning.run_defaults(cut_off - timedelta(days=1)).defaults
    assert account(client_id).status is AccountStatus.ACTIVE
    assert client_id in billing.dunning.run_defaults(cut_off).defaults
    ended = account(client_id)  # default is termination (CO-10): no separate "deactivated" state
    assert ended.status is AccountStatus.TERMINATED and ended.termination_reason is TerminationReason.DEFAULT
    client = services.tenant_repository().get_client(client_id)
    assert client is not None
    status, session = request(local_stack, "POST", "/api/visitor/session", {"widgetKey": client.widget_key},
                              headers={"Origin": local_stack.base_url})
    assert status == 200 and session["client"]["online"] is False  # the widget shows the offline form
    # Everything owed stays collectable: both invoices are still open in the ledger (CO-10).
    assert {i.status for i in billing.ledger.invoices(client_id)} == {InvoiceStatus.OPEN}


def eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_one_decline_one_record_and_the_billing_emails_reach_smtp(local_stack: LocalStack) -> None:
    """The collection records the decline (CO-13) and Stripe's invoice.payment_failed about that
    same attempt, delivered to the webhook function, adds no second record and no second email."""
    billing = services.billing_service()
    client_id, _ = new_client(local_stack, card="pm_card_chargeCustomerFail", paid_start=billing.config.today())
    (first,) = billing.ledger.invoices(client_id)
    stripe_client = stripe.StripeClient("sk_test_local", base_addresses={"api": local_stack.stripe.url})

    def failure_event() -> Any:
        # localstripe lists oldest first: filtered by type, the session's other events cannot crowd it out
        events = stripe_client.v1.events.list(params={"type": "invoice.payment_failed", "limit": 100}).data
        return next((e for e in events if e.type == "invoice.payment_failed"
                     and getattr(e.data.object, "id", None) == first.stripe_invoice_id), None)

    event = eventually(failure_event, "localstripe's invoice.payment_failed")
    seen_key = to_item({"pk": f"WEBHOOK#{event.id}", "sk": "SEEN"})
    eventually(lambda: aws.dynamodb().get_item(TableName=table_name("data"), Key=seen_key).get("Item"),
               "the webhook function to apply the event")
    failed = [h for h in billing.ledger.history(client_id) if h.kind == "payment_failed"]
    assert len(failed) == 1 and failed[0].detail["source"] == "card_on_file"
    assert failed[0].detail["pay_by"] == first.due_date.isoformat()
    local_stack.drain_streams()
    subjects = sorted(m.subject for m in local_stack.smtp.to(f"{client_id}@example.test"))
    assert subjects == [f"Invoice {first.invoice_id}: $445.00 due by {first.due_date}",
                        f"Payment failed: $445.00 for invoice {first.invoice_id}, please pay by {first.due_date}"]


def test_default_voids_the_cut_off_cycles_fee_in_stripe_and_pay_now_settles_the_rest(local_stack: LocalStack) -> None:
    billing = services.billing_service()
    client_id, _ = new_client(local_stack, card="pm_card_chargeCustomerFail", paid_start=billing.config.today())
    (first,) = billing.ledger.invoices(client_id)
    second_day = account(client_id).next_billing_date
    assert second_day is not None
    billing.billing_day.run(second_day)
    second = billing.ledger.invoice(client_id, f"in_{second_day:%Y%m%d}_cycle_{client_id}")
    assert second is not None and second.stripe_invoice_id is not None and second.status is InvoiceStatus.OPEN
    cut_off = default_date(billing.config.policy, first.issue_date, first.due_date)
    assert cut_off >= second_day
    assert client_id in billing.dunning.run_defaults(cut_off).defaults
    voided = billing.ledger.invoice(client_id, second.invoice_id)
    assert voided is not None and voided.status is InvoiceStatus.VOID
    stripe_client = stripe.StripeClient("sk_test_local", base_addresses={"api": local_stack.stripe.url})
    assert stripe_client.v1.invoices.retrieve(second.stripe_invoice_id).status == "void"
    # The client fixes its card; Pay now settles what stays owed; call_on_me does not reinstate.
    ledger_account = account(client_id)
    assert ledger_account.stripe_customer_id is not None
    billing.accounts.set_payment_method(client_id, services.stripe_gateway().attach_test_payment_method(
        ledger_account.stripe_customer_id, "pm_card_visa"))
    result = billing.settlement.pay_now(client_id)
    assert result.paid and result.settled == [first.invoice_id] and not result.reinstated
    assert account(client_id).status is AccountStatus.TERMINATED
    assert stripe_client.v1.invoices.retrieve(first.stripe_invoice_id or "").status == "paid"


def test_a_payment_the_day_before_the_late_charge_avoids_it(local_stack: LocalStack) -> None:
    billing = services.billing_service()
    client_id, _ = new_client(local_stack, card="pm_card_chargeCustomerFail", paid_start=billing.config.today())
    policy = billing.config.policy
    invoice = billing.ledger.invoices(client_id)[0]
    late_day = late_charge_date(policy, invoice.due_date)
    assert billing.collection.record_payment(client_id, invoice.invoice_id, late_day - timedelta(days=1), source="test")
    assert invoice.invoice_id not in billing.dunning.run_late_charges(late_day).late_charges
    assert billing.ledger.invoice(client_id, f"{invoice.invoice_id}-late") is None


def signed(payload: dict[str, Any], secret: str | None = None) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    key = secret or services.stripe_secret()["webhook_secret"]
    signature = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def invoice_event(event_id: str, type_: str, invoice_id: str) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": type_, "created": int(time.time()), "livemode": False,
            "data": {"object": {"id": "in_fake", "object": "invoice", "status": "paid", "customer": "cus_x",
                                "amount_due": 100, "amount_paid": 100, "metadata": {"parley_invoice_id": invoice_id}}}}


def test_webhooks_with_a_bad_or_missing_signature_are_400_and_change_nothing(local_stack: LocalStack) -> None:
    billing = services.billing_service()
    client_id, _ = new_client(local_stack, card=None, paid_start=billing.config.today())
    invoice = billing.ledger.invoices(client_id)[0]
    body, _ = signed(invoice_event("evt_bad1", "invoice.paid", invoice.invoice_id))
    _, forged = signed(invoice_event("evt_bad1", "invoice.paid", invoice.invoice_id), secret="whsec_not_ours")
    for headers in ({}, {"Stripe-Signature": forged}, {"Stripe-Signature": "t=1,v1=deadbeef"}):
        status, reply = post_raw(local_stack, "/api/stripe/webhook", raw=body, headers=headers)
        assert status == 400 and reply["code"]
    stored = billing.ledger.invoice(client_id, invoice.invoice_id)
    assert stored is not None and stored.status is InvoiceStatus.OPEN


def test_replayed_and_out_of_order_webhooks_apply_once(local_stack: LocalStack) -> None:
    billing = services.billing_service()
    client_id, _ = new_client(local_stack, card=None, paid_start=billing.config.today())
    invoice = billing.ledger.invoices(client_id)[0]
    paid_body, paid_sig = signed(invoice_event("evt_paid_1", "invoice.paid", invoice.invoice_id))
    for _ in range(2):  # delivered twice
        status, _ = post_raw(local_stack, "/api/stripe/webhook", raw=paid_body,
                            headers={"Stripe-Signature": paid_sig})
        assert status == 200
    # A failure notice that arrives after the payment changes nothing.
    failed_body, failed_sig = signed(invoice_event("evt_failed_0", "invoice.payment_failed", invoice.invoice_id))
    status, reply = post_raw(local_stack, "/api/stripe/webhook", raw=failed_body,
                            headers={"Stripe-Signature": failed_sig})
    assert status == 200 and reply["applied"] is False
    stored = billing.ledger.invoice(client_id, invoice.invoice_id)
    assert stored is not None and stored.status is InvoiceStatus.PAID
    assert len(stored.payments) == 1
    assert [h.kind for h in billing.ledger.history(client_id)].count("payment_received") == 1


def test_a_chargeback_reaches_the_invoice_it_reverses(local_stack: LocalStack) -> None:
    """A dispute names only the charge / payment intent: the ledger's payment refs find the
    invoice, which is marked disputed with the CO-13 deadline; a replay changes nothing more."""
    billing = services.billing_service()
    client_id, _ = new_client(local_stack, paid_start=billing.config.today())
    (invoice,) = billing.ledger.invoices(client_id)
    assert invoice.status is InvoiceStatus.PAID
    stripe_client = stripe.StripeClient("sk_test_local", base_addresses={"api": local_stack.stripe.url})
    paid = stripe_client.v1.invoices.retrieve(invoice.stripe_invoice_id or "")
    refs = [r for r in (getattr(paid, "payment_intent", None), getattr(paid, "charge", None)) if isinstance(r, str)]
    ref = next((r for r in refs if billing.ledger.payment_ref(r)), None)
    assert ref is not None, "the payment left no ref to its invoice"
    key = "payment_intent" if ref.startswith("pi_") else "charge"
    dispute = {"id": "evt_dispute_1", "object": "event", "type": "charge.dispute.created",
               "created": int(time.time()), "livemode": False,
               "data": {"object": {"id": "dp_1", "object": "dispute", "status": "needs_response",
                                   "reason": "fraudulent", "amount": invoice.total_cents, key: ref}}}
    body, signature = signed(dispute)
    for _ in range(2):
        status, _ = post_raw(local_stack, "/api/stripe/webhook", raw=body,
                            headers={"Stripe-Signature": signature})
        assert status == 200
    stored = billing.ledger.invoice(client_id, invoice.invoice_id)
    assert stored is not None and stored.disputed
    chargebacks = [h for h in billing.ledger.history(client_id) if h.kind == "chargeback"]
    assert len(chargebacks) == 1 and chargebacks[0].detail["rule"] == "CO-13"


def test_a_card_saved_in_the_stripe_portal_becomes_the_card_on_file(local_stack: LocalStack) -> None:
    client_id, _ = new_client(local_stack, card=None)
    customer = account(client_id).stripe_customer_id
    assert customer is not None and account(client_id).payment_method is None
    event = {"id": "evt_pm_1", "object": "event", "type": "payment_method.attached", "created": int(time.time()),
             "livemode": False, "data": {"object": {"id": "pm_from_portal", "object": "payment_method",
                                                    "customer": customer}}}
    body, signature = signed(event)
    status, reply = post_raw(local_stack, "/api/stripe/webhook", raw=body,
                            headers={"Stripe-Signature": signature})
    assert (status, reply["applied"]) == (200, True)
    assert account(client_id).payment_method == "pm_from_portal"
