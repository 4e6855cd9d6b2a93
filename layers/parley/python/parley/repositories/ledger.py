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

A daily job reads only its day's agenda partition: clients not due that day are never read.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.clock import iso
from parley.errors import Conflict
from parley.ledger.models import BillingAccount, HistoryEvent, LedgerInvoice, ProviderConfig, UsageCounter
from parley.repositories.dynamo import from_item, to_item, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TRIAL_CYCLE = "TRIAL"


def account_key(client_id: str) -> dict[str, Any]:
    return to_item({"pk": f"CLIENT#{client_id}", "sk": "BILLING"})


def invoice_key(client_id: str, invoice_id: str) -> dict[str, Any]:
    return to_item({"pk": f"CLIENT#{client_id}", "sk": f"INVOICE#{invoice_id}"})


def agenda_item(day: date, entry: str, **data: Any) -> dict[str, Any]:
    return {"pk": f"AGENDA#{day.isoformat()}", "sk": entry, **data}


def history_item(event: HistoryEvent) -> dict[str, Any]:
    return {"pk": f"CLIENT#{event.client_id}", "sk": f"HISTORY#{iso(event.at)}#{secrets.token_hex(3)}",
            **event.model_dump(mode="json")}


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


def is_conditional_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in ("ConditionalCheckFailedException", "TransactionCanceledException")


class LedgerRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    # --- provider ----------------------------------------------------------------------
    def provider_config(self) -> ProviderConfig | None:
        item = self._db.get_item(TableName=self._table, Key=to_item({"pk": "PROVIDER", "sk": "BILLING"})).get("Item")
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

    def usage(self, client_id: str, cycle: str) -> UsageCounter:
        item = self._db.get_item(TableName=self._table, ConsistentRead=True,
                                 Key=to_item({"pk": f"CLIENT#{client_id}", "sk": f"USAGE#{cycle}"})).get("Item")
        return self._usage(client_id, cycle, from_item(item) if item else {})

    def usages(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], UsageCounter]:
        found = {(str(i["client_id"]), str(i["cycle"])): i for i in self._batch_get(
            [to_item({"pk": f"CLIENT#{c}", "sk": f"USAGE#{cycle}"}) for c, cycle in keys])}
        return {k: self._usage(k[0], k[1], found.get(k, {})) for k in keys}

    @staticmethod
    def _usage(client_id: str, cycle: str, data: dict[str, Any]) -> UsageCounter:
        return UsageCounter(client_id=client_id, cycle=cycle, engaged_chats=int(data.get("engaged_chats", 0)),
                            agent_seconds=int(data.get("agent_seconds", 0)),
                            first_response_seconds=int(data.get("first_response_seconds", 0)))

    def put_account(self, account: BillingAccount, *, history: Iterable[HistoryEvent] = (),
                    agenda: Iterable[dict[str, Any]] = (), expected_version: int | None = None) -> None:
        """Write the account (optimistic concurrency on `version`) with its history and agenda."""
        items = self._account_put(account, expected_version)
        items += [{"Put": {"TableName": self._table, "Item": to_item(h)}} for h in map(history_item, history)]
        items += [{"Put": {"TableName": self._table, "Item": to_item(a)}} for a in agenda]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if is_conditional_failure(exc):
                raise ConcurrentUpdate("the account changed meanwhile; reload and try again") from exc
            raise

    def _account_put(self, account: BillingAccount, expected_version: int | None) -> list[dict[str, Any]]:
        data = account.model_dump(mode="json")
        data.update(pk=f"CLIENT#{account.client_id}", sk="BILLING")
        put: dict[str, Any] = {"TableName": self._table, "Item": to_item(data)}
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = values({":v": expected_version})
        return [{"Put": put}]

    # --- billing (one transaction per billed client) ------------------------------------
    def commit_invoice(self, account: BillingAccount, expected_version: int, invoice: LedgerInvoice,
                       agenda: Iterable[dict[str, Any]], history: Iterable[HistoryEvent],
                       extra_updates: Iterable[dict[str, Any]] = ()) -> bool:
        """Store an invoice with the account's next state, atomically. False when the invoice
        already exists or the account moved on (a re-run, or a concurrent run, already did it)."""
        items = self._account_put(account, expected_version)
        items.append({"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                              "Item": to_item({"pk": f"CLIENT#{invoice.client_id}",
                                               "sk": f"INVOICE#{invoice.invoice_id}",
                                               **invoice.model_dump(mode="json")})}})
        items += [{"Put": {"TableName": self._table, "Item": to_item(a)}} for a in agenda]
        items += list(extra_updates)
        return self._transact_if(items, history)

    def invoice(self, client_id: str, invoice_id: str) -> LedgerInvoice | None:
        item = self._db.get_item(TableName=self._table, Key=invoice_key(client_id, invoice_id),
                                 ConsistentRead=True).get("Item")
        return LedgerInvoice.model_validate(from_item(item)) if item else None

    def invoices_by_key(self, keys: Sequence[tuple[str, str]]) -> list[LedgerInvoice]:
        return [LedgerInvoice.model_validate(i) for i in self._batch_get([invoice_key(c, i) for c, i in keys])]

    def invoices(self, client_id: str) -> list[LedgerInvoice]:
        return [LedgerInvoice.model_validate(i) for i in self._query(f"CLIENT#{client_id}", "INVOICE#")]

    def history(self, client_id: str) -> list[HistoryEvent]:
        return [HistoryEvent.model_validate(i) for i in self._query(f"CLIENT#{client_id}", "HISTORY#")]

    def set_invoice_fields(self, client_id: str, invoice_id: str, fields: dict[str, Any],
                           condition: str | None = None, condition_values: dict[str, Any] | None = None,
                           history: Iterable[HistoryEvent] = ()) -> bool:
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        update: dict[str, Any] = {
            "TableName": self._table, "Key": invoice_key(client_id, invoice_id),
            "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values({**{f":f{i}": v for i, v in enumerate(fields.values())},
                                                 **(condition_values or {})}),
            "ConditionExpression": "attribute_exists(pk)" + (f" AND ({condition})" if condition else ""),
        }
        return self._transact_if([{"Update": update}], history)

    def add_history(self, events: Iterable[HistoryEvent]) -> None:
        for event in events:
            self._db.put_item(TableName=self._table, Item=to_item(history_item(event)))

    # --- agenda --------------------------------------------------------------------------
    def agenda(self, day: date, prefix: str) -> list[dict[str, Any]]:
        return self._query(f"AGENDA#{day.isoformat()}", prefix)

    def put_agenda(self, entries: Iterable[dict[str, Any]]) -> None:
        for entry in entries:
            self._db.put_item(TableName=self._table, Item=to_item(entry))

    def remove_agenda(self, day: date, entry: str) -> None:
        self._db.delete_item(TableName=self._table, Key=to_item({"pk": f"AGENDA#{day.isoformat()}", "sk": entry}))

    # --- metering ------------------------------------------------------------------------
    def count_usage(self, client_id: str, cycle: str, conversation_ids: Sequence[str], engaged: int,
                    agent_seconds: int, first_response_seconds: int, now: datetime,
                    marker: str = "METERED") -> list[str]:
        """Add a batch's usage for one client in ONE transaction: the counter update plus a
        METERED marker per conversation (conditional, so a redelivered event counts once).
        Returns the conversation ids already counted (the caller retries without them)."""
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table, "Key": to_item({"pk": f"CLIENT#{client_id}", "sk": f"USAGE#{cycle}"}),
            "UpdateExpression": ("ADD engaged_chats :e, agent_seconds :s, first_response_seconds :f "
                                 "SET client_id = :c, #cy = :cy, updated_at = :t"),
            "ExpressionAttributeNames": {"#cy": "cycle"},
            "ExpressionAttributeValues": values({":e": engaged, ":s": agent_seconds, ":f": first_response_seconds,
                                                 ":c": client_id, ":cy": cycle, ":t": iso(now)}),
        }}]
        items += [{"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                           "Item": to_item({"pk": f"CONV#{cid}", "sk": marker, "client_id": client_id,
                                            "cycle": cycle, "at": iso(now)})}} for cid in conversation_ids]
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons", [])
            already = [cid for cid, reason in zip(conversation_ids, reasons[1:], strict=False)
                       if reason.get("Code") == "ConditionalCheckFailed"]
            if not already:
                raise
            return already
        return []

    def late_charge_link(self, client_id: str, invoice_id: str, late_invoice_id: str) -> dict[str, Any]:
        """A transaction item linking an invoice to its late charge — only once (CO-11)."""
        return {"Update": {
            "TableName": self._table, "Key": invoice_key(client_id, invoice_id),
            "UpdateExpression": "SET late_charge_invoice_id = :l",
            "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(late_charge_invoice_id) "
                                   "OR late_charge_invoice_id = :null)",
            "ExpressionAttributeValues": values({":l": late_invoice_id, ":null": None}),
        }}

    def put_payment_refs(self, ids: Iterable[str | None], client_id: str, invoice_id: str) -> None:
        """Stripe payment intent / charge id → ledger invoice, so a dispute (which names only the
        charge) finds the invoice it reverses (CO-13)."""
        for ref in filter(None, ids):
            self._db.put_item(TableName=self._table, Item=to_item({"pk": f"STRIPEREF#{ref}", "sk": "REF",
                                                                   "client_id": client_id, "invoice_id": invoice_id}))

    def payment_ref(self, ref: str) -> tuple[str, str] | None:
        key = to_item({"pk": f"STRIPEREF#{ref}", "sk": "REF"})
        item = self._db.get_item(TableName=self._table, Key=key).get("Item")
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

    # --- internals -----------------------------------------------------------------------
    def _transact_if(self, items: list[dict[str, Any]], history: Iterable[HistoryEvent]) -> bool:
        """Write `items` and their history atomically; False when a condition refused it."""
        items = items + [{"Put": {"TableName": self._table, "Item": to_item(h)}} for h in map(history_item, history)]
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
