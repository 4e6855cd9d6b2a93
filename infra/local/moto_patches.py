"""THE one place where moto is adapted to run our workflows locally (docs/local-stack.md):

1. Step Functions executes state machines for real (`execute_state_machine`).
2. Wait states follow the controllable clock instead of sleeping on the wall clock (moto's
   `Timestamp` wait is computed against naive local time and really sleeps): a person moving
   the clock forward sees a 14-day trial end. Active waits are registered so the local stack
   can step time exactly to each deadline.
3. DynamoDB requests are applied one at a time, each atomically, as DynamoDB does: moto's
   TransactWriteItems deep-copies the tables for its rollback and breaks ("dictionary changed
   size during iteration", HTTP 500, then a botocore retry that may find it half applied) when
   another request writes meanwhile. Concurrency tests need the real guarantee.
4. Lambda tasks invoke our handlers through the local gateway's Lambda Invoke endpoint (moto's
   own Lambda needs Docker): moto's Step Functions builds its Lambda client pointing at moto;
   we point it at the gateway instead.

Nothing here changes what our code sends: the same ASL, the same `lambda:invoke` tasks.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from parley.clock import get_clock

_lock = threading.Lock()
_waits: dict[int, datetime] = {}  # id(env) -> deadline on the controllable clock
_installed = False
_lambda_endpoint = ""


def active_wait_deadlines() -> list[datetime]:
    with _lock:
        return sorted(_waits.values())


def install(lambda_endpoint: str) -> None:
    global _installed, _lambda_endpoint
    _lambda_endpoint = lambda_endpoint
    if _installed:
        return
    _installed = True
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as timestamp_module
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    default_user_config["stepfunctions"] = {"execute_state_machine": True}

    from moto.dynamodb.responses import DynamoHandler

    dynamodb_lock = threading.RLock()
    original_call_action = DynamoHandler.call_action

    def serialized_call_action(self: Any) -> Any:
        with dynamodb_lock:
            return original_call_action(self)

    DynamoHandler.call_action = serialized_call_action  # type: ignore[method-assign]

    original_boto_client_for = getattr(lambda_eval_utils, "boto_client_for")  # noqa: B009 - not exported

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if service != "lambda":
            return original_boto_client_for(region=region, service=service, state_credentials=state_credentials)
        return boto3.client("lambda", region_name=region, endpoint_url=_lambda_endpoint,
                            aws_access_key_id="local", aws_secret_access_key="local",
                            config=Config(retries={"max_attempts": 1}, read_timeout=300))

    setattr(lambda_eval_utils, "boto_client_for", boto_client_for)  # noqa: B010

    def timestamp_wait_seconds(self: Any, env: Any) -> int:
        # moto compares with naive local time; we compare with the controllable clock (UTC).
        self.string.eval(env=env)
        text = env.stack.pop()
        target = timestamp_module.Timestamp._from_timestamp_string(text)
        if target is None:
            raise ValueError(f"invalid timestamp {text!r}")
        # Rounded up: a wait never ends before its timestamp (a day boundary stays exact).
        return math.ceil((target.replace(tzinfo=UTC) - get_clock().now()).total_seconds())

    def wait_on_clock(self: Any, env: Any, wait_seconds: int) -> None:
        deadline = get_clock().now() + timedelta(seconds=max(wait_seconds, 0))
        key = id(env)
        with _lock:
            _waits[key] = deadline
        try:
            while env.is_running() and get_clock().now() < deadline:
                env.program_state_event.wait(0.05)
        finally:
            with _lock:
                _waits.pop(key, None)

    timestamp_module.Timestamp._get_wait_seconds = timestamp_wait_seconds  # type: ignore[method-assign]
    WaitFunction._wait_interval = wait_on_clock  # type: ignore[method-assign]
