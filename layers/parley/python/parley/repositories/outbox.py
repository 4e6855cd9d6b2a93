"""The email outbox: `OUTBOX#{emailId}` / `EMAIL` in the data table (docs/data-model.md).

Status changes are conditional updates, so two senders never both claim one try and a sent
email is never marked otherwise."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.clock import iso
from parley.email.models import EmailStatus, OutboxEmail
from parley.repositories.dynamo import from_item, to_item, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SK = "EMAIL"


def outbox_key(email_id: str) -> dict[str, Any]:
    return to_item({"pk": f"OUTBOX#{email_id}", "sk": SK})


def dump(model_data: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as fixed-width ISO strings (iso()): comparable as text in conditions."""
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in model_data.items()}


class OutboxRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def put_request(self, email: OutboxEmail) -> dict[str, Any]:
        """A TransactWriteItems entry writing this email (once: a duplicate cancels nothing else
        only if the caller's own items are conditional too — the id is the idempotency key)."""
        item = to_item({"pk": f"OUTBOX#{email.email_id}", "sk": SK, **dump(email.model_dump(mode="python"))})
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def put(self, email: OutboxEmail) -> bool:
        try:
            self._db.put_item(**self.put_request(email)["Put"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False  # already queued under this idempotency key
            raise
        return True

    def get(self, email_id: str) -> OutboxEmail | None:
        item = self._db.get_item(TableName=self._table, Key=outbox_key(email_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        data = from_item(item)
        data.pop("pk", None)
        data.pop("sk", None)
        return OutboxEmail.model_validate(data)

    def _update(self, email_id: str, expression: str, condition: str, names: dict[str, str],
                vals: dict[str, Any]) -> bool:
        try:
            self._db.update_item(TableName=self._table, Key=outbox_key(email_id), UpdateExpression=expression,
                                 ConditionExpression=condition, ExpressionAttributeNames=names,
                                 ExpressionAttributeValues=values(vals))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def claim(self, email_id: str, attempts: int, now: datetime, lease_until: datetime) -> bool:
        return self._update(
            email_id, "SET #s = :sending, lease_until = :lease",
            "attempts = :a AND (#s IN (:queued, :retrying) OR (#s = :sending AND lease_until < :now))",
            {"#s": "status"},
            {":sending": EmailStatus.SENDING.value, ":queued": EmailStatus.QUEUED.value,
             ":retrying": EmailStatus.RETRYING.value, ":a": attempts, ":now": iso(now), ":lease": iso(lease_until)},
        )

    def mark_sent(self, email_id: str, now: datetime) -> None:
        self._update(email_id, "SET #s = :sent, sent_at = :now REMOVE lease_until, next_attempt_at",
                     "#s = :sending", {"#s": "status"},
                     {":sent": EmailStatus.SENT.value, ":sending": EmailStatus.SENDING.value, ":now": iso(now)})

    def mark_retry(self, email_id: str, attempts: int, next_attempt_at: datetime, error: str) -> None:
        self._update(email_id, "SET #s = :retrying, attempts = :a, next_attempt_at = :next, last_error = :e "
                     "REMOVE lease_until", "#s = :sending", {"#s": "status"},
                     {":retrying": EmailStatus.RETRYING.value, ":sending": EmailStatus.SENDING.value,
                      ":a": attempts, ":next": iso(next_attempt_at), ":e": error})

    def mark_failed(self, email_id: str, attempts: int, error: str) -> None:
        self._update(email_id, "SET #s = :failed, attempts = :a, last_error = :e REMOVE lease_until, next_attempt_at",
                     "#s = :sending", {"#s": "status"},
                     {":failed": EmailStatus.FAILED.value, ":sending": EmailStatus.SENDING.value,
                      ":a": attempts, ":e": error})
