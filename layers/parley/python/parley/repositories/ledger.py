"""The billing ledger in DynamoDB (data table) — every path a key lookup.

  PROVIDER / BILLING                   the provider's policy, plans and announced price changes
  CLIENT#{id} / BILLING                the client's billing account (subscription state)
  CLIENT#{id} / USAGE#{cycle start}    engaged chats and agent seconds of one cycle ("TRIAL" in trial)
  CLIENT#{id} / INVOICE#{invoice id}   an invoice: dated lines in cents, payments, Stripe id, CH-4 report
  CLIENT#{id} / HISTORY#{at}#{n}       dated status changes and money movements
  AGENDA#{day} / BILL#{client}         the clients whose Billing Date is {day}
  AGENDA#{day} / LATE#{invoice id}     invoices whose late charge would be due on {day} (CO-11)
  AGENDA#{day} / DEFAULT#{invoice id}  invoices whose non-payment is a default on {day} (CO-10/CH-10)
  AGENDA#{day} / COLLECT#{invoice id}  invoices not yet carried to Stripe (retried by the day's re-run)
  CONV#{id} / METERED[_TIME]           marks a conversation counted / its agent time counted
  WEBHOOK#{event id} / SEEN            a Stripe event already applied
  STRIPEREF#{pi or charge id} / REF    the ledger invoice a Stripe payment paid (disputes)
  ONCE#{key} / ONCE                    an event recorded once (a decline per invoice and day, a warning)
  OUTBOX#{email id} / EMAIL            a billing email, written with the history event it reports

A daily job reads only its day's agenda partition: clients not due that day are never read.
Keys and condition expressions live here only: the services speak in the terms of
`parley.ledger.ports.LedgerStore`, which this class implements.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.billing.payments import Payment
from parley.clock import iso
from parley.ledger.models import (
    TRIAL_CYCLE,
    AgendaEntry,
    AgendaKind,
    BillingAccount,
    HistoryEvent,
    InvoiceStatus,
    LedgerInvoice,
    ProviderConfig,
    UsageBatch,
    UsageCounter,
)
from parley.ledger.ports import ConcurrentUpdate
from parley.repositories.dynamo import from_item, to_item, values
from parley.repositories.outbox import OutboxRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["TRIAL_CYCLE", "ConcurrentUpdate", "LedgerRepository", "account_record", "agenda_record",
           "usage_record"]

_MARKERS = {"engaged_chats": "METERED", "agent_time": "METERED_TIME"}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return to_item({"pk": pk, "sk": sk})


def account_key(client_id: str) -> dict[str, Any]:
    return _key(f"CLIENT#{client_id}", "BILLING")


def invoice_key(client_id: str, invoice_id: str) -> dict[str, Any]:
    return _key(f"CLIENT#{client_id}", f"INVOICE#{invoice_id}")


def usage_key(client_id: str, cycle: str) -> dict[str, Any]:
    return _key(f"CLIENT#{client_id}", f"USAGE#{cycle}")


def account_record(account: BillingAccount) -> dict[str, Any]:
    """The stored item of an account (also used by bench/billing.py to seed many at once)."""
    return to_item({"pk": f"CLIENT#{account.client_id}", "sk": "BILLING", **account.model_dump(mode="json")})


def agenda_record(entry: AgendaEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"pk": f"AGENDA#{entry.day.isoformat()}", "sk": f"{entry.kind.value}#{entry.subject}",
                            "client_id": entry.client_id}
    if entry.invoice_id is not None:
        data["invoice_id"] = entry.invoice_id
    return to_item(data)


def usage_record(counter: UsageCounter, updated_at: datetime) -> dict[str, Any]:
    return to_item({"pk": f"CLIENT#{counter.client_id}", "sk": f"USAGE#{counter.cycle}",
                    **counter.model_dump(mode="json"), "updated_at": iso(updated_at)})


def _history_record(event: HistoryEvent) -> dict[str, Any]:
    return to_item({"pk": f"CLIENT#{event.client_id}", "sk": f"HISTORY#{iso(event.at)}#{secrets.token_hex(3)}",
                    **event.model_dump(mode="json")})


def _agenda_entry(day: date, kind: AgendaKind, data: dict[str, Any]) -> AgendaEntry:
    invoice_id = data.get("invoice_id")
    return AgendaEntry(day=day, kind=kind, client_id=str(data["client_id"]),
                       invoice_id=str(invoice_id) if invoice_id else None)


def is_conditional_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in ("ConditionalCheckFailedException", "TransactionCanceledException")


class LedgerRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table
        self._outbox = OutboxRepository(client, table)

    # --- provider ----------------------------------------------------------------------
    def provider_config(self) -> ProviderConfig | None:
        item = self._db.get_item(TableName=self._table, Key=_key("PROVIDER", "BILLING")).get("Item")
        return ProviderConfig.model_validate(from_item(item)) if item else None

    def put_provider_config(self, config: ProviderConfig) -> None:
        self._db.put_item(TableName=self._table,
                          Item=to_item({"pk": "PROVIDER", "sk": "BILLING", **config.model_dump(mode="json")}))

    # --- accounts ----------------------------------------------------------------------
    def account(self, client_id: str) -> BillingAccount | None:
        item = self._db.get_item(TableName=self._table, Key=account_key(client_id), ConsistentRead=True).get("Item")
        return BillingAccount.model_validate(from_item(item)) if item else None

    def accounts(self, client_ids: Sequence[str]) -> dict[str, BillingAccount]:
        return {a.client_id: a for a in (BillingAccount.model_validate(i) for i in self._batch_get(
            [account_key(c) for c in client_ids]))}

    def create_account(self, account: BillingAccount, *, history: Iterable[HistoryEvent] = ()) -> None:
        put = {"TableName": self._table, "Item": account_record(account),
               "ConditionExpression": "attribute_not_exists(pk)"}
        self._transact_account([{"Put": put}], history)

    def update_account(self, current: BillingAccount, changes: Mapping[str, Any], *,
                       history: Iterable[HistoryEvent] = (),
                       agenda: Iterable[AgendaEntry] = ()) -> BillingAccount:
        """Write the account's next version (optimistic concurrency on `version`) with its
        history and agenda, in one transaction."""
        updated = current.model_copy(update={**changes, "version": current.version + 1})
        items = [self._versioned_put(updated, current.version), *self._agenda_puts(agenda)]
        self._transact_account(items, history)
        return updated

    def _versioned_put(self, account: BillingAccount, expected_version: int) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "Item": account_record(account),
                        "ConditionExpression": "version = :v",
                        "ExpressionAttributeValues": values({":v": expected_version})}}

    def _transact_account(self, items: list[dict[str, Any]], history: Iterable[HistoryEvent]) -> None:
        if not self._transact_if(items, history):
            raise ConcurrentUpdate("the account changed meanwhile; reload and try again")

    # --- usage -------------------------------------------------------------------------
    def usage(self, client_id: str, cycle: str) -> UsageCounter:
        item = self._db.get_item(TableName=self._table, ConsistentRead=True,
                                 Key=usage_key(client_id, cycle)).get("Item")
        return self._usage(client_id, cycle, from_item(item) if item else {})

    def usages(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UsageCounter]:
        found = {(str(i["client_id"]), str(i["cycle"])): i for i in self._batch_get(
            [usage_key(c, cycle) for c, cycle in keys])}
        return {k: self._usage(k[0], k[1], found.get(k, {})) for k in keys}

    @staticmethod
    def _usage(client_id: str, cycle: str, data: dict[str, Any]) -> UsageCounter:
        return UsageCounter(client_id=client_id, cycle=cycle, engaged_chats=int(data.get("engaged_chats", 0)),
                            agent_seconds=int(data.get("agent_seconds", 0)),
                            first_response_seconds=int(data.get("first_response_seconds", 0)))

    def count_usage(self, batch: UsageBatch, now: datetime) -> list[str]:
        """ONE transaction: the counter update plus a marker per conversation (conditional, so a
        redelivered event counts once). Returns the conversation ids already counted."""
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table, "Key": usage_key(batch.client_id, batch.cycle),
            "UpdateExpression": ("ADD engaged_chats :e, agent_seconds :s, first_response_seconds :f "
                                 "SET client_id = :c, #cy = :cy, updated_at = :t"),
            "ExpressionAttributeNames": {"#cy": "cycle"},
            "ExpressionAttributeValues": values({
                ":e": batch.engaged_chats, ":s": batch.agent_seconds, ":f": batch.first_response_seconds,
                ":c": batch.client_id, ":cy": batch.cycle, ":t": iso(now)}),
        }}]
        marker = _MARKERS[batch.measure]
        items += [{"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                           "Item": to_item({"pk": f"CONV#{cid}", "sk": marker, "client_id": batch.client_id,
                                            "cycle": batch.cycle, "at": iso(now)})}}
                  for cid in batch.conversation_ids]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            already = self._already_counted(exc, batch.conversation_ids)
            if not already:
                raise
            return already
        return []

    @staticmethod
    def _already_counted(exc: ClientError, conversation_ids: Sequence[str]) -> list[str]:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            return []
        reasons = exc.response.get("CancellationReasons", [])
        return [cid for cid, reason in zip(conversation_ids, reasons[1:], strict=False)
                if reason.get("Code") == "ConditionalCheckFailed"]

    # --- invoices ------------------------------------------------------------------------
    def commit_invoice(self, current: BillingAccount, changes: Mapping[str, Any], invoice: LedgerInvoice, *,
                       agenda: Iterable[AgendaEntry] = (), history: Iterable[HistoryEvent] = ()) -> bool:
        """One transaction per billed client: the invoice (new), the account's next version,
        the invoice's agenda entries, and for a late charge the link from its invoice (once)."""
        updated = current.model_copy(update={**changes, "version": current.version + 1})
        items = [self._versioned_put(updated, current.version),
                 {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                          "Item": to_item({"pk": f"CLIENT#{invoice.client_id}", "sk": f"INVOICE#{invoice.invoice_id}",
                                           **invoice.model_dump(mode="json")})}},
                 *self._agenda_puts(agenda)]
        if invoice.for_invoice_id is not None:
            items.append(self._late_charge_link(invoice.client_id, invoice.for_invoice_id, invoice.invoice_id))
        return self._transact_if(items, history)

    def _late_charge_link(self, client_id: str, invoice_id: str, late_invoice_id: str) -> dict[str, Any]:
        return {"Update": {
            "TableName": self._table, "Key": invoice_key(client_id, invoice_id),
            "UpdateExpression": "SET late_charge_invoice_id = :l",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(late_charge_invoice_id) "
                                   "OR late_charge_invoice_id = :null)",
            "ExpressionAttributeValues": values({":l": late_invoice_id, ":null": None}),
        }}

    def invoice(self, client_id: str, invoice_id: str) -> LedgerInvoice | None:
        item = self._db.get_item(TableName=self._table, Key=invoice_key(client_id, invoice_id),
                                 ConsistentRead=True).get("Item")
        return LedgerInvoice.model_validate(from_item(item)) if item else None

    def invoices_by_key(self, keys: Sequence[tuple[str, str]]) -> list[LedgerInvoice]:
        return [LedgerInvoice.model_validate(i) for i in self._batch_get([invoice_key(c, i) for c, i in keys])]

    def invoices(self, client_id: str) -> list[LedgerInvoice]:
        return [LedgerInvoice.model_validate(i) for i in self._query(f"CLIENT#{client_id}", "INVOICE#")]

    def set_stripe_invoice(self, client_id: str, invoice_id: str, stripe_invoice_id: str) -> None:
        self._update_invoice(client_id, invoice_id, {"stripe_invoice_id": stripe_invoice_id})

    def record_payment(self, invoice: LedgerInvoice, payment: Payment, paid_at: datetime, *,
                       history: Iterable[HistoryEvent] = ()) -> bool:
        if invoice.status is not InvoiceStatus.OPEN:
            return False
        return self._update_invoice(
            invoice.client_id, invoice.invoice_id,
            {"status": InvoiceStatus.PAID.value, "amount_paid_cents": invoice.total_cents,
             "paid_at": paid_at.isoformat(),
             "payments": [p.model_dump(mode="json") for p in (*invoice.payments, payment)]},
            condition=("#f0 = :open", {":open": InvoiceStatus.OPEN.value}), history=history)

    def mark_disputed(self, client_id: str, invoice_id: str, *, history: Iterable[HistoryEvent] = ()) -> bool:
        return self._update_invoice(client_id, invoice_id, {"disputed": True}, history=history)

    def void_invoice(self, invoice: LedgerInvoice, voided_on: date, *, reissue: LedgerInvoice | None = None,
                     agenda: Iterable[AgendaEntry] = (), history: Iterable[HistoryEvent] = ()) -> bool:
        """ONE transaction: the invoice void (if still open and unpaid), the reissue (new), agenda, history."""
        fields = {"status": InvoiceStatus.VOID.value, "voided_on": voided_on.isoformat(),
                  "reissued_as": reissue.invoice_id if reissue else None}
        update: dict[str, Any] = {
            "TableName": self._table, "Key": invoice_key(invoice.client_id, invoice.invoice_id),
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            "ExpressionAttributeNames": {**{f"#f{i}": k for i, k in enumerate(fields)}, "#paid": "amount_paid_cents"},
            "ExpressionAttributeValues": values({**{f":f{i}": v for i, v in enumerate(fields.values())},
                                                 ":open": InvoiceStatus.OPEN.value, ":zero": 0}),
            "ConditionExpression": "attribute_exists(pk) AND #f0 = :open AND #paid = :zero",
        }
        items: list[dict[str, Any]] = [{"Update": update}, *self._agenda_puts(agenda)]
        if reissue is not None:
            items.append({"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                                  "Item": to_item({"pk": f"CLIENT#{reissue.client_id}",
                                                   "sk": f"INVOICE#{reissue.invoice_id}",
                                                   **reissue.model_dump(mode="json")})}})
        return self._transact_if(items, history)

    def _update_invoice(self, client_id: str, invoice_id: str, fields: dict[str, Any], *,
                        condition: tuple[str, dict[str, Any]] | None = None,
                        history: Iterable[HistoryEvent] = ()) -> bool:
        """SET the fields of an existing invoice (`#f0`… name them, in order), if `condition` holds."""
        extra, extra_values = condition or ("", {})
        update: dict[str, Any] = {
            "TableName": self._table, "Key": invoice_key(client_id, invoice_id),
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            "ExpressionAttributeNames": {f"#f{i}": k for i, k in enumerate(fields)},
            "ExpressionAttributeValues": values({**{f":f{i}": v for i, v in enumerate(fields.values())},
                                                 **extra_values}),
            "ConditionExpression": "attribute_exists(pk)" + (f" AND ({extra})" if extra else ""),
        }
        return self._transact_if([{"Update": update}], history)

    # --- history -------------------------------------------------------------------------
    def history(self, client_id: str) -> list[HistoryEvent]:
        return [HistoryEvent.model_validate(i) for i in self._query(f"CLIENT#{client_id}", "HISTORY#")]

    def add_history(self, events: Iterable[HistoryEvent]) -> None:
        for event in events:
            if event.email is None:
                self._db.put_item(TableName=self._table, Item=_history_record(event))
            else:  # the event and its email together (a repeated email id writes neither)
                self._transact_if([], [event])

    def record_once(self, key: str, events: Iterable[HistoryEvent]) -> bool:
        marker = {"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                          "Item": to_item({"pk": f"ONCE#{key}", "sk": "ONCE"})}}
        return self._transact_if([marker], events)

    # --- agenda --------------------------------------------------------------------------
    def agenda(self, day: date, kind: AgendaKind) -> list[AgendaEntry]:
        return [_agenda_entry(day, kind, data) for data in self._query(f"AGENDA#{day.isoformat()}", f"{kind.value}#")]

    def put_agenda(self, entries: Iterable[AgendaEntry]) -> None:
        for entry in entries:
            self._db.put_item(TableName=self._table, Item=agenda_record(entry))

    def remove_agenda(self, entry: AgendaEntry) -> None:
        self._db.delete_item(TableName=self._table,
                             Key=_key(f"AGENDA#{entry.day.isoformat()}", f"{entry.kind.value}#{entry.subject}"))

    def _agenda_puts(self, entries: Iterable[AgendaEntry]) -> list[dict[str, Any]]:
        return [{"Put": {"TableName": self._table, "Item": agenda_record(e)}} for e in entries]

    # --- Stripe references and webhooks ------------------------------------------------
    def put_payment_refs(self, refs: Iterable[str | None], client_id: str, invoice_id: str) -> None:
        """Stripe customer / payment intent / charge id → ledger client and invoice, so a
        dispute (which names only the charge) finds the invoice it reverses (CO-13)."""
        for ref in filter(None, refs):
            self._db.put_item(TableName=self._table, Item=to_item({"pk": f"STRIPEREF#{ref}", "sk": "REF",
                                                                   "client_id": client_id, "invoice_id": invoice_id}))

    def payment_ref(self, ref: str) -> tuple[str, str] | None:
        item = self._db.get_item(TableName=self._table, Key=_key(f"STRIPEREF#{ref}", "REF")).get("Item")
        if not item:
            return None
        data = from_item(item)
        return str(data["client_id"]), str(data["invoice_id"])

    def mark_webhook_seen(self, event_id: str, now: datetime) -> bool:
        try:
            self._db.put_item(TableName=self._table, ConditionExpression="attribute_not_exists(pk)",
                              Item=to_item({"pk": f"WEBHOOK#{event_id}", "sk": "SEEN", "at": iso(now)}))
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def forget_webhook_seen(self, event_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=to_item({"pk": f"WEBHOOK#{event_id}", "sk": "SEEN"}))

    # --- internals -----------------------------------------------------------------------
    def _transact_if(self, items: list[dict[str, Any]], history: Iterable[HistoryEvent]) -> bool:
        """Write `items` and their history atomically; False when a condition refused it."""
        history = list(history)
        items = items + [{"Put": {"TableName": self._table, "Item": _history_record(h)}} for h in history]
        items += [self._outbox.put_request(h.email) for h in history if h.email is not None]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def _query(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
            "ExpressionAttributeValues": values({":pk": pk, ":p": prefix}), "ConsistentRead": True,
        }
        while True:
            page = self._db.query(**kwargs)
            items += [from_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {self._table: {"Keys": keys[start:start + 100], "ConsistentRead": True}}
            while pending:
                page = self._db.batch_get_item(RequestItems=pending)
                found += [from_item(i) for i in page.get("Responses", {}).get(self._table, [])]
                pending = dict(page.get("UnprocessedKeys") or {})
        return found
