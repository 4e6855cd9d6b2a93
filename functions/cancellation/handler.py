"""The notice workflow's tasks: finalize the cancellation when the last day of service ends
(CO-2 / CH-9), and delete the client's data after the retention period (LC-3)."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from parley.composition import billing as services
from parley.composition.leads import lead_repository
from parley.observability import logger, tracer


class NoticeStep(BaseModel):
    action: Literal["finalize", "delete_data"]
    client_id: str = Field(alias="clientId", min_length=1)
    notice_id: str = Field(alias="noticeId", min_length=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = NoticeStep.model_validate(event)
    lifecycle = services.lifecycle()
    if step.action == "finalize":
        return lifecycle.finalize_cancellation(step.client_id, step.notice_id)
    deleted = lifecycle.delete_data(step.client_id)
    deleted["deletedLeads"] = lead_repository().delete_all_of_client(step.client_id)  # visitors' data too (LC-3)
    return deleted
