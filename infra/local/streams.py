"""Delivers a DynamoDB table's stream to a Lambda handler, as an event source mapping would:
batches in the Lambda DynamoDB-stream event format, the declared filter patterns applied,
`batchItemFailures` honoured (the batch is retried from the first failed record).

moto keeps the stream; nothing in moto delivers it, so this does. When moto runs in this
process (the local stack's server), a drain first looks at the stream's length in moto's
backend and returns at once if nothing was written since the last one: the scheduler drains
before every scheduled run, and three stream requests per poller per run were most of the
cost of a simulated day."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from infra.wiring import StreamSubscription
from parley.observability import logger

MAX_ATTEMPTS = 3  # then the records are dropped and logged, like an on-failure destination


def matches(pattern: Any, value: Any) -> bool:
    """The subset of Lambda event-filter patterns our declarations use."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return any(
            (isinstance(option, dict) and "prefix" in option and isinstance(value, str)
             and value.startswith(option["prefix"])) or option == value
            for option in pattern
        )
    return bool(pattern == value)


def _in_process_table(stream_arn: str) -> Any | None:
    """The stream's table in moto's in-process backend, or None when moto is not in this process."""
    try:
        from moto.dynamodb.models import dynamodb_backends

        _, _, _, region, account, resource = stream_arn.split(":", 5)
        return dynamodb_backends[account][region].tables[resource.split("/")[1]]
    except (ImportError, KeyError, IndexError, ValueError):
        return None


def in_process_stream_head(stream_arn: str) -> Callable[[], object] | None:
    """A cheap marker of the stream's end (its shard object and record count) read from moto's
    in-process backend, or None when moto is not in this process (a drain then always reads)."""
    table = _in_process_table(stream_arn)
    if table is None:
        return None

    def head() -> object:
        shard = table.stream_shard
        return (id(shard), len(shard.items)) if shard is not None else None

    return head


class StreamPoller:
    def __init__(self, streams: Any, stream_arn: str, subscription: StreamSubscription,
                 invoke: Callable[[str, dict[str, Any]], Any]) -> None:
        self._streams = streams
        self._arn = stream_arn
        self._sub = subscription
        self._invoke = invoke
        self._positions: dict[str, str] = {}  # shard id -> last sequence number delivered
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self._head = in_process_stream_head(stream_arn)
        self._drained_head: object = None
        self._direct_table: Any | None = None  # read_in_process(): records straight from moto's shard

    def read_in_process(self) -> bool:
        """Read the records from moto's in-process shard (the same record dicts GetRecords
        returns) instead of through the Streams API: the scenario runner's choice, where moto's
        generic response serializer was most of a 10,000-chat year. False if moto is elsewhere."""
        self._direct_table = _in_process_table(self._arn)
        return self._direct_table is not None

    def _iterator(self, shard_id: str) -> str:
        # A fresh iterator after the last record delivered: moto replaces a table's shard object
        # when it rolls a failed transaction back, and an old iterator would point at the
        # abandoned one (then never see a new record).
        last = self._positions.get(shard_id)
        kwargs: dict[str, Any] = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                                  if last else {"ShardIteratorType": "TRIM_HORIZON"})
        return str(self._streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id, **kwargs)["ShardIterator"])

    def drain(self) -> int:
        """Deliver everything written so far; returns the number of records delivered."""
        delivered = 0
        with self._lock:
            head = self._head() if self._head is not None else None
            if head is not None and head == self._drained_head:
                return 0  # nothing written since the last drain
            if self._direct_table is not None:
                delivered = self._drain_in_process(self._direct_table)
            else:
                shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
                for shard in shards:
                    shard_id = shard["ShardId"]
                    while raw := self._streams.get_records(ShardIterator=self._iterator(shard_id),
                                                           Limit=1000).get("Records", []):
                        delivered += self._deliver_page(shard_id, raw)
            self._drained_head = head  # taken before reading: a write during the drain is seen next time
        self.delivered += delivered
        return delivered

    def _drain_in_process(self, table: Any) -> int:
        shard = table.stream_shard
        if shard is None:
            return 0
        delivered = 0
        while True:
            last = self._positions.get(shard.id)
            start = int(last) + 1 if last else shard.starting_sequence_number
            raw = shard.get(start, 1000) if start - shard.starting_sequence_number < len(shard.items) else []
            if not raw:
                return delivered
            delivered += self._deliver_page(shard.id, raw)

    def _deliver_page(self, shard_id: str, raw: list[dict[str, Any]]) -> int:
        records = [self._lambda_record(r) for r in raw]
        # A record passes when it matches any declared filter (Lambda's semantics).
        wanted = [r for r in records if not self._sub.filters or any(matches(f, r) for f in self._sub.filters)]
        for start in range(0, len(wanted), self._sub.batch_size):
            self._deliver(wanted[start:start + self._sub.batch_size])
        self._positions[shard_id] = str(raw[-1]["dynamodb"]["SequenceNumber"])
        return len(wanted)

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            result = self._invoke(self._sub.function, {"Records": batch}) or {}
            failures = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            if not failures:
                return
            first = min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failures)
            logger.warning("stream batch partially failed; retrying", function=self._sub.function,
                           failed=len(failures), attempt=attempt)
            batch = batch[first:]
        logger.error("stream records dropped after retries", function=self._sub.function, records=len(batch))

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = int(created.timestamp())
        return {"eventID": record.get("eventID"), "eventName": record["eventName"], "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": record.get("awsRegion", "us-east-1"),
                "dynamodb": data, "eventSourceARN": self._arn}

    def start(self, interval: float = 0.25) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.drain()
                except Exception:  # keep polling; a failing handler is logged by the runtime
                    logger.exception("stream poller failed")

        self._thread = threading.Thread(target=loop, name=f"stream-{self._sub.function}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
