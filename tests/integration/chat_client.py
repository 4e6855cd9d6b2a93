"""Real WebSocket and HTTP clients for the integration tests (python `websockets`, urllib)."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

import pyotp
from websockets.sync.client import ClientConnection, connect

_ids = itertools.count(1)


def http_post(url: str, body: Any, origin: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class ChatClient:
    """One WebSocket connection; `request` sends an action and returns its ack/error reply,
    keeping relayed events that arrive meanwhile for `next_event`."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    def send_raw(self, text: str, request_id: str | None = None) -> dict[str, Any]:
        self.ws.send(text)
        return self._reply(request_id)

    def request(self, action: str, **fields: Any) -> dict[str, Any]:
        request_id = f"r{next(_ids)}"
        self.ws.send(json.dumps({"action": action, "requestId": request_id, **fields}))
        return self._reply(request_id)

    def ok(self, action: str, **fields: Any) -> dict[str, Any]:
        reply = self.request(action, **fields)
        assert reply["type"] == "ack", reply
        data: dict[str, Any] = reply["data"]
        return data

    def _reply(self, request_id: str | None) -> dict[str, Any]:
        while True:
            frame = json.loads(self.ws.recv(timeout=10))
            if frame["type"] in ("ack", "error") and frame.get("requestId") == request_id:
                return dict(frame)
            self.events.append(frame)

    def next_event(self, type_: str, timeout: float = 10) -> dict[str, Any]:
        for i, frame in enumerate(self.events):
            if frame["type"] == type_:
                return self.events.pop(i)
        while True:
            frame = json.loads(self.ws.recv(timeout=timeout))
            if frame["type"] == type_:
                return dict(frame)
            self.events.append(frame)

    def no_event(self, timeout: float = 0.5) -> None:
        """Assert nothing else arrives (a bounded wait)."""
        try:
            frame = self.ws.recv(timeout=timeout)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    def close(self) -> None:
        self.ws.close()


class Harness:
    """Logs in agents and opens visitor sessions against a running LocalStack."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.opened: list[ChatClient] = []

    def _track(self, client: ChatClient) -> ChatClient:
        self.opened.append(client)
        return client

    def close_all(self) -> None:
        for client in self.opened:
            client.close()

    def visitor_session(self, widget_key: str, origin: str, token: str | None = None) -> dict[str, Any]:
        status, body = http_post(f"{self.stack.base_url}/api/visitor/session",
                                 {"widgetKey": widget_key, **({"visitorToken": token} if token else {})}, origin)
        assert status == 200, body
        return body

    def visitor(self, client: Any = None, token: str | None = None) -> tuple[ChatClient, dict[str, Any]]:
        demo = client or self.stack.demo.sierra
        session = self.visitor_session(demo.widget_key, demo.origin, token)
        url = f"{self.stack.ws_url}?widgetKey={demo.widget_key}&visitorToken={quote(session['visitorToken'])}"
        return self._track(ChatClient(connect(url, origin=demo.origin, open_timeout=10))), session

    def ensure_agent(self, username: str, name: str, client_id: str) -> str:
        """Another agent account for `client_id` (created once per test session)."""
        subs: dict[str, str] = self.stack.demo.agent_subs
        if username not in subs:
            subs[username] = self.stack.add_agent(username, name, [client_id])
        return username

    def agent_token(self, username: str, password: str | None = None) -> str:
        credentials = {"username": username, "password": password or self.stack.demo.agent_password}
        status, body = http_post(f"{self.stack.base_url}/api/auth/login", credentials)
        if status == 409 and body.get("code") == "mfa_required":  # the demo admin and supervisor
            code = pyotp.TOTP(self.stack.demo.totp_secrets[username]).now()
            status, body = http_post(f"{self.stack.base_url}/api/auth/login", {**credentials, "totpCode": code})
        assert status == 200, body
        return str(body["idToken"])

    def agent(self, username: str | None = None) -> ChatClient:
        token = self.agent_token(username or self.stack.demo.agent_username)
        return self._track(ChatClient(connect(f"{self.stack.ws_url}?token={token}", open_timeout=10)))
