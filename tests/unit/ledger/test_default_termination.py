"""Default is termination (CO-10 / CH-10), the cut-off cycle's advance fee voided, and
reinstatement on full payment where the policy allows it — at their edges, on the fakes with a
controlled clock: the Billing Date before the default date and on it, payment the day before
default and on the default day, reinstatement on and off."""

from __future__ import annotations

from datetime import date, time

import pytest

from parley.billing.payments import default_date, late_charge_date
from parley.billing.policy import load_billing_policy
from parley.chat.models import ClientStatus
from parley.ledger.models import AccountStatus, AgendaKind, InvoiceStatus, LedgerInvoice, TerminationReason
from parley.ledger.settlement import NoCardOnFile, NothingOwed
from tests.unit.ledger.world import PLANS, World, days

EXAMPLES = PLANS.parents[1] / "examples" / "policies"
APRIL = date(2026, 4, 6)  # B1; B2 = May 6; default = B1 + 31 = May 7 (the Billing Date falls before it)
MARCH = date(2026, 3, 10)  # B1; B2 = Apr 10 = B1 + 31: the Billing Date IS the default date


def run_day(world: World, day: date) -> None:
    """The three daily jobs in their order (00:10 bill, 00:20 late charges, 00:30 defaults)."""
    world.on(day, time(0, 10))
    world.billing.billing_day.run(day)
    world.on(day, time(0, 20))
    world.billing.dunning.run_late_charges(day)
    world.on(day, time(0, 30))
    world.billing.dunning.run_defaults(day)
    world.on(day)


def run_through(world: World, first: date, last: date) -> None:
    day = first
    while day <= last:
        run_day(world, day)
        day += days(1)


def defaulter(world: World, start: date, *, card: bool | None = False, plan: str = "business_starter") -> LedgerInvoice:
    world.on(start)
    world.paying(card=card, start=start, plan=plan)
    (first,) = world.invoices()
    assert first.status is InvoiceStatus.OPEN
    return first


def default_day(world: World, invoice: LedgerInvoice) -> date:
    return default_date(world.policy, invoice.issue_date, invoice.due_date)


def invoice(world: World, invoice_id: str) -> LedgerInvoice:
    found = world.ledger.invoice("cl_a", invoice_id)
    assert found is not None
    return found


def templates(world: World) -> list[str]:
    return sorted(e.template for e in world.ledger.outbox.values())


# --- default is termination --------------------------------------------------------------


def test_default_terminates_the_account_with_reason_default_and_everything_owed_stays_open() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    assert cut_off == date(2026, 5, 7)
    run_through(world, APRIL + days(1), cut_off)
    account = world.account()
    assert account.status is AccountStatus.TERMINATED and account.termination_reason is TerminationReason.DEFAULT
    assert (account.terminated_on, account.in_default_since, account.next_billing_date) == (cut_off, cut_off, None)
    # Retention and deletion as for any termination (LC-3): 30 days for call_on_me.
    assert account.data_deletion_date == cut_off + days(30)
    assert [e.client_id for e in world.ledger.agenda(cut_off + days(30), AgendaKind.DELETE_DATA)] == ["cl_a"]
    assert account.reinstatable_until is None  # reinstate_on_full_payment is off in the preset
    client = world.tenants.get_client("cl_a")
    assert client is not None and client.status is ClientStatus.DEACTIVATED
    # The defaulted invoice and its late charge stay owed (CO-10, CO-11).
    assert invoice(world, first.invoice_id).status is InvoiceStatus.OPEN
    assert invoice(world, f"{first.invoice_id}-late").status is InvoiceStatus.OPEN
    (terminated,) = world.history(kind="service_terminated")
    assert terminated.detail["reason"] == "default" and terminated.detail["rule"] == "CO-10"
    assert "billing.terminated" in templates(world)


def test_payment_on_the_day_before_default_avoids_it_and_on_the_default_day_does_not() -> None:
    on_time, late = World(), World()
    for world in (on_time, late):
        first = defaulter(world, APRIL)
        cut_off = default_day(world, first)
        run_through(world, APRIL + days(1), cut_off - days(1))
    paid_day = default_day(on_time, on_time.invoices()[0]) - days(1)
    assert on_time.billing.collection.record_payment("cl_a", on_time.invoices()[0].invoice_id, paid_day,
                                                     source="transfer")
    run_day(on_time, paid_day + days(1))
    assert on_time.account().status is AccountStatus.ACTIVE
    # Paid on the default day itself (before the 00:30 run): the deadline was the day before.
    cut_off = default_day(late, late.invoices()[0])
    late.on(cut_off, time(0, 5))
    assert late.billing.collection.record_payment("cl_a", late.invoices()[0].invoice_id, cut_off, source="transfer")
    run_day(late, cut_off)
    assert late.account().status is AccountStatus.TERMINATED


