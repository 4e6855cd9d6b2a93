"""What the client dashboard says about money, derived from the ledger (read-only): the invoice
preview before a plan is chosen, the payment alert (failed payment, default), the one current
plan, and the usage of each cycle.

The preview is the billing engine's own invoice: `draft_cycle_invoice` over the account as
`start_paid_service` (first invoice) or the next Billing Date (upcoming invoice) would leave it
— the very function `BillingDay.bill_client` issues invoices with, never a re-implementation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from parley.billing.calendar import cycle_for
from parley.billing.invoicing import ClientBillingState, PendingPlanChange, draft_cycle_invoice
from parley.billing.lines import InvoiceDraft
from parley.billing.metering import billable_units
from parley.billing.payments import default_date
from parley.billing.policy import BillingPolicy
from parley.billing.trial import trial_schedule
from parley.errors import Conflict, InvalidRequest, NotFound, ParleyError
from parley.ledger.models import TRIAL_CYCLE, AccountStatus, BillingAccount, HistoryEvent, InvoiceStatus, LedgerInvoice
from parley.ledger.service import Billing
from parley.ledger.settlement import NoCardOnFile

USAGE_HISTORY_CYCLES = 12  # the chart shows the last year of cycles


class NothingToPreview(Conflict):
    """The account has no invoice ahead (service ended, stopped or in default)."""

    code = "nothing_to_preview"


# ------------------------------------------------------------------------------ preview
def preview_invoice(billing: Billing, client_id: str, plan_id: str | None = None) -> dict[str, Any]:
    """The next invoice the engine would issue: the first one (monthly fee in advance, CO-5 setup
    fee) for `plan_id` before paid service, else the upcoming one at the next Billing Date with
    the usage so far (and `plan_id` as a CH-7 change requested today)."""
    account = billing.accounts.require(client_id)
    policy, catalog, price_changes = billing.config.rules()
    if plan_id is not None and plan_id not in {p.id for p in catalog.plans}:
        raise InvalidRequest(f"planId: no plan {plan_id!r}")
    today = billing.config.today()
    if account.status is AccountStatus.TRIAL or account.paid_start is None:
        chosen = plan_id or account.plan_id
        if chosen is None:
            raise InvalidRequest("planId: choose a plan to preview its first invoice")
        start = _paid_start(policy, account, today)
        as_started = account.model_copy(update={"anchor_day": start.day, "paid_start": start,
                                                "current_plan_id": chosen})
        state = ClientBillingState(**as_started.rule_state(), price_changes=price_changes)
        draft = draft_cycle_invoice(policy, catalog, state, billing_date=start, usage_units=None)
        return _preview("first", draft, usage=None)
    if account.status is not AccountStatus.ACTIVE or account.next_billing_date is None or account.anchor_day is None:
        raise NothingToPreview(f"no invoice ahead while the service is {account.status.value}")
    changes: dict[str, Any] = {}
    if plan_id is not None:
        changes["pending_change"] = PendingPlanChange(plan_id=plan_id, requested_on=today)
    state = ClientBillingState(**account.model_copy(update=changes).rule_state(), price_changes=price_changes)
    cycle = cycle_for(account.anchor_day, today)
    counter = billing.ledger.usage(client_id, max(cycle.start, account.paid_start).isoformat())
    units = billable_units(policy, engaged_chats=counter.engaged_chats, agent_seconds=counter.agent_seconds)
    draft = draft_cycle_invoice(policy, catalog, state, billing_date=account.next_billing_date, usage_units=units)
    return _preview("upcoming", draft, usage=units)


def _paid_start(policy: BillingPolicy, account: BillingAccount, today: date) -> date:
    """The day paid service would start: after the trial (CO-9), or today without one."""
    if account.trial_start is None:
        return today
    return max(trial_schedule(policy, account.trial_start).paid_start, today)


def _preview(kind: str, draft: InvoiceDraft, *, usage: Any) -> dict[str, Any]:
    return {"kind": kind, "issueDate": draft.issue_date.isoformat(), "dueDate": draft.due_date.isoformat(),
            "planId": draft.plan_id_next_cycle, "lines": [line.model_dump(mode="json") for line in draft.lines],
            "subtotalCents": draft.subtotal_cents, "totalCents": draft.total_cents, "notes": list(draft.notes),
            "usageSoFar": None if usage is None else str(usage)}


# ---------------------------------------------------------------------------- the alert
def _reinstatement(billing: Billing, client_id: str) -> dict[str, Any]:
    """Whether a full payment today restores the service (the provider's opt-in, within its
    window), as the settlement service decides it."""
    owed = billing.settlement.owed(client_id)
    until = owed.reinstatable_until if owed.reinstates_on_full_payment else None
    return {"onFullPayment": owed.reinstates_on_full_payment, "until": until.isoformat() if until else None}


def payment_alert(billing: Billing, account: BillingAccount, invoices: list[LedgerInvoice],
                  history: list[HistoryEvent]) -> dict[str, Any] | None:
    """The red state of the dashboard, when there is one:

    * ``in_default`` — the service was terminated for non-payment (CO-10 / CH-10); what is owed
      stays owed; `reinstate.onFullPayment` says whether paying it all today restores the
      service (`reinstate_on_full_payment`, within `reinstatable_until`);
    * ``payment_failed`` — an open invoice's last payment attempt failed (CO-13);
    * ``overdue`` — an open invoice is past its due date.
    Each owing invoice carries its ledger due date and the day default would fall on."""
    policy = billing.config.policy
    today = billing.config.today()
    owing = sorted((i for i in invoices if i.status is InvoiceStatus.OPEN and i.amount_due_cents > 0),
                   key=lambda i: (i.due_date, i.invoice_id))
    if not owing and account.in_default_since is None:
        return None
    failed = _last_failures(history)
    items = [_owing_item(policy, i, failed.get(i.invoice_id, {})) for i in owing]
    if account.in_default_since is not None:
        state = "in_default"
    elif any(item["failedOn"] for item in items):
        state = "payment_failed"
    elif any(i.due_date < today for i in owing):
        state = "overdue"
    else:
        return None  # open, not yet due: the normal state
    return {"state": state, "owedCents": sum(i.amount_due_cents for i in owing), "invoices": items,
            "inDefaultSince": account.in_default_since.isoformat() if account.in_default_since else None,
            "reinstate": _reinstatement(billing, account.client_id)}


def _owing_item(policy: BillingPolicy, invoice: LedgerInvoice, failure: dict[str, Any]) -> dict[str, Any]:
    defaults_on = None if invoice.kind == "late_charge" else default_date(policy, invoice.issue_date, invoice.due_date)
    return {"invoiceId": invoice.invoice_id, "amountDueCents": invoice.amount_due_cents,
            "dueDate": invoice.due_date.isoformat(), "defaultsOn": defaults_on.isoformat() if defaults_on else None,
            "failedOn": failure.get("day"), "declineReason": failure.get("reason")}


def _last_failures(history: list[HistoryEvent]) -> dict[str, dict[str, Any]]:
    """Per invoice, its last failed payment attempt unless a payment came after it."""
    out: dict[str, dict[str, Any]] = {}
    for event in sorted(history, key=lambda e: e.at):
        invoice_id = event.detail.get("invoice_id")
        if not isinstance(invoice_id, str):
            continue
        if event.kind == "payment_failed":
            out[invoice_id] = {"day": event.day.isoformat(), "reason": event.detail.get("reason")}
        elif event.kind == "payment_received":
            out.pop(invoice_id, None)
    return out


# ------------------------------------------------------------------------ current plan
def current_plan(billing: Billing, account: BillingAccount, history: list[HistoryEvent]) -> dict[str, Any] | None:
    """The one plan the client is on now: a CH-5 upgrade counts from the moment it happened
    (its differential is billed at the next invoice); a CH-7 change only from its cycle."""
    catalog = billing.config.rules().catalog
    plan_id = account.upgraded_plan_id or account.current_plan_id or account.plan_id
    if plan_id is None:
        return None
    upgrade = next((e for e in sorted(history, key=lambda e: e.at, reverse=True)
                    if e.kind == "package_upgraded" and e.detail.get("to_plan_id") == plan_id), None)
    upgraded = account.upgraded_plan_id is not None
    return {"id": plan_id, "name": catalog.plan(plan_id).name,
            "upgradedFrom": account.current_plan_id if upgraded else None,
            "upgradedOn": upgrade.day.isoformat() if upgraded and upgrade else None,
            "pendingPlanId": account.pending_change.plan_id if account.pending_change else None,
            "pendingFrom": account.next_billing_date.isoformat() if account.pending_change and
            account.next_billing_date else None}


# ------------------------------------------------------------------------ usage history
def usage_history(billing: Billing, account: BillingAccount, invoices: list[LedgerInvoice]) -> list[dict[str, Any]]:
    """Usage per cycle, oldest first (the last `USAGE_HISTORY_CYCLES`), with what the plan billed
    for that cycle included; the trial first when there was one."""
    policy, catalog, _ = billing.config.rules()
    today = billing.config.today()
    keys: list[tuple[str, date | None, date | None]] = []
    if account.trial_start is not None:
        keys.append((TRIAL_CYCLE, account.trial_start, None))
    if account.paid_start is not None and account.anchor_day is not None:
        cycle = cycle_for(account.anchor_day, account.paid_start)
        last = min(today, account.terminated_on or today)
        while cycle.start <= last:
            keys.append((max(cycle.start, account.paid_start).isoformat(), max(cycle.start, account.paid_start),
                         cycle.end))
            cycle = cycle_for(account.anchor_day, cycle.next_start)
    keys = keys[-USAGE_HISTORY_CYCLES:]
    counters = billing.ledger.usages([(account.client_id, key) for key, _, _ in keys])
    fee_plans = {line.period_start: line.plan_id for inv in invoices for line in inv.lines
                 if line.kind == "monthly_fee_in_advance" and line.plan_id}
    out = []
    for key, start, end in keys:
        counter = counters.get((account.client_id, key))
        units = billable_units(policy, engaged_chats=counter.engaged_chats if counter else 0,
                               agent_seconds=counter.agent_seconds if counter else 0)
        plan_id = fee_plans.get(start) if key != TRIAL_CYCLE else None
        included = catalog.plan(plan_id).included_units if plan_id else (
            policy.trial_unit_limit if key == TRIAL_CYCLE else None)
        out.append({"cycle": key, "start": start.isoformat() if start else None,
                    "end": end.isoformat() if end else None, "units": _number(units),
                    "included": included, "current": end is None or (start is not None and start <= today <= end)})
    return out


def _number(value: Any) -> int | float:
    """A whole quantity as an integer, else a float (agent minutes)."""
    return int(value) if value == int(value) else float(value)


# ------------------------------------------------------------------------------ pay now
class InvoiceNotPayable(Conflict):
    """Pay now on an invoice with nothing to pay (paid, void, or settled)."""

    code = "invoice_not_payable"


class InvoiceNotSent(Conflict):
    """The invoice has not reached Stripe yet (the day's collection carries it)."""

    code = "invoice_not_sent"


class PaymentDeclined(ParleyError):
    """The card on file was declined; the invoice stays open (the attempt is recorded, CO-13)."""

    code = "payment_declined"
    status = 402

    def __init__(self, message: str, reason: str | None) -> None:
        super().__init__(message)
        self.reason = reason

    def details(self) -> dict[str, Any]:
        return {"reason": self.reason}


def pay_now(billing: Billing, client_id: str, invoice_id: str) -> LedgerInvoice:
    """The client's Pay now: charge the card on file for one open invoice, through the same
    collection path as the billing day (`Collection.pay_now`). Refused before Stripe is called
    when there is nothing to pay (409 invoice_not_payable), no card (409 no_card_on_file) or the
    invoice is not in Stripe yet (409 invoice_not_sent); a decline is 402 payment_declined;
    Stripe's own failures propagate as `PaymentProviderError` (503 / 502) with nothing recorded."""
    invoice = billing.ledger.invoice(client_id, invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    if invoice.status is not InvoiceStatus.OPEN or invoice.amount_due_cents == 0:
        raise InvoiceNotPayable(f"invoice {invoice_id} is {invoice.status.value}: nothing to pay")
    account = billing.accounts.require(client_id)
    if not account.payment_method:
        raise NoCardOnFile("add a card first, then pay")
    if invoice.stripe_invoice_id is None:
        raise InvoiceNotSent(f"invoice {invoice_id} has not reached Stripe yet; try again shortly")
    if billing.collection.pay_now(client_id, invoice_id, billing.config.today()) is False:
        failure = _last_failures(billing.ledger.history(client_id)).get(invoice_id, {})
        reason = failure.get("reason")
        raise PaymentDeclined("the card on file was declined" + (f" ({reason})" if reason else "")
                              + "; the invoice is still open", reason if isinstance(reason, str) else None)
    paid = billing.ledger.invoice(client_id, invoice_id)
    assert paid is not None
    return paid


def pay_everything(billing: Billing, client_id: str) -> dict[str, Any]:
    """The banner's Pay now: everything owed, oldest first, through the settlement service
    (`Settlement.pay_now`: it stops at the first decline and reinstates where the policy allows).
    409 nothing_owed / no_card_on_file; a decline is 402 payment_declined, naming what was paid
    before it; Stripe's own failures propagate (503 / 502)."""
    result = billing.settlement.pay_now(client_id)
    if not result.paid:
        failure = _last_failures(billing.ledger.history(client_id)).get(result.declined_invoice_id or "", {})
        reason = failure.get("reason") if isinstance(failure.get("reason"), str) else None
        before = f"; paid before it: {', '.join(result.settled)}" if result.settled else ""
        raise PaymentDeclined(f"the card on file was declined for invoice {result.declined_invoice_id}"
                              + (f" ({reason})" if reason else "") + before, reason)
    return result.public()
