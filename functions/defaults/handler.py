"""Daily: deactivate clients in default (CO-10 / CH-10); what they owe stays collectable."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import logger, metrics, tracer
from parley.scheduled import run_daily


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_daily(event, "defaults", with_stripe=False)
