"""The local API Gateway: one aiohttp server on 127.0.0.1 that

* speaks the API Gateway **WebSocket** event format to our handlers ($connect, $disconnect,
  route selection on `$request.body.action`, route responses back to the caller), with the
  `$connect` Lambda REQUEST authorizer of `infra/wiring.py` called first, as API Gateway does:
  its "Unauthorized" error is a 401, a Deny (or no Allow for the route) a 403, any other error
  or a context that is not flat string/number/boolean values a 500; its `principalId` and
  `context` reach every later event of the connection (`$connect`, messages, `$disconnect`) as
  `requestContext.authorizer`, with `integrationLatency` (ms) added;
* implements the `@connections` management API (POST/GET/DELETE; 410 GoneException for a
  connection that is closed) — moto's version never answers 410;
* enforces API Gateway's WebSocket limits (`GatewayLimits`): a frame over 32 KB or a message
  over 128 KB from a client closes the connection with 1009, a POST to a connection (or a route
  response) over 128 KB is refused (413 PayloadTooLargeException), and connections close with
  1001 after 10 minutes without a frame from the client or after 2 hours in all;
* serves the HTTP API routes (payload format 2.0) and the static sites.

Routes and functions come from `infra/wiring.py`, the declaration the CDK app reads too.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import secrets
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp._websocket import reader_py
from aiohttp.helpers import DEFAULT_CHUNK_SIZE
from aiohttp.http_websocket import WebSocketError, WebSocketWriter
from aiohttp.web_request import BaseRequest

from infra.local import lambda_runtime
from infra.wiring import (
    HTTP_ROUTES,
    STATIC_SITES,
    WEBSOCKET_AUTHORIZER,
    WEBSOCKET_ROUTES,
    WEBSOCKET_STAGE,
    WebSocketAuthorizer,
)

ROUTES = {r.route_key: r for r in WEBSOCKET_ROUTES}
CONNECT_ARN = f"arn:aws:execute-api:us-east-1:000000000000:local/{WEBSOCKET_STAGE}/$connect"


@dataclass(frozen=True)
class GatewayLimits:
    """API Gateway's WebSocket quotas (fixed on AWS). Tests shorten the two timeouts."""

    frame_bytes: int = 32 * 1024  # one frame from a client; a longer message must be fragmented
    message_bytes: int = 128 * 1024  # one message either way (a client's, a POST, a route response)
    idle_seconds: float = 10 * 60  # no frame from the client for this long: closed (1001)
    lifetime_seconds: float = 2 * 60 * 60  # any connection: closed (1001) after this long


# Tests only: a fault the local @connections API answers instead of doing its work:
# (method, connection id) -> an HTTP status to answer (429, 500, 410, ...) or None to proceed.
ConnectionFault = Callable[[str, str], int | None]


@dataclass
class Traffic:
    """What API Gateway would bill for the WebSocket API: messages (each frame in either
    direction, in 32 KB units: every Parley frame is well under one) and connection time."""

    frames_in: int = 0  # client -> API (every frame, routed or not)
    route_responses: int = 0  # API -> client: acks and error frames (route responses)
    posts: int = 0  # API -> client: @connections POSTs delivered (relays, broadcasts)
    connections: int = 0  # accepted connections
    connection_seconds: float = 0.0  # of closed connections
    refused_posts: int = 0  # @connections POSTs answered 413 (over the message limit)
    refused_responses: int = 0  # route responses over the message limit (not delivered)

    @property
    def messages(self) -> int:
        return self.frames_in + self.route_responses + self.posts


def _now_ms() -> int:
    return int(time.time() * 1000)


def _iso_ms(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000)) + f".{epoch_ms % 1000:03d}Z"


_DATA_OPCODES = frozenset({reader_py.OP_CODE_TEXT, reader_py.OP_CODE_BINARY, reader_py.OP_CODE_CONTINUATION})


