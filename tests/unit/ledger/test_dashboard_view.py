"""What the dashboard says about money (parley.ledger.dashboard) on the fakes: the preview is the
invoice the engine then issues, one current plan after a CH-5 upgrade, usage per cycle, and the
payment alert at its edges (due, failed, overdue, terminated for default, paid)."""

from __future__ import annotations

import pytest

from parley.billing.payments import default_date
from parley.errors import InvalidRequest
from parley.ledger import dashboard
from parley.ledger.usage import EngagedChat
from tests.unit.ledger.world import START, World, days


def alert(world: World, client_id: str = "cl_a") -> dict | None:  # type: ignore[type-arg]
    account = world.account(client_id)
    return dashboard.payment_alert(world.billing, account, world.ledger.invoices(client_id),
                                   world.ledger.history(client_id))


def test_the_first_invoice_preview_is_the_invoice_then_issued() -> None:
    world = World()
    world.client(card=True)
    with pytest.raises(InvalidRequest):
        dashboard.preview_invoice(world.billing, "cl_a")  # no plan chosen, none named
    preview = dashboard.preview_invoice(world.billing, "cl_a", "business_starter")
    assert preview["kind"] == "first" and preview["issueDate"] == START.isoformat()
    world.billing.accounts.start_paid_service("cl_a", "business_starter", START)
    (issued,) = world.invoices()
    assert preview["lines"] == [line.model_dump(mode="json") for line in issued.lines]
    assert (preview["totalCents"], preview["dueDate"]) == (issued.total_cents, issued.due_date.isoformat())
    assert {line["kind"] for line in preview["lines"]} == {"monthly_fee_in_advance", "setup_fee"}


def test_the_upcoming_invoice_counts_the_usage_so_far_and_no_second_setup_fee() -> None:
    world = World()
    world.paying()
    now = world.clock.now()
    plan = world.billing.config.rules().catalog.plan("business_starter")
    world.billing.metering.meter([EngagedChat("cl_a", f"cv_{i}", now, now) for i in range(plan.included_units + 3)])
    upcoming = dashboard.preview_invoice(world.billing, "cl_a")
    assert upcoming["kind"] == "upcoming" and upcoming["issueDate"] == world.next_billing_day().isoformat()
    kinds = [line["kind"] for line in upcoming["lines"]]
    assert "setup_fee" not in kinds and "monthly_fee_in_advance" in kinds


def test_after_a_ch5_upgrade_the_upgraded_package_is_the_one_current_plan() -> None:
    world = World("chat_outsource")
    plans = world.billing.config.rules().catalog.plans
    world.paying(plan=plans[0].id)
    now = world.clock.now()
    world.billing.metering.meter([EngagedChat("cl_a", f"cv_{i}", now, now) for i in range(plans[0].included_units + 1)])
    current = dashboard.current_plan(world.billing, world.account(), world.ledger.history("cl_a"))
    assert current is not None
    assert (current["id"], current["upgradedFrom"], current["upgradedOn"]) == (plans[1].id, plans[0].id,
                                                                              START.isoformat())
    (cycle,) = dashboard.usage_history(world.billing, world.account(), world.invoices())
    assert (cycle["units"], cycle["included"], cycle["current"]) == (plans[0].included_units + 1,
                                                                     plans[0].included_units, True)


def test_usage_history_has_one_entry_per_cycle_oldest_first() -> None:
    world = World()
    world.paying()
    for _ in range(2):
        day = world.on(world.next_billing_day())
        world.billing.billing_day.run(day)
    history = dashboard.usage_history(world.billing, world.account(), world.invoices())
    assert [c["start"] for c in history] == sorted(c["start"] for c in history)
    assert len(history) == 3 and [c["current"] for c in history] == [False, False, True]
    assert all(c["units"] == 0 and c["included"] == 200 for c in history)


def test_the_alert_from_due_to_failed_to_overdue_to_terminated() -> None:
    world = World()
    world.paying(card=None)  # no card: the invoice is open, not yet due
    (invoice,) = world.invoices()
    assert alert(world) is None
    world.on(invoice.due_date)
    assert alert(world) is None  # the last day to pay on time
    world.on(invoice.due_date + days(1))
    overdue = alert(world)
    assert overdue is not None and overdue["state"] == "overdue"
    assert overdue["invoices"][0]["dueDate"] == invoice.due_date.isoformat()
    assert overdue["invoices"][0]["defaultsOn"] == default_date(world.policy, invoice.issue_date,
                                                                 invoice.due_date).isoformat()


def test_a_declined_payment_is_the_payment_failed_alert_until_paid() -> None:
    world = World()
    world.paying(card=False)
    (invoice,) = world.invoices()
    failed = alert(world)
    assert failed is not None and failed["state"] == "payment_failed"
    assert failed["invoices"][0]["failedOn"] == START.isoformat() and failed["owedCents"] == invoice.total_cents
    assert failed["reinstate"] == {"onFullPayment": False, "until": None}
    world.billing.collection.record_payment("cl_a", invoice.invoice_id, START, source="client")
    assert alert(world) is None


def test_terminated_for_default_says_whether_paying_restores_the_service() -> None:
    for flag in (False, True):
        world = World(reinstate_on_full_payment=flag)
        world.paying(card=False)
        (invoice,) = world.invoices()
        default_day = default_date(world.policy, invoice.issue_date, invoice.due_date)
        for day in range((default_day - START).days + 1):
            current = world.on(START + days(day + 1))
            world.billing.billing_day.run(current)
            world.billing.dunning.run_late_charges(current)
            world.billing.dunning.run_defaults(current)
        in_default = alert(world)
        assert in_default is not None and in_default["state"] == "in_default"
        assert in_default["inDefaultSince"] == default_day.isoformat()
        assert in_default["reinstate"]["onFullPayment"] is flag
        assert (in_default["reinstate"]["until"] is not None) is flag
