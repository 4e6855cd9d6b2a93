"""Every minute (EventBridge Scheduler; locally the scheduler on the controllable clock): chats
whose assigned agent did not answer in time move on, agents whose last connection dropped
more than the grace period ago go offline (their chats move on), visitors whose chat waited in
the queue longer than the client's no-answer timeout are told (conversation.unanswered), idle
chats close."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.composition import routing as services
from parley.observability import logger, metrics


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = services.router().sweep()
    metrics.add_metric(name="answers_missed", unit=MetricUnit.Count, value=report.answers_missed)
    metrics.add_metric(name="agents_offline", unit=MetricUnit.Count, value=report.agents_offline)
    metrics.add_metric(name="unanswered", unit=MetricUnit.Count, value=report.unanswered)
    metrics.add_metric(name="idle_closed", unit=MetricUnit.Count, value=len(report.idle_closed))
    result = asdict(report)
    logger.info("routing sweep done", extra={"answers_missed": report.answers_missed,
                                             "agents_offline": report.agents_offline,
                                             "unanswered": report.unanswered,
                                             "idle_closed": len(report.idle_closed)})
    return result
