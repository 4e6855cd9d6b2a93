"""A fault-injecting HTTP proxy between the Stripe SDK and localstripe, on 127.0.0.1.

    proxy = StripeFaultProxy(local_stripe.url).start()
    gateway = StripeGateway(key, api_base=proxy.url, timeout_seconds=1.0, max_network_retries=0)
    proxy.inject("error_500", path=r"^/v1/invoiceitems$")              # answered by the proxy
    proxy.inject("timeout_after_forward", path=r"/finalize$", delay=3.0)  # Stripe did the work,
                                                                        # we never hear back in time
Faults apply to the next matching requests (``skip`` lets the first ones through, ``times``
says how many are hit), then the proxy forwards transparently again. ``latency`` (seconds) delays
every request before it is forwarded, like the round trip to Stripe's servers (bench/collection.py
uses 0.3 s).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

import aiohttp
from aiohttp import web

from infra.local.localstripe_server import BackgroundAiohttpServer

FaultKind = Literal["error_500", "timeout_after_forward"]

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}


@dataclass
class Fault:
    kind: FaultKind
    method: str
    path: re.Pattern[str]
    times: int = 1
    skip: int = 0
    delay: float = 2.0
    hits: list[str] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.path.search(path) is not None


class StripeFaultProxy:
    def __init__(self, upstream: str) -> None:
        self._upstream = upstream.rstrip("/")
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []  # (method, path, "forwarded" | fault kind)
        self.latency = 0.0  # seconds added to every request
        self._session: aiohttp.ClientSession | None = None
        self._server = BackgroundAiohttpServer(self._app, name="stripe-fault-proxy", shutdown_timeout=0.2)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> StripeFaultProxy:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    # --- faults ------------------------------------------------------------------------
    def inject(self, kind: FaultKind, *, path: str, method: str = "POST", times: int = 1, skip: int = 0,
               delay: float = 2.0) -> Fault:
        fault = Fault(kind, method, re.compile(path), times=times, skip=skip, delay=delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.log.clear()

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    fault.hits.append(path)
                    return fault
        return None

    # --- server ------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application()
        app.cleanup_ctx.append(self._client_session)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _client_session(self, app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            self._session = session
            yield
        self._session = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._take(request.method, request.path)
        if fault is not None and fault.kind == "error_500":
            self.log.append((request.method, request.path, fault.kind))
            return web.json_response(
                {"error": {"type": "api_error", "message": "Injected fault: the proxy answered 500."}}, status=500,
            )
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(request.method, self._upstream + request.path_qs, data=body,
                                         headers=headers) as upstream:
            payload = await upstream.read()
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            status = upstream.status
        self.log.append((request.method, request.path, fault.kind if fault else "forwarded"))
        if fault is not None:  # timeout_after_forward: Stripe did the work; the client gives up first
            await asyncio.sleep(fault.delay)
        return web.Response(body=payload, status=status, headers=out_headers)
