"""localstripe as an in-process server on 127.0.0.1, with Parley's extensions.

    stripe = LocalStripe().start()      # ~50 ms, random free port on loopback
    gateway = StripeGateway(LocalStripe.API_KEY, api_base=stripe.url)
    stripe.register_webhook("http://127.0.0.1:8080/stripe/webhook", "whsec_local")
    stripe.reset()                      # DELETE /_config/data
    stripe.stop()

Never ``python -m localstripe``: it binds every interface (``::``). Here its aiohttp
application (rebuilt with our extensions, see ``infra/local/localstripe_ext.py``) runs in a
thread with its own event loop, bound to 127.0.0.1 only.

localstripe keeps its data in module globals (one store and one webhook registry per
process), so one LocalStripe runs per process at a time; starting a second one while the
first runs raises. Nothing is written to /tmp: the store lives in memory unless
``persist_path`` is given (loaded at start, saved at stop), so parallel runs never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import threading
import urllib.request
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


class BackgroundAiohttpServer:
    """An aiohttp application served on 127.0.0.1 from a daemon thread with its own loop."""

    def __init__(self, app_factory: Callable[[], web.Application], *, name: str, port: int = 0,
                 shutdown_timeout: float = 1.0) -> None:
        self._app_factory = app_factory
        self._name = name
        self._requested_port = port
        self._shutdown_timeout = shutdown_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError(f"{self._name} is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError(f"{self._name} already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=self._name, daemon=True)
        self._thread.start()
        try:
            self.run(self._setup())
        except BaseException:
            self.stop()
            raise

    async def _setup(self) -> None:
        self._runner = web.AppRunner(self._app_factory(), access_log=None, handle_signals=False,
                                     shutdown_timeout=self._shutdown_timeout)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self._requested_port).start()
        self.port = int(self._runner.addresses[0][1])

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        if self._loop is None:
            coro.close()
            raise RuntimeError(f"{self._name} is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Call a plain function on the server's loop thread (localstripe's globals are not thread-safe)."""
        async def wrapper() -> T:
            return fn()
        return self.run(wrapper(), timeout)

    async def _teardown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Pending fire-and-forget tasks (localstripe's webhook deliveries) would be destroyed
        # noisily with the loop: cancel them now.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._teardown(), loop).result(self._shutdown_timeout + 10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None
        self.port = 0


_running_lock = threading.Lock()
_running: LocalStripe | None = None


class LocalStripe:
    """localstripe + Parley's extensions on 127.0.0.1 (see the module docstring)."""

    API_KEY = "sk_test_local"
    """localstripe accepts any ``sk_...`` key; this obvious test key is the one we use locally."""

    def __init__(self, *, port: int = 0, persist_path: Path | None = None) -> None:
        from infra.local import localstripe_ext  # imports localstripe; keep `import infra.local` light

        self._ext = localstripe_ext
        self._persist_path = persist_path
        self._state = localstripe_ext.ExtState()
        self._server = BackgroundAiohttpServer(lambda: localstripe_ext.build_app(self._state),
                                               name="localstripe", port=port)

    # --- lifecycle ---------------------------------------------------------------------
    @staticmethod
    def running() -> LocalStripe | None:
        """The LocalStripe running in this process, if any (e.g. the local stack's)."""
        with _running_lock:
            return _running

    def start(self) -> LocalStripe:
        global _running
        with _running_lock:
            if _running is not None:
                raise RuntimeError("a LocalStripe is already running in this process (localstripe keeps one "
                                   "global store per process): reuse it or stop it first")
            _running = self
        try:
            self._ext.install_patches()
            self._load()
            self._server.start()
            self._state.public_url = self._server.url
        except BaseException:
            self._release()
            raise
        return self

    def stop(self) -> None:
        if _running is not self:
            return
        try:
            self._server.stop()
            self._ext.clear_webhooks()
            self._save()
        finally:
            self._release()

    def _release(self) -> None:
        global _running
        with _running_lock:
            if _running is self:
                _running = None

    def __enter__(self) -> LocalStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for the SDK: ``StripeClient(key, base_addresses={"api": url})``."""
        return self._server.url

    # --- control -----------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every object (and every saved idempotency key): ``DELETE /_config/data``."""
        self._control("DELETE", "/_config/data")

    def register_webhook(self, url: str, secret: str, events: Sequence[str] | None = None,
                         webhook_id: str = "parley") -> str:
        """Deliver events (signed with ``secret``) to ``url``; ``events`` limits the types.
        Registering the same ``webhook_id`` again replaces it. Returns the id."""
        body: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = list(events)
        self._control("POST", f"/_config/webhooks/{webhook_id}", body)
        return webhook_id

    def unregister_webhook(self, webhook_id: str) -> None:
        self._server.call(lambda: self._ext.unregister_webhook(webhook_id))

    def clear_webhooks(self) -> None:
        self._server.call(self._ext.clear_webhooks)

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    # --- optional persistence (instead of localstripe's fixed /tmp/localstripe.pickle) --
    def _load(self) -> None:
        from localstripe.resources import store

        store.clear()
        if self._persist_path is not None and self._persist_path.exists():
            with self._persist_path.open("rb") as f:
                dict.update(store, pickle.load(f))  # trusted: a file this class wrote

    def _save(self) -> None:
        from localstripe.resources import store

        if self._persist_path is not None:
            self._persist_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._persist_path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(dict(store), f, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self._persist_path)