# --- the cut-off cycle's advance fee is voided ---------------------------------------------


def test_the_billing_date_before_default_its_advance_fee_is_voided_in_the_ledger_and_in_stripe() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    run_through(world, APRIL + days(1), cut_off)
    second = invoice(world, "in_20260506_cycle_cl_a")  # B2 = May 6 < default May 7
    assert second.status is InvoiceStatus.VOID and second.voided_on == cut_off and second.reissued_as is None
    stripe_side = world.payments.invoices[second.invoice_id].invoice
    assert stripe_side.status == "void"
    (voided,) = world.history(kind="invoice_voided")
    assert voided.detail["invoice_id"] == second.invoice_id and voided.detail["rule"] == "CO-10"
    # No late charge on the voided amount, ever (its late day is May 27).
    run_through(world, cut_off + days(1), late_charge_date(world.policy, second.due_date) + days(1))
    assert world.ledger.invoice("cl_a", f"{second.invoice_id}-late") is None
    # What stays owed: the first cycle's fee (service given) and its late charge.
    assert world.billing.settlement.owed("cl_a").total_cents == first.total_cents + invoice(
        world, f"{first.invoice_id}-late").total_cents


def test_the_billing_date_on_the_default_day_its_fee_billed_at_0010_is_voided_at_0030() -> None:
    world = World()
    first = defaulter(world, MARCH)
    cut_off = default_day(world, first)
    assert cut_off == date(2026, 4, 10) == world.account().next_billing_date
    run_through(world, MARCH + days(1), cut_off)
    second = invoice(world, "in_20260410_cycle_cl_a")
    assert second.issue_date == cut_off and second.status is InvoiceStatus.VOID


def test_the_overage_before_the_cut_off_stays_owed_on_a_reissue_with_its_late_charge() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    world.ledger._usage[("cl_a", APRIL.isoformat())] = world.ledger.usage("cl_a", APRIL.isoformat()).model_copy(
        update={"engaged_chats": 205})  # 5 beyond Business Starter's 200, in the cycle that ended May 5
    run_through(world, APRIL + days(1), cut_off)
    second = invoice(world, "in_20260506_cycle_cl_a")
    assert second.status is InvoiceStatus.VOID and second.reissued_as == "in_20260507_reissue_cl_a"
    reissue = invoice(world, "in_20260507_reissue_cl_a")
    assert [line.kind for line in reissue.lines] == ["overage_in_arrears"]
    assert reissue.total_cents == 5 * 199 and reissue.due_date == second.due_date
    assert reissue.reissue_of == second.invoice_id
    run_through(world, cut_off + days(1), late_charge_date(world.policy, second.due_date))
    late = invoice(world, f"{reissue.invoice_id}-late")
    assert late.total_cents == 50  # 5 % of 995, half-up: the overage stays owed with its late charge


def test_a_stripe_outage_at_default_voids_in_the_ledger_and_retries_stripe_the_next_day() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    run_through(world, APRIL + days(1), cut_off - days(1))
    world.payments.unavailable = True
    run_day(world, cut_off)
    assert invoice(world, "in_20260506_cycle_cl_a").status is InvoiceStatus.VOID
    assert world.payments.invoices["in_20260506_cycle_cl_a"].invoice.status == "open"
    world.payments.unavailable = False
    run_day(world, cut_off + days(1))
    assert world.payments.invoices["in_20260506_cycle_cl_a"].invoice.status == "void"


def test_ch10_the_defaulted_invoice_is_the_cut_off_cycles_and_its_fee_is_voided() -> None:
    world = World("chat_outsource")
    first = defaulter(world, APRIL, plan="starter")
    cut_off = default_day(world, first)
    assert cut_off == APRIL + days(4)  # Due Date (= Billing Date) + 4
    run_through(world, APRIL + days(1), cut_off)
    assert world.account().status is AccountStatus.TERMINATED
    assert invoice(world, first.invoice_id).status is InvoiceStatus.VOID
    assert world.billing.settlement.owed("cl_a").total_cents == 0


