"""Schedules: the construct turns a wiring.Schedule into an EventBridge Scheduler schedule in
its time zone, invoking its function with a role of its own and the input
{"schedule", "scheduledTime"}; the app carries exactly the declared ones, in the provider's time
zone taken from CDK context (cdk.json `parley:providerTimeZone`), not from the shell."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from infra import wiring
from infra.constructs.schedules import Schedules
from infra.stacks.parley_stack import Settings
from tests.infra.template import Synth

pytestmark = pytest.mark.infra


def _stack_with(schedules: list[wiring.Schedule], outdir: Path) -> Mapping[str, Any]:
    from aws_cdk import App, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    app = App(outdir=str(outdir))
    stack = Stack(app, "SchedulesProbe")
    function = lambda_.Function(
        stack,
        "BillingCycle",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
        handler="index.handler",
        runtime=lambda_.Runtime.PYTHON_3_12,
    )
    Schedules(stack, "Schedules", functions={"billing_cycle": function}, schedules=schedules)
    return Template.from_stack(stack).to_json()


def test_schedule_in_its_time_zone(tmp_path: Path) -> None:
    schedule = wiring.Schedule("billing_day", "billing_cycle", "cron(30 2 * * ? *)", "Europe/Madrid")
    template = _stack_with([schedule], tmp_path)
    resources = template["Resources"]
    (props,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert props["ScheduleExpression"] == "cron(30 2 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Madrid"
    assert props["Target"]["Arn"]["Fn::GetAtt"][0].startswith("BillingCycle")
    role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    assert role_id.startswith("SchedulesBillingDayRole")
    assert json.loads(props["Target"]["Input"]) == {
        "schedule": "billing_day",
        "scheduledTime": "<aws.scheduler.scheduled-time>",
    }


@pytest.mark.parametrize(
    ("cron", "timezone"),
    [("rate(1 day)", "Europe/Madrid"), ("cron(0 2 * * ? *)", "Europe/Madird")],
)
def test_bad_schedule_fails_synth(tmp_path: Path, cron: str, timezone: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - ValueError or ZoneInfoNotFoundError
        _stack_with([wiring.Schedule("bad", "billing_cycle", cron, timezone)], tmp_path)


def test_declared_schedules(synth: Synth) -> None:
    schedules = [r["Properties"] for r in synth.of_type("AWS::Scheduler::Schedule").values()]
    assert len(schedules) == len(wiring.SCHEDULES)
    for spec in wiring.SCHEDULES:
        (props,) = [p for p in schedules if json.loads(p["Target"]["Input"])["schedule"] == spec.name]
        assert props["Target"]["Arn"] == {"Fn::GetAtt": [synth.function_id(spec.function), "Arn"]}
        assert props["ScheduleExpression"] == spec.cron
        assert props["ScheduleExpressionTimezone"] == synth.stack.settings.provider_time_zone
        assert props["State"] == "ENABLED"
        assert json.loads(props["Target"]["Input"])["scheduledTime"] == "<aws.scheduler.scheduled-time>"


def test_billing_jobs_and_the_routing_sweep_are_scheduled() -> None:
    assert {s.function for s in wiring.SCHEDULES} == {"billing_cycle", "late_charges", "defaults", "routing_sweep"}
    assert [s.cron for s in wiring.SCHEDULES if s.function == "routing_sweep"] == ["cron(* * * * ? *)"]
    # Daily jobs fire for every day the local clock jumps over; the sweep once (it catches up itself).
    assert {s.function for s in wiring.SCHEDULES if not s.catch_up} == {"routing_sweep"}
    assert all(schedule.timezone == wiring.PROVIDER_TIME_ZONE for schedule in wiring.SCHEDULES)


def test_provider_time_zone_comes_from_cdk_json(synth: Synth) -> None:
    from infra.app import cdk_json_context

    configured = cdk_json_context()["parley:providerTimeZone"]
    ZoneInfo(configured)
    assert synth.stack.settings.provider_time_zone == configured
    for resource in synth.of_type("AWS::Lambda::Function").values():
        env = resource["Properties"].get("Environment", {}).get("Variables", {})
        if "PARLEY_PROVIDER_TIME_ZONE" in env:
            assert env["PARLEY_PROVIDER_TIME_ZONE"] == configured


def _settings(context: dict[str, Any]) -> Settings:
    from aws_cdk import App

    return Settings.from_context(App(context=context))


def test_provider_time_zone_setting() -> None:
    assert _settings({}).provider_time_zone == wiring.PROVIDER_TIME_ZONE
    assert _settings({"parley:providerTimeZone": "America/Los_Angeles"}).provider_time_zone == "America/Los_Angeles"
    with pytest.raises(ValueError, match="parley:providerTimeZone"):
        _settings({"parley:providerTimeZone": "America/Los_Angles"})


def test_schedules_move_to_the_configured_zone() -> None:
    settings = _settings({"parley:providerTimeZone": "America/Los_Angeles"})
    own_zone = wiring.Schedule("elsewhere", "billing_cycle", "cron(0 1 * * ? *)", "Asia/Tokyo")
    moved = settings.in_provider_time_zone([*wiring.SCHEDULES, own_zone])
    assert [s.timezone for s in moved] == ["America/Los_Angeles"] * len(wiring.SCHEDULES) + ["Asia/Tokyo"]
    assert [s.name for s in moved] == [s.name for s in [*wiring.SCHEDULES, own_zone]]
