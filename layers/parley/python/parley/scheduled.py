"""The input of a scheduled run: {"schedule", "scheduledTime"} (EventBridge Scheduler and the
local scheduler send the same). The business day is taken from the scheduled time, so a run
delivered late (or re-run) still works on the day it was meant for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit

from parley.composition import billing as services
from parley.interfaces import SchedulePayload
from parley.ledger.models import DayReport
from parley.ledger.service import Billing
from parley.observability import logger, metrics


def parse_run(event: dict[str, Any]) -> SchedulePayload:
    """The payload EventBridge Scheduler and the local scheduler send (parley.interfaces, one source)."""
    return SchedulePayload.model_validate(event)


def summarize(report: DayReport) -> dict[str, Any]:
    """A daily run's report as JSON, with one metric per outcome (clients billed, late charges…)."""
    data = asdict(report)
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    for name, count in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
    logger.info("daily run done", extra={"day": str(data["day"]), **counts})
    return {k: (v if isinstance(v, list) else str(v)) for k, v in data.items()}


DailyJob = Literal["billing_day", "late_charges", "defaults"]


def _job(billing: Billing, job: DailyJob) -> Callable[[date], DayReport]:
    jobs: dict[DailyJob, Callable[[date], DayReport]] = {
        "billing_day": billing.billing_day.run, "late_charges": billing.dunning.run_late_charges,
        "defaults": billing.dunning.run_defaults}
    return jobs[job]


def run_daily(event: dict[str, Any], job: DailyJob, *, with_stripe: bool, fan_out: bool = False) -> dict[str, Any]:
    """A daily job (the billing day, late charges, defaults) for the scheduled day; with
    `fan_out`, the day's collection goes to the collection queue's workers."""
    run = parse_run(event)
    billing = services.billing_service(with_stripe=with_stripe, fan_out=fan_out)
    day = run.day or billing.config.policy.business_date(run.scheduled_time)
    return summarize(_job(billing, job)(day))
