"""Counting AWS requests made through botocore clients, per operation.

A `RequestCounter` registers two botocore event hooks on each client it watches:

* ``before-call.<service>`` fires once per API call (what the code asked for), with the
  operation model, so calls are counted per operation name (GetItem, UpdateItem, ...);
* ``before-send.<service>`` fires once per HTTP attempt, so retries would show up as
  attempts > calls (DynamoDB bills every attempt that reaches it).

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

    def __sub__(self, earlier: Snapshot) -> Snapshot:
        calls = Counter(self.calls)
        calls.subtract(earlier.calls)
        attempts = Counter(self.attempts)
        attempts.subtract(earlier.attempts)
        return Snapshot(+calls, +attempts)

    def __add__(self, other: Snapshot) -> Snapshot:
        return Snapshot(self.calls + other.calls, self.attempts + other.attempts)

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

        def on_send(**_: Any) -> None:
            with self._lock:
                self._attempts[label] += 1
                self._last_activity = time.monotonic()

        for event, hook in ((f"before-call.{service_id}", on_call), (f"before-send.{service_id}", on_send)):
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
            return Snapshot(Counter(self._calls), Counter(self._attempts))

    def idle_for(self) -> float:
        """Seconds since the last counted call or attempt."""
        with self._lock:
            return time.monotonic() - self._last_activity
