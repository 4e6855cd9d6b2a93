"""Starting and stopping Step Functions executions, named by a business key so a duplicate
start is harmless (trial-{client}, notice-{client}-{notice})."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley import aws

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class StepFunctionsWorkflows:
    """`parley.ledger.ports.Workflows` on Step Functions (the machine's ARN from its variable)."""

    def __init__(self, client: SFNClient | None = None) -> None:
        self._client = client

    def _sfn(self) -> SFNClient:
        return self._client or aws.stepfunctions()

    def _arn(self, machine_env_var: str) -> str:
        arn = os.environ.get(machine_env_var, "")
        if not arn:
            raise RuntimeError(f"{machine_env_var} is not configured")
        return arn

    def start(self, machine_env_var: str, name: str, payload: dict[str, Any]) -> None:
        try:
            self._sfn().start_execution(stateMachineArn=self._arn(machine_env_var), name=name,
                                                input=json.dumps(payload))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise

    def stop(self, machine_env_var: str, name: str, cause: str) -> bool:
        arn = self._arn(machine_env_var).replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            self._sfn().stop_execution(executionArn=arn, cause=cause[:256])
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "ResourceNotFound"):
                return False
            raise
        return True
