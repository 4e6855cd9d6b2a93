"""Rate-limit counters in the data table (docs/data-model.md):

    counter    RATE#{name}#{subject} / {windowStart}    count, expires_at (TTL)

One conditional UpdateItem counts an event: `ADD count 1` only while `count < limit`, so
concurrent requests in other Lambda environments never exceed the limit together. The TTL only
tidies: a window's counter is never read after its window, whatever the clock says.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.repositories.dynamo import from_item, to_item, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def increment_request(table: str, key: dict[str, Any], limit: int,
                      expires_at: datetime | None = None) -> dict[str, Any]:
    """The UpdateItem (or a TransactWriteItems `Update`) counting one event under `limit`; the
    leads quota rides on it inside the lead's own transaction."""
    update: dict[str, Any] = {
        "TableName": table, "Key": key, "UpdateExpression": "ADD #n :one",
        "ConditionExpression": "attribute_not_exists(#n) OR #n < :limit",
        "ExpressionAttributeNames": {"#n": "count"},
        "ExpressionAttributeValues": values({":one": 1, ":limit": limit}),
    }
    if expires_at is not None:
        update["UpdateExpression"] += " SET #ttl = :ttl"
        update["ExpressionAttributeNames"]["#ttl"] = "expires_at"
        update["ExpressionAttributeValues"].update(values({":ttl": int(expires_at.timestamp())}))
    return update


class DynamoCounterStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def take(self, key: tuple[str, str], limit: int, expires_at: datetime) -> bool:
        pk, sk = key
        try:
            self._db.update_item(**increment_request(self._table, to_item({"pk": pk, "sk": sk}), limit, expires_at))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def counts(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        unique = list(dict.fromkeys(keys))
        reply = self._db.batch_get_item(RequestItems={self._table: {
            "Keys": [to_item({"pk": pk, "sk": sk}) for pk, sk in unique], "ProjectionExpression": "pk, sk, #n",
            "ExpressionAttributeNames": {"#n": "count"}, "ConsistentRead": True}})
        found: dict[tuple[str, str], int] = {}
        for item in reply.get("Responses", {}).get(self._table, []):
            data = from_item(item)
            found[(str(data["pk"]), str(data["sk"]))] = int(data.get("count", 0))
        return found
