"""Billing emails on the fakes: each written with the event it reports (the store's outbox,
`InMemoryLedger.outbox`, beside the history), to the account's billing address, once."""

from __future__ import annotations

from datetime import date, time

from parley.billing.payments import default_date, default_warning_date, late_charge_date
from parley.chat.models import Client
from parley.email.models import OutboxEmail
from parley.ledger.models import HistoryEvent, TerminationReason
from tests.unit.ledger.test_default_termination import APRIL, defaulter, run_day, run_through
from tests.unit.ledger.world import World, days


def emails(world: World, template: str) -> list[OutboxEmail]:
    return [e for e in world.ledger.outbox.values() if e.template == template]


def only(world: World, template: str) -> OutboxEmail:
    (email,) = emails(world, template)
    assert email.to == ["cl_a@example.test"] and email.client_id == "cl_a"
    return email


def event_of(world: World, kind: str) -> HistoryEvent:
    (event,) = world.history(kind=kind)
    assert event.email is None  # the record keeps no copy: the email lives in the outbox
    return event


def test_invoice_issued_and_payment_failed_with_the_co13_deadline() -> None:
    world = World()
    first = defaulter(world, APRIL)
    issued = only(world, "billing.invoice_issued")
    assert first.invoice_id in issued.subject and "$445.00" in issued.text and first.due_date.isoformat() in issued.text
    failed = only(world, "billing.payment_failed")
    pay_by = event_of(world, "payment_failed").detail["pay_by"]
    assert pay_by == first.due_date.isoformat()  # notification + 10 = the Due Date (CO-13, CO-10)
    assert f"pay by {pay_by}" in failed.subject
    # The deadlines that have consequences, with them: the late charge and the termination.
    late_day = late_charge_date(world.policy, first.due_date)
    cut_off = default_date(world.policy, first.issue_date, first.due_date)
    assert f"a late charge of 5% on {late_day}" in failed.text and f"terminated on {cut_off}" in failed.text


def test_late_charge_default_warning_and_termination_each_once_on_their_day() -> None:
    world = World()
    first = defaulter(world, APRIL)
    late_day = late_charge_date(world.policy, first.due_date)
    warn_day = default_warning_date(world.policy, first.issue_date, first.due_date)
    cut_off = default_date(world.policy, first.issue_date, first.due_date)
    assert warn_day == cut_off - days(3)
    run_through(world, APRIL + days(1), late_day - days(1))
    assert emails(world, "billing.late_charge") == []
    run_day(world, late_day)
    late = only(world, "billing.late_charge")
    assert "$22.25" in late.subject and f"{first.invoice_id}-late" in late.text
    run_through(world, late_day + days(1), warn_day - days(1))
    assert emails(world, "billing.default_warning") == []
    run_day(world, warn_day)
    run_day(world, warn_day)  # a re-run sends nothing more
    warning = only(world, "billing.default_warning")
    assert f"the service ends on {cut_off}" in warning.subject
    run_through(world, warn_day + days(1), cut_off)
    terminated = only(world, "billing.terminated")
    assert terminated.subject == f"Your service was terminated on {cut_off}"
    assert f"kept until {cut_off + days(30)}" in terminated.text and "Everything owed stays due" in terminated.text
    assert event_of(world, "service_terminated").detail["reason"] == "default"


def test_no_default_warning_for_an_invoice_paid_before_its_warning_day() -> None:
    world = World()
    first = defaulter(world, APRIL)
    warn_day = default_warning_date(world.policy, first.issue_date, first.due_date)
    assert world.billing.collection.record_payment("cl_a", first.invoice_id, warn_day - days(1), source="transfer")
    run_day(world, warn_day)
    assert emails(world, "billing.default_warning") == []


def test_trial_ending_in_3_days_goes_out_once_while_the_trial_lasts() -> None:
    world = World()
    trial_start = date(2026, 3, 1)
    world.on(trial_start)
    world.tenants.put_client(Client(client_id="cl_a", name="cl_a", widget_key="wk_a"))
    world.billing.accounts.open_account("cl_a", "cl_a", "cl_a@example.test", trial_start=trial_start)
    remind_on = trial_start + days(14 - 3)  # paid service (D + 14) in 3 days
    run_day(world, remind_on - days(1))
    assert emails(world, "billing.trial_ending") == []
    run_day(world, remind_on)
    email = only(world, "billing.trial_ending")
    assert email.subject == f"Your free trial ends in 3 days ({trial_start + days(13)})"
    assert "Choose a plan and add a card" in email.text


def test_notice_received_with_its_effective_date() -> None:
    world = World()
    world.paying()
    world.on(date(2026, 3, 20), time(9))
    notice = world.lifecycle.give_notice("cl_a", None)
    email = only(world, "billing.notice_received")
    assert notice.effective_date.isoformat() in email.subject
    assert f"withdraw the notice until {notice.withdraw_until}" in email.text


def test_an_account_without_a_valid_address_gets_the_event_and_no_email() -> None:
    world = World()
    world.client(card=False)
    account = world.account()
    world.ledger._accounts["cl_a"] = account.model_copy(update={"email": "not an address"})
    world.billing.accounts.start_paid_service("cl_a", "business_starter", world.on(APRIL))
    assert len(world.history(kind="invoice_issued")) == 1 and len(world.history(kind="payment_failed")) == 1
    assert world.ledger.outbox == {}


def test_a_cancellation_taking_effect_sends_the_termination_email_with_reason_cancellation() -> None:
    world = World()
    world.paying()
    world.on(date(2026, 3, 15))
    notice = world.lifecycle.give_notice("cl_a", "moving on")
    day = world.on(notice.effective_date + days(1))
    world.lifecycle.finalize_cancellation("cl_a", notice.notice_id)
    world.lifecycle.finalize_cancellation("cl_a", notice.notice_id)  # a replay sends nothing more
    assert world.account().termination_reason is TerminationReason.CANCELLATION
    email = only(world, "billing.terminated")
    assert email.subject == f"Your service was terminated on {day}"
    assert f"Your cancellation notice of {notice.given_on} took effect" in email.text
    assert event_of(world, "service_terminated").detail["reason"] == "cancellation"


def test_a_default_after_a_notice_keeps_the_defaults_dates_when_the_notice_comes_due() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_date(world.policy, first.issue_date, first.due_date)
    run_through(world, APRIL + days(1), cut_off - days(1))
    world.on(cut_off - days(1), time(9))
    notice = world.lifecycle.give_notice("cl_a", None)  # after the first 30 days: 30 days' notice (CO-2)
    assert notice.effective_date > cut_off
    run_day(world, cut_off)
    terminated = world.account()
    assert terminated.termination_reason is TerminationReason.DEFAULT
    world.on(notice.effective_date + days(1))
    done = world.lifecycle.finalize_cancellation("cl_a", notice.notice_id)
    assert done["terminatedOn"] == cut_off.isoformat()
    assert world.account().data_deletion_date == terminated.data_deletion_date
    assert len(world.history(kind="service_terminated")) == 1
