"""Delivers an SQS queue to a Lambda handler, as an SQS event source mapping would: batches of
up to `batch_size` messages in the Lambda SQS event format, several batches at once (up to the
mapping's `max_concurrency`), `batchItemFailures` honoured — a failed message stays on the
queue and is received again; after the queue's `maxReceiveCount` receives, moto's redrive moves
it to the dead-letter queue, as SQS does.

One difference, on purpose: on AWS a failed message becomes visible again after the queue's
visibility timeout (minutes); here it is offered again at the next drain (the next moment the
clock stops at, or the next poll in `make dev`), so a simulated day does not wait in real time.
moto keeps the queue; nothing in moto delivers it, so this does. When moto runs in this process
(the local stack's server), a drain first asks moto's backend whether any message is there at all
and returns at once if not: the clock drains before every scheduled run, and an empty
ReceiveMessage per run was a good part of a simulated day's cost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infra.wiring import QueueSubscription
from parley.observability import logger

REGION = "us-east-1"


def in_process_queue_is_empty(queue_arn: str) -> Callable[[], bool] | None:
    """Whether the queue holds no message at all (visible, in flight or delayed), read from moto's
    in-process backend; None when moto is not in this process (a drain then always receives)."""
    try:
        from moto.sqs.models import sqs_backends

        _, _, _, region, account, name = queue_arn.split(":", 5)
        queue = sqs_backends[account][region].queues[name]
    except (ImportError, KeyError, ValueError):
        return None
    return lambda: not queue._messages


class QueuePoller:
    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, subscription: QueueSubscription,
                 invoke: Callable[[str, dict[str, Any]], Any]) -> None:
        self._sqs = sqs
        self._url = queue_url
        self._arn = queue_arn
        self._sub = subscription
        self._invoke = invoke
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self._is_empty = in_process_queue_is_empty(queue_arn)

    def drain(self) -> int:
        """Deliver every message visible now, each at most once per drain; returns how many."""
        if self._is_empty is not None and self._is_empty():
            return 0
        delivered = 0
        seen: set[str] = set()
        with self._lock, ThreadPoolExecutor(max_workers=self._sub.max_concurrency,
                                            thread_name_prefix=f"sqs-{self._sub.function}") as pool:
            while True:
                batches = self._receive_batches(seen)
                if not batches:
                    break
                for done in pool.map(self._deliver, batches):
                    delivered += done
        self.delivered += delivered
        return delivered

    def _receive_batches(self, seen: set[str]) -> list[list[dict[str, Any]]]:
        """Up to `max_concurrency` batches of messages not yet offered in this drain."""
        batches: list[list[dict[str, Any]]] = []
        for _ in range(self._sub.max_concurrency):
            answer = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=self._sub.batch_size,
                                               AttributeNames=["All"], WaitTimeSeconds=0)
            fresh = [m for m in answer.get("Messages", []) if m["MessageId"] not in seen]
            again = [m for m in answer.get("Messages", []) if m["MessageId"] in seen]
            self._release(again)  # failed earlier in this drain: the next drain offers it again
            if not fresh:
                break
            seen.update(m["MessageId"] for m in fresh)
            batches.append(fresh)
        return batches

    def _deliver(self, messages: list[dict[str, Any]]) -> int:
        event = {"Records": [self._lambda_record(m) for m in messages]}
        try:
            result = self._invoke(self._sub.function, event) or {}
        except Exception:  # the whole batch failed (the runtime logged it): all of it comes back
            logger.warning("queue batch failed", function=self._sub.function, messages=len(messages))
            self._release(messages)
            return 0
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)])
        if failed:
            logger.warning("queue batch partially failed", function=self._sub.function, failed=len(failed))
            self._release([m for m in messages if m["MessageId"] in failed])
        return len(done)

    def _release(self, messages: list[dict[str, Any]]) -> None:
        if messages:
            self._sqs.change_message_visibility_batch(QueueUrl=self._url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for n, m in enumerate(messages)])

    def _lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"], "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}), "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs", "eventSourceARN": self._arn, "awsRegion": REGION}

    def start(self, interval: float = 0.5) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.drain()
                except Exception:  # keep polling; a failing handler is logged by the runtime
                    logger.exception("queue poller failed")

        self._thread = threading.Thread(target=loop, name=f"queue-{self._sub.function}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(2)