class _FrameLimitedReader(reader_py.WebSocketReader):
    """aiohttp's (pure Python) frame reader plus API Gateway's per-frame limit; aiohttp itself
    bounds only the whole message (`max_msg_size`)."""

    def __init__(self, queue: reader_py.WebSocketDataQueue, max_msg_size: int, *, max_frame_size: int,
                 compress: bool, decode_text: bool) -> None:
        super().__init__(queue, max_msg_size, compress=compress, decode_text=decode_text)
        self._max_frame_size = max_frame_size

    def _handle_frame(self, fin: bool, opcode: int, payload: bytes | bytearray, compressed: int) -> None:
        if opcode in _DATA_OPCODES and len(payload) > self._max_frame_size:
            raise WebSocketError(WSCloseCode.MESSAGE_TOO_BIG,
                                 f"frame of {len(payload)} bytes exceeds {self._max_frame_size}")
        super()._handle_frame(fin, opcode, payload, compressed)


class _LimitedWebSocket(web.WebSocketResponse):
    """A server WebSocket that closes with 1009 on a frame over `max_frame_size` bytes (and, as
    aiohttp does, on a message over `max_msg_size`). It swaps in `_FrameLimitedReader` after
    aiohttp set up its own reader — private aiohttp API, checked by tests/integration/test_gateway_limits.py."""

    def __init__(self, *, max_frame_size: int, max_msg_size: int, heartbeat: float) -> None:
        # No permessage-deflate: API Gateway does not negotiate it, and sizes count uncompressed.
        super().__init__(max_msg_size=max_msg_size, heartbeat=heartbeat, compress=False)
        self._max_frame_size = max_frame_size

    def _post_start(self, request: BaseRequest, protocol: str | None, writer: WebSocketWriter) -> None:
        # aiohttp 3.14's own _post_start, with the frame-limited reader.
        self._ws_protocol = protocol
        self._writer = writer
        self._reset_heartbeat()
        queue = reader_py.WebSocketDataQueue(request._protocol, DEFAULT_CHUNK_SIZE, loop=asyncio.get_running_loop())
        self._reader = queue
        self._parser = _FrameLimitedReader(queue, self._max_msg_size, max_frame_size=self._max_frame_size,
                                           compress=bool(self._compress), decode_text=self._decode_text)
        callback = None if self._heartbeat is None else self._on_data_received
        request.protocol.set_parser(self._parser, data_received_cb=callback)
        request.protocol.keep_alive(False)


@dataclass
class _Opened:
    """When a connection opened and last sent a frame (monotonic seconds; and the wall clock's
    milliseconds, for `GET @connections/{id}`)."""

    at: float
    last_frame: float
    connected_at_ms: int
    last_frame_ms: int


