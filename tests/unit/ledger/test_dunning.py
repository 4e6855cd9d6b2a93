"""Late charges (CO-11) and defaults (CO-10 / CH-10) on the fakes, at their edges."""

from __future__ import annotations

from parley.billing.money import percent_of
from parley.billing.payments import default_date, late_charge_date
from parley.chat.models import ClientStatus
from parley.ledger.models import AccountStatus, AgendaKind, InvoiceStatus
from tests.unit.ledger.world import START, World, days


def unpaid_first_invoice(world: World) -> str:
    world.paying(card=False)
    (first,) = world.invoices()
    assert first.status is InvoiceStatus.OPEN
    return first.invoice_id


def test_the_late_charge_falls_on_its_day_once() -> None:
    world = World()
    invoice_id = unpaid_first_invoice(world)
    first = world.ledger.invoice("cl_a", invoice_id)
    assert first is not None
    late_day = late_charge_date(world.policy, first.due_date)
    assert world.billing.dunning.run_late_charges(world.on(late_day - days(1))).late_charges == []
    assert world.billing.dunning.run_late_charges(world.on(late_day)).late_charges == [invoice_id]
    assert world.billing.dunning.run_late_charges(late_day).late_charges == []  # once per invoice
    late = world.ledger.invoice("cl_a", f"{invoice_id}-late")
    assert late is not None and late.total_cents == percent_of(first.total_cents, world.policy.late_charge_percent)
    linked = world.ledger.invoice("cl_a", invoice_id)
    assert linked is not None and linked.late_charge_invoice_id == late.invoice_id
    assert [h.detail["rule"] for h in world.history(kind="late_charge")] == ["CO-11"]


def test_an_invoice_paid_before_its_late_day_gets_no_late_charge() -> None:
    world = World()
    invoice_id = unpaid_first_invoice(world)
    first = world.ledger.invoice("cl_a", invoice_id)
    assert first is not None
    late_day = late_charge_date(world.policy, first.due_date)
    assert world.billing.collection.record_payment("cl_a", invoice_id, late_day - days(1), source="transfer")
    assert world.billing.dunning.run_late_charges(world.on(late_day)).late_charges == []
    assert world.ledger.invoice("cl_a", f"{invoice_id}-late") is None


def test_non_payment_is_a_default_on_its_day_and_the_service_is_terminated() -> None:
    world = World()
    invoice_id = unpaid_first_invoice(world)
    first = world.ledger.invoice("cl_a", invoice_id)
    assert first is not None
    cut_off = default_date(world.policy, first.issue_date, first.due_date)
    assert world.billing.dunning.run_defaults(world.on(cut_off - days(1))).defaults == []
    assert world.billing.dunning.run_defaults(world.on(cut_off)).defaults == ["cl_a"]
    assert world.billing.dunning.run_defaults(cut_off).defaults == []  # already terminated
    account = world.account()
    assert account.status is AccountStatus.TERMINATED and account.in_default_since == cut_off
    assert account.next_billing_date is None
    client = world.tenants.get_client("cl_a")
    assert client is not None and client.status is ClientStatus.DEACTIVATED
    assert {i.status for i in world.invoices()} == {InvoiceStatus.OPEN}  # still owed (CO-10)


def test_an_invoice_stripe_never_carried_gets_neither_late_charge_nor_default() -> None:
    world = World()
    world.client(card=False)
    world.payments.unavailable = True
    world.billing.accounts.start_paid_service("cl_a", "business_starter", START)
    (first,) = world.invoices()
    assert first.stripe_invoice_id is None
    late_day = late_charge_date(world.policy, first.due_date)
    cut_off = default_date(world.policy, first.issue_date, first.due_date)
    assert world.billing.dunning.run_late_charges(world.on(late_day)).late_charges == []
    assert world.billing.dunning.run_defaults(world.on(cut_off)).defaults == []
    assert world.account().status is AccountStatus.ACTIVE
    # It is still being collected, one day at a time.
    assert world.ledger.agenda(START + days(1), AgendaKind.COLLECT) != []
