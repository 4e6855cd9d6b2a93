"""The `BillingTenants` contract (`InMemoryTenants` / `TenantRepository` on moto) and the
`Workflows` contract (`InMemoryWorkflows` / `StepFunctionsWorkflows` on moto)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from parley.chat.models import Client, ClientStatus
from parley.gateways.workflows import StepFunctionsWorkflows
from parley.ledger.memory import InMemoryTenants, InMemoryWorkflows
from parley.ledger.ports import BillingTenants, Workflows
from parley.repositories.tenants import TenantRepository

MACHINE = "PARLEY_CONTRACT_STATE_MACHINE_ARN"


@pytest.fixture(params=["memory", "dynamodb"])
def tenants(request: pytest.FixtureRequest) -> InMemoryTenants | TenantRepository:
    if request.param == "memory":
        return InMemoryTenants()
    return TenantRepository(*request.getfixturevalue("data_table"))


def test_a_client_is_stored_and_read_back(tenants: BillingTenants) -> None:
    assert tenants.get_client("cl_a") is None
    client = Client(client_id="cl_a", name="A", widget_key="wk_a", allowed_origins=["https://a.example"])
    tenants.put_client(client)
    assert tenants.get_client("cl_a") == client
    tenants.put_client(client.model_copy(update={"status": ClientStatus.DEACTIVATED}))
    stored = tenants.get_client("cl_a")
    assert stored is not None and stored.status is ClientStatus.DEACTIVATED


def test_a_dashboard_user_belongs_to_its_client(tenants: InMemoryTenants | TenantRepository) -> None:
    tenants.put_client_user("sub-1", "cl_a")
    assert tenants.client_of_user("sub-1") == "cl_a"
    assert tenants.client_of_user("sub-2") is None


# --- workflows ---------------------------------------------------------------------------
Status = Callable[[str], str | None]  # execution name -> RUNNING | ABORTED | None


@pytest.fixture(params=["memory", "stepfunctions"])
def workflows(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Workflows, Status]]:
    if request.param == "memory":
        fake = InMemoryWorkflows()
        yield fake, lambda name: "RUNNING" if name in fake.running else "ABORTED" if name in fake.stopped else None
        return
    sfn = request.getfixturevalue("aws_client")("stepfunctions")
    definition = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 86_400, "End": True}}}
    arn = sfn.create_state_machine(name=request.getfixturevalue("unique"), definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/contract")["stateMachineArn"]
    monkeypatch.setenv(MACHINE, arn)

    def status(name: str) -> str | None:
        execution = arn.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            return str(sfn.describe_execution(executionArn=execution)["status"])
        except sfn.exceptions.ExecutionDoesNotExist:
            return None

    yield StepFunctionsWorkflows(sfn), status


def test_an_execution_starts_once_by_name(workflows: tuple[Workflows, Status]) -> None:
    flows, status = workflows
    flows.start(MACHINE, "trial-cl_a", {"clientId": "cl_a"})
    flows.start(MACHINE, "trial-cl_a", {"clientId": "cl_a"})  # a second start is harmless
    assert status("trial-cl_a") == "RUNNING"
    assert status("trial-cl_b") is None


def test_a_stopped_execution_stays_stopped(workflows: tuple[Workflows, Status]) -> None:
    flows, status = workflows
    flows.start(MACHINE, "notice-cl_a-n1", {"clientId": "cl_a"})
    assert flows.stop(MACHINE, "notice-cl_a-n1", "withdrawn")
    assert status("notice-cl_a-n1") == "ABORTED"
    flows.start(MACHINE, "notice-cl_a-n1", {"clientId": "cl_a"})  # the name is used: no second run
    assert status("notice-cl_a-n1") == "ABORTED"


def test_stopping_an_unknown_execution_says_so(workflows: tuple[Workflows, Status]) -> None:
    flows, _ = workflows
    assert flows.stop(MACHINE, "trial-nobody", "no such trial") is False


def test_the_adapter_refuses_a_machine_it_was_not_given(aws_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adapter only (the fake has no machine configuration): a missing ARN is an error naming
    the variable, not a silent skip."""
    monkeypatch.delenv(MACHINE, raising=False)
    with pytest.raises(RuntimeError, match=MACHINE):
        StepFunctionsWorkflows(aws_client("stepfunctions")).start(MACHINE, "trial-cl_a", {})
