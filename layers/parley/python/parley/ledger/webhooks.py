"""Stripe events → ledger. Idempotent and order-independent:

* `invoice.paid` pays the ledger invoice in full (only an open invoice changes);
* `invoice.payment_failed` is recorded (CO-13) once per invoice and day: the collection that
  made the attempt has usually recorded it already; a late one after the invoice was paid
  changes nothing;
* `charge.dispute.*` marks the invoice disputed and records the chargeback (CO-13: the
  amount is owed within `failed_payment_days` of the notification);
* `customer.updated` with a new `invoice_settings.default_payment_method` (a card made default
  in the Stripe portal) becomes the card on file; so does `payment_method.attached` when the
  account has no card yet (a further card is only charged once it is the default); a card event
  for a customer of no account is acknowledged and logged;
* every event id is remembered, so a replay is acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from parley.billing.payments import failed_payment_deadline
from parley.gateways.stripe_models import WebhookEvent
from parley.ledger.models import InvoiceStatus
from parley.ledger.service import Billing
from parley.observability import logger

_INVOICE_ID_PARTS = 4  # in _ {yyyymmdd} _ {kind} _ {client id}


def client_of_invoice(invoice_id: str) -> str | None:
    """Ledger invoice ids are in_{yyyymmdd}_{kind}_{client id}[-late]."""
    parts = invoice_id.removesuffix("-late").split("_", _INVOICE_ID_PARTS - 1)
    return parts[3] if len(parts) == _INVOICE_ID_PARTS and parts[0] == "in" else None


def _invoice_of(billing: Billing, event: WebhookEvent) -> tuple[str, str] | None:
    """(client, ledger invoice) an event is about: from the invoice's metadata, or for a dispute
    (which names the charge and payment intent, not the invoice) from our payment refs."""
    invoice_id = event.parley_invoice_id
    if invoice_id is not None:
        client_id = client_of_invoice(invoice_id)
        return (client_id, invoice_id) if client_id else None
    if not event.type.startswith("charge.dispute."):
        return None
    refs = (r for r in (event.charge_id, event.payment_intent_id) if r)
    return next(filter(None, (billing.ledger.payment_ref(r) for r in refs)), None)


def apply_webhook(billing: Billing, event: WebhookEvent) -> bool:
    """Apply one verified event; False when it is not ours, a replay, or changes nothing.

    The event is marked seen before it is applied (a concurrent duplicate applies nothing); if
    applying fails (e.g. 409, the account changed meanwhile) the mark is undone, so Stripe's
    redelivery applies it — a card saved in the portal was lost that way."""
    card = _card_of(event)
    if card is not None and event.customer_id:
        # A card saved or made default in the Stripe customer portal becomes the card on file.
        owner = billing.ledger.payment_ref(event.customer_id)
        if owner is None:
            logger.info("card event for a customer of no account", event_id=event.id, event_type=event.type)
            return False
        customer_of = owner[0]
        return _once(billing, event, lambda: _set_card(billing, customer_of, card, event.type))
    found = _invoice_of(billing, event)
    if found is None:
        return False  # not one of ours (acknowledged, nothing to apply)
    return _once(billing, event, lambda: _apply_invoice_event(billing, event, *found))


def _card_of(event: WebhookEvent) -> str | None:
    """The card an event puts on file: the customer's new invoice default (what Stripe charges),
    or a card attached in the portal."""
    if event.type == "customer.updated":
        return event.default_payment_method
    return event.object_id if event.type == "payment_method.attached" else None


def _set_card(billing: Billing, client_id: str, payment_method: str, event_type: str) -> bool:
    account = billing.accounts.require(client_id)
    if account.payment_method == payment_method:
        return False
    if event_type == "payment_method.attached" and account.payment_method:
        return False  # a second card is not charged until it is made the default (customer.updated)
    billing.accounts.set_payment_method(client_id, payment_method)
    return True


def _once(billing: Billing, event: WebhookEvent, apply: Callable[[], bool]) -> bool:
    if not billing.ledger.mark_webhook_seen(event.id, billing.clock.now()):
        return False  # a replay
    try:
        return apply()
    except BaseException:
        billing.ledger.forget_webhook_seen(event.id)
        raise


def _apply_invoice_event(billing: Billing, event: WebhookEvent, client_id: str, invoice_id: str) -> bool:
    day = billing.config.today()
    if event.type == "invoice.paid":
        return billing.collection.record_payment(client_id, invoice_id, day, source="stripe_webhook")
    invoice = billing.ledger.invoice(client_id, invoice_id)
    if invoice is None:
        return False
    if event.type == "invoice.payment_failed":
        if invoice.status is not InvoiceStatus.OPEN:
            return False  # arrived after the payment succeeded (or the invoice was voided)
        # One decline, one record: the collection that made the attempt recorded it already
        # (same invoice, same day), so this adds nothing; a payment tried outside Parley (the
        # Stripe-hosted page, the portal) is recorded here, with its email.
        return billing.collection.record_decline(invoice, day, reason="payment_failed", source="stripe_webhook")
    if event.type.startswith("charge.dispute."):
        billing.ledger.mark_disputed(client_id, invoice_id, history=[billing.config.event(
            client_id, day, "chargeback", invoice_id=invoice_id, status=event.dispute_status, rule="CO-13",
            pay_by=_pay_by(billing, day))])
        return True
    return False


def _pay_by(billing: Billing, day: date) -> str:
    """CO-13: a failed or reversed payment is owed within `failed_payment_days` of the notice."""
    return failed_payment_deadline(billing.config.policy, day).isoformat()
