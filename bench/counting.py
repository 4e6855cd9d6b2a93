"""Counting AWS requests made through botocore clients, per operation.

A `RequestCounter` registers two botocore event hooks on each client it watches:

* ``before-call.<service>`` fires once per API call (what the code asked for), with the
  operation model, so calls are counted per operation name (GetItem, UpdateItem, ...);
* ``before-send.<service>`` fires once per HTTP attempt, so retries would show up as
  attempts > calls (DynamoDB bills every attempt that reaches it);
* ``after-call[-error].<service>`` closes a timer opened at ``before-call`` (per thread), so the
  time spent inside each operation (locally: in moto) is known too.

Hooks are registered on the *client objects* (``client.meta.events``), not on the session,
so only the clients the handlers really use are counted: `parley.aws.dynamodb()` and
`parley.aws.connections_api(endpoint)` are cached, so the object we hook is the object every
handler thread calls. Counting is thread-safe (handlers run on the gateway's thread pool and
fan-out posts on another pool).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


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

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._attempts: Counter[str] = Counter()
        self._seconds: dict[tuple[str, str], float] = {}
        self._started = threading.local()
        self._last_activity = time.monotonic()
        self._hooks: list[tuple[Any, str, Any]] = []
        self.clients: dict[str, Any] = {}

    def watch(self, client: Any, label: str) -> None:
        """Count the calls of `client` (a botocore client) under `label` ("dynamodb", "apigw")."""
        service_id = client.meta.service_model.service_id.hyphenize()

        def on_call(model: Any, **_: Any) -> None:
            with self._lock:
                self._calls[(label, str(model.name))] += 1
                self._last_activity = time.monotonic()
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
            with self._lock:
                self._attempts[label] += 1
                self._last_activity = time.monotonic()

        for event, hook in ((f"before-call.{service_id}", on_call), (f"before-send.{service_id}", on_send),
                            (f"after-call.{service_id}", on_done), (f"after-call-error.{service_id}", on_done)):
            client.meta.events.register(event, hook, unique_id=f"bench-{id(self)}-{event}")
            self._hooks.append((client, event, hook))
        self.clients[label] = client

    def close(self) -> None:
        for client, event, _hook in self._hooks:
            client.meta.events.unregister(event, unique_id=f"bench-{id(self)}-{event}")
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
