"""Runs our Lambda handlers in-process, as the Lambda service would: loaded from
`functions/<name>/handler.py`, called with an event and a context, one call per thread."""

from __future__ import annotations

import importlib.util
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.wiring import FUNCTIONS

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class _Environments:
    """Execution environments of one function. Lambda runs one invocation at a time per
    environment and starts another for concurrent requests; module-level state (Powertools'
    resolver keeps the current event there) belongs to one environment. So here: each
    concurrent invocation gets its own loaded copy of the handler module."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._idle: list[Handler] = []
        self._lock = threading.Lock()
        self._count = 0

    def _load(self) -> Handler:
        self._count += 1
        module_name = f"parley_function_{self._name}_{self._count}"
        spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS[self._name].handler_file)
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load {FUNCTIONS[self._name].handler_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        handler: Handler = module.handler
        return handler

    def take(self) -> Handler:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            return self._load()

    def give_back(self, handler: Handler) -> None:
        with self._lock:
            self._idle.append(handler)


_environments: dict[str, _Environments] = {}
_environments_lock = threading.Lock()


def _of(name: str) -> _Environments:
    with _environments_lock:
        if name not in _environments:
            if name not in FUNCTIONS:
                raise KeyError(f"no function {name!r} in infra/wiring.py")
            _environments[name] = _Environments(name)
        return _environments[name]


def invoke(name: str, event: dict[str, Any]) -> Any:
    environments = _of(name)
    handler = environments.take()
    try:
        return handler(event, LocalContext(function_name=name, memory_limit_in_mb=FUNCTIONS[name].memory_mb))
    finally:
        environments.give_back(handler)
