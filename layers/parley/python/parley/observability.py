"""The one place Powertools' Logger, Tracer and Metrics are built, shared by every handler.

`logger` is built at import. `tracer` and `metrics` are built on first use (PEP 562 module
`__getattr__`): Powertools' Tracer imports the X-Ray SDK, which alone costs more CPU at cold
start than `import boto3` (docs/benchmarks.md). The chat functions (`chat_authorizer`,
`chat_connect`, `chat_message`) never touch `tracer`, so they do not pay for it; on AWS they
are still traced by Lambda's active tracing (one segment per invocation, without the SDK's
per-call subsegments). Every other handler imports `tracer` and gets the same instance.

Every handler imports this module, so it is also where a Lambda environment's configuration is
validated at cold start: inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set, locally too) a bad or
missing setting fails the handler's import with a message naming the variable, instead of a
confusing AWS error on some later request.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from parley.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics, Tracer

    tracer: Tracer
    metrics: Metrics

logger = Logger(service="parley")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    get_settings()  # cold start: validated here (see the module docstring)

_built: dict[str, Any] = {}
_lock = threading.Lock()


def _tracer() -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer(service="parley")


def _metrics() -> Any:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Parley", service="parley")


_BUILDERS = {"tracer": _tracer, "metrics": _metrics}


def __getattr__(name: str) -> Any:
    builder = _BUILDERS.get(name)
    if builder is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        if name not in _built:
            _built[name] = builder()
        return _built[name]
