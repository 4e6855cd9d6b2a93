"""Collection worker: drains the collection queue the billing day fills — one invoice per
message, carried to Stripe and charged (parley.ledger.collection). Stripe outages, timeouts and
rate limits fail just that message (partial batch response); SQS delivers it again after its
visibility timeout and, after the queue's last attempt, moves it to the dead-letter queue —
tomorrow's billing day orders the invoice again from its backstop agenda entry."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.composition import billing as services
from parley.ledger.models import CollectionOrder, DayReport
from parley.observability import logger, metrics, tracer
from parley.scheduled import summarize

processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    billing = services.billing_service()
    report = DayReport(day=billing.config.today())

    def collect(record: SQSRecord) -> None:
        billing.collection.collect_order(CollectionOrder.model_validate_json(record.body), report)

    response = process_partial_response(event=event, record_handler=collect, processor=processor, context=context)
    summarize(report)
    return dict(response)
