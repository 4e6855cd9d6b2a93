"""Stripe events → ledger. Idempotent and order-independent:

* `invoice.paid` pays the ledger invoice in full (only an open invoice changes);
* `invoice.payment_failed` is recorded (CO-13) — a late or replayed one after the invoice
  was paid changes nothing;
* `charge.dispute.*` marks the invoice disputed and records the chargeback (CO-13: the
  amount is owed within `failed_payment_days` of the notification);
* `payment_method.attached` (a card saved in the Stripe portal) becomes the card on file;
* every event id is remembered, so a replay is acknowledged and ignored.
"""

from __future__ import annotations

from parley.billing.payments import failed_payment_deadline
from parley.gateways.stripe_models import WebhookEvent
from parley.ledger.models import HistoryEvent, InvoiceStatus
from parley.ledger.service import BillingService


def client_of_invoice(invoice_id: str) -> str | None:
    """Ledger invoice ids are in_{yyyymmdd}_{kind}_{client id}[-late]."""
    parts = invoice_id.removesuffix("-late").split("_", 3)
    return parts[3] if len(parts) == 4 and parts[0] == "in" else None


def apply_webhook(billing: BillingService, event: WebhookEvent) -> bool:
    ledger = billing.ledger
    if event.type == "payment_method.attached" and event.customer_id and event.object_id:
        # A card saved in the Stripe customer portal becomes the account's card on file.
        owner = ledger.payment_ref(event.customer_id)
        if owner is None or not ledger.mark_webhook_seen(event.id, billing.clock.now()):
            return False
        billing.set_payment_method(owner[0], event.object_id)
        return True
    invoice_id = event.parley_invoice_id
    client_id = client_of_invoice(invoice_id) if invoice_id else None
    if invoice_id is None and event.type.startswith("charge.dispute."):
        # A dispute names the charge (and payment intent), not the invoice: our payment refs do.
        found = next(filter(None, (ledger.payment_ref(r) for r in (event.charge_id, event.payment_intent_id) if r)),
                     None)
        client_id, invoice_id = found if found else (None, None)
    if invoice_id is None or client_id is None:
        return False  # not one of ours: acknowledged, nothing to apply
    if not ledger.mark_webhook_seen(event.id, billing.clock.now()):
        return False  # a replay
    day = billing.today()
    if event.type == "invoice.paid":
        return billing.record_payment(client_id, invoice_id, day, source="stripe_webhook")
    invoice = ledger.invoice(client_id, invoice_id)
    if invoice is None:
        return False
    policy = billing.rules()[0]
    if event.type == "invoice.payment_failed":
        if invoice.status is InvoiceStatus.PAID:
            return False  # arrived after the payment succeeded
        ledger.add_history([HistoryEvent(client_id=client_id, day=day, at=billing.clock.now(),
                                         kind="payment_failed", detail={
                                             "invoice_id": invoice_id, "rule": "CO-13",
                                             "pay_by": failed_payment_deadline(policy, day).isoformat()})])
        return True
    if event.type.startswith("charge.dispute."):
        ledger.set_invoice_fields(client_id, invoice_id, {"disputed": True}, history=[HistoryEvent(
            client_id=client_id, day=day, at=billing.clock.now(), kind="chargeback",
            detail={"invoice_id": invoice_id, "status": event.dispute_status, "rule": "CO-13",
                    "pay_by": failed_payment_deadline(policy, day).isoformat()})])
        return True
    return False
