"""Daily: default warnings, then defaults (CO-10 / CH-10): the client in default is terminated,
the cut-off cycle's advance fee voided (in Stripe too), what else it owes stays collectable;
then the data of clients terminated for default whose retention period ended is deleted (LC-3)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.composition import billing as services
from parley.composition.leads import lead_repository
from parley.observability import logger, metrics, tracer
from parley.scheduled import parse_run, run_daily


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    summary = run_daily(event, "defaults", with_stripe=True)
    lifecycle = services.lifecycle()
    run = parse_run(event)
    day = run.day or lifecycle.billing.config.policy.business_date(run.scheduled_time)
    deleted = lifecycle.delete_due_data(day)
    for client_id in deleted:  # visitors' data too (LC-3), as after a cancellation
        lead_repository().delete_all_of_client(client_id)
    return {**summary, "data_deleted": deleted}
