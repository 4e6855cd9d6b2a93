"""Counting AWS requests made through botocore clients, per operation.

A `RequestCounter` registers two botocore event hooks on each client it watches:

* ``before-call.<service>`` fires once per API call (what the code asked for), with the
  operation model, so calls are counted per operation name (GetItem, UpdateItem, ...);
* ``before-send.<service>`` fires once per HTTP attempt, so retries would show up as
  attempts > calls (DynamoDB bills every attempt that reaches it);
* ``after-call[-error].<service>`` closes a timer opened at ``before-call`` (per thread), so the
  time spent inside each operation (locally: in moto) is known too.

Hooks go either on one *client object* (``watch``) or on a boto3 *session* (``watch_session``):
a client copies its session's hooks when it is built, so hooks on the default session before
the local stack starts reach every client built afterwards — also those of the local Lambda
runtime's execution environments, each of which has its own copy of the `parley` layer (and of
`parley.aws`'s cached clients) but builds them from the one boto3 default session.

A counter may count only the calls made by some functions (``functions=``): a call is
attributed to the function whose invocation runs on the calling thread — the invocation's
``AWS_LAMBDA_FUNCTION_NAME`` (the local runtime shows each invocation its own variables) or,
failing that, the name set by ``invoking(name)`` around an invocation. Counting is thread-safe
(handlers run on the gateway's thread pool and fan-out posts on another pool).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_invocation = threading.local()


@contextmanager
def invoking(function: str) -> Iterator[None]:
    """Mark the calls made on this thread as `function`'s (around a local invocation)."""
    previous = getattr(_invocation, "function", None)
    _invocation.function = function
    try:
        yield
    finally:
        _invocation.function = previous


def current_function() -> str:
    """The function whose invocation runs on this thread ("" outside any invocation)."""
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or getattr(_invocation, "function", None) or ""