def test_a_paid_cut_off_invoice_is_not_voided_no_automatic_refund() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    run_through(world, APRIL + days(1), cut_off - days(1))
    assert world.billing.collection.record_payment("cl_a", "in_20260506_cycle_cl_a", cut_off - days(1),
                                                   source="transfer")
    run_day(world, cut_off)
    assert world.account().status is AccountStatus.TERMINATED
    assert invoice(world, "in_20260506_cycle_cl_a").status is InvoiceStatus.PAID
    assert world.history(kind="invoice_voided") == []


# --- Pay now and reinstatement --------------------------------------------------------------


def reinstating_world() -> World:
    policy = load_billing_policy(EXAMPLES / "call_on_me_reinstatement.json")
    return World(reinstate_on_full_payment=policy.reinstate_on_full_payment,
                 reinstatement_window_days=policy.reinstatement_window_days)


def terminated_then_card_fixed(world: World) -> date:
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    run_through(world, APRIL + days(1), cut_off)
    assert world.account().status is AccountStatus.TERMINATED
    world.payments.declining.clear()  # the client fixed its card
    return cut_off


def test_with_reinstatement_full_payment_restores_service_with_a_new_cycle_from_that_day() -> None:
    world = reinstating_world()
    cut_off = terminated_then_card_fixed(world)
    assert world.account().reinstatable_until == cut_off + days(30)
    owed = world.billing.settlement.owed("cl_a")
    assert owed.reinstates_on_full_payment and owed.total_cents > 0
    pay_day = world.on(cut_off + days(3))  # May 10
    result = world.billing.settlement.pay_now("cl_a")
    assert result.paid and result.reinstated and sorted(result.settled) == sorted(i.invoice_id for i in owed.invoices)
    account = world.account()
    assert account.status is AccountStatus.ACTIVE and account.termination_reason is None
    assert account.anchor_day == 10 and account.next_billing_date == date(2026, 6, 10)
    assert account.data_deletion_date is None
    restart = invoice(world, "in_20260510_reinstated_cl_a")
    assert [line.kind for line in restart.lines] == ["monthly_fee_in_advance"]  # no proration, no setup fee
    fee = restart.lines[0]
    assert (fee.period_start, fee.period_end) == (pay_day, date(2026, 6, 9))
    assert restart.status is InvoiceStatus.PAID  # charged to the card on file at once
    client = world.tenants.get_client("cl_a")
    assert client is not None and client.status is ClientStatus.ACTIVE
    # The data deletion the default scheduled does nothing now.
    assert world.lifecycle.delete_due_data(cut_off + days(30)) == []


def test_without_reinstatement_full_payment_settles_the_debt_and_the_account_stays_terminated() -> None:
    world = World()
    cut_off = terminated_then_card_fixed(world)
    world.on(cut_off + days(3))
    result = world.billing.settlement.pay_now("cl_a")
    assert result.paid and not result.reinstated and result.owed_after_cents == 0
    assert world.account().status is AccountStatus.TERMINATED
    with pytest.raises(NothingOwed):
        world.billing.settlement.pay_now("cl_a")


def test_reinstatement_window_edges() -> None:
    last_day, after = reinstating_world(), reinstating_world()
    for world, offset in ((last_day, 30), (after, 31)):
        cut_off = terminated_then_card_fixed(world)
        world.on(cut_off + days(offset))
        result = world.billing.settlement.pay_now("cl_a")
        assert result.paid
    assert last_day.account().status is AccountStatus.ACTIVE
    assert after.account().status is AccountStatus.TERMINATED


def test_reinstatement_on_the_default_day_itself_when_the_billing_date_is_that_day() -> None:
    world = reinstating_world()
    first = defaulter(world, MARCH)
    cut_off = default_day(world, first)
    run_through(world, MARCH + days(1), cut_off)
    world.payments.declining.clear()
    world.on(cut_off, time(9))
    assert world.billing.settlement.pay_now("cl_a").reinstated
    assert invoice(world, "in_20260410_cycle_cl_a").status is InvoiceStatus.VOID  # the voided one stays void
    assert invoice(world, "in_20260410_reinstated_cl_a").status is InvoiceStatus.PAID


def test_pay_now_errors_and_a_decline_recorded_once() -> None:
    world = World()
    world.paying()  # paid at once with a card that pays
    with pytest.raises(NothingOwed):
        world.billing.settlement.pay_now("cl_a")
    no_card = World()
    no_card.paying("cl_a", card=None)
    with pytest.raises(NoCardOnFile):
        no_card.billing.settlement.pay_now("cl_a")
    declining = World()
    first = defaulter(declining, APRIL)
    result = declining.billing.settlement.pay_now("cl_a")  # same day as the automatic attempt
    assert not result.paid and result.declined_invoice_id == first.invoice_id
    assert len(declining.history(kind="payment_failed")) == 1  # one decline per invoice and day
    declining.on(APRIL + days(1))
    declining.billing.settlement.pay_now("cl_a")
    assert len(declining.history(kind="payment_failed")) == 2


