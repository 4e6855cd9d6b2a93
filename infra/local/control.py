"""The local stack's control server: the endpoints that change state without being part of
Parley's API — the Lambda Invoke API (Step Functions tasks call it) and the clock — on a
loopback port of their own, each request carrying the run's token.

    POST /2015-03-31/functions/{name}/invocations   invoke a function (as Lambda's API does)
    GET  /_local/clock                               the stack's time
    POST /_local/clock  {"days": n, "hours": n}      move it forward (schedules fire on the way)

Why a port and a token: anyone who could reach the public gateway could invoke any function
(a `delete_data` cancellation against another client) or move the business clock, even a web
page, cross-origin, with a `text/plain` POST. Here every request must

* carry `Authorization: Bearer <token>` (a per-run random token; never a query string or a
  cookie: a browser adds neither an Authorization header to a cross-origin request without a
  CORS preflight, which this server never grants) — otherwise 401;
* carry no `Origin` header (browsers send one with every cross-origin request and every POST;
  the CLI, the tests and boto3 never do) — otherwise 403;
* name this server in `Host` (127.0.0.1 or localhost with this port: a page that rebinds its
  own domain to 127.0.0.1 sends its domain) — otherwise 403.

The stack writes `{"url", "token", "pid"}` to a file only its user can read (mode 0600):
`make dev` to `.parley/local-control.json`, which `parley clock` reads (docs/local-stack.md).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONTROL_FILE = REPO / ".parley" / "local-control.json"
LAMBDA_INVOKE_PATH = "/2015-03-31/functions/{name}/invocations"
CLOCK_PATH = "/_local/clock"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class ControlAccess:
    """What a caller needs to reach the control server (the content of the control file)."""

    url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @classmethod
    def read(cls, path: Path) -> ControlAccess:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(url=str(data["url"]), token=str(data["token"]))


def _refusal(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)


def refuse_browsers_on(prefixes: tuple[str, ...]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """An aiohttp middleware for the public gateway: requests under `prefixes` (the @connections
    management API, IAM-signed on AWS) are refused when they carry an Origin header — boto3 never
    sends one, a web page always does — so no page can post frames into a visitor's socket."""
    @web.middleware
    async def refuse(request: web.Request, handler: Handler) -> web.StreamResponse:
        if "Origin" in request.headers and request.path.startswith(prefixes):
            return _refusal(403, "forbidden", "the management API refuses requests from web pages")
        return await handler(request)

    return refuse


def refuse_browsers_wsgi(app: Any, port: int) -> Any:
    """The same guard around moto's WSGI app (its CORS is open and `/moto-api/reset` is a plain
    POST): a request with an Origin header, or naming another host (DNS rebinding), is refused.
    Only our processes talk to moto, through boto3."""
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    def guarded(environ: dict[str, Any], start_response: Any) -> Any:
        if "HTTP_ORIGIN" in environ or environ.get("HTTP_HOST") not in hosts:
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [b'{"code": "forbidden", "message": "moto answers only this machine\'s SDK clients"}']
        return app(environ, start_response)

    return guarded


class LocalControl:
    """An aiohttp server on 127.0.0.1 (its own port) that runs on the stack's event loop."""

    def __init__(self, invoke: Callable[[str, dict[str, Any]], Any], workers: int = 8) -> None:
        self.token = secrets.token_urlsafe(32)
        self.host = "127.0.0.1"
        self.port = 0
        self.inflight = 0  # Lambda invocations running (the stack settles when none is)
        self._invoke = invoke
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="control-lambda")
        self.app = web.Application(client_max_size=1024 * 1024, middlewares=[self._guard])
        self.app.router.add_post(LAMBDA_INVOKE_PATH, self._lambda_invoke)
        self._runner: web.AppRunner | None = None
        self._file: Path | None = None

    # --- routes ------------------------------------------------------------------------
    def add_route(self, method: str, path: str, handler: Handler) -> None:
        self.app.router.add_route(method, path, handler)

    async def _lambda_invoke(self, request: web.Request) -> web.Response:
        name = request.match_info["name"].rsplit(":function:", 1)[-1].split(":")[0]
        try:
            payload = json.loads(await request.read() or b"{}")
        except ValueError:
            return web.json_response({"message": "invalid payload"}, status=400)
        self.inflight += 1
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._pool, self._invoke, name, payload)
        except Exception as exc:  # as Lambda reports an unhandled error to its caller
            return web.json_response({"errorMessage": str(exc), "errorType": type(exc).__name__},
                                     headers={"X-Amz-Function-Error": "Unhandled"})
        finally:
            self.inflight -= 1
        return web.json_response(result)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if "Origin" in request.headers:  # a browser's request, whatever the page
            return _refusal(403, "forbidden", "the control server refuses requests from web pages")
        if request.host not in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
            return _refusal(403, "forbidden", "the control server answers only at 127.0.0.1")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return web.json_response({"code": "unauthorized", "message": "the control token is missing or wrong"},
                                     status=401, headers={"WWW-Authenticate": 'Bearer realm="parley-local"'})
        return await handler(request)

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server: Any = site._server  # aiohttp exposes the bound port only through the server
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def access(self) -> ControlAccess:
        return ControlAccess(self.url, self.token)

    # --- the control file --------------------------------------------------------------
    def write_file(self, path: Path) -> Path:
        """Write {url, token, pid} readable by this user only (created 0600, never widened)."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)  # an older file of that name keeps no wider mode
            json.dump({"url": self.url, "token": self.token, "pid": os.getpid()}, out)
        os.replace(temporary, path)  # a reader never sees half a file
        self._file = path
        return path

    def remove_file(self) -> None:
        """Remove the file this run wrote, unless another run has replaced it since."""
        if self._file is None:
            return
        try:
            if ControlAccess.read(self._file).token == self.token:
                self._file.unlink()
        except (OSError, ValueError, KeyError):
            pass
        self._file = None
