"""EventBridge Scheduler schedules from `wiring.SCHEDULES`, in the provider's time zone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from aws_cdk import TimeZone
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from constructs import Construct

from infra import wiring
from infra.constructs.function_factory import construct_name
from infra.constructs.nag import acknowledge, attr_ref
from infra.cron import Cron
from parley.interfaces import SchedulePayload


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        schedules: Sequence[wiring.Schedule] = wiring.SCHEDULES,
    ) -> None:
        super().__init__(scope, construct_id)
        self.schedules: dict[str, scheduler.Schedule] = {}
        for spec in schedules:
            Cron.parse(spec.cron)  # the same validation the local scheduler applies
            ZoneInfo(spec.timezone)  # fail at synth, not at deploy, on a misspelled zone
            function = functions[spec.function]
            # An explicit role per schedule (the target's default is one shared role per stack),
            # so each schedule may invoke its own function only.
            role = iam.Role(
                self,
                f"{construct_name(spec.name)}Role",
                assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            )
            schedule = scheduler.Schedule(
                self,
                construct_name(spec.name),
                description=f"Parley {spec.name} -> {spec.function}",
                schedule=scheduler.ScheduleExpression.expression(spec.cron, TimeZone.of(spec.timezone)),
                target=targets.LambdaInvoke(
                    function,
                    role=role,
                    # The same payload the local scheduler sends: which schedule, and for when.
                    input=scheduler.ScheduleTargetInput.from_object(
                        SchedulePayload.template(spec.name, scheduler.ContextAttribute.scheduled_time)
                    ),
                ),
            )
            acknowledge(
                role.node.find_child("DefaultPolicy"),
                f"AwsSolutions-IAM5[Resource::{attr_ref(function)}:*]",
                f"Risk accepted: the scheduler role may invoke any version or alias of {spec.function} "
                "(':*', as CDK's invoke grant gives it), and no other function.",
            )
            self.schedules[spec.name] = schedule
