"""Leads and the per-visitor lead quota, in the data table (docs/data-model.md):

    lead          CLIENT#{clientId} / LEAD#{leadId}              gsi1: LEADS#{clientId}#{status} / {createdAt}#{leadId}
    lead quota    CLIENT#{clientId} / LEADQUOTA#{visitorId}#{windowStart}   count

A visitor's lead is one TransactWriteItems: the quota counter (condition: under the limit), the
lead (condition: new) and its notification email in the outbox — all stored, or none.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.clock import iso
from parley.email.models import OutboxEmail
from parley.errors import Conflict, InvalidRequest, NotFound
from parley.leads.errors import LeadExists, QuotaExceeded
from parley.leads.models import MAX_NOTES, Lead, LeadNote, LeadStatus
from parley.repositories.dynamo import from_item, to_item, values
from parley.repositories.outbox import OutboxRepository
from parley.repositories.ratelimits import increment_request

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_PAGE = 100


def plain(value: Any) -> Any:
    """Model data as DynamoDB wants it: datetimes as fixed-width ISO text, enums as their value."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def lead_key(client_id: str, lead_id: str) -> dict[str, Any]:
    return to_item({"pk": f"CLIENT#{client_id}", "sk": f"LEAD#{lead_id}"})


def status_index(client_id: str, status: LeadStatus) -> str:
    return f"LEADS#{client_id}#{status.value}"


