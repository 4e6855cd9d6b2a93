"""Runs our Lambda handlers in-process, as the Lambda service would: loaded from
`functions/<name>/handler.py`, called with an event and a context, one call per thread."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
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


@cache
def load_handler(name: str) -> Handler:
    spec_decl = FUNCTIONS[name]
    module_name = f"parley_function_{name}"
    spec = importlib.util.spec_from_file_location(module_name, spec_decl.handler_file)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {spec_decl.handler_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    handler: Handler = module.handler
    return handler


def invoke(name: str, event: dict[str, Any]) -> Any:
    spec_decl = FUNCTIONS[name]
    return load_handler(name)(event, LocalContext(function_name=name, memory_limit_in_mb=spec_decl.memory_mb))
