"""Runs our Lambda handlers as the Lambda service would: one execution environment per
concurrent invocation, each a process of its own (`infra/local/lambda_worker.py`) that loads
`functions/<name>/handler.py` once and then runs one invocation at a time.

Why processes: module-level state belongs to one environment — Powertools' HTTP resolvers keep
the current event on a *class* attribute (`BaseRouter.current_event`), `parley.settings` caches
the configuration, `parley.aws` its clients — and on AWS each function sees only the variables
it was deployed with. A worker process gets exactly `wiring.environment_variables(spec)` (what
the CDK app deploys; tests/infra checks the template against it), what the Lambda runtime itself
provides, and the local stand-ins for endpoints (moto, localstripe). So a handler that reads a
table or secret its FunctionSpec does not grant fails here as it would on AWS, and concurrent
requests cannot read each other's state.

Idle environments are reused (warm starts); a concurrent request starts another (a cold start).
The local stack's controllable clock travels with every request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infra.wiring import FUNCTIONS, LAYER_DIR, FunctionSpec, environment_variables, uses_cognito
from parley.clock import ControlledClock, get_clock, iso

WORKER = Path(__file__).with_name("lambda_worker.py")

# What the Lambda runtime sets in every environment (credentials, region), and what only the local
# stack adds: the endpoint pointing the AWS SDK at moto, and local log/trace settings.
RUNTIME_VARIABLES = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
    "TZ", "PATH", "LANG", "HOME",
)
LOCAL_ONLY_VARIABLES = (
    "AWS_ENDPOINT_URL", "POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_LOG_LEVEL",
    "PARLEY_CHAT_LIMITS",  # raised chat rate limits for a whole local stack (the chat benchmark)
)
# Local stand-ins that exist only because a granted resource lives elsewhere locally.
LOCAL_COMPANIONS: dict[str, Callable[[FunctionSpec], bool]] = {
    "PARLEY_STRIPE_API_BASE": lambda spec: spec.uses_stripe,  # localstripe instead of api.stripe.com
    "PARLEY_COGNITO_JWKS_URL": uses_cognito,  # moto serves the user pool's keys
}


class FunctionError(Exception):
    """The handler raised (or its module failed to load): Lambda's error payload, as an exception."""

    def __init__(self, function: str, payload: dict[str, Any]) -> None:
        self.payload = payload
        super().__init__(f"{function}: {payload.get('errorType')}: {payload.get('errorMessage')}")


def function_environment(spec: FunctionSpec, process_env: Mapping[str, str]) -> dict[str, str]:
    """The variables one environment of `spec` sees, taken from the local stack's configuration."""
    names = set(environment_variables(spec)) | set(RUNTIME_VARIABLES) | set(LOCAL_ONLY_VARIABLES)
    names.update(name for name, applies in LOCAL_COMPANIONS.items() if applies(spec))
    env = {name: process_env[name] for name in names if name in process_env}
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "_HANDLER": "handler.handler",
        # /var/task (the function's folder) and /opt/python (the parley layer), as on Lambda.
        "PYTHONPATH": os.pathsep.join((str(spec.handler_file.parent), str(LAYER_DIR / "python"))),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


class _Environment:
    """One worker process."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self._process = subprocess.Popen(
            [sys.executable, str(WORKER), str(spec.handler_file), str(spec.memory_mb), str(spec.timeout_seconds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=function_environment(spec, os.environ),
            text=True, bufsize=1,
            # Its own session: Ctrl-C (or a TERM to `make dev`'s process group) reaches the stack,
            # which stops its environments itself after the in-flight requests; an environment
            # whose stack is gone sees its stdin close and exits.
            start_new_session=True,
        )
        hello = self._read()
        if not hello.get("ready"):
            self.close()
            raise FunctionError(spec.name, hello.get("error") or {"errorType": "Runtime.ExitError"})
        self.pid = int(hello["pid"])

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise FunctionError(self.spec.name, {"errorType": "Runtime.ExitError",
                                                 "errorMessage": f"the environment exited ({self._process.poll()})"})
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _send(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request, separators=(",", ":")) + "\n")
        self._process.stdin.flush()
        return self._read()

    def invoke(self, event: dict[str, Any]) -> Any:
        reply = self._send({"event": event, "clock": _clock_state()})
        if not reply["ok"]:
            raise FunctionError(self.spec.name, reply["error"])
        return reply["result"]

    def variable_names(self) -> list[str]:
        return list(self._send({"introspect": "environ"})["result"])

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait(5)
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()


def _clock_state() -> dict[str, Any] | None:
    clock = get_clock()
    if not isinstance(clock, ControlledClock):
        return None
    return {"now": iso(clock.now()), "frozen": clock.frozen}


class _Environments:
    """The environments of one function: an idle one is reused, a concurrent call gets a new one."""

    def __init__(self, spec: FunctionSpec) -> None:
        self._spec = spec
        self._idle: list[_Environment] = []
        self.all: list[_Environment] = []
        self._lock = threading.Lock()

    def take(self) -> _Environment:
        with self._lock:
            while self._idle:
                environment = self._idle.pop()
                if environment.alive:
                    return environment
        environment = _Environment(self._spec)  # a cold start, outside the lock
        with self._lock:
            self.all.append(environment)
        return environment

    def give_back(self, environment: _Environment) -> None:
        with self._lock:
            self._idle.append(environment)

    def close(self) -> None:
        with self._lock:
            for environment in self.all:
                environment.close()
            self.all.clear()
            self._idle.clear()


_environments: dict[str, _Environments] = {}
_environments_lock = threading.Lock()


def _of(name: str) -> _Environments:
    with _environments_lock:
        if name not in _environments:
            if name not in FUNCTIONS:
                raise KeyError(f"no function {name!r} in infra/wiring.py")
            _environments[name] = _Environments(FUNCTIONS[name])
        return _environments[name]


def invoke(name: str, event: dict[str, Any]) -> Any:
    """Run `name` with `event` in an environment of its own; raises FunctionError if it fails."""
    environments = _of(name)
    environment = environments.take()
    try:
        return environment.invoke(event)
    finally:
        if environment.alive:
            environments.give_back(environment)


def environment_pids(name: str) -> list[int]:
    """The process of every environment a function has had since the last reset (tests)."""
    return [env.pid for env in _of(name).all]


def environment_variable_names(name: str) -> list[str]:
    """The variable names an environment of `name` sees (tests)."""
    environments = _of(name)
    environment = environments.take()
    try:
        return environment.variable_names()
    finally:
        environments.give_back(environment)


def reset() -> None:
    """Stop every environment (the stack stops, or a new one starts with other endpoints)."""
    with _environments_lock:
        for environments in _environments.values():
            environments.close()
        _environments.clear()