def test_payments_collected_outside_pay_now_settle_and_reinstate_too() -> None:
    world = reinstating_world()
    cut_off = terminated_then_card_fixed(world)
    world.on(cut_off + days(1))
    owed = [i.invoice_id for i in world.billing.settlement.owed("cl_a").invoices]
    assert world.billing.settlement.settle_paid("cl_a", owed, source="payment_intent") == owed
    assert world.account().status is AccountStatus.ACTIVE
    assert world.billing.settlement.settle_paid("cl_a", owed, source="payment_intent") == []


def test_data_of_a_client_terminated_for_default_is_deleted_after_retention() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    run_through(world, APRIL + days(1), cut_off)
    deletion = world.account().data_deletion_date
    assert deletion is not None
    assert world.lifecycle.delete_due_data(deletion - days(1)) == []
    assert world.lifecycle.delete_due_data(deletion) == ["cl_a"]
    assert world.account().data_deleted
    assert world.lifecycle.delete_due_data(deletion) == []


def test_the_overage_of_the_cut_off_cycles_days_of_service_is_billed_at_default() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)  # May 7: one day of service (May 6) in the cycle cut off
    run_through(world, APRIL + days(1), cut_off - days(1))
    cycle = "2026-05-06"
    world.ledger._usage[("cl_a", cycle)] = world.ledger.usage("cl_a", cycle).model_copy(update={"engaged_chats": 203})
    run_day(world, cut_off)
    usage = invoice(world, "in_20260507_cutoff_cl_a")
    assert [(line.kind, line.quantity, line.amount_cents) for line in usage.lines] == [
        ("overage_in_arrears", 3, 3 * 199)]
    assert (usage.lines[0].period_start, usage.lines[0].period_end) == (date(2026, 5, 6), date(2026, 5, 6))
    assert world.account().status is AccountStatus.TERMINATED
    run_day(world, cut_off)  # a re-run bills nothing more
    assert len([i for i in world.invoices() if i.kind == "cutoff"]) == 1


def test_no_cut_off_usage_invoice_when_the_cut_off_cycle_starts_on_the_default_day() -> None:
    world = World()
    first = defaulter(world, MARCH)
    cut_off = default_day(world, first)  # = the Billing Date: no day of service in that cycle
    run_through(world, MARCH + days(1), cut_off)
    assert [i for i in world.invoices() if i.kind == "cutoff"] == []


def test_stripes_invoice_paid_webhook_reinstates_like_any_payment() -> None:
    from parley.gateways.stripe_models import WebhookEvent
    from parley.ledger.webhooks import apply_webhook

    world = reinstating_world()
    cut_off = terminated_then_card_fixed(world)
    world.on(cut_off + days(2))
    owed = [i.invoice_id for i in world.billing.settlement.owed("cl_a").invoices]
    for n, invoice_id in enumerate(owed):  # paid on the Stripe-hosted page: only the webhooks tell
        assert apply_webhook(world.billing, WebhookEvent(id=f"evt_{n}", type="invoice.paid",
                                                         created=world.clock.now(), parley_invoice_id=invoice_id))
    assert world.account().status is AccountStatus.ACTIVE and world.account().anchor_day == 9


def test_a_voided_invoice_stripe_never_received_is_not_carried_there_afterwards() -> None:
    world = World()
    first = defaulter(world, APRIL)
    cut_off = default_day(world, first)
    run_through(world, APRIL + days(1), date(2026, 5, 5))
    world.payments.unavailable = True  # May 6 and 7: the cut-off cycle's invoice never reaches Stripe
    run_through(world, date(2026, 5, 6), cut_off)
    world.payments.unavailable = False
    second = invoice(world, "in_20260506_cycle_cl_a")
    assert second.stripe_invoice_id is None and second.status is InvoiceStatus.VOID  # voided all the same
    assert world.account().status is AccountStatus.TERMINATED  # the first invoice defaulted
    run_through(world, cut_off + days(1), cut_off + days(2))  # its collection entry rolls on: a no-op
    assert second.invoice_id not in world.payments.invoices
