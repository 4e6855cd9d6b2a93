"""Step Functions workflows: one STANDARD machine per wiring.STATE_MACHINES entry, logged (ALL,
execution data) and traced, running its ASL file with the task functions substituted; its role
invokes its own task functions only; only the declared starters may start/stop its executions."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infra import wiring
from infra.constructs.workflows import EXECUTION_ACTIONS, _check
from tests.infra.template import Resource, Synth, as_list, rendered, statements_of_role

pytestmark = pytest.mark.infra

MACHINES = sorted(wiring.STATE_MACHINES)
# Pinned independently of the wiring: which functions each workflow's tasks call, and which
# functions may start (and stop) executions of which workflow.
TASK_FUNCTIONS = {"trial": {"trial_end"}, "notice": {"cancellation"}, "email_retry": {"email_retry"}}
STARTERS = {"client_account": {"trial", "notice"}, "usage_meter": {"trial"}, "email_sender": {"email_retry"}}
# What CDK gives a state machine role for logging and tracing (Resource '*', acknowledged).
LOG_DELIVERY_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
XRAY_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"}


def _machine_id(synth: Synth, name: str) -> str:
    return synth.logical_id(synth.stack.workflows.state_machines[name])


def _machine(synth: Synth, name: str) -> Resource:
    return synth.resources[_machine_id(synth, name)]


def _function_arn(synth: Synth, function: str) -> Resource:
    return {"Fn::GetAtt": [synth.function_id(function), "Arn"]}


def _substitute(value: Any, substitutions: dict[str, Any]) -> Any:
    """CloudFormation's DefinitionSubstitutions: a string that is exactly `${Key}` becomes the
    (intrinsic) value; any other `${` left over would reach Step Functions verbatim."""
    if isinstance(value, dict):
        return {key: _substitute(child, substitutions) for key, child in value.items()}
    if isinstance(value, list):
        return [_substitute(child, substitutions) for child in value]
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return substitutions[value[2:-1]]
    assert not (isinstance(value, str) and "${" in value), value
    return value


def _deployed_definition(synth: Synth, name: str) -> Resource:
    props = _machine(synth, name)["Properties"]
    assert "DefinitionString" not in props
    staged = synth.staged_asset(props["DefinitionS3Location"]["Key"])
    definition: Resource = _substitute(json.loads(staged.read_text()), props["DefinitionSubstitutions"])
    return definition


def _tasks(definition: Resource) -> dict[str, Resource]:
    return {state: body for state, body in definition["States"].items() if body["Type"] == "Task"}


def _role_statements(synth: Synth, name: str) -> list[Resource]:
    role_id = _machine(synth, name)["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return statements_of_role(synth, role_id)


def _function_statements(synth: Synth, name: str) -> list[Resource]:
    role = synth.stack.function_factory.functions[name].role
    return statements_of_role(synth, synth.logical_id(role))


def _grants(statements: list[Resource], prefix: str) -> set[tuple[str, str]]:
    """(action, resource as JSON) for every action starting with `prefix`."""
    return {
        (action, json.dumps(resource, sort_keys=True))
        for s in statements
        for action in as_list(s["Action"])
        if action.startswith(prefix)
        for resource in as_list(s["Resource"])
    }


def _execution_arn(synth: Synth, name: str) -> Resource:
    partition, region, account = ({"Ref": f"AWS::{p}"} for p in ("Partition", "Region", "AccountId"))
    machine_name = {"Fn::GetAtt": [_machine_id(synth, name), "Name"]}
    parts = ["arn:", partition, ":states:", region, ":", account, ":execution:", machine_name, ":*"]
    return {"Fn::Join": ["", parts]}


def test_one_machine_per_declaration(synth: Synth) -> None:
    assert len(synth.of_type("AWS::StepFunctions::StateMachine")) == len(wiring.STATE_MACHINES)
    assert set(MACHINES) == set(TASK_FUNCTIONS) == {"trial", "notice", "email_retry"}
    for key, spec in wiring.STATE_MACHINES.items():
        assert spec.name == key
        assert set(spec.task_functions.values()) == TASK_FUNCTIONS[key]


@pytest.mark.parametrize("name", MACHINES)
def test_standard_logged_and_traced(synth: Synth, name: str) -> None:
    props = _machine(synth, name)["Properties"]
    assert props["StateMachineType"] == "STANDARD"  # the waits last weeks; Express stops at 5 min
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    (destination,) = logging["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert log_group_id == synth.logical_id(synth.stack.workflows.log_groups[name])
    log_group = synth.resources[log_group_id]["Properties"]
    assert log_group["RetentionInDays"] > 0
    assert rendered(log_group["LogGroupName"]).startswith("/aws/vendedlogs/states/")


def test_dedicated_log_groups(synth: Synth) -> None:
    """Each machine logs to its own group, which nothing else writes to."""
    groups = [
        _machine(synth, name)["Properties"]["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]
        for name in MACHINES
    ]
    assert len({json.dumps(g, sort_keys=True) for g in groups}) == len(MACHINES)
    function_groups = {synth.logical_id(f.log_group) for f in synth.stack.function_factory.functions.values()}
    assert not {g["LogGroupArn"]["Fn::GetAtt"][0] for g in groups} & function_groups


@pytest.mark.parametrize("name", MACHINES)
def test_definition_is_the_asl_file_with_task_functions(synth: Synth, name: str) -> None:
    spec = wiring.STATE_MACHINES[name]
    asl = json.loads(spec.definition_file.read_text())
    deployed = _deployed_definition(synth, name)
    substitutions = _machine(synth, name)["Properties"]["DefinitionSubstitutions"]

    assert substitutions == {p: _function_arn(synth, f) for p, f in spec.task_functions.items()}
    assert deployed["StartAt"] == asl["StartAt"]
    assert list(deployed["States"]) == list(asl["States"])
    for state, body in asl["States"].items():
        assert deployed["States"][state]["Type"] == body["Type"], state
        if body["Type"] == "Wait":
            assert deployed["States"][state]["TimestampPath"] == body["TimestampPath"], state
    tasks = _tasks(deployed)
    assert tasks, f"{name} has no task"
    called = set()
    for state, body in tasks.items():
        assert body["Resource"].endswith(":states:::lambda:invoke"), state
        placeholder = _tasks(asl)[state]["Parameters"]["FunctionName"][2:-1]
        expected = spec.task_functions[placeholder]
        assert body["Parameters"]["FunctionName"] == _function_arn(synth, expected), state
        called.add(expected)
    assert called == TASK_FUNCTIONS[name]


@pytest.mark.parametrize("name", MACHINES)
def test_machine_role_invokes_only_its_tasks(synth: Synth, name: str) -> None:
    role_id = _machine(synth, name)["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    trust = synth.resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "states.amazonaws.com"}]
    assert "ManagedPolicyArns" not in synth.resources[role_id]["Properties"]

    statements = _role_statements(synth, name)
    assert all(s["Effect"] == "Allow" for s in statements)
    invoke = _grants(statements, "lambda:")
    assert invoke == {
        ("lambda:InvokeFunction", json.dumps(_function_arn(synth, f), sort_keys=True)) for f in TASK_FUNCTIONS[name]
    }
    for statement in statements:
        actions = set(as_list(statement["Action"]))
        if "*" in as_list(statement["Resource"]):
            assert actions <= LOG_DELIVERY_ACTIONS | XRAY_ACTIONS, actions
        else:
            assert actions == {"lambda:InvokeFunction"}, actions


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_start_and_stop_only_by_declared_starters(synth: Synth, name: str) -> None:
    expected = STARTERS.get(name, set())
    assert set(wiring.FUNCTIONS[name].starts_workflows) == expected
    grants = _grants(_function_statements(synth, name), "states:")
    wanted = {("states:StartExecution", json.dumps({"Ref": _machine_id(synth, m)})) for m in expected} | {
        (action, json.dumps(_execution_arn(synth, m), sort_keys=True)) for m in expected for action in EXECUTION_ACTIONS
    }
    assert grants == wanted


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_machine_arn_env(synth: Synth, name: str) -> None:
    env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]
    for machine in MACHINES:
        var = wiring.STATE_MACHINES[machine].env_var
        if machine in STARTERS.get(name, set()):
            assert env[var] == {"Ref": _machine_id(synth, machine)}
        else:
            assert var not in env


def test_task_functions_are_invoked_by_their_machine_only(synth: Synth) -> None:
    """No API route, schedule, stream or resource policy reaches a task function."""
    tasks = {f for functions in TASK_FUNCTIONS.values() for f in functions}
    assert not tasks & {route.function for route in wiring.HTTP_ROUTES}
    assert not tasks & {route.function for route in wiring.WEBSOCKET_ROUTES}
    assert not tasks & {s.function for s in wiring.SCHEDULES}
    assert not tasks & {s.function for s in wiring.STREAM_SUBSCRIPTIONS}
    task_ids = {synth.function_id(f) for f in tasks}
    for permission in synth.of_type("AWS::Lambda::Permission").values():
        assert permission["Properties"]["FunctionName"]["Fn::GetAtt"][0] not in task_ids


# _check: wiring that cannot deploy fails synth with a readable message.


def _functions(**starts: tuple[str, ...]) -> dict[str, Any]:
    names = {"trial_end", "cancellation", "email_retry", *starts}
    return {n: SimpleNamespace(spec=SimpleNamespace(name=n, starts_workflows=starts.get(n, ()))) for n in names}


def test_check_accepts_the_wiring() -> None:
    _check(_functions(client_account=("trial", "notice")), wiring.STATE_MACHINES)


def test_check_refuses_a_task_starting_its_own_machine() -> None:
    with pytest.raises(ValueError, match="cannot start"):
        _check(_functions(trial_end=("trial",)), wiring.STATE_MACHINES)


def test_check_refuses_an_undeclared_machine() -> None:
    with pytest.raises(ValueError, match="undeclared state machine 'renewal'"):
        _check(_functions(client_account=("renewal",)), wiring.STATE_MACHINES)


def test_check_refuses_unmatched_placeholders(tmp_path: Path) -> None:
    asl = tmp_path / "x.asl.json"
    asl.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${OtherFunctionArn}"}}}))
    machine = wiring.StateMachine("x", asl, {"TrialEndFunctionArn": "trial_end"}, "PARLEY_X_ARN")
    with pytest.raises(ValueError, match="placeholders"):
        _check(_functions(), {"x": machine})


def test_check_refuses_an_undeclared_task_function(tmp_path: Path) -> None:
    asl = tmp_path / "x.asl.json"
    asl.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${NopeFunctionArn}"}}}))
    machine = wiring.StateMachine("x", asl, {"NopeFunctionArn": "nope"}, "PARLEY_X_ARN")
    with pytest.raises(ValueError, match="'nope' is not declared"):
        _check(_functions(), {"x": machine})
