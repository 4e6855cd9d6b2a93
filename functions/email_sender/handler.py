"""DynamoDB stream (new outbox items only, by the subscription's filter) → the first try of each
email. A failed try is handed to the email_retry workflow, which tries again with backoff; the
stream is never held up by a mail server that is down."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.clock import iso
from parley.composition import email as services
from parley.email.outbox import Outcome
from parley.gateways.workflows import StepFunctionsWorkflows
from parley.observability import logger, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
RETRY_MACHINE_ENV = "PARLEY_EMAIL_RETRY_STATE_MACHINE_ARN"


def queued_email_id(record: DynamoDBRecord) -> str | None:
    change = record.dynamodb
    new = (change.new_image if change else None) or {}
    pk = str(new.get("pk", ""))
    return pk.removeprefix("OUTBOX#") if pk.startswith("OUTBOX#") and new.get("sk") == "EMAIL" else None


def send_first_try(record: DynamoDBRecord) -> None:
    email_id = queued_email_id(record)
    if email_id is None:
        return
    result = services.email_delivery().deliver(email_id)
    if result.outcome is Outcome.RETRY and result.retry_at is not None:
        # If starting fails this record fails and the stream delivers it again (the claim and
        # the attempt counter keep that to one try per delivery).
        StepFunctionsWorkflows().start(RETRY_MACHINE_ENV, f"email-{email_id}",
                                       {"emailId": email_id, "retryAt": iso(result.retry_at)})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=send_first_try, processor=processor,
                                         context=context))
