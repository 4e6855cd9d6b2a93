"""Posting frames to WebSocket connections through the API Gateway @connections API."""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from botocore.exceptions import ClientError

from parley import aws
from parley.observability import logger


class ConnectionsGateway(Protocol):
    def post(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> set[str]:
        """Post `frame` to each connection; return the ids that are gone (HTTP 410)."""
        ...


class ApiGatewayConnections:
    # Fan-out to many agents (queue broadcasts) runs a few posts at once.
    _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="post")

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint

    def post(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> set[str]:
        ids = list(dict.fromkeys(connection_ids))
        if not ids:
            return set()
        data = json.dumps(frame, separators=(",", ":")).encode()
        if len(ids) == 1:
            results = [self._post_one(ids[0], data)]
        else:
            results = list(self._pool.map(lambda cid: self._post_one(cid, data), ids))
        return {cid for cid, gone in zip(ids, results, strict=True) if gone}

    def _post_one(self, connection_id: str, data: bytes) -> bool:
        try:
            aws.connections_api(self._endpoint).post_to_connection(ConnectionId=connection_id, Data=data)
            return False
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("GoneException", "410"):
                return True
            logger.warning("post_to_connection failed", connection_id=connection_id, error=str(exc))
            return False

    def close(self, connection_ids: Iterable[str]) -> int:
        """Close connections at once (`DELETE @connections/{id}`; API Gateway then delivers
        `$disconnect`). Returns how many were open; a gone one (410) counts as closed already."""
        closed = 0
        for connection_id in dict.fromkeys(connection_ids):
            try:
                aws.connections_api(self._endpoint).delete_connection(ConnectionId=connection_id)
                closed += 1
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in ("GoneException", "410"):
                    raise
        return closed
