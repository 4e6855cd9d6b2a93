"""A client's life: signup and free trial, plan choice, conversion to paid, notice and
cancellation, data export and deletion (CO-2, CO-4, CO-5, CO-9, CH-9, LC-3, LC-4).

The long waits (trial end, notice period, retention period) are Step Functions executions;
this module holds what happens at each end, and what starts or stops them.

Decision (CO-4 early conversion): when trial usage exceeds the limit, usage_meter STOPS the
trial execution and converts at once (stop-and-restart). No execution waits on a task token
for weeks and nothing polls; conversion is one function either way, and the execution name
(trial-{client}) keeps a second start or stop harmless.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from parley.billing.invoicing import draft_trial_usage_invoice
from parley.billing.notice import can_withdraw, effective_cancellation_date
from parley.billing.trial import early_conversion, trial_end_outcome, trial_limit_exceeded, trial_schedule
from parley.chat.models import DEFAULT_TEAM_ID, Client, ClientStatus
from parley.clock import iso
from parley.errors import Conflict, InvalidRequest, NotFound
from parley.ledger.dunning import open_amount_cents
from parley.ledger.mail import BillingMail
from parley.ledger.models import (
    TRIAL_CYCLE,
    AccountStatus,
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    DayReport,
    Notice,
    TerminationReason,
)
from parley.ledger.ports import BillingTenants, LedgerStore, Workflows
from parley.ledger.service import Billing
from parley.repositories.chat import ChatRepository

TRIAL = "PARLEY_TRIAL_STATE_MACHINE_ARN"
NOTICE = "PARLEY_NOTICE_STATE_MACHINE_ARN"


class NoticePending(Conflict):
    code = "notice_pending"


class NoticeNotWithdrawable(Conflict):
    code = "notice_not_withdrawable"


class NoNotice(NotFound):
    code = "no_notice"


class AccountLifecycle:
    def __init__(self, ledger: LedgerStore, billing: Billing, tenants: BillingTenants, chat: ChatRepository,
                 workflows: Workflows) -> None:
        self._ledger = ledger
        self._billing = billing
        self._config = billing.config
        self._tenants = tenants
        self._chat = chat
        self._workflows = workflows
        self._mail = BillingMail(billing.config.clock)

    @property
    def billing(self) -> Billing:
        return self._billing

    def _start_of_day_utc(self, day: date) -> str:
        """The instant a business day starts, as Step Functions wants it (UTC, 'Z')."""
        return iso(datetime.combine(day, time.min, self._config.policy.zone))

    # --- signup and trial (CO-4, CO-9) -----------------------------------------------------
    def signup(self, company: str, email: str, website: str, user_sub: str | None,
               *, client_id: str | None = None) -> dict[str, Any]:
        """`client_id`: a given id instead of a new one (scenarios: deterministic invoice ids)."""
        today = self._config.today()
        slug = re.sub(r"[^a-z0-9]+", "-", company.lower()).strip("-")[:24] or "client"
        client_id = client_id or f"cl_{slug}_{secrets.token_hex(3)}"
        # A self-service signup lands in the default team, so its chats are never unanswered;
        # an admin picks it up later (GET /api/admin/clients?selfService=true).
        client = Client(client_id=client_id, name=company, widget_key=f"wk_{secrets.token_urlsafe(12)}",
                        allowed_origins=[website.rstrip("/")], team_ids=[DEFAULT_TEAM_ID], self_service=True)
        self._tenants.put_client(client)
        self._tenants.add_client_to_team(DEFAULT_TEAM_ID, client_id)
        if user_sub:
            self._tenants.put_client_user(user_sub, client_id)
        self._billing.accounts.open_account(client_id, company, email, trial_start=today)
        schedule = trial_schedule(self._config.policy, today)
        self._workflows.start(TRIAL, f"trial-{client_id}", {
            "clientId": client_id, "trialStart": today.isoformat(),
            "trialEndsAt": self._start_of_day_utc(schedule.paid_start)})
        return {"clientId": client_id, "widgetKey": client.widget_key, "trial": schedule.model_dump(mode="json")}

    def choose_plan(self, client_id: str, plan_id: str) -> BillingAccount:
        """In the trial: the plan paid service will start with. Once paid: a change at the
        next cycle (CH-7)."""
        account = self._require(client_id)
        catalog = self._config.rules().catalog
        if plan_id not in {p.id for p in catalog.plans}:
            raise InvalidRequest(f"planId: there is no plan {plan_id!r}")
        if account.status is AccountStatus.ACTIVE:
            return self._billing.accounts.request_plan_change(client_id, plan_id, self._config.today())
        if account.status is not AccountStatus.TRIAL:
            raise Conflict("the service has ended; contact the provider to restart it")
        return self._ledger.update_account(account, {"plan_id": plan_id}, history=[
            self._config.event(client_id, self._config.today(), "plan_chosen", plan_id=plan_id)])

    def end_trial(self, client_id: str) -> dict[str, Any]:
        """The trial workflow's end: paid service from D+14 (setup fee on the first invoice,
        CO-5) if a plan and a payment method are on file, else the service stops (CO-4)."""
        account = self._require(client_id)
        if account.status is not AccountStatus.TRIAL or account.trial_start is None:
            return {"action": "none", "status": account.status.value}  # converted early, or a replay
        policy = self._config.policy
        usage = self._ledger.usage(client_id, TRIAL_CYCLE)
        outcome = trial_end_outcome(policy, trial_start=account.trial_start,
                                    plan_chosen=bool(account.plan_id and account.payment_method),
                                    trial_units=usage.engaged_chats)
        day = outcome.schedule.paid_start
        if outcome.action == "start_paid" and account.plan_id:
            self._billing.accounts.start_paid_service(client_id, account.plan_id, day)
        else:
            self._stop_after_trial(account, day, outcome.bill_trial_usage, usage.engaged_chats, outcome.explanation)
        return {"action": outcome.action, "rule": outcome.rule_id, "explanation": outcome.explanation}

    def _stop_after_trial(self, account: BillingAccount, day: date, bill_usage: bool, units: int,
                          why: str) -> None:
        client_id = account.client_id
        self._ledger.update_account(account, {"status": AccountStatus.STOPPED}, history=[
            self._config.event(client_id, day, "service_stopped", rule="CO-4", why=why)])
        self._set_service(client_id, ClientStatus.DEACTIVATED)
        if bill_usage:
            policy = self._config.policy
            draft = draft_trial_usage_invoice(policy, trial_start=account.trial_start or day, trial_units=units,
                                              tax_rate_basis_points=account.tax_rate_basis_points)
            if draft is not None:
                self._billing.billing_day.issue_invoice(client_id, day, "trial", draft)

    def convert_if_over_limit(self, client_id: str) -> bool:
        """CO-4: trial usage beyond the limit converts the client to paid at once."""
        account = self._ledger.account(client_id)
        policy, catalog, _ = self._config.rules()
        if account is None or account.status is not AccountStatus.TRIAL or account.trial_start is None:
            return False
        usage = self._ledger.usage(client_id, TRIAL_CYCLE)
        if not (policy.trial_limit_converts_to_paid and trial_limit_exceeded(policy, usage.engaged_chats)):
            return False
        today = self._config.today()
        schedule = early_conversion(policy, account.trial_start, today)
        self._workflows.stop(TRIAL, f"trial-{client_id}", "trial limit exceeded: converted early (CO-4)")
        # Decision: without a chosen plan, the smallest package covering the trial usage.
        plan_id = account.plan_id or catalog.smallest_covering(usage.engaged_chats).id
        self._ledger.add_history([self._config.event(client_id, today, "trial_converted_early", rule="CO-4",
                                                     why=schedule.explanation, units=usage.engaged_chats)])
        self._billing.accounts.start_paid_service(client_id, plan_id, schedule.paid_start)
        return True

    # --- notice and cancellation (CO-2, CH-9) -----------------------------------------------
    def give_notice(self, client_id: str, reason: str | None) -> Notice:
        account = self._require(client_id)
        if account.notice is not None and account.notice.status == "pending":
            raise NoticePending(f"a notice is already pending (service ends after {account.notice.effective_date})")
        if account.status is not AccountStatus.ACTIVE or account.paid_start is None or account.anchor_day is None:
            raise Conflict("only a paid subscription can be cancelled with notice (a trial simply ends, CO-4)")
        policy = self._config.policy
        today = self._config.today()
        schedule = effective_cancellation_date(policy, account.paid_start, account.anchor_day, today, reason)
        notice = Notice(notice_id=f"n{today:%Y%m%d}{secrets.token_hex(2)}", given_on=today, reason=schedule.reason,
                        effective_date=schedule.effective_date, withdraw_until=schedule.withdraw_until,
                        outstanding_due_date=schedule.outstanding_due_date, rule_id=schedule.rule_id,
                        explanation=schedule.explanation)
        email = self._mail.notice_received(account, notice_id=notice.notice_id, given_on=today,
                                           effective_date=notice.effective_date,
                                           withdraw_until=notice.withdraw_until, explanation=notice.explanation)
        self._ledger.update_account(
            account, {"notice": notice, "cancellation_effective_date": notice.effective_date},
            history=[self._config.event(client_id, today, "notice_given", notice_id=notice.notice_id,
                                        effective_date=notice.effective_date.isoformat(), rule=notice.rule_id,
                                        email=email)])
        self._workflows.start(NOTICE, f"notice-{client_id}-{notice.notice_id}", {
            "clientId": client_id, "noticeId": notice.notice_id,
            "serviceEndsAt": self._start_of_day_utc(notice.effective_date + timedelta(days=1))})
        return notice

    def withdraw_notice(self, client_id: str) -> BillingAccount:
        """Decision: a pending notice can be withdrawn until it takes effect; billing is untouched."""
        account = self._require(client_id)
        notice = account.notice
        if notice is None or notice.status != "pending":
            raise NoNotice("there is no pending notice to withdraw")
        today = self._config.today()
        if not can_withdraw(notice.withdraw_until, today):
            raise NoticeNotWithdrawable(f"the notice took effect after {notice.effective_date}")
        self._workflows.stop(NOTICE, f"notice-{client_id}-{notice.notice_id}", "notice withdrawn by the client")
        return self._ledger.update_account(
            account, {"notice": notice.model_copy(update={"status": "withdrawn"}), "cancellation_effective_date": None},
            history=[self._config.event(client_id, today, "notice_withdrawn", notice_id=notice.notice_id)])

    def finalize_cancellation(self, client_id: str, notice_id: str) -> dict[str, Any]:
        """The notice workflow at the end of the last day of service: the service stops, the
        final invoice bills what was incurred before (overage; no further fee, CO-2), the
        balance deadline is recorded (CH-9), data deletion is scheduled (LC-3)."""
        account = self._require(client_id)
        notice = account.notice
        if notice is None or notice.notice_id != notice_id or notice.status == "withdrawn":
            raise NoNotice(f"notice {notice_id} is not pending")
        policy = self._config.policy
        day = notice.effective_date + timedelta(days=1)
        deletion = day + timedelta(days=policy.data_retention_days)
        if account.termination_reason is TerminationReason.DEFAULT and account.data_deletion_date is not None:
            # Terminated for default before the notice took effect: that termination's dates stand.
            deletion = account.data_deletion_date
            return {"deleteDataAt": self._start_of_day_utc(deletion), "terminatedOn": str(account.terminated_on)}
        if notice.status == "pending":
            report = DayReport(day=day)
            self._billing.billing_day.bill_final(account, day, report)
            account = self._require(client_id)
            owed = open_amount_cents(self._ledger.invoices(client_id))
            email = self._mail.terminated(
                account, day=day, why=f"Your cancellation notice of {notice.given_on} took effect: the last day of "
                f"service was {notice.effective_date} ({notice.rule_id}).", owed_cents=owed,
                data_deletion_date=deletion, reinstatable_until=None)
            self._ledger.update_account(
                account, {"status": AccountStatus.TERMINATED, "terminated_on": day, "next_billing_date": None,
                          "termination_reason": TerminationReason.CANCELLATION,
                          "data_deletion_date": deletion, "notice": notice.model_copy(update={"status": "effective"})},
                history=[self._config.event(client_id, day, "service_terminated", reason="cancellation",
                                            rule=notice.rule_id, balance_due_by=str(notice.outstanding_due_date),
                                            data_deletion_date=deletion.isoformat(), email=email)],
                agenda=[AgendaEntry(day=day, kind=AgendaKind.TERMINATED, client_id=client_id)])
            self._set_service(client_id, ClientStatus.DEACTIVATED)
        return {"deleteDataAt": self._start_of_day_utc(deletion), "terminatedOn": day.isoformat()}

    def delete_data(self, client_id: str) -> dict[str, Any]:
        """LC-3: after the retention period, the client's chat records and visitor data go.
        The ledger (invoices, payments) is kept: it is the provider's accounting record."""
        account = self._require(client_id)
        deleted = sum(self._chat.delete_conversation(c.conversation_id)
                      for c in self._chat.conversations_of_client(client_id))
        self._ledger.update_account(
            account, {"data_deleted": True},
            history=[self._config.event(client_id, self._config.today(), "data_deleted", items=deleted, rule="LC-3")])
        return {"deletedItems": deleted}

    def delete_due_data(self, day: date) -> list[str]:
        """LC-3 after a default: the retention period ends on the day the termination put on the
        agenda; a client reinstated meanwhile (or already deleted) is left alone. Returns the
        clients whose data this run deleted."""
        deleted: list[str] = []
        for entry in self._ledger.agenda(day, AgendaKind.DELETE_DATA):
            account = self._ledger.account(entry.client_id)
            if (account is not None and account.status is AccountStatus.TERMINATED and not account.data_deleted
                    and account.data_deletion_date is not None and account.data_deletion_date <= day):
                self.delete_data(entry.client_id)
                deleted.append(entry.client_id)
            self._ledger.remove_agenda(entry)
        return deleted

    # --- data export (LC-3) ---------------------------------------------------------------
    def export(self, client_id: str) -> dict[str, Any]:
        conversations = self._chat.conversations_of_client(client_id)
        visitors: dict[str, dict[str, Any]] = {}
        out = []
        for conversation in conversations:
            messages = self._chat.all_messages(conversation.conversation_id)  # every page, not DynamoDB's first 1 MB
            out.append({**conversation.public(), "visitorEmail": conversation.visitor_email,
                        "messages": [m.public() for m in messages]})
            visitor = visitors.setdefault(conversation.visitor_id, {
                "visitorId": conversation.visitor_id, "names": [], "emails": [], "conversations": 0})
            visitor["conversations"] += 1
            for key, value in (("names", conversation.visitor_name), ("emails", conversation.visitor_email)):
                if value and value not in visitor[key]:
                    visitor[key].append(value)
        ledger = self._ledger
        return {
            "clientId": client_id, "exportedAt": iso(self._config.clock.now()), "format": "parley-export/1",
            "conversations": out, "visitors": list(visitors.values()),
            "invoices": [i.model_dump(mode="json") for i in ledger.invoices(client_id)],
            "history": [h.model_dump(mode="json") for h in ledger.history(client_id)],
        }

    # --- helpers ----------------------------------------------------------------------------
    def _require(self, client_id: str) -> BillingAccount:
        account = self._ledger.account(client_id)
        if account is None:
            raise NotFound("no such client account")
        return account

    def _set_service(self, client_id: str, status: ClientStatus) -> None:
        client = self._tenants.get_client(client_id)
        if client is not None and client.with_service(status) != client:
            self._tenants.put_client(client.with_service(status))