def _lead_from(item: dict[str, Any]) -> Lead:
    data = from_item(item)
    for key in ("pk", "sk", "gsi1pk", "gsi1sk"):
        data.pop(key, None)
    return Lead.model_validate(data)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_item(key), separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None, partition: tuple[str, str]) -> dict[str, Any] | None:
    """A cursor from an earlier page, refused unless it points into the same partition (a cursor
    is not a way into another client's leads)."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidRequest("cursor is not valid") from exc
    attribute, expected = partition
    if not isinstance(data, dict) or data.get(attribute) != expected or not all(isinstance(v, str)
                                                                              for v in data.values()):
        raise InvalidRequest("cursor is not valid")
    return to_item(data)


class LeadRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table
        self._outbox = OutboxRepository(client, table)

    def _lead_put(self, lead: Lead) -> dict[str, Any]:
        item = to_item({"pk": f"CLIENT#{lead.client_id}", "sk": f"LEAD#{lead.lead_id}",
                        "gsi1pk": status_index(lead.client_id, lead.status),
                        "gsi1sk": f"{iso(lead.created_at)}#{lead.lead_id}", **plain(lead.model_dump())})
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def create(self, lead: Lead, email: OutboxEmail | None, quota: tuple[str, int] | None = None,
               once_per_conversation: bool = False) -> None:
        """Store the lead and its email together. `quota` = (quota item sort key, limit): the
        visitor's counter for the window goes up by one, refused at the limit.
        `once_per_conversation`: a `CONV#{id}/LEAD` marker refuses a second lead of that chat."""
        items: list[dict[str, Any]] = []
        if quota is not None:
            quota_sk, limit = quota
            items.append({"Update": increment_request(
                self._table, to_item({"pk": f"CLIENT#{lead.client_id}", "sk": quota_sk}), limit)})
        items.append(self._lead_put(lead))
        if once_per_conversation and lead.conversation_id:
            items.append({"Put": {"TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
                                  "Item": to_item({"pk": f"CONV#{lead.conversation_id}", "sk": "LEAD",
                                                   "lead_id": lead.lead_id, "client_id": lead.client_id})}})
        if email is not None:
            items.append(self._outbox.put_request(email))
        try:
            self._db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons", [])
            codes = [r.get("Code") for r in reasons]
            if quota is not None and codes and codes[0] == "ConditionalCheckFailed":
                raise QuotaExceeded from exc
            if once_per_conversation and "ConditionalCheckFailed" in codes:
                raise LeadExists("this conversation is already a lead") from exc
            raise

    def get(self, client_id: str, lead_id: str) -> Lead | None:
        item = self._db.get_item(TableName=self._table, Key=lead_key(client_id, lead_id),
                                 ConsistentRead=True).get("Item")
        return _lead_from(item) if item else None

    def page(self, client_id: str, status: LeadStatus | None, limit: int,
             cursor: str | None) -> tuple[list[Lead], str | None]:
        """Newest first: all of a client's leads (main table), or those in one status (gsi1)."""
        query: dict[str, Any] = {"TableName": self._table, "ScanIndexForward": False, "Limit": min(limit, MAX_PAGE)}
        if status is None:
            partition = ("pk", f"CLIENT#{client_id}")
            query.update(KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                         ExpressionAttributeValues=values({":pk": partition[1], ":prefix": "LEAD#"}))
        else:
            partition = ("gsi1pk", status_index(client_id, status))
            query.update(IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk",
                         ExpressionAttributeValues=values({":pk": partition[1]}))
        start = decode_cursor(cursor, partition)
        if start:
            query["ExclusiveStartKey"] = start
        page = self._db.query(**query)
        return [_lead_from(i) for i in page.get("Items", [])], encode_cursor(page.get("LastEvaluatedKey"))

    def all_of_client(self, client_id: str) -> Iterator[Lead]:
        """Every lead of a client (data export, LC-3), page by page."""
        cursor: str | None = None
        while True:
            leads, cursor = self.page(client_id, None, MAX_PAGE, cursor)
            yield from leads
            if cursor is None:
                return

    def delete_all_of_client(self, client_id: str) -> int:
        """LC-3 deletion after the retention period: every lead and lead-quota item of the client
        (visitors' names, emails and messages). Returns the number of items deleted."""
        deleted = 0
        query: dict[str, Any] = {"TableName": self._table, "ProjectionExpression": "pk, sk",
                                 "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                                 "ExpressionAttributeValues": values({":pk": f"CLIENT#{client_id}", ":prefix": "LEAD"})}
        while True:
            page = self._db.query(**query)
            keys = page.get("Items", [])
            for start in range(0, len(keys), 25):
                self._delete_batch(keys[start:start + 25])
            deleted += len(keys)
            if "LastEvaluatedKey" not in page:
                return deleted
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _delete_batch(self, keys: list[dict[str, Any]]) -> None:
        requests: list[dict[str, Any]] = [{"DeleteRequest": {"Key": key}} for key in keys]
        while requests:  # what DynamoDB leaves unprocessed is sent again
            result = self._db.batch_write_item(RequestItems={self._table: requests})  # type: ignore[dict-item]
            requests = [dict(r) for r in result.get("UnprocessedItems", {}).get(self._table, [])]

    def update(self, client_id: str, lead_id: str, *, sets: dict[str, Any], removes: tuple[str, ...] = (),
               now: datetime, expected_version: int | None) -> Lead:
        """Set (and remove) fields; a status change moves the lead to that status's index
        partition. Refused with 409 when `expected_version` is given and the lead changed."""
        sets = {**sets, "updated_at": now}
        if "status" in sets:
            sets["gsi1pk"] = status_index(client_id, LeadStatus(sets["status"]))
        names = {f"#s{i}": name for i, name in enumerate(sets)} | {f"#r{i}": name for i, name in enumerate(removes)}
        vals: dict[str, Any] = {f":s{i}": plain(value) for i, value in enumerate(sets.values())} | {":one": 1}
        expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets))) + ", version = version + :one"
        if removes:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
        condition = "attribute_exists(pk)"
        if expected_version is not None:
            condition += " AND version = :expected"
            vals[":expected"] = expected_version
        return self._apply(client_id, lead_id, _Update(expression, condition, names, vals), expected_version)

    def add_note(self, client_id: str, lead_id: str, note: LeadNote) -> Lead:
        """Append-only: notes are added to the end, never edited or removed."""
        return self._apply(client_id, lead_id, _Update(
            "SET notes = list_append(notes, :note), updated_at = :now, version = version + :one",
            "attribute_exists(pk) AND size(notes) < :max", {},
            {":note": [plain(note.model_dump())], ":now": iso(note.at), ":one": 1, ":max": MAX_NOTES}), None)

    def _apply(self, client_id: str, lead_id: str, update: _Update, expected_version: int | None) -> Lead:
        request: dict[str, Any] = {"TableName": self._table, "Key": lead_key(client_id, lead_id),
                                   "UpdateExpression": update.expression, "ConditionExpression": update.condition,
                                   "ExpressionAttributeValues": values(update.values), "ReturnValues": "ALL_NEW"}
        if update.names:
            request["ExpressionAttributeNames"] = update.names
        try:
            result = self._db.update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            current = self.get(client_id, lead_id)
            if current is None:
                raise NotFound("no such lead") from exc
            if expected_version is not None and current.version != expected_version:
                raise Conflict(f"the lead changed meanwhile (version {current.version})") from exc
            raise Conflict(f"a lead holds at most {MAX_NOTES} notes") from exc
        return _lead_from(result["Attributes"])


@dataclass(frozen=True)
class _Update:
    expression: str
    condition: str
    names: dict[str, str]
    values: dict[str, Any]
