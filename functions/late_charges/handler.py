"""Daily: the 5 % late charge on invoices unpaid past their deadline (CO-11)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import logger, metrics, tracer
from parley.scheduled import run_daily


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_daily(event, "late_charges", with_stripe=True)