def counting_invoke(invoke: Callable[[str, dict[str, Any]], Any],
                    on_done: Callable[[str, float], None] | None = None) -> Callable[[str, dict[str, Any]], Any]:
    """Wrap a local Lambda `invoke(name, event)`: its AWS calls are attributed to `name`, and
    `on_done(name, seconds)` hears of every invocation (counts and durations)."""
    def wrapped(name: str, event: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            with invoking(name):
                return invoke(name, event)
        finally:
            if on_done is not None:
                on_done(name, time.perf_counter() - started)

    return wrapped


@dataclass(frozen=True)
class Snapshot:
    """Counts at one instant: calls per (service, operation) and HTTP attempts per service."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)  # time inside completed calls

    def __sub__(self, earlier: Snapshot) -> Snapshot:
        calls = Counter(self.calls)
        calls.subtract(earlier.calls)
        attempts = Counter(self.attempts)
        attempts.subtract(earlier.attempts)
        seconds = {k: v - earlier.seconds.get(k, 0.0) for k, v in self.seconds.items()}
        return Snapshot(+calls, +attempts, {k: v for k, v in seconds.items() if v > 0})

    def __add__(self, other: Snapshot) -> Snapshot:
        seconds = dict(self.seconds)
        for k, v in other.seconds.items():
            seconds[k] = seconds.get(k, 0.0) + v
        return Snapshot(self.calls + other.calls, self.attempts + other.attempts, seconds)

    def mean_ms(self, service: str) -> dict[str, float]:
        """Mean milliseconds per call of each operation of `service`."""
        return {op: 1000 * self.seconds.get((service, op), 0.0) / n for op, n in self.operations(service).items()}

    def operations(self, service: str) -> dict[str, int]:
        return {op: n for (svc, op), n in sorted(self.calls.items()) if svc == service}

    def total(self, service: str) -> int:
        return sum(self.operations(service).values())

    @property
    def empty(self) -> bool:
        return not self.calls and not self.attempts


class RequestCounter:
    """Counts the API calls (per operation) and HTTP attempts of the watched botocore clients."""

    def __init__(self, functions: frozenset[str] | None = None) -> None:
        self._functions = functions
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._attempts: Counter[str] = Counter()
        self._seconds: dict[tuple[str, str], float] = {}
        self._started = threading.local()
        self._last_activity = time.monotonic()
        self._hooks: list[tuple[Any, str, Any]] = []
        self.clients: dict[str, Any] = {}

    def _counted(self) -> bool:
        return self._functions is None or current_function() in self._functions

    def watch_session(self, session: Any, labels: dict[str, str]) -> None:
        """Count the calls of every client `session` (a boto3 Session) builds from now on, for
        the services in `labels` (hyphenized service id -> label, e.g. "dynamodb": "dynamodb")."""
        for service_id, label in labels.items():
            self._register(session.events, service_id, label)
        self.clients.update({label: session for label in labels.values()})

    def watch(self, client: Any, label: str) -> None:
        """Count the calls of `client` (a botocore client) under `label` ("dynamodb", "apigw")."""
        self._register(client.meta.events, client.meta.service_model.service_id.hyphenize(), label)
        self.clients[label] = client

    def _register(self, events: Any, service_id: str, label: str) -> None:
        def on_call(model: Any, **_: Any) -> None:
            self._last_activity = time.monotonic()  # any call, counted or not: the stack is busy
            if not self._counted():
                return
            with self._lock:
                self._calls[(label, str(model.name))] += 1
            self._started.at = time.perf_counter()

        def on_done(event_name: str, **_: Any) -> None:  # after-call and after-call-error
            started = getattr(self._started, "at", None)
            if started is None:
                return
            self._started.at = None
            elapsed = time.perf_counter() - started
            key = (label, event_name.rsplit(".", 1)[-1])
            with self._lock:
                self._seconds[key] = self._seconds.get(key, 0.0) + elapsed
                self._last_activity = time.monotonic()

        def on_send(**_: Any) -> None:
            if not self._counted():
                return
            with self._lock:
                self._attempts[label] += 1
                self._last_activity = time.monotonic()

        for event, hook in ((f"before-call.{service_id}", on_call), (f"before-send.{service_id}", on_send),
                            (f"after-call.{service_id}", on_done), (f"after-call-error.{service_id}", on_done)):
            events.register(event, hook, unique_id=f"bench-{id(self)}-{event}")
            self._hooks.append((events, event, hook))

    def close(self) -> None:
        for events, event, _hook in self._hooks:
            events.unregister(event, unique_id=f"bench-{id(self)}-{event}")
        self._hooks.clear()

    def __enter__(self) -> RequestCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(Counter(self._calls), Counter(self._attempts), dict(self._seconds))

    def idle_for(self) -> float:
        """Seconds since the last counted call or attempt."""
        with self._lock:
            return time.monotonic() - self._last_activity


class ServerCounter:
    """Counts the requests moto's server receives, per service and operation (a WSGI wrapper
    around the local stack's moto server). The local Lambda runtime runs every handler in a
    process of its own, so hooks in this process cannot see their calls; the server sees every
    request of every process — which is also exactly what DynamoDB bills (every attempt).

    Labels: "dynamodb", "dynamodb-streams", "secretsmanager", ... from `X-Amz-Target`.
    `background()` marks invocations started by the stream pollers and the scheduler (they may
    overlap a measurement; `Snapshot.calls[("background", "invocations")]` says so), and
    `posts` folds the gateway's @connections posts in as ("apigw", "PostToConnection").
    `observers` hear every call's (label, operation, request JSON, response JSON)."""

    def __init__(self, posts: Callable[[], int] | None = None,
                 classify: Callable[[str, str, bytes], str] | None = None) -> None:
        self._classify = classify  # (label, operation, request body) -> the name to count it under
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._seconds: dict[tuple[str, str], float] = {}
        self._last_activity = time.monotonic()
        self._posts = posts
        self._background = 0
        self._server: Any = None
        self._app: Any = None
        self.observers: list[Callable[[str, str, dict[str, Any], dict[str, Any]], None]] = []

    def install(self, stack: Any) -> ServerCounter:
        # moto's ThreadedMotoServer keeps its werkzeug server in `_server`; werkzeug calls
        # `server.app` for every request, so wrapping that attribute sees them all.
        self._server = stack._moto._server
        self._app = self._server.app
        self._server.app = self._wsgi
        return self

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        import io
        import json

        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not target:
            return self._app(environ, start_response)
        prefix, _, op = target.partition(".")
        label = {"DynamoDB_20120810": "dynamodb", "DynamoDBStreams_20120810": "dynamodb-streams"}.get(
            prefix, prefix.lower())
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if self._classify is not None:
            op = self._classify(label, op, body)
        started = time.perf_counter()
        chunks = list(self._app(environ, start_response))
        elapsed = time.perf_counter() - started
        with self._lock:
            self._calls[(label, op)] += 1
            self._seconds[(label, op)] = self._seconds.get((label, op), 0.0) + elapsed
            self._last_activity = time.monotonic()
        if self.observers:
            try:
                request, response = json.loads(body or b"{}"), json.loads(b"".join(chunks) or b"{}")
            except ValueError:
                request, response = {}, {}
            for observe in self.observers:
                observe(label, op.split(" ")[0], request, response)
        return chunks

    @contextmanager
    def background(self) -> Iterator[None]:
        with self._lock:
            self._background += 1
        try:
            yield
        finally:
            with self._lock:
                self._background += 1
                self._last_activity = time.monotonic()

    def snapshot(self) -> Snapshot:
        with self._lock:
            calls = Counter(self._calls)
            if self._background:
                calls[("background", "invocations")] = self._background
        if self._posts is not None:
            posts = self._posts()
            if posts:
                calls[("apigw", "PostToConnection")] = posts
        attempts: Counter[str] = Counter()
        for (label, _), n in calls.items():
            attempts[label] += n
        return Snapshot(calls, attempts, dict(self._seconds))

    def idle_for(self) -> float:
        with self._lock:
            return time.monotonic() - self._last_activity

    def close(self) -> None:
        if self._server is not None:
            self._server.app = self._app
            self._server = None


REVOCATION_READ = "GetItem AGENT#/CLIENT# (revocation cache)"


def classify_revocation(label: str, op: str, body: bytes) -> str:
    """Name the status reads of the revocation cache (parley.auth.revocation: at most one GetItem
    of `AGENT#{id}` per agent, and of `CLIENT#{id}` per visitors' client, per execution
    environment per 30 s) apart from the message's own requests."""
    if label == "dynamodb" and op == "GetItem" and (b'"AGENT#' in body or b'"CLIENT#' in body):
        return REVOCATION_READ
    return op