class LocalGateway:
    def __init__(self, invoke: Callable[[str, dict[str, Any]], Any] = lambda_runtime.invoke,
                 extra_routes: Callable[[web.Application], None] | None = None,
                 config: Callable[[], dict[str, Any]] | None = None, workers: int = 32,
                 authorizer: WebSocketAuthorizer | None = WEBSOCKET_AUTHORIZER,
                 limits: GatewayLimits | None = None) -> None:
        self._invoke = invoke
        self._authorizer = authorizer
        self.traffic = Traffic()
        self.limits = limits or GatewayLimits()  # read at each use: a test may shorten it meanwhile
        # Tests only: the one place where faults of the @connections API are injected.
        self.connection_fault: ConnectionFault | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambda")
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._opened: dict[str, _Opened] = {}
        self._watchdog: asyncio.Task[None] | None = None
        self._config = config or (lambda: {})
        self.host = "127.0.0.1"
        self.port = 0
        self.app = web.Application(client_max_size=1024 * 1024)
        self.app.router.add_get("/ws", self._websocket)
        self.app.router.add_post(f"/{WEBSOCKET_STAGE}/@connections/{{id}}", self._post_to_connection)
        self.app.router.add_get(f"/{WEBSOCKET_STAGE}/@connections/{{id}}", self._get_connection)
        self.app.router.add_delete(f"/{WEBSOCKET_STAGE}/@connections/{{id}}", self._delete_connection)
        for route in HTTP_ROUTES:
            self.app.router.add_route(route.method, route.path, self._http_handler(route.function, route))
        for path in dict.fromkeys(r.path for r in HTTP_ROUTES):
            self.app.router.add_route("OPTIONS", path, self._preflight)
        # The Lambda Invoke API and the clock are not here: the control server's (infra/local/control.py).
        self.app.router.add_get("/widget/config.json", self._site_config)
        self.app.router.add_get("/console/config.json", self._site_config)
        self.app.router.add_get("/dashboard/config.json", self._site_config)
        if extra_routes:
            extra_routes(self.app)
        for prefix, folder in STATIC_SITES.items():
            self.app.router.add_get(f"/{prefix}", self._redirect(f"/{prefix}/"))
            self.app.router.add_get(f"/{prefix}/{{path:.*}}", self._static(folder))

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        server: Any = site._server  # aiohttp exposes the bound port only through the server
        self.port = int(server.sockets[0].getsockname()[1])
        self._watchdog = asyncio.get_running_loop().create_task(self._close_expired())

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        await asyncio.gather(*(ws.close(code=WSCloseCode.GOING_AWAY) for ws in list(self._sockets.values())),
                             return_exceptions=True)
        await self._runner.cleanup()
        self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def management_endpoint(self) -> str:
        return f"{self.base_url}/{WEBSOCKET_STAGE}"

    @property
    def open_connections(self) -> int:
        return len(self._sockets)

    @property
    def open_connection_ids(self) -> set[str]:
        return set(self._sockets)

    async def _call(self, function: str, event: dict[str, Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._invoke, function, event)

    # --- WebSocket API -----------------------------------------------------------------
    def _ws_context(self, connection_id: str, route_key: str, event_type: str, connected_at: int) -> dict[str, Any]:
        now = _now_ms()
        return {
            "routeKey": route_key, "eventType": event_type, "messageDirection": "IN", "stage": WEBSOCKET_STAGE,
            "connectedAt": connected_at, "requestTimeEpoch": now, "requestId": secrets.token_hex(8),
            "extendedRequestId": secrets.token_hex(8), "domainName": f"{self.host}:{self.port}",
            "connectionId": connection_id, "apiId": "local", "identity": {"sourceIp": "127.0.0.1"},
        }

    async def _authorize(self, connection_id: str, connected_at: int, headers: dict[str, str],
                         query: dict[str, str]) -> tuple[int, dict[str, Any] | None]:
        """The `$connect` authorizer, as API Gateway runs it: (status, requestContext.authorizer)."""
        if self._authorizer is None:
            return 200, None
        for source in self._authorizer.identity_sources:  # all must be present and non-empty
            kind, _, name = source.removeprefix("route.request.").partition(".")
            present = {k.lower(): v for k, v in headers.items()} if kind == "header" else query
            if not present.get(name.lower() if kind == "header" else name):
                return 401, None
        event = {
            "type": "REQUEST", "methodArn": CONNECT_ARN, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
            "stageVariables": {},
            "requestContext": self._ws_context(connection_id, "$connect", "CONNECT", connected_at),
        }
        started = time.perf_counter()
        try:
            result = await self._call(self._authorizer.function, event)
        except Exception as exc:  # API Gateway: the error message "Unauthorized" is a 401, any other a 500
            payload = getattr(exc, "payload", None)  # the runtime's FunctionError carries Lambda's error payload
            message = payload.get("errorMessage") if isinstance(payload, dict) else str(exc)
            return (401 if message == "Unauthorized" else 500), None
        latency = int((time.perf_counter() - started) * 1000)
        if not isinstance(result, dict) or not _allows(result.get("policyDocument"), CONNECT_ARN):
            return 403, None
        context = result.get("context") or {}
        if not isinstance(context, dict) or not all(
                isinstance(v, str | int | float | bool) for v in context.values()):
            return 500, None  # API Gateway refuses nested context values (AuthorizerConfigurationException)
        return 200, {**context, "principalId": str(result.get("principalId", "")), "integrationLatency": latency}

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        connection_id = base64ish_id()
        connected_at = _now_ms()
        headers = dict(request.headers)
        query = dict(request.query)
        status, authorizer = await self._authorize(connection_id, connected_at, headers, query)
        if status != 200:  # API Gateway's own refusal body
            message = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Internal server error")
            return web.json_response({"message": message}, status=status)
        authorized = {"authorizer": authorizer} if authorizer is not None else {}
        connect_event = {
            "requestContext": {**self._ws_context(connection_id, "$connect", "CONNECT", connected_at), **authorized},
            "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query or None, "isBase64Encoded": False,
        }
        result = await self._call(ROUTES["$connect"].function, connect_event) or {}
        status = int(result.get("statusCode", 200))
        if status != 200:  # API Gateway refuses the upgrade with the handler's status
            return web.Response(status=status, text=result.get("body", ""), content_type="application/json")
        limits = self.limits
        ws = _LimitedWebSocket(max_frame_size=limits.frame_bytes, max_msg_size=limits.message_bytes, heartbeat=30)
        await ws.prepare(request)
        self._sockets[connection_id] = ws
        self.traffic.connections += 1
        opened = time.monotonic()
        self._opened[connection_id] = _Opened(at=opened, last_frame=opened, connected_at_ms=connected_at,
                                              last_frame_ms=connected_at)
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                seen = self._opened[connection_id]
                seen.last_frame, seen.last_frame_ms = time.monotonic(), _now_ms()
                self.traffic.frames_in += 1
                await self._route_message(connection_id, connected_at, msg.data, ws, authorized)
        finally:
            self._sockets.pop(connection_id, None)
            self._opened.pop(connection_id, None)
            self.traffic.connection_seconds += time.monotonic() - opened
            disconnect_event = {
                "requestContext": {**self._ws_context(connection_id, "$disconnect", "DISCONNECT", connected_at),
                                   "disconnectStatusCode": ws.close_code or 1000, **authorized},
                "headers": headers, "isBase64Encoded": False,
            }
            await self._call(ROUTES["$disconnect"].function, disconnect_event)
        return ws

    async def _route_message(self, connection_id: str, connected_at: int, body: str,
                             ws: web.WebSocketResponse, authorized: dict[str, Any]) -> None:
        try:
            action = json.loads(body).get("action")
        except (ValueError, AttributeError, RecursionError):  # API Gateway routes any body: $default
            action = None
        route = ROUTES.get(action) if isinstance(action, str) and not action.startswith("$") else None
        route = route or ROUTES["$default"]
        context = self._ws_context(connection_id, route.route_key, "MESSAGE", connected_at)
        event = {"requestContext": {**context, **authorized}, "body": body, "isBase64Encoded": False}
        result = await self._call(route.function, event)
        if route.return_response and isinstance(result, dict) and result.get("body") and not ws.closed:
            body = str(result["body"])
            self.traffic.route_responses += 1
            if len(body.encode()) > self.limits.message_bytes:
                # Not delivered (over the message quota): the caller gets API Gateway's generic
                # integration failure frame instead.
                self.traffic.refused_responses += 1
                body = json.dumps({"message": "Internal server error", "connectionId": connection_id,
                                   "requestId": context["requestId"]})
            await ws.send_str(body)

    async def _post_to_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["id"]
        ws = self._sockets.get(connection_id)
        if ws is None or ws.closed:
            return _gone()
        data = await request.read()
        fault = self._fault("POST", connection_id)
        if fault is not None:
            return _management_error(fault)
        if len(data) > self.limits.message_bytes:
            self.traffic.refused_posts += 1
            return _management_error(413)
        self.traffic.posts += 1
        await ws.send_str(data.decode())
        return web.Response(status=200)

    async def _close_expired(self) -> None:
        """Close connections idle (no frame from the client) or open for too long, with 1001 as
        API Gateway does; each then gets its `$disconnect`."""
        while True:
            limits = self.limits
            await asyncio.sleep(min(1.0, max(0.05, min(limits.idle_seconds, limits.lifetime_seconds) / 10)))
            now = time.monotonic()
            expired = [cid for cid, seen in list(self._opened.items())
                       if now - seen.last_frame >= limits.idle_seconds or now - seen.at >= limits.lifetime_seconds]
            for connection_id in expired:
                ws = self._sockets.get(connection_id)
                if ws is not None and not ws.closed:
                    await ws.close(code=WSCloseCode.GOING_AWAY, message=b"Going away")

    def _fault(self, method: str, connection_id: str) -> int | None:
        return self.connection_fault(method, connection_id) if self.connection_fault is not None else None

    async def _get_connection(self, request: web.Request) -> web.Response:
        connection_id = request.match_info["id"]
        fault = self._fault("GET", connection_id)
        if fault is not None:
            return _management_error(fault)
        ws = self._sockets.get(connection_id)
        seen = self._opened.get(connection_id)
        if ws is None or ws.closed or seen is None:
            return _gone()
        return web.json_response({"connectedAt": _iso_ms(seen.connected_at_ms),
                                  "lastActiveAt": _iso_ms(seen.last_frame_ms),
                                  "identity": {"sourceIp": "127.0.0.1", "userAgent": ""}})

    async def _delete_connection(self, request: web.Request) -> web.Response:
        ws = self._sockets.get(request.match_info["id"])
        if ws is None:
            return _gone()
        await ws.close()
        return web.Response(status=204)

    # --- HTTP API ----------------------------------------------------------------------
    def _http_handler(self, function: str, route: Any) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            body = await request.text()
            event = {
                "version": "2.0", "routeKey": f"{route.method} {route.path}", "rawPath": request.path,
                "rawQueryString": request.query_string,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "queryStringParameters": dict(parse_qsl(request.query_string)) or None,
                "pathParameters": dict(request.match_info) or None,
                "requestContext": {
                    "accountId": "000000000000", "apiId": "local", "domainName": request.host,
                    "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                             # the peer's address, as API Gateway reports it (rate limits key on it)
                             "sourceIp": request.remote or "127.0.0.1",
                             "userAgent": request.headers.get("User-Agent", "")},
                    "requestId": str(uuid.uuid4()), "routeKey": f"{route.method} {route.path}", "stage": "$default",
                    "time": "", "timeEpoch": _now_ms(),
                },
                "body": body or None, "isBase64Encoded": False,
            }
            result = await self._call(function, event)
            headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
            headers.update(_cors(request))
            status = int(result.get("statusCode", 200))
            if result.get("isBase64Encoded"):  # a binary body (an invoice PDF), as API Gateway decodes it
                return web.Response(status=status, body=base64.b64decode(result.get("body") or ""), headers=headers)
            return web.Response(status=status, text=result.get("body") or "", headers=headers)

        return handle

    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=_cors(request))

    async def _site_config(self, request: web.Request) -> web.Response:
        return web.json_response({"apiUrl": self.base_url, "wsUrl": f"ws://{self.host}:{self.port}/ws",
                                  **self._config()})

    # --- static sites ------------------------------------------------------------------
    @staticmethod
    def _redirect(location: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.Response:
            raise web.HTTPFound(location)

        return handle

    @staticmethod
    def _static(folder: Path) -> Callable[[web.Request], Any]:
        root = folder.resolve()

        async def handle(request: web.Request) -> web.StreamResponse:
            relative = request.match_info["path"] or "index.html"
            target = (root / relative).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root not in target.parents or not target.is_file():
                raise web.HTTPNotFound(text=f"{relative} not found (run `make frontend`?)")
            return web.FileResponse(target, headers={"Cache-Control": "no-cache"})

        return handle


def _allows(policy: Any, resource: str) -> bool:
    """An IAM policy allows execute-api:Invoke on `resource`: an Allow matches and no Deny does."""
    if not isinstance(policy, dict):
        return False
    allowed = denied = False
    for statement in policy.get("Statement") or []:
        resources = statement.get("Resource", [])
        actions = statement.get("Action", [])
        resources = [resources] if isinstance(resources, str) else list(resources)
        actions = [actions] if isinstance(actions, str) else list(actions)
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(resource, r) for r in resources):
            if statement.get("Effect") == "Deny":
                denied = True
            elif statement.get("Effect") == "Allow":
                allowed = True
    return allowed and not denied


def _gone() -> web.Response:
    return _management_error(410)


_MANAGEMENT_ERRORS = {  # status -> (x-amzn-ErrorType, message), as the @connections API answers
    410: ("GoneException", "Gone"),
    413: ("PayloadTooLargeException", "Request Entity Too Large"),
    429: ("LimitExceededException", "Too Many Requests"),
}


def _management_error(status: int) -> web.Response:
    kind, message = _MANAGEMENT_ERRORS.get(status, ("InternalServerErrorException", "Internal server error"))
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": kind})


def _cors(request: web.Request) -> dict[str, str]:
    # As the HTTP API's CORS configuration would: the origin check itself is the handler's.
    origin = request.headers.get("Origin")
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Headers": "content-type,authorization",
            "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS", "Vary": "Origin"}


def base64ish_id() -> str:
    """Connection ids look like API Gateway's (12 URL-safe characters ending in '=')."""
    return secrets.token_urlsafe(9)[:11] + "="
