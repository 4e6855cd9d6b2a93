"""Daily: bill every client whose Billing Date is today (CO-9 and the rules it carries), and
hand the day's invoices to the collection queue (functions/collection_worker charges them)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.observability import logger, metrics, tracer
from parley.scheduled import run_daily


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_daily(event, "billing_day", with_stripe=False, fan_out=True)
