"""The collection queue on SQS: the billing day's orders, ten to a SendMessageBatch request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from parley.gateways.stripe_models import PaymentProviderUnavailable
from parley.ledger.models import CollectionOrder

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_BATCH = 10  # SendMessageBatch's limit


class SqsCollectionQueue:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def enqueue(self, orders: Sequence[CollectionOrder]) -> None:
        """Every order on the queue, or an error: entries SQS refused are sent again once, then
        the run fails (the scheduler retries it; a duplicate order is harmless, the worker is
        idempotent)."""
        for start in range(0, len(orders), SQS_BATCH):
            pending = {str(n): o for n, o in enumerate(orders[start:start + SQS_BATCH])}
            for _ in range(2):
                answer = self._sqs.send_message_batch(QueueUrl=self._url, Entries=[
                    {"Id": n, "MessageBody": o.model_dump_json()} for n, o in pending.items()])
                pending = {f["Id"]: pending[f["Id"]] for f in answer.get("Failed", [])}
                if not pending:
                    break
            if pending:
                # Not a Stripe outage, but the same consequence: retry the run later.
                raise PaymentProviderUnavailable(f"the collection queue refused {len(pending)} orders")
