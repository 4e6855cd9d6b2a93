"""Stripe events applied to the ledger on the fakes: idempotent, order-independent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from parley.gateways.stripe_models import WebhookEvent
from parley.ledger.models import InvoiceStatus
from parley.ledger.ports import ConcurrentUpdate
from parley.ledger.webhooks import apply_webhook, client_of_invoice
from tests.unit.ledger.world import World, days


def stripe_event(event_id: str, kind: str, **fields: Any) -> WebhookEvent:
    return WebhookEvent(id=event_id, type=kind, created=datetime(2026, 3, 10, tzinfo=UTC), **fields)


def open_invoice(world: World) -> str:
    world.paying(card=False)
    (invoice,) = world.invoices()
    assert invoice.status is InvoiceStatus.OPEN
    return invoice.invoice_id


def test_ledger_invoice_ids_name_their_client() -> None:
    assert client_of_invoice("in_20260310_cycle_cl_a_b") == "cl_a_b"
    assert client_of_invoice("in_20260310_cycle_cl_a-late") == "cl_a"
    assert client_of_invoice("ch_123") is None


def test_invoice_paid_pays_once_and_a_replay_is_ignored() -> None:
    world = World()
    invoice_id = open_invoice(world)
    paid = stripe_event("evt_1", "invoice.paid", parley_invoice_id=invoice_id)
    assert apply_webhook(world.billing, paid)
    assert not apply_webhook(world.billing, paid)
    assert not apply_webhook(world.billing, stripe_event("evt_2", "invoice.paid", parley_invoice_id=invoice_id))
    stored = world.ledger.invoice("cl_a", invoice_id)
    assert stored is not None and stored.status is InvoiceStatus.PAID
    assert [h.detail["source"] for h in world.history(kind="payment_received")] == ["stripe_webhook"]


def test_one_decline_one_record_the_webhook_about_the_collections_attempt_adds_nothing() -> None:
    world = World()
    invoice_id = open_invoice(world)  # the collection's attempt declined and recorded it (CO-13)
    (recorded,) = world.history(kind="payment_failed")
    assert recorded.detail["source"] == "card_on_file" and recorded.detail["pay_by"]
    # Stripe's invoice.payment_failed about that same attempt: acknowledged, no second record or email.
    assert not apply_webhook(world.billing, stripe_event("evt_f1", "invoice.payment_failed",
                                                         parley_invoice_id=invoice_id))
    assert len(world.history(kind="payment_failed")) == 1
    assert [e.template for e in world.ledger.outbox.values()].count("billing.payment_failed") == 1


def test_a_decline_reported_only_by_stripe_is_recorded_once_with_its_deadline_unless_paid() -> None:
    world = World()
    invoice_id = open_invoice(world)
    world.on(world.invoices()[0].issue_date + days(2))  # a later attempt outside Parley (the hosted page)
    assert apply_webhook(world.billing, stripe_event("evt_f1", "invoice.payment_failed", parley_invoice_id=invoice_id))
    assert not apply_webhook(world.billing, stripe_event("evt_f1b", "invoice.payment_failed",
                                                         parley_invoice_id=invoice_id))  # same day: one record
    failed = world.history(kind="payment_failed")
    assert [(h.detail["rule"], h.detail["source"]) for h in failed] == [("CO-13", "card_on_file"),
                                                                       ("CO-13", "stripe_webhook")]
    apply_webhook(world.billing, stripe_event("evt_p", "invoice.paid", parley_invoice_id=invoice_id))
    late = stripe_event("evt_f2", "invoice.payment_failed", parley_invoice_id=invoice_id)
    assert not apply_webhook(world.billing, late)  # arrived after the payment succeeded
    assert len(world.history(kind="payment_failed")) == 2


def test_a_dispute_finds_its_invoice_through_the_charge() -> None:
    world = World()
    world.paying()
    (invoice,) = world.invoices()
    dispute = stripe_event("evt_d", "charge.dispute.created", charge_id=f"ch_{invoice.stripe_invoice_id}",
                           dispute_status="needs_response")
    assert apply_webhook(world.billing, dispute)
    stored = world.ledger.invoice("cl_a", invoice.invoice_id)
    assert stored is not None and stored.disputed
    (chargeback,) = world.history(kind="chargeback")
    assert chargeback.detail["status"] == "needs_response" and chargeback.detail["rule"] == "CO-13"


def test_a_card_saved_in_the_portal_becomes_the_card_on_file() -> None:
    world = World()
    world.client(card=None)
    customer = world.account().stripe_customer_id
    attached = stripe_event("evt_pm", "payment_method.attached", customer_id=customer, object_id="pm_portal")
    assert apply_webhook(world.billing, attached)
    assert world.account().payment_method == "pm_portal"
    assert not apply_webhook(world.billing, attached)  # a replay
    unknown = stripe_event("evt_pm2", "payment_method.attached", customer_id="cus_other", object_id="pm_x")
    assert not apply_webhook(world.billing, unknown)


def test_an_event_whose_application_failed_is_applied_when_redelivered() -> None:
    """The account changed meanwhile (409): the event is not counted as seen, so Stripe's
    redelivery sets the card instead of being dropped as a replay."""
    world = World()
    world.client(card=None)
    customer = world.account().stripe_customer_id
    attached = stripe_event("evt_pm_retry", "payment_method.attached", customer_id=customer, object_id="pm_later")
    real = world.billing.accounts.set_payment_method

    def conflict(client_id: str, payment_method: str) -> None:
        raise ConcurrentUpdate("the account changed meanwhile; reload and try again")

    world.billing.accounts.set_payment_method = conflict  # type: ignore[method-assign]
    with pytest.raises(ConcurrentUpdate):
        apply_webhook(world.billing, attached)
    world.billing.accounts.set_payment_method = real  # type: ignore[method-assign]
    assert world.account().payment_method is None
    assert apply_webhook(world.billing, attached)  # the redelivery
    assert world.account().payment_method == "pm_later"
    assert not apply_webhook(world.billing, attached)  # and now a replay


def test_events_that_are_not_ours_are_acknowledged_and_change_nothing() -> None:
    world = World()
    world.paying()
    before = world.ledger.history("cl_a")
    assert not apply_webhook(world.billing, stripe_event("evt_x", "invoice.paid", parley_invoice_id="foreign_1"))
    assert not apply_webhook(world.billing, stripe_event("evt_y", "customer.created"))
    assert not apply_webhook(world.billing, stripe_event("evt_z", "charge.dispute.created", charge_id="ch_unknown"))
    assert world.ledger.history("cl_a") == before
