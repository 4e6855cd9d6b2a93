"""Card changes made in the Stripe portal reach the ledger (the fakes): the customer's new
invoice default becomes the card on file; a further attached card does not until it is made
the default; a card event for a customer of no account is acknowledged, changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from parley.gateways.stripe_models import WebhookEvent
from parley.ledger.webhooks import apply_webhook
from tests.unit.ledger.world import World


def stripe_event(event_id: str, kind: str, **fields: Any) -> WebhookEvent:
    return WebhookEvent(id=event_id, type=kind, created=datetime(2026, 3, 10, tzinfo=UTC), **fields)


def test_a_card_made_default_in_the_portal_becomes_the_card_on_file() -> None:
    world = World()
    world.client(card=True)
    customer = world.account().stripe_customer_id
    made_default = stripe_event("evt_cu1", "customer.updated", object_type="customer", object_id=customer,
                                customer_id=customer, default_payment_method="pm_new_default")
    assert apply_webhook(world.billing, made_default)
    assert world.account().payment_method == "pm_new_default"
    assert not apply_webhook(world.billing, made_default)  # a replay


def test_a_customer_update_that_keeps_the_default_changes_nothing() -> None:
    world = World()
    world.client(card=True)
    account = world.account()
    same = stripe_event("evt_cu2", "customer.updated", object_type="customer", customer_id=account.stripe_customer_id,
                        default_payment_method=account.payment_method)
    assert not apply_webhook(world.billing, same)
    no_default = stripe_event("evt_cu3", "customer.updated", object_type="customer",
                              customer_id=account.stripe_customer_id, default_payment_method=None)
    assert not apply_webhook(world.billing, no_default)
    assert world.account().payment_method == account.payment_method
    assert world.account().version == account.version


def test_a_second_attached_card_waits_until_it_is_the_default() -> None:
    world = World()
    world.client(card=True)
    customer = world.account().stripe_customer_id
    attached = stripe_event("evt_pm_second", "payment_method.attached", customer_id=customer, object_id="pm_second")
    assert not apply_webhook(world.billing, attached)
    assert world.account().payment_method == "pm_card_visa"


def test_a_card_event_for_an_unknown_customer_is_acknowledged_with_no_effect() -> None:
    world = World()
    world.client(card=True)
    before = world.account()
    for n, kind in enumerate(("customer.updated", "payment_method.attached")):
        event = stripe_event(f"evt_unknown_{n}", kind, customer_id="cus_nobody", object_id="pm_x",
                             default_payment_method="pm_x")
        assert not apply_webhook(world.billing, event)
    assert world.account() == before
