"""The trial workflow's task at the end of the trial: convert to paid or stop (CO-4, CO-5, CO-9)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from parley.composition import billing as services
from parley.observability import logger, tracer


class TrialEnded(BaseModel):
    client_id: str = Field(alias="clientId", min_length=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = TrialEnded.model_validate(event)
    return services.lifecycle().end_trial(request.client_id)
