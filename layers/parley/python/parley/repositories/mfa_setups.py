"""TOTP setups in progress, in the data table (docs/data-model.md):

    setup    MFASETUP#{sha256(session)} / HELD    sealed, attempts, expires_at_iso, expires_at (TTL)

`sealed` is the tokens Cognito issued at the password step, AES-GCM encrypted under a key
derived from the setup session, which only the browser holds: the table alone cannot hand them
out. The item is deleted when the setup finishes and expires with the session otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.auth.login import HeldSetup
from parley.clock import iso
from parley.repositories.dynamo import from_item, to_item, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _key(session: str) -> dict[str, Any]:
    digest = hashlib.sha256(b"parley-mfa-setup-id:" + session.encode()).hexdigest()
    return to_item({"pk": f"MFASETUP#{digest}", "sk": "HELD"})


def _cipher(session: str) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(hashlib.sha256(b"parley-mfa-setup-key:" + session.encode()).digest())


class MfaSetupRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def hold(self, session: str, held: HeldSetup) -> None:
        nonce = secrets.token_bytes(12)
        sealed = nonce + _cipher(session).encrypt(nonce, json.dumps(held.tokens).encode(), None)
        self._db.put_item(TableName=self._table, Item={**_key(session), **to_item({
            "sealed": base64.b64encode(sealed).decode(), "attempts": held.attempts,
            "expires_at_iso": iso(held.expires_at), "expires_at": int(held.expires_at.timestamp())})})

    def get(self, session: str) -> HeldSetup | None:
        item = self._db.get_item(TableName=self._table, Key=_key(session), ConsistentRead=True).get("Item")
        if not item:
            return None
        data = from_item(item)
        sealed = base64.b64decode(str(data["sealed"]))
        tokens = json.loads(_cipher(session).decrypt(sealed[:12], sealed[12:], None))
        return HeldSetup(tokens=tokens, attempts=int(data.get("attempts", 0)),
                         expires_at=datetime.fromisoformat(str(data["expires_at_iso"])))

    def count_attempt(self, session: str, seen: int) -> bool:
        try:
            self._db.update_item(TableName=self._table, Key=_key(session), UpdateExpression="SET attempts = :next",
                                 ConditionExpression="attempts = :seen",
                                 ExpressionAttributeValues=values({":seen": seen, ":next": seen + 1}))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def drop(self, session: str) -> None:
        self._db.delete_item(TableName=self._table, Key=_key(session))
