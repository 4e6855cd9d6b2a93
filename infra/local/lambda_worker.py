"""One Lambda execution environment of the local stack: a process that loads one function's
handler once and runs one invocation at a time, as Lambda does.

Started by `infra/local/lambda_runtime.py` with exactly the function's environment variables.
Requests arrive as JSON lines on stdin; replies go back as JSON lines on a private pipe (the
process's stdout is pointed at stderr, where the handler's logs go, as in CloudWatch).

This file runs as a script, outside the `infra` package: the environment imports only what a
deployed function has (its folder, the `parley` layer and the dependencies).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


class LocalContext:
    """The attributes of the Lambda context object that Powertools reads."""

    def __init__(self, function_name: str, memory_mb: int, timeout_seconds: int) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = memory_mb
        self.function_version = "$LATEST"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class StackClock:
    """The local stack's controllable clock as it stood when the request was sent, running on."""

    def __init__(self) -> None:
        self._at = datetime.now(UTC)
        self._frozen = False
        self._sent = time.monotonic()

    def update(self, state: dict[str, Any]) -> None:
        self._at = datetime.fromisoformat(state["now"])
        self._frozen = bool(state["frozen"])
        self._sent = time.monotonic()

    def now(self) -> datetime:
        if self._frozen:
            return self._at
        return self._at + timedelta(seconds=time.monotonic() - self._sent)


def main() -> None:
    handler_file, memory_mb, timeout_seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's prints and logs go to stderr
    sys.stdout = sys.stderr
    if sys.path and os.path.dirname(os.path.abspath(__file__)) == os.path.abspath(sys.path[0]):
        sys.path.pop(0)  # not the infra/local folder: a deployed function has no such modules

    function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    clock = StackClock()
    try:
        import parley.clock

        parley.clock.set_clock(clock)
        spec = importlib.util.spec_from_file_location("handler", handler_file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["handler"] = module
        spec.loader.exec_module(module)
        handler = module.handler
        replies.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    except BaseException as exc:  # an init error, reported as Lambda does (Runtime.ImportModuleError)
        replies.write(json.dumps({"ready": False, "error": _error(exc)}) + "\n")
        return

    for line in sys.stdin:
        request = json.loads(line)
        if "introspect" in request:  # tests: what this environment sees
            replies.write(json.dumps({"ok": True, "result": sorted(os.environ)}) + "\n")
            continue
        if request.get("clock"):
            clock.update(request["clock"])
        try:
            result = handler(request["event"], LocalContext(function_name, memory_mb, timeout_seconds))
            reply = json.dumps({"ok": True, "result": result})  # Lambda returns JSON: a MarshalError otherwise
        except BaseException as exc:  # the handler failed: the caller gets Lambda's error payload
            reply = json.dumps({"ok": False, "error": _error(exc)})
        _drop_unflushed_metrics()
        replies.write(reply + "\n")


def _drop_unflushed_metrics() -> None:
    """With POWERTOOLS_METRICS_DISABLED (the local default) `log_metrics` never flushes, so the
    metric set grows across invocations and Powertools prints it anyway at 100 values — a flood
    of EMF lines on stderr. Dropped after each invocation, as the flush on Lambda would."""
    if "aws_lambda_powertools.metrics" not in sys.modules:
        return
    from aws_lambda_powertools.metrics import Metrics
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        Metrics().clear_metrics()  # the metric set is shared by every Metrics instance


def _error(exc: BaseException) -> dict[str, Any]:
    return {"errorType": type(exc).__name__, "errorMessage": str(exc),
            "stackTrace": traceback.format_exception(exc)}


if __name__ == "__main__":
    main()
