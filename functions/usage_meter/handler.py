"""DynamoDB stream → engaged chats (and agent time, CO-7) counted per client and billing cycle.

A conversation item's MODIFY record is where a chat becomes engaged (the engaged-chat rule of
`parley.billing.metering`, applied by `parley.ledger.usage.became_engaged`) or is closed; the
whole batch's chats are added with one counter transaction per client and cycle (a
redelivered record counts once)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.composition import billing as services
from parley.ledger.usage import ClosedChat, EngagedChat, became_closed, became_engaged
from parley.observability import logger, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def conversation_change(record: DynamoDBRecord) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(old, new) images of a modified conversation item; None for any other record."""
    change = record.dynamodb
    if change is None or record.event_name is None or record.event_name.name != "MODIFY":
        return None
    new, old = change.new_image or {}, change.old_image or {}
    if not str(new.get("pk", "")).startswith("CONV#") or new.get("sk") != "META":
        return None
    return dict(old), dict(new)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    engaged: list[EngagedChat] = []
    closed: list[ClosedChat] = []

    def record_handler(record: DynamoDBRecord) -> None:
        # A malformed record fails alone (partial batch response).
        images = conversation_change(record)
        if images is None:
            return
        if (chat := became_engaged(*images)) is not None:
            engaged.append(chat)
        if (ended := became_closed(*images)) is not None:
            closed.append(ended)

    response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    if engaged:
        # If this raises, the whole batch is redelivered; the per-chat markers make that harmless.
        lifecycle = services.lifecycle()
        for client_id in lifecycle.billing.metering.meter(engaged):
            lifecycle.convert_if_over_limit(client_id)  # CO-4: over the trial limit → paid at once
    if closed:
        services.billing_service(with_stripe=False).metering.meter_agent_time(closed)
    return dict(response)
