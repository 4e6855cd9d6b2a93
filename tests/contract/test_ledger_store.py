"""The `LedgerStore` contract: `InMemoryLedger` and `LedgerRepository` (DynamoDB on moto)
give the same answers and refuse the same writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from parley.billing.lines import InvoiceLine
from parley.billing.payments import Payment
from parley.email.models import OutboxEmail
from parley.ledger.memory import InMemoryLedger
from parley.ledger.models import (
    AccountStatus,
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    HistoryEvent,
    InvoiceStatus,
    LedgerInvoice,
    ProviderConfig,
    UsageBatch,
)
from parley.ledger.ports import ConcurrentUpdate, LedgerStore
from parley.repositories.ledger import LedgerRepository

NOW = datetime(2026, 11, 22, 15, tzinfo=UTC)
DAY = date(2026, 11, 22)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[LedgerStore]:
    if request.param == "memory":
        yield InMemoryLedger()
    else:
        yield LedgerRepository(*request.getfixturevalue("data_table"))


def event(client_id: str, kind: str, minutes: int = 0, **detail: Any) -> HistoryEvent:
    return HistoryEvent(client_id=client_id, day=DAY, at=NOW + timedelta(minutes=minutes), kind=kind, detail=detail)


def invoice(client_id: str, invoice_id: str, cents: int = 35_000, **fields: Any) -> LedgerInvoice:
    return LedgerInvoice(invoice_id=invoice_id, client_id=client_id, kind=fields.pop("kind", "cycle"),
                         issue_date=DAY, due_date=DAY + timedelta(days=10), total_cents=cents,
                         lines=[InvoiceLine(kind="monthly_fee_in_advance", description="Business Starter",
                                            quantity=Decimal(1), unit_amount_cents=cents, amount_cents=cents,
                                            rule_id="CO-9")],
                         **fields)


def opened(store: LedgerStore, client_id: str = "cl_a") -> BillingAccount:
    store.create_account(BillingAccount(client_id=client_id, name="A", email="a@example.test"))
    found = store.account(client_id)
    assert found is not None
    return found


# --- provider configuration ----------------------------------------------------------
def test_the_provider_configuration_round_trips(store: LedgerStore) -> None:
    assert store.provider_config() is None
    config = ProviderConfig(policy={"preset": "call_on_me"}, catalog={"plans": []})
    store.put_provider_config(config)
    assert store.provider_config() == config


# --- accounts ----------------------------------------------------------------------
def test_an_account_is_created_once(store: LedgerStore) -> None:
    account = opened(store)
    assert account.version == 0 and account.status is AccountStatus.TRIAL
    with pytest.raises(ConcurrentUpdate):
        store.create_account(BillingAccount(client_id="cl_a", name="other"))
    assert store.account("cl_a") == account
    assert store.account("cl_missing") is None
    assert set(store.accounts(["cl_a", "cl_missing"])) == {"cl_a"}


def test_an_update_bumps_the_version_and_writes_history_and_agenda_with_it(store: LedgerStore) -> None:
    account = opened(store)
    entry = AgendaEntry(day=DAY, kind=AgendaKind.BILL, client_id="cl_a")
    updated = store.update_account(account, {"status": AccountStatus.ACTIVE, "anchor_day": 22},
                                   history=[event("cl_a", "paid_service_started")], agenda=[entry])
    assert updated.version == 1 and updated.status is AccountStatus.ACTIVE
    assert store.account("cl_a") == updated
    assert [h.kind for h in store.history("cl_a")] == ["paid_service_started"]
    assert store.agenda(DAY, AgendaKind.BILL) == [entry]


def test_an_update_from_a_stale_read_is_refused_and_writes_nothing(store: LedgerStore) -> None:
    account = opened(store)
    store.update_account(account, {"plan_id": "first"})
    with pytest.raises(ConcurrentUpdate):
        store.update_account(account, {"plan_id": "second"}, history=[event("cl_a", "lost")],
                             agenda=[AgendaEntry(day=DAY, kind=AgendaKind.BILL, client_id="cl_a")])
    stored = store.account("cl_a")
    assert stored is not None and stored.plan_id == "first" and stored.version == 1
    assert store.history("cl_a") == [] and store.agenda(DAY, AgendaKind.BILL) == []


# --- usage -------------------------------------------------------------------------
def test_usage_starts_at_zero_and_adds_up(store: LedgerStore) -> None:
    assert store.usage("cl_a", "TRIAL").engaged_chats == 0
    assert store.count_usage(UsageBatch(client_id="cl_a", cycle="TRIAL", conversation_ids=("c1", "c2"),
                                        engaged_chats=2, first_response_seconds=30), NOW) == []
    assert store.count_usage(UsageBatch(client_id="cl_a", cycle="TRIAL", conversation_ids=("c3",),
                                        engaged_chats=1, first_response_seconds=5), NOW) == []
    counter = store.usage("cl_a", "TRIAL")
    assert (counter.engaged_chats, counter.first_response_seconds, counter.agent_seconds) == (3, 35, 0)
    both = store.usages([("cl_a", "TRIAL"), ("cl_b", "2026-11-01")])
    assert both[("cl_a", "TRIAL")].engaged_chats == 3 and both[("cl_b", "2026-11-01")].engaged_chats == 0


def test_a_conversation_counted_again_adds_nothing_and_is_named(store: LedgerStore) -> None:
    store.count_usage(UsageBatch(client_id="cl_a", cycle="TRIAL", conversation_ids=("c1",), engaged_chats=1), NOW)
    again = store.count_usage(UsageBatch(client_id="cl_a", cycle="TRIAL", conversation_ids=("c2", "c1"),
                                         engaged_chats=2), NOW)
    assert again == ["c1"]
    assert store.usage("cl_a", "TRIAL").engaged_chats == 1  # not even c2: the caller retries without c1


def test_engaged_chats_and_agent_time_are_counted_separately_per_conversation(store: LedgerStore) -> None:
    store.count_usage(UsageBatch(client_id="cl_a", cycle="2026-11-01", conversation_ids=("c1",), engaged_chats=1), NOW)
    time = UsageBatch(client_id="cl_a", cycle="2026-11-01", conversation_ids=("c1",), measure="agent_time",
                      agent_seconds=90)
    assert store.count_usage(time, NOW) == []
    assert store.count_usage(time, NOW) == ["c1"]
    counter = store.usage("cl_a", "2026-11-01")
    assert (counter.engaged_chats, counter.agent_seconds) == (1, 90)


# --- invoices ------------------------------------------------------------------------
def test_an_invoice_is_committed_with_the_accounts_next_state_once(store: LedgerStore) -> None:
    account = opened(store)
    collect = AgendaEntry(day=DAY, kind=AgendaKind.COLLECT, client_id="cl_a", invoice_id="in_1")
    first = invoice("cl_a", "in_1")
    assert store.commit_invoice(account, {"next_billing_date": date(2026, 12, 22)}, first, agenda=[collect],
                                history=[event("cl_a", "invoice_issued")])
    stored = store.account("cl_a")
    assert stored is not None and stored.version == 1 and stored.next_billing_date == date(2026, 12, 22)
    assert store.invoice("cl_a", "in_1") == first
    assert store.agenda(DAY, AgendaKind.COLLECT) == [collect]
    # A re-run: same invoice id, from the fresh account — refused, nothing written.
    assert not store.commit_invoice(stored, {"next_billing_date": date(2027, 1, 22)}, invoice("cl_a", "in_1", 1),
                                    history=[event("cl_a", "duplicate")])
    assert store.account("cl_a") == stored
    assert store.invoice("cl_a", "in_1") == first
    assert [h.kind for h in store.history("cl_a")] == ["invoice_issued"]


def test_an_invoice_from_a_stale_account_is_refused(store: LedgerStore) -> None:
    account = opened(store)
    store.update_account(account, {"plan_id": "p"})
    assert not store.commit_invoice(account, {}, invoice("cl_a", "in_1"))
    assert store.invoice("cl_a", "in_1") is None


def test_a_late_charge_is_linked_from_its_invoice_once(store: LedgerStore) -> None:
    account = opened(store)
    store.commit_invoice(account, {}, invoice("cl_a", "in_1"))
    account = store.account("cl_a") or account
    late = invoice("cl_a", "in_1-late", 1_750, kind="late_charge", for_invoice_id="in_1")
    assert store.commit_invoice(account, {}, late)
    original = store.invoice("cl_a", "in_1")
    assert original is not None and original.late_charge_invoice_id == "in_1-late"
    account = store.account("cl_a") or account
    other = invoice("cl_a", "in_1-late2", 1_750, kind="late_charge", for_invoice_id="in_1")
    assert not store.commit_invoice(account, {}, other)
    assert store.invoice("cl_a", "in_1-late2") is None
    assert not store.commit_invoice(account, {}, invoice("cl_a", "x-late", 5, for_invoice_id="in_missing"))


def test_an_open_invoice_is_paid_once(store: LedgerStore) -> None:
    store.commit_invoice(opened(store), {}, invoice("cl_a", "in_1"))
    read = store.invoice("cl_a", "in_1")
    assert read is not None
    payment = Payment(received_on=DAY, amount_cents=35_000)
    assert store.record_payment(read, payment, NOW, history=[event("cl_a", "payment_received")])
    assert not store.record_payment(read, payment, NOW, history=[event("cl_a", "payment_received", 1)])
    paid = store.invoice("cl_a", "in_1")
    assert paid is not None and paid.status is InvoiceStatus.PAID
    assert (paid.amount_paid_cents, paid.payments, paid.paid_at) == (35_000, [payment], NOW)
    assert [h.kind for h in store.history("cl_a")] == ["payment_received"]


def test_stripe_ids_and_disputes_are_recorded_on_existing_invoices_only(store: LedgerStore) -> None:
    store.commit_invoice(opened(store), {}, invoice("cl_a", "in_1"))
    store.set_stripe_invoice("cl_a", "in_1", "in_stripe_1")
    assert store.mark_disputed("cl_a", "in_1", history=[event("cl_a", "chargeback")])
    stored = store.invoice("cl_a", "in_1")
    assert stored is not None and stored.stripe_invoice_id == "in_stripe_1" and stored.disputed
    assert not store.mark_disputed("cl_a", "in_missing", history=[event("cl_a", "lost", 1)])
    store.set_stripe_invoice("cl_a", "in_missing", "in_stripe_2")
    assert store.invoice("cl_a", "in_missing") is None
    assert [h.kind for h in store.history("cl_a")] == ["chargeback"]


def test_invoices_are_listed_per_client_in_id_order(store: LedgerStore) -> None:
    account = opened(store)
    for invoice_id in ("in_2", "in_1"):
        store.commit_invoice(account, {}, invoice("cl_a", invoice_id))
        account = store.account("cl_a") or account
    store.commit_invoice(opened(store, "cl_b"), {}, invoice("cl_b", "in_9"))
    assert [i.invoice_id for i in store.invoices("cl_a")] == ["in_1", "in_2"]
    found = store.invoices_by_key([("cl_b", "in_9"), ("cl_a", "in_missing"), ("cl_a", "in_2")])
    assert sorted(i.invoice_id for i in found) == ["in_2", "in_9"]


# --- history, agenda, refs, webhooks -----------------------------------------------
def test_history_is_per_client_in_time_order(store: LedgerStore) -> None:
    store.add_history([event("cl_a", "second", 2), event("cl_b", "other"), event("cl_a", "first", 1)])
    assert [h.kind for h in store.history("cl_a")] == ["first", "second"]
    assert store.history("cl_a")[0].detail == {}


def test_the_agenda_is_read_by_day_and_kind(store: LedgerStore) -> None:
    late = AgendaEntry(day=DAY, kind=AgendaKind.LATE, client_id="cl_a", invoice_id="in_1")
    bill = AgendaEntry(day=DAY, kind=AgendaKind.BILL, client_id="cl_a")
    tomorrow = late.moved_to(DAY + timedelta(days=1))
    store.put_agenda([late, bill, tomorrow, late])
    assert store.agenda(DAY, AgendaKind.LATE) == [late]
    assert store.agenda(DAY, AgendaKind.BILL) == [bill]
    assert store.agenda(DAY + timedelta(days=1), AgendaKind.LATE) == [tomorrow]
    store.remove_agenda(late)
    store.remove_agenda(late)  # removing twice is harmless
    assert store.agenda(DAY, AgendaKind.LATE) == []
    assert store.agenda(DAY, AgendaKind.BILL) == [bill]


def test_payment_refs_name_their_client_and_invoice(store: LedgerStore) -> None:
    store.put_payment_refs(["pi_1", None, "ch_1"], "cl_a", "in_1")
    assert store.payment_ref("ch_1") == ("cl_a", "in_1")
    assert store.payment_ref("pi_1") == ("cl_a", "in_1")
    assert store.payment_ref("ch_unknown") is None


def test_a_webhook_is_seen_once(store: LedgerStore) -> None:
    assert store.mark_webhook_seen("evt_1", NOW)
    assert not store.mark_webhook_seen("evt_1", NOW)
    assert store.mark_webhook_seen("evt_2", NOW)
    store.forget_webhook_seen("evt_1")  # applying it failed: its redelivery counts as new
    assert store.mark_webhook_seen("evt_1", NOW)


# --- billing emails, events recorded once, voids ----------------------------------------------
def mail(email_id: str) -> OutboxEmail:
    return OutboxEmail(email_id=email_id, to=["a@example.test"], subject="s", text="t", html="<p>t</p>",
                       template="billing.invoice_issued", client_id="cl_a", created_at=NOW)


def outbox_email(store: LedgerStore, email_id: str) -> OutboxEmail | None:
    if isinstance(store, InMemoryLedger):
        return store.outbox.get(email_id)
    assert isinstance(store, LedgerRepository)
    return store._outbox.get(email_id)


def test_an_event_and_its_email_are_written_together_or_not_at_all(store: LedgerStore) -> None:
    account = opened(store)
    issued = event("cl_a", "invoice_issued").model_copy(update={"email": mail("em_1")})
    assert store.commit_invoice(account, {}, invoice("cl_a", "in_1"), history=[issued])
    stored_email = outbox_email(store, "em_1")
    assert stored_email is not None and stored_email.template == "billing.invoice_issued"
    (recorded,) = store.history("cl_a")
    assert recorded.email is None  # the record keeps no copy of the email
    # The same email again (a repeated event) refuses the whole write: no event without its email.
    account = store.account("cl_a") or account
    again = event("cl_a", "invoice_issued", 1).model_copy(update={"email": mail("em_1")})
    assert not store.commit_invoice(account, {}, invoice("cl_a", "in_2"), history=[again])
    assert store.invoice("cl_a", "in_2") is None and len(store.history("cl_a")) == 1
    with pytest.raises(ConcurrentUpdate):
        store.update_account(account, {"plan_id": "p"}, history=[again])
    store.add_history([event("cl_a", "plain", 2), event("cl_a", "mailed", 3).model_copy(
        update={"email": mail("em_2")})])
    assert [h.kind for h in store.history("cl_a")] == ["invoice_issued", "plain", "mailed"]
    assert outbox_email(store, "em_2") is not None


def test_an_event_recorded_once_per_key(store: LedgerStore) -> None:
    opened(store)
    failed = event("cl_a", "payment_failed").model_copy(update={"email": mail("em_f")})
    assert store.record_once("payment_failed:in_1:2026-11-22", [failed])
    assert not store.record_once("payment_failed:in_1:2026-11-22", [event("cl_a", "payment_failed", 1)])
    assert store.record_once("payment_failed:in_1:2026-11-23", [event("cl_a", "payment_failed", 2)])
    assert len(store.history("cl_a")) == 2 and outbox_email(store, "em_f") is not None


def test_an_open_unpaid_invoice_is_voided_once_with_its_reissue(store: LedgerStore) -> None:
    account = opened(store)
    store.commit_invoice(account, {}, invoice("cl_a", "in_1"))
    read = store.invoice("cl_a", "in_1")
    assert read is not None
    reissue = invoice("cl_a", "in_1r", 995, kind="reissue", reissue_of="in_1")
    collect = AgendaEntry(day=DAY, kind=AgendaKind.COLLECT, client_id="cl_a", invoice_id="in_1r")
    assert store.void_invoice(read, DAY, reissue=reissue, agenda=[collect], history=[event("cl_a", "invoice_voided")])
    voided = store.invoice("cl_a", "in_1")
    assert voided is not None and voided.status is InvoiceStatus.VOID
    assert (voided.voided_on, voided.reissued_as) == (DAY, "in_1r")
    assert store.invoice("cl_a", "in_1r") == reissue and store.agenda(DAY, AgendaKind.COLLECT) == [collect]
    assert not store.void_invoice(read, DAY)  # already void
    assert not store.record_payment(voided, Payment(received_on=DAY, amount_cents=1), NOW)  # a void one is not paid
    # A paid invoice is never voided (no automatic refund).
    store.commit_invoice(store.account("cl_a") or account, {}, invoice("cl_a", "in_2"))
    second = store.invoice("cl_a", "in_2")
    assert second is not None
    store.record_payment(second, Payment(received_on=DAY, amount_cents=35_000), NOW)
    assert not store.void_invoice(second, DAY, history=[event("cl_a", "nope", 5)])
    paid = store.invoice("cl_a", "in_2")
    assert paid is not None and paid.status is InvoiceStatus.PAID
    assert [h.kind for h in store.history("cl_a")] == ["invoice_voided"]
