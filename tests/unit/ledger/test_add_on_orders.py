"""CH-8 add-on orders on the fakes (`Accounts.order_add_on`): the add-on on its own invoice that
day, charged at once; refused without paid service or for an id outside the catalog, nothing
written. And a signup with a given client id (the scenario runner's deterministic ids)."""

from __future__ import annotations

import pytest

from parley.billing.errors import UnknownPlan
from parley.errors import Conflict
from parley.ledger.models import InvoiceStatus
from tests.unit.ledger.world import START, World


def test_an_add_on_is_its_own_invoice_issued_and_charged_the_day_it_is_ordered() -> None:
    world = World("chat_outsource")
    world.paying("cl_a", plan="starter")
    assert world.billing.accounts.order_add_on("cl_a", "multilingual_support", 2, START) is True
    add_on, cycle = world.invoices()  # same day: sorted by id
    assert (add_on.invoice_id, add_on.kind, add_on.issue_date) == (f"in_{START:%Y%m%d}_add_on_cl_a", "add_on", START)
    assert [(str(line.kind), int(line.quantity), line.unit_amount_cents, line.amount_cents, line.rule_id)
            for line in add_on.lines] == [("add_on", 2, 15000, 30000, "CH-8")]
    assert add_on.status is InvoiceStatus.PAID  # collected at once with the card on file
    assert cycle.kind == "cycle" and len(cycle.lines) == 1  # the package's invoice is untouched


def test_a_second_add_on_invoice_the_same_day_is_not_issued() -> None:
    world = World("chat_outsource")
    world.paying("cl_a", plan="starter")
    assert world.billing.accounts.order_add_on("cl_a", "crm_integration_setup", 1, START) is True
    assert world.billing.accounts.order_add_on("cl_a", "multilingual_support", 1, START) is False
    assert sorted(i.kind for i in world.invoices()) == ["add_on", "cycle"]


def test_add_ons_need_paid_service_and_a_catalog_id_and_a_refusal_writes_nothing() -> None:
    world = World("chat_outsource")
    world.client("cl_trial")
    with pytest.raises(Conflict):
        world.billing.accounts.order_add_on("cl_trial", "crm_integration_setup", 1, START)
    world.paying("cl_a", plan="starter")
    with pytest.raises(UnknownPlan):
        world.billing.accounts.order_add_on("cl_a", "sla_gold", 1, START)
    assert world.invoices("cl_trial") == [] and [i.kind for i in world.invoices()] == ["cycle"]


def test_signup_takes_a_given_client_id() -> None:
    world = World()
    signed = world.lifecycle.signup("Blue Lagoon Spa", "owner@lagoon.test", "https://lagoon.test", None,
                                    client_id="lagoon")
    assert signed["clientId"] == "lagoon" and world.account("lagoon").trial_start == START
    assert world.tenants.get_client("lagoon") is not None
