"""Step Functions workflows from `wiring.STATE_MACHINES`: one STANDARD state machine each.

The definition is the ASL file the local stack runs too (`DefinitionBody.from_file`, staged as
an asset); each `${<Name>FunctionArn}` placeholder is substituted with the ARN of the function
declared for it. Every machine logs every event, execution data included, to a log group of its
own and is traced with X-Ray (cdk-nag AwsSolutions-SF1/SF2 pass as they are). STANDARD, not
EXPRESS: the waits last weeks (a trial, a notice period, a data-retention period), and Express
executions end after five minutes.

Least privilege:
- a machine's role may invoke its own task functions, and no other function;
- a function whose FunctionSpec names a machine in `starts_workflows` gets that machine's ARN in
  the machine's `env_var`, states:StartExecution on the machine, and states:StopExecution +
  states:DescribeExecution on that machine's executions; nothing else in Step Functions.

Ordering: a machine references its task functions' ARNs, and a starter's role policy references
the machine, so a task function must never start executions of its own machine (that would be a
dependency cycle); the constructor refuses such wiring.

Running executions survive definition updates, but not the replacement of their machine: keep
the construct ids (hence the logical ids and generated names) stable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import ArnFormat, Fn, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import wiring
from infra.constructs.function_factory import LOG_RETENTION, ParleyFunction, construct_name
from infra.constructs.nag import acknowledge, attr_ref

# What a starter may do with the executions it started (or another starter did): stop one (a
# withdrawn notice, a trial converted early) and read its status. Starting is on the machine.
EXECUTION_ACTIONS = ("states:StopExecution", "states:DescribeExecution")
# A definition substitution in an ASL file: ${TrialEndFunctionArn}.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def execution_arn(machine: sfn.StateMachine) -> str:
    """arn:<partition>:states:<region>:<account>:execution:<machine name>:* - every execution
    of this machine and no other (execution ARNs embed the machine's name)."""
    return Stack.of(machine).format_arn(
        service="states",
        resource="execution",
        resource_name=f"{machine.state_machine_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class Workflows(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, ParleyFunction],
        state_machines: Mapping[str, wiring.StateMachine] = wiring.STATE_MACHINES,
    ) -> None:
        super().__init__(scope, construct_id)
        self.state_machines: dict[str, sfn.StateMachine] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        _check(functions, state_machines)

        # First pass: the machines, each referencing its task functions.
        for spec in state_machines.values():
            self.state_machines[spec.name] = self._machine(spec, functions)

        # Second pass: the functions that start and stop executions reference the machines.
        for function in functions.values():
            for name in function.spec.starts_workflows:
                self._allow_start_and_stop(function, state_machines[name], self.state_machines[name])

    def _machine(self, spec: wiring.StateMachine, functions: Mapping[str, ParleyFunction]) -> sfn.StateMachine:
        name = construct_name(spec.name)
        stack = Stack.of(self)
        # The /aws/vendedlogs/ prefix keeps CloudWatch Logs from adding this group to the
        # account's log resource policy (5,120 characters at most, shared by every vended log).
        # Retained with the stack gone; the stack's own id in the name lets a new stack of the
        # same name create its group beside the one kept.
        stack_guid = Fn.select(2, Fn.split("/", stack.stack_id))
        log_group = logs.LogGroup(
            self,
            f"{name}Logs",
            log_group_name=f"/aws/vendedlogs/states/{stack.stack_name}-{spec.name}-{stack_guid}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        tasks = {placeholder: functions[function] for placeholder, function in spec.task_functions.items()}
        machine = sfn.StateMachine(
            self,
            name,
            comment=f"Parley {spec.name} workflow ({spec.definition_file.name})",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(spec.definition_file)),
            definition_substitutions={placeholder: task.function.function_arn for placeholder, task in tasks.items()},
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            tracing_enabled=True,
        )
        # The ASL names each function by its unqualified ARN: that ARN is all the role may invoke
        # (grant_invoke would add '<arn>:*', every version and alias, which no task uses).
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=sorted({task.function.function_arn for task in tasks.values()}),
            )
        )
        acknowledge(
            machine.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "Risk accepted: X-Ray tracing (xray:PutTraceSegments/PutTelemetryRecords/GetSamplingRules/"
            "GetSamplingTargets) and the CloudWatch Logs vended-log delivery actions (CreateLogDelivery, "
            "GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, "
            "DescribeResourcePolicies, DescribeLogGroups) support no resource-level permissions, so "
            "this role may manage log deliveries account-wide; it invokes only this workflow's task "
            "functions.",
        )
        self.log_groups[spec.name] = log_group
        return machine

    def _allow_start_and_stop(
        self, function: ParleyFunction, spec: wiring.StateMachine, machine: sfn.StateMachine
    ) -> None:
        function.function.add_environment(spec.env_var, machine.state_machine_arn)
        machine.grant_start_execution(function.function)  # states:StartExecution on the machine only
        function.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(EXECUTION_ACTIONS), resources=[execution_arn(machine)])
        )
        acknowledge(
            function.policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
            f"execution:{attr_ref(machine, 'Name')}:*]",
            f"Risk accepted: the function may stop or describe any execution of the {spec.name} state "
            "machine (names are chosen at runtime, one per client or notice), not of any other.",
        )


def _check(functions: Mapping[str, ParleyFunction], state_machines: Mapping[str, wiring.StateMachine]) -> None:
    """Fail at synth, with a readable message, on wiring that cannot deploy."""
    for key, spec in state_machines.items():
        _check_state_machine(key, spec, functions)
    for function in functions.values():
        _check_starter(function, state_machines)


def _check_state_machine(key: str, spec: wiring.StateMachine, functions: Mapping[str, ParleyFunction]) -> None:
    """The declaration matches its ASL file, and every task function it names is declared."""
    if key != spec.name:
        raise ValueError(f"state machine {key!r} is declared with name {spec.name!r}")
    if not spec.definition_file.is_file():
        raise FileNotFoundError(f"state machine {spec.name!r}: {spec.definition_file} does not exist")
    placeholders = set(PLACEHOLDER.findall(spec.definition_file.read_text()))
    if placeholders != spec.task_functions.keys():
        raise ValueError(
            f"state machine {spec.name!r}: {spec.definition_file.name} uses ${{...}} placeholders "
            f"{sorted(placeholders)}, the wiring substitutes {sorted(spec.task_functions)}"
        )
    for task in spec.task_functions.values():
        if task not in functions:
            raise ValueError(f"state machine {spec.name!r}: task function {task!r} is not declared")


def _check_starter(function: ParleyFunction, state_machines: Mapping[str, wiring.StateMachine]) -> None:
    """A function starts only declared state machines, and never one it is a task of."""
    for name in function.spec.starts_workflows:
        if name not in state_machines:
            raise ValueError(f"function {function.spec.name!r} starts undeclared state machine {name!r}")
        if function.spec.name in state_machines[name].task_functions.values():
            raise ValueError(
                f"function {function.spec.name!r} is a task of state machine {name!r} and cannot start it "
                "(the machine references the function's ARN, the function would reference the machine's)"
            )
