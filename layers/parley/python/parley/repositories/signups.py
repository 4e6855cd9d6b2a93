"""Pending signups in the data table (docs/data-model.md):

    pending signup   SIGNUP#{email} / PENDING   username, sub, company, website, code_hash, salt,
                                                expires_at_iso, attempts, created_at, expires_at (TTL)

Stored with its code email in one transaction. Every change is conditional on what was read
(the username, the attempt count), so concurrent guesses and resends cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.auth.signup import PendingSignup
from parley.clock import iso
from parley.email.models import OutboxEmail
from parley.repositories.dynamo import from_item, to_item, values
from parley.repositories.outbox import OutboxRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEEP = timedelta(days=30)  # how long an abandoned signup stays replaceable before TTL tidies it


def _key(email: str) -> dict[str, Any]:
    return to_item({"pk": f"SIGNUP#{email}", "sk": "PENDING"})


def _item(pending: PendingSignup) -> dict[str, Any]:
    data = pending.model_dump()
    data["expires_at_iso"] = iso(data.pop("expires_at"))
    data["created_at"] = iso(data["created_at"])
    return to_item({"pk": f"SIGNUP#{pending.email}", "sk": "PENDING", **data,
                    "expires_at": int((pending.created_at + KEEP).timestamp())})


def _pending(item: dict[str, Any]) -> PendingSignup:
    data = from_item(item)
    return PendingSignup(email=data["email"], username=data["username"], sub=data["sub"], company=data["company"],
                         website=data["website"], code_hash=data["code_hash"], salt=data["salt"],
                         expires_at=datetime.fromisoformat(data["expires_at_iso"]),
                         attempts=int(data.get("attempts", 0)), created_at=datetime.fromisoformat(data["created_at"]))


def _cancelled(exc: ClientError) -> bool:
    code = exc.response["Error"]["Code"]
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")


class PendingSignupRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table
        self._outbox = OutboxRepository(client, table)

    def _write(self, put: dict[str, Any], email: OutboxEmail | None) -> bool:
        try:
            if email is None:
                self._db.put_item(**put)
            else:
                self._db.transact_write_items(TransactItems=[{"Put": put}, self._outbox.put_request(email)])  # type: ignore[typeddict-item,list-item]
        except ClientError as exc:
            if _cancelled(exc):
                return False
            raise
        return True

    def put(self, pending: PendingSignup, email: OutboxEmail | None) -> bool:
        return self._write({"TableName": self._table, "Item": _item(pending),
                            "ConditionExpression": "attribute_not_exists(pk)"}, email)

    def get(self, email: str) -> PendingSignup | None:
        item = self._db.get_item(TableName=self._table, Key=_key(email), ConsistentRead=True).get("Item")
        return _pending(item) if item else None

    def replace_code(self, pending: PendingSignup, email: OutboxEmail) -> bool:
        return self._write({"TableName": self._table, "Item": _item(pending),
                            "ConditionExpression": "username = :u",
                            "ExpressionAttributeValues": values({":u": pending.username})}, email)

    def count_attempt(self, pending: PendingSignup) -> bool:
        try:
            self._db.update_item(
                TableName=self._table, Key=_key(pending.email), UpdateExpression="SET attempts = :next",
                ConditionExpression="username = :u AND attempts = :seen",
                ExpressionAttributeValues=values({":u": pending.username, ":seen": pending.attempts,
                                                  ":next": pending.attempts + 1}))
        except ClientError as exc:
            if _cancelled(exc):
                return False
            raise
        return True

    def delete(self, email: str, username: str) -> bool:
        try:
            self._db.delete_item(TableName=self._table, Key=_key(email), ConditionExpression="username = :u",
                                 ExpressionAttributeValues=values({":u": username}))
        except ClientError as exc:
            if _cancelled(exc):
                return False
            raise
        return True
