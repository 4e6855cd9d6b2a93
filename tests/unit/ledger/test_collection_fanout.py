"""Collection fanned out: the billing day puts one order per invoice on the collection queue,
workers carry each to Stripe; redelivered, concurrent or late orders charge once, and each run
reports what it did itself."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.gateways.stripe_models import PaymentProviderUnavailable
from parley.ledger.memory import InMemoryCollectionQueue
from parley.ledger.models import AgendaKind, CollectionOrder, DayReport, InvoiceStatus
from parley.ledger.service import build_billing
from tests.unit.ledger.world import World, days


def fanned_out(world: World) -> InMemoryCollectionQueue:
    """The same world, its billing services wired with a collection queue (as the billing Lambda
    is); the Stripe calls recorded so far (the first invoices, paid when service started) are
    forgotten, so `charges` counts what happens from here."""
    world.payments.calls.clear()
    queue = InMemoryCollectionQueue()
    wired = build_billing(world.ledger, world.tenants, world.payments, world.clock, queue)
    world.billing = wired
    return queue


def charges(world: World) -> int:
    return [method for method, _ in world.payments.calls].count("pay_invoice")


def test_the_billing_day_enqueues_one_order_per_invoice_and_charges_nothing_itself() -> None:
    world = World()
    world.paying("cl_a")
    world.paying("cl_b")
    queue = fanned_out(world)
    day = world.on(world.next_billing_day("cl_a"))
    report = world.billing.billing_day.run(day)
    assert sorted(report.billed) == ["cl_a", "cl_b"] and report.collected == []
    assert sorted(o.client_id for o in queue.orders) == ["cl_a", "cl_b"]
    assert sorted(report.enqueued) == sorted(o.invoice_id for o in queue.orders)
    assert charges(world) == 0
    # The backstop: each entry waits on tomorrow's agenda until its worker is done.
    assert world.ledger.agenda(day, AgendaKind.COLLECT) == []
    assert len(world.ledger.agenda(day + days(1), AgendaKind.COLLECT)) == 2


def test_a_worker_collects_its_order_and_removes_the_backstop() -> None:
    world = World()
    world.paying("cl_a")
    queue = fanned_out(world)
    day = world.on(world.next_billing_day())
    world.billing.billing_day.run(day)
    work = DayReport(day=day)
    world.billing.collection.collect_order(queue.orders[0], work)
    assert work.collected == [queue.orders[0].invoice_id]
    invoice = world.ledger.invoice("cl_a", queue.orders[0].invoice_id)
    assert invoice is not None and invoice.status is InvoiceStatus.PAID
    assert world.ledger.agenda(day + days(1), AgendaKind.COLLECT) == []


def test_a_redelivered_order_charges_once_and_reports_nothing_it_did_not_do() -> None:
    world = World()
    world.paying("cl_a")
    queue = fanned_out(world)
    day = world.on(world.next_billing_day())
    world.billing.billing_day.run(day)
    order = queue.orders[0]
    first, second = DayReport(day=day), DayReport(day=day)
    world.billing.collection.collect_order(order, first)
    world.billing.collection.collect_order(order, second)  # SQS delivers at least once
    assert first.collected == [order.invoice_id] and second.collected == [] and second.declined == []
    assert charges(world) == 1


def test_a_paid_but_unrecorded_charge_is_not_counted_by_the_run_that_finds_it() -> None:
    """Five concurrent runs of one charge used to report `collected: 1` each: only the run whose
    write recorded the payment counts it."""
    world = World()
    world.paying("cl_a")
    queue = fanned_out(world)
    day = world.on(world.next_billing_day())
    world.billing.billing_day.run(day)
    order = queue.orders[0]
    winner = DayReport(day=day)
    world.billing.collection.collect_order(order, winner)
    invoice = world.ledger.invoice("cl_a", order.invoice_id)
    assert invoice is not None
    # A run that read the invoice while it was still open, and reaches Stripe after the winner.
    late = DayReport(day=day)
    world.billing.collection._collect(world.account("cl_a"), invoice.model_copy(update={"status": InvoiceStatus.OPEN}),
                                      day, late)
    assert winner.collected == [order.invoice_id] and late.collected == [] and late.declined == []


def test_stripe_down_fails_the_order_for_redelivery_and_keeps_the_backstop() -> None:
    world = World()
    world.paying("cl_a")
    queue = fanned_out(world)
    day = world.on(world.next_billing_day())
    world.billing.billing_day.run(day)
    world.payments.unavailable = True
    with pytest.raises(PaymentProviderUnavailable):  # the order fails: the queue delivers it again
        world.billing.collection.collect_order(queue.orders[0], DayReport(day=day))
    backstop = world.ledger.agenda(day + days(1), AgendaKind.COLLECT)
    assert [e.invoice_id for e in backstop] == [queue.orders[0].invoice_id]
    # The queue gave up (dead-letter); tomorrow's billing day orders it again, and it is paid once.
    world.payments.unavailable = False
    queue.orders.clear()
    tomorrow = world.on(day + days(1))
    world.billing.billing_day.run(tomorrow)
    assert [o.invoice_id for o in queue.orders] == [f"in_{day:%Y%m%d}_cycle_cl_a"]
    world.billing.collection.collect_order(queue.orders[0], DayReport(day=tomorrow))
    assert world.invoices()[0].status is InvoiceStatus.PAID
    assert charges(world) == 1


def test_an_order_is_strict() -> None:
    order = CollectionOrder.model_validate_json('{"client_id": "cl_a", "invoice_id": "in_1", "day": "2026-04-10"}')
    assert order.day.isoformat() == "2026-04-10"
    for bad in ('{"client_id": 1, "invoice_id": "in_1", "day": "2026-04-10"}',
                '{"client_id": "cl_a", "invoice_id": "in_1", "day": "2026-04-10", "extra": 1}',
                '{"client_id": "cl_a", "day": "2026-04-10"}'):
        with pytest.raises(ValidationError):
            CollectionOrder.model_validate_json(bad)
