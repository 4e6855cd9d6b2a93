"""A client's life on the fakes: signup and trial, conversion (CO-4, CO-9), notice and
cancellation (CO-2, CH-9), and the workflows started and stopped on the way."""

from __future__ import annotations

import pytest

from parley.billing.notice import effective_cancellation_date
from parley.billing.trial import trial_schedule
from parley.chat.models import ClientStatus
from parley.errors import InvalidRequest
from parley.ledger.lifecycle import NoNotice, NoticePending
from parley.ledger.models import TRIAL_CYCLE, AccountStatus, AgendaKind
from parley.ledger.usage import EngagedChat
from tests.unit.ledger.world import START, World, days


def signed_up(world: World) -> str:
    client_id = str(world.lifecycle.signup("Acme Motors", "owner@acme.test", "https://acme.test/", "sub-1")["clientId"])
    assert world.tenants.client_of_user("sub-1") == client_id
    return client_id


def test_signup_opens_a_trial_and_starts_its_workflow() -> None:
    world = World()
    client_id = signed_up(world)
    account = world.account(client_id)
    assert account.status is AccountStatus.TRIAL and account.trial_start == START
    payload = world.workflows.running[f"trial-{client_id}"]
    assert payload["clientId"] == client_id and payload["trialStart"] == START.isoformat()
    client = world.tenants.get_client(client_id)
    assert client is not None and client.allowed_origins == ["https://acme.test"]


def test_the_trial_ends_in_paid_service_with_a_plan_and_a_card() -> None:
    world = World()
    client_id = signed_up(world)
    world.lifecycle.choose_plan(client_id, "business_development")
    world.billing.accounts.set_payment_method(client_id, "pm_card_visa")
    paid_start = trial_schedule(world.policy, START).paid_start
    world.on(paid_start)
    outcome = world.lifecycle.end_trial(client_id)
    assert outcome["action"] == "start_paid"
    account = world.account(client_id)
    assert account.status is AccountStatus.ACTIVE and account.paid_start == paid_start
    assert [i.issue_date for i in world.invoices(client_id)] == [paid_start]
    assert world.lifecycle.end_trial(client_id)["action"] == "none"  # a replayed workflow step


def test_the_trial_ends_the_service_without_a_plan() -> None:
    world = World()
    client_id = signed_up(world)
    world.on(trial_schedule(world.policy, START).paid_start)
    world.lifecycle.end_trial(client_id)
    assert world.account(client_id).status is AccountStatus.STOPPED
    client = world.tenants.get_client(client_id)
    assert client is not None and client.status is ClientStatus.DEACTIVATED
    with pytest.raises(Exception, match="service has ended"):
        world.lifecycle.choose_plan(client_id, "business_starter")


def test_an_unknown_plan_is_refused_and_changes_nothing() -> None:
    world = World()
    client_id = signed_up(world)
    with pytest.raises(InvalidRequest, match="planId"):
        world.lifecycle.choose_plan(client_id, "gold")
    assert world.account(client_id).plan_id is None and world.account(client_id).version == 0


def test_trial_usage_over_the_limit_converts_at_once_and_stops_the_trial_workflow() -> None:
    world = World()
    client_id = signed_up(world)
    limit = world.policy.trial_unit_limit
    assert limit is not None
    now = world.clock.now()
    grew = world.billing.metering.meter([EngagedChat(client_id, f"cv_{i}", now, now) for i in range(limit + 1)])
    assert grew == {client_id} and world.ledger.usage(client_id, TRIAL_CYCLE).engaged_chats == limit + 1
    assert world.lifecycle.convert_if_over_limit(client_id)
    assert world.account(client_id).status is AccountStatus.ACTIVE
    assert f"trial-{client_id}" in world.workflows.stopped
    assert not world.lifecycle.convert_if_over_limit(client_id)  # converted already


def test_notice_is_given_once_withdrawn_and_given_again() -> None:
    world = World()
    world.paying()
    world.on(START + days(5))
    notice = world.lifecycle.give_notice("cl_a", "moving on")
    expected = effective_cancellation_date(world.policy, START, START.day, START + days(5), "moving on")
    assert notice.effective_date == expected.effective_date
    assert f"notice-cl_a-{notice.notice_id}" in world.workflows.running
    with pytest.raises(NoticePending):
        world.lifecycle.give_notice("cl_a", "again")
    account = world.lifecycle.withdraw_notice("cl_a")
    assert account.notice is not None and account.notice.status == "withdrawn"
    assert f"notice-cl_a-{notice.notice_id}" in world.workflows.stopped
    with pytest.raises(NoNotice):
        world.lifecycle.withdraw_notice("cl_a")


def test_the_cancellation_takes_effect_with_a_final_invoice_and_schedules_deletion() -> None:
    world = World()
    world.paying()
    world.on(START + days(5))
    notice = world.lifecycle.give_notice("cl_a", "moving on")
    day = notice.effective_date + days(1)
    world.on(day)
    done = world.lifecycle.finalize_cancellation("cl_a", notice.notice_id)
    assert done["terminatedOn"] == day.isoformat()
    account = world.account()
    assert account.status is AccountStatus.TERMINATED and account.next_billing_date is None
    assert account.data_deletion_date == day + days(world.policy.data_retention_days)
    assert [e.client_id for e in world.ledger.agenda(day, AgendaKind.TERMINATED)] == ["cl_a"]
    client = world.tenants.get_client("cl_a")
    assert client is not None and client.status is ClientStatus.DEACTIVATED
    assert world.lifecycle.finalize_cancellation("cl_a", notice.notice_id) == done  # a replay changes nothing
    assert len(world.history(kind="service_terminated")) == 1


def test_the_export_carries_the_ledger_and_deletion_keeps_it() -> None:
    world = World()
    world.paying()
    exported = world.lifecycle.export("cl_a")
    assert exported["format"] == "parley-export/1"
    assert [i["invoice_id"] for i in exported["invoices"]] == [world.invoices()[0].invoice_id]
    assert "paid_service_started" in [h["kind"] for h in exported["history"]]
    assert world.lifecycle.delete_data("cl_a") == {"deletedItems": 0}
    assert world.account().data_deleted and len(world.invoices()) == 1  # LC-3: the ledger stays
