"""The local gateway runs the `$connect` authorizer as API Gateway does: the handler functions
are stand-ins here (recording the events they get), the gateway and the WebSocket are real."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from infra.local.gateway import CONNECT_ARN, LocalGateway
from infra.wiring import WEBSOCKET_AUTHORIZER

CONTEXT = {"role": "visitor", "userId": "v_1", "clientIds": "cl_a", "name": "Visitor"}


class Functions:
    def __init__(self, authorizer_reply: Any) -> None:
        self.authorizer_reply = authorizer_reply
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, name: str, event: dict[str, Any]) -> Any:
        self.events.append((name, event))
        if name == WEBSOCKET_AUTHORIZER.function:
            if isinstance(self.authorizer_reply, Exception):
                raise self.authorizer_reply
            return self.authorizer_reply
        if event["requestContext"].get("eventType") in ("CONNECT", "DISCONNECT"):
            return {"statusCode": 200}
        return {"statusCode": 200, "body": json.dumps({"type": "ack", "requestId": "r"})}

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e for n, e in self.events if n == name]


def policy(effect: str, context: dict[str, Any] | None = None) -> dict[str, Any]:
    reply: dict[str, Any] = {"principalId": "v_1", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": CONNECT_ARN}]}}
    if context is not None:
        reply["context"] = context
    return reply


async def _session(functions: Functions, frames: int) -> int:
    gateway = LocalGateway(invoke=functions)
    await gateway.start()
    try:
        url = f"ws://127.0.0.1:{gateway.port}/ws?widgetKey=wk&visitorToken=t"
        try:
            async with connect(url, open_timeout=10) as ws:
                for _ in range(frames):
                    await ws.send(json.dumps({"action": "ping", "requestId": "r"}))
                    await asyncio.wait_for(ws.recv(), 10)
        except InvalidStatus as refused:
            return int(refused.response.status_code)
        for _ in range(100):  # $disconnect runs after the socket closed
            if any(e["requestContext"].get("eventType") == "DISCONNECT" for e in functions.of("chat_connect")):
                break
            await asyncio.sleep(0.02)
        return 101
    finally:
        await gateway.stop()


@pytest.fixture
def run() -> Iterator[Any]:
    loop = asyncio.new_event_loop()
    yield lambda functions, frames=0: loop.run_until_complete(_session(functions, frames))
    loop.close()


def test_the_context_reaches_connect_every_message_and_disconnect(run: Any) -> None:
    functions = Functions(policy("Allow", CONTEXT))
    assert run(functions, 2) == 101
    (authorizer_event,) = functions.of(WEBSOCKET_AUTHORIZER.function)
    assert authorizer_event["type"] == "REQUEST" and authorizer_event["methodArn"] == CONNECT_ARN
    assert authorizer_event["queryStringParameters"] == {"widgetKey": "wk", "visitorToken": "t"}
    later = functions.of("chat_connect") + functions.of("chat_message")
    assert [e["requestContext"]["eventType"] for e in later] == ["CONNECT", "DISCONNECT", "MESSAGE", "MESSAGE"]
    for event in later:
        authorizer = dict(event["requestContext"]["authorizer"])
        assert isinstance(authorizer.pop("integrationLatency"), int)
        assert authorizer == {**CONTEXT, "principalId": "v_1"}


@pytest.mark.parametrize(("reply", "status"), [
    (policy("Deny"), 403),
    ({"principalId": "x", "policyDocument": {"Version": "2012-10-17", "Statement": []}}, 403),  # no Allow
    (RuntimeError("Unauthorized"), 401),  # the one error message API Gateway turns into a 401
    (RuntimeError("boom"), 500),
    (policy("Allow", {"identity": {"nested": "no"}}), 500),  # context values must be flat
])
def test_a_refusal_never_reaches_the_connect_handler(run: Any, reply: Any, status: int) -> None:
    functions = Functions(reply)
    assert run(functions) == status
    assert functions.of("chat_connect") == []
