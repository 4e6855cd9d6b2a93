"""The billing day and collection on the fakes: cycle invoices once, overage from the metered
usage, Stripe outages deferred, bugs not swallowed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from parley.gateways.stripe_models import PaymentProviderRejected, PaymentProviderUnavailable
from parley.ledger.models import AgendaKind, InvoiceStatus
from parley.ledger.usage import EngagedChat
from tests.unit.ledger.world import START, World, days


def engaged(world: World, count: int, client_id: str = "cl_a", *, offset: int = 0) -> None:
    now = world.clock.now()
    world.billing.metering.meter([EngagedChat(client_id, f"cv_{client_id}_{offset + i}", now, now - timedelta(
        seconds=30)) for i in range(count)])


def test_paid_service_starting_today_bills_and_collects_the_first_invoice_at_once() -> None:
    world = World()
    world.paying()
    (first,) = world.invoices()
    assert first.issue_date == START and first.status is InvoiceStatus.PAID
    assert {line.rule_id for line in first.lines} >= {"CO-9"}
    assert world.next_billing_day() == START + days(31)
    assert world.ledger.agenda(START, AgendaKind.COLLECT) == []  # carried to Stripe: done


def test_a_billing_day_bills_each_due_client_once_however_often_it_runs() -> None:
    world = World()
    world.paying("cl_a")
    world.paying("cl_b")
    engaged(world, 205, "cl_a")  # 5 over the 200 included (CO-6 overage)
    day = world.on(world.next_billing_day())
    report = world.billing.billing_day.run(day)
    assert sorted(report.billed) == ["cl_a", "cl_b"] and sorted(report.collected) == [
        f"in_{day:%Y%m%d}_cycle_cl_a", f"in_{day:%Y%m%d}_cycle_cl_b"]
    again = world.billing.billing_day.run(day)
    assert again.billed == [] and sorted(again.skipped) == ["cl_a", "cl_b"]
    cycle = [i for i in world.invoices("cl_a") if i.issue_date == day]
    assert len(cycle) == 1
    overage = [line for line in cycle[0].lines if line.kind == "overage_in_arrears"]
    assert [(line.quantity, line.amount_cents) for line in overage] == [(5, 5 * 199)]
    assert cycle[0].report is not None and cycle[0].report.engaged_chats == 205
    assert len([c for c in world.payments.calls if c[0] == "pay_invoice"]) == 4  # two first + two cycle


def test_a_day_before_the_billing_date_bills_nobody() -> None:
    world = World()
    world.paying()
    day = world.next_billing_day() - days(1)
    report = world.billing.billing_day.run(world.on(day))
    assert report.billed == [] and report.skipped == []
    assert len(world.invoices()) == 1


def test_stripe_down_keeps_the_invoice_and_collection_moves_to_the_rerun_and_tomorrow() -> None:
    world = World()
    world.paying()
    day = world.on(world.next_billing_day())
    world.payments.unavailable = True
    report = world.billing.billing_day.run(day)
    invoice_id = f"in_{day:%Y%m%d}_cycle_cl_a"
    assert report.billed == ["cl_a"] and report.stripe_pending == [invoice_id]
    stored = world.ledger.invoice("cl_a", invoice_id)
    assert stored is not None and stored.stripe_invoice_id is None and stored.status is InvoiceStatus.OPEN
    assert [e.invoice_id for e in world.ledger.agenda(day + days(1), AgendaKind.COLLECT)] == [invoice_id]
    world.payments.unavailable = False
    rerun = world.billing.billing_day.run(day)
    assert rerun.skipped == ["cl_a"] and rerun.collected == [invoice_id]
    assert world.ledger.agenda(day, AgendaKind.COLLECT) == []
    tomorrow = world.billing.billing_day.run(world.on(day + days(1)))
    assert tomorrow.collected == [] and tomorrow.stripe_pending == []  # paid meanwhile: the entry just goes
    assert world.ledger.agenda(day + days(1), AgendaKind.COLLECT) == []
    paid = world.ledger.invoice("cl_a", invoice_id)
    assert paid is not None and paid.status is InvoiceStatus.PAID and paid.stripe_invoice_id


class Broken:
    """A payments gateway with a bug (or a request Stripe rejects): not an outage."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def ensure_customer(self, client_id: str, name: str, email: str) -> str:
        return f"cus_{client_id}"

    def create_invoice(self, *args: object, **kwargs: object) -> object:
        raise self.error

    def pay_invoice(self, *args: object) -> object:
        raise self.error


@pytest.mark.parametrize("error", [PaymentProviderRejected("No such customer", http_status=404),
                                   KeyError("amount_due"), AssertionError("a bug")])
def test_only_stripes_retryable_errors_defer_collection_anything_else_propagates(error: Exception) -> None:
    world = World()
    world.paying()
    day = world.on(world.next_billing_day())
    broken = Broken(error)
    world.billing.collection._payments = broken  # type: ignore[assignment]  # the same service, a buggy door
    with pytest.raises(type(error)):
        world.billing.billing_day.run(day)
    # The invoice is stored and stays on today's agenda for a fixed re-run; nothing is "Stripe down".
    assert [e.invoice_id for e in world.ledger.agenda(day, AgendaKind.COLLECT)] == [f"in_{day:%Y%m%d}_cycle_cl_a"]
    assert world.ledger.agenda(day + days(1), AgendaKind.COLLECT) == []
    broken.error = PaymentProviderUnavailable("timeout")
    assert world.billing.billing_day.run(day).stripe_pending == [f"in_{day:%Y%m%d}_cycle_cl_a"]


def test_a_declined_card_is_recorded_and_the_client_can_pay_later() -> None:
    world = World()
    world.paying(card=False)
    (first,) = world.invoices()
    assert first.status is InvoiceStatus.OPEN and first.stripe_invoice_id
    assert [h.detail["reason"] for h in world.history(kind="payment_failed")] == ["generic_decline"]
    world.payments.declining.clear()
    assert world.billing.collection.pay_now("cl_a", first.invoice_id, START + days(2))
    paid = world.ledger.invoice("cl_a", first.invoice_id)
    assert paid is not None and paid.status is InvoiceStatus.PAID and paid.payments[0].received_on == START + days(2)
    assert world.billing.collection.pay_now("cl_a", first.invoice_id, START + days(3))  # already paid: fine
    assert len(world.history(kind="payment_received")) == 1


def test_a_plan_change_applies_at_the_next_cycle() -> None:
    world = World()
    world.paying()
    world.billing.accounts.request_plan_change("cl_a", "advanced_business", START + days(3))
    assert world.account().current_plan_id == "business_starter"
    day = world.on(world.next_billing_day())
    world.billing.billing_day.run(day)
    assert world.account().current_plan_id == "advanced_business" and world.account().pending_change is None
