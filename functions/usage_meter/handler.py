"""DynamoDB stream → engaged chats (and agent time, CO-7) counted per client and billing cycle.

Engaged chat (CONTRACT_RULES Decision): the visitor sent a message and an agent replied;
counted once, in the cycle of the first agent reply. A conversation item's MODIFY record
where the first reply appears is the moment it becomes engaged; the whole batch's chats are
added with one counter transaction per client (a redelivered record counts once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.composition import billing as services
from parley.observability import logger, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def engaged_transition(record: DynamoDBRecord) -> tuple[str, str, datetime, datetime] | None:
    """(client, conversation, first agent reply, created) when this change made the chat engaged."""
    change = record.dynamodb
    if change is None or record.event_name is None or record.event_name.name != "MODIFY":
        return None
    new, old = change.new_image or {}, change.old_image or {}
    if not str(new.get("pk", "")).startswith("CONV#") or new.get("sk") != "META":
        return None
    replied = new.get("first_agent_reply_at")
    if not replied or old.get("first_agent_reply_at") or int(new.get("visitor_messages", 0)) < 1:
        return None
    return (str(new["client_id"]), str(new["conversation_id"]), datetime.fromisoformat(str(replied)),
            datetime.fromisoformat(str(new["created_at"])))


def closed_transition(record: DynamoDBRecord) -> tuple[str, str, datetime, datetime] | None:
    """(client, conversation, accepted, closed) when this change closed an accepted chat (CO-7)."""
    change = record.dynamodb
    if change is None or record.event_name is None or record.event_name.name != "MODIFY":
        return None
    new, old = change.new_image or {}, change.old_image or {}
    if new.get("status") != "closed" or old.get("status") == "closed" or not new.get("accepted_at"):
        return None
    return (str(new["client_id"]), str(new["conversation_id"]), datetime.fromisoformat(str(new["accepted_at"])),
            datetime.fromisoformat(str(new["closed_at"])))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    engaged: list[tuple[str, str, datetime, datetime]] = []
    closed: list[tuple[str, str, datetime, datetime]] = []

    def record_handler(record: DynamoDBRecord) -> None:
        # A malformed record fails alone (partial batch response).
        for found, into in ((engaged_transition(record), engaged), (closed_transition(record), closed)):
            if found:
                into.append(found)

    response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)
    if engaged:
        # If this raises, the whole batch is redelivered; the per-chat markers make that harmless.
        lifecycle = services.lifecycle()
        for client_id in lifecycle.billing.meter(engaged):
            lifecycle.convert_if_over_limit(client_id)  # CO-4: over the trial limit → paid at once
    if closed:
        services.billing_service(with_stripe=False).meter_agent_time(closed)
    return dict(response)
