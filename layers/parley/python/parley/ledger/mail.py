"""Billing emails (invoice issued, payment failed, late charge, trial ending, notice received,
default warning, termination): composed here, carried by the history event they report
(`HistoryEvent.email`), and written to the email outbox by the ledger store in the same
transaction as that event — no email without the event, no event without the email. Delivery
is the email path's (outbox → `email_sender` → SMTP / SES, docs/email.md).

Each email has a deterministic id from its event (`email_id_for(key)`), so a re-run that
repeats an event cannot queue a second email. They go to the account's billing email (given at
signup); an account without a valid address gets the event and no email (logged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from parley.billing.money import format_usd
from parley.clock import Clock
from parley.email.models import OutboxEmail, is_email_address
from parley.email.outbox import email_id_for
from parley.email.templates import render
from parley.ledger.models import BillingAccount, LedgerInvoice
from parley.observability import logger

FOOTER = "Your invoices, Pay now and your card on file are on the Billing page of your Parley dashboard."


class BillingMail:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def compose(self, account: BillingAccount | None, template: str, key: str,
                data: Mapping[str, str]) -> OutboxEmail | None:
        """The email of one billing event to the account's billing address (None without one)."""
        if account is None or not is_email_address(account.email):
            logger.warning("billing email not sent: no valid billing address", template=template,
                           client_id=account.client_id if account else None)
            return None
        rendered = render(template, {"client_name": account.name or account.client_id, "footer": FOOTER, **data})
        return OutboxEmail(email_id=email_id_for(f"billing:{key}"), to=[account.email], subject=rendered.subject,
                           text=rendered.text, html=rendered.html, template=template, client_id=account.client_id,
                           created_at=self._clock.now())

    # --- one method per email ------------------------------------------------------------
    def invoice_issued(self, account: BillingAccount, invoice: LedgerInvoice) -> OutboxEmail | None:
        if invoice.total_cents == 0:
            return None  # nothing to pay (a final invoice without overage)
        collection = ("The card on file is charged today." if account.payment_method
                      else "There is no card on file: please pay by the due date.")
        return self.compose(account, "billing.invoice_issued", f"invoice_issued:{invoice.invoice_id}", {
            "invoice_id": invoice.invoice_id, "issue_date": invoice.issue_date.isoformat(),
            "due_date": invoice.due_date.isoformat(), "amount": format_usd(invoice.total_cents),
            "lines": line_list(invoice), "collection": collection})

    def payment_failed(self, account: BillingAccount | None, invoice: LedgerInvoice, day: date, *, reason: str,
                       pay_by: date, consequences: str) -> OutboxEmail | None:
        return self.compose(account, "billing.payment_failed", f"payment_failed:{invoice.invoice_id}:{day}", {
            "invoice_id": invoice.invoice_id, "amount": format_usd(invoice.amount_due_cents),
            "failed_on": day.isoformat(), "reason": reason.replace("_", " "), "pay_by": pay_by.isoformat(),
            "consequences": consequences})

    def late_charge(self, account: BillingAccount, late: LedgerInvoice, consequences: str) -> OutboxEmail | None:
        return self.compose(account, "billing.late_charge", f"late_charge:{late.invoice_id}", {
            "invoice_id": late.invoice_id, "for_invoice_id": late.for_invoice_id or "",
            "amount": format_usd(late.total_cents), "description": late.lines[0].description,
            "consequences": consequences})

    def trial_ending(self, account: BillingAccount, last_day: date, days_left: int) -> OutboxEmail | None:
        next_step = ("Paid service starts the day after with the plan you chose."
                     if account.plan_id and account.payment_method else
                     "Choose a plan and add a card before then to keep the service; otherwise it stops (CO-4).")
        return self.compose(account, "billing.trial_ending", f"trial_ending:{account.client_id}:{last_day}", {
            "last_day": last_day.isoformat(), "days_left": str(days_left), "next_step": next_step})

    def notice_received(self, account: BillingAccount, *, notice_id: str, given_on: date, effective_date: date,
                        withdraw_until: date, explanation: str) -> OutboxEmail | None:
        return self.compose(account, "billing.notice_received", f"notice:{account.client_id}:{notice_id}", {
            "given_on": given_on.isoformat(), "effective_date": effective_date.isoformat(),
            "withdraw_until": withdraw_until.isoformat(), "explanation": explanation})

    def default_warning(self, account: BillingAccount, invoice: LedgerInvoice, *, last_day_to_pay: date,
                        default_date: date, rule: str) -> OutboxEmail | None:
        return self.compose(account, "billing.default_warning", f"default_warning:{invoice.invoice_id}", {
            "invoice_id": invoice.invoice_id, "amount": format_usd(invoice.amount_due_cents),
            "last_day_to_pay": last_day_to_pay.isoformat(), "default_date": default_date.isoformat(),
            "rule": rule})

    def terminated(self, account: BillingAccount, *, day: date, why: str, owed_cents: int,
                   data_deletion_date: date, reinstatable_until: date | None) -> OutboxEmail | None:
        owed = (f"Everything owed stays due: {format_usd(owed_cents)}." if owed_cents
                else "Nothing is owed.")
        reinstatement = (f"Paying everything owed in full by {reinstatable_until.isoformat()} restores the service "
                         "with a new billing cycle starting that day." if reinstatable_until else "")
        return self.compose(account, "billing.terminated", f"terminated:{account.client_id}:{day}", {
            "terminated_on": day.isoformat(), "why": why, "owed": owed, "reinstatement": reinstatement,
            "data_deletion_date": data_deletion_date.isoformat()})


def line_list(invoice: LedgerInvoice) -> str:
    return "\n".join(f"{line.description}: {format_usd(line.amount_cents)}" for line in invoice.lines)


def consequence_text(parts: Sequence[tuple[date, str]]) -> str:
    """'Not paid by X: Y.' for each deadline still ahead."""
    return " ".join(f"Not paid by the end of {day.isoformat()}: {what}." for day, what in parts)
