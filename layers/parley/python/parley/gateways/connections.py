"""Posting frames to WebSocket connections through the API Gateway @connections API.

A post is tried up to three times within about 300 ms when API Gateway throttles (429) or fails
(5xx); a 410 means the connection is gone. A post that still fails once the budget is spent is
dropped — the message is stored, and the receiver's next `resume` delivers it — and if the
connection no longer answers `GET @connections/{id}` either (a socket that is closing answers
posts with 500), it counts as gone too, so the caller forgets it (docs/protocol.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from parley import aws
from parley.observability import logger

RETRY_DELAYS = (0.05, 0.15)  # seconds before the 2nd and 3rd try: three tries within ~300 ms
_GONE = frozenset({"GoneException", "410"})


class ConnectionsGateway(Protocol):
    def post(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> set[str]:
        """Post `frame` to each connection; return the ids that are gone (HTTP 410)."""
        ...


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _retryable(exc: ClientError | BotoCoreError) -> bool:
    """Throttled, a server-side failure, or no answer at all: worth another try."""
    if isinstance(exc, BotoCoreError):
        return True
    status = _status(exc)
    return status == 429 or status >= 500


class ApiGatewayConnections:
    # Fan-out to many agents (queue broadcasts) runs a few posts at once.
    _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="post")

    def __init__(self, endpoint: str, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self._endpoint = endpoint
        self._retry_delays = retry_delays

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
        """Deliver `data`; True when the connection is gone (410, or failing and unknown to GET)."""
        api = aws.connections_api(self._endpoint)
        failure: ClientError | BotoCoreError | None = None
        for delay in (0.0, *self._retry_delays):
            if delay:
                time.sleep(delay)
            try:
                api.post_to_connection(ConnectionId=connection_id, Data=data)
                return False
            except ClientError as exc:
                if exc.response["Error"]["Code"] in _GONE:
                    return True
                failure = exc
            except BotoCoreError as exc:  # a timeout or a dropped connection to the API
                failure = exc
            if not _retryable(failure):
                break
        logger.warning("post_to_connection failed; the receiver's resume will deliver it",
                       connection_id=connection_id, error=str(failure), bytes=len(data))
        return failure is not None and _retryable(failure) and self._gone(connection_id)

    def _gone(self, connection_id: str) -> bool:
        """After failed posts: is the connection gone (or closing) as far as GET can tell?"""
        try:
            aws.connections_api(self._endpoint).get_connection(ConnectionId=connection_id)
        except ClientError as exc:
            return exc.response["Error"]["Code"] in _GONE
        except BotoCoreError:
            return False
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
                if exc.response["Error"]["Code"] not in _GONE:
                    raise
        return closed
