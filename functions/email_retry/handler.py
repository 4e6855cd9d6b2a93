"""The email_retry workflow's task: one more try of a queued email. Returns what the workflow
needs to decide: try again at `retryAt`, or stop (sent, given up, or nothing left to do)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from parley.clock import iso
from parley.composition import email as services
from parley.observability import logger, tracer


class RetryTask(BaseModel):
    email_id: str = Field(alias="emailId", min_length=1, max_length=100)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = RetryTask.model_validate(event)
    result = services.email_delivery().deliver(task.email_id)
    return {"emailId": task.email_id, "outcome": result.outcome.value,
            "retryAt": iso(result.retry_at) if result.retry_at else None}
