"""Collection worker: drains the collection queue the billing day fills — one invoice per
message, carried to Stripe and charged (parley.ledger.collection). Stripe's rate limit (429) is
waited out here with exponential backoff and jitter (the mapping's bounded concurrency keeps
the workers under Stripe's 100 requests/s; a burst still gets 429s); outages, timeouts and a
rate limit that outlasts the backoff fail just that message (partial batch response); SQS
delivers it again after its visibility timeout and, after the queue's last attempt, moves it to
the dead-letter queue — tomorrow's billing day orders the invoice again from its backstop
agenda entry. Every step is idempotent per invoice, so a redelivery never charges twice."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.composition import billing as services
from parley.gateways.stripe_models import PaymentProviderUnavailable
from parley.ledger.models import CollectionOrder, DayReport
from parley.observability import logger, metrics, tracer
from parley.scheduled import summarize

processor = BatchProcessor(event_type=EventType.SQS)
RATE_LIMIT_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0)  # then the message fails and SQS redelivers it


def with_rate_limit_backoff(step: Callable[[], None], sleep: Callable[[float], None] = time.sleep) -> None:
    """Run `step`, waiting out Stripe's 429s (each wait jittered to 50-100 %: workers that hit
    the limit together do not come back together)."""
    for pause in (*RATE_LIMIT_BACKOFF_SECONDS, None):
        try:
            step()
            return
        except PaymentProviderUnavailable as exc:
            if exc.http_status != 429 or pause is None:
                raise
            sleep(pause * random.uniform(0.5, 1.0))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    billing = services.billing_service()
    report = DayReport(day=billing.config.today())

    def collect(record: SQSRecord) -> None:
        order = CollectionOrder.model_validate_json(record.body)
        with_rate_limit_backoff(lambda: billing.collection.collect_order(order, report))

    response = process_partial_response(event=event, record_handler=collect, processor=processor, context=context)
    summarize(report)
    return dict(response)
