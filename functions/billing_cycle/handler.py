"""Daily: bill every client whose Billing Date is today (CO-9 and the rules it carries)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import services
from parley.observability import logger, metrics, tracer
from parley.scheduled import parse_run, summarize


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = parse_run(event)
    billing = services.billing_service(with_stripe=True)
    day = run.day or billing.rules()[0].business_date(run.scheduled_time)
    return summarize(billing.run_billing_day(day))
