"""API Gateway WebSocket events in, route responses out; typed errors mapped in one place."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from parley.chat.frames import ChatAction, action_of, error_frame, load_frame, request_id_in
from parley.chat.identity import from_context, to_context
from parley.chat.models import Identity
from parley.errors import ParleyError
from parley.observability import logger


def header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return str(value)
    return None


def query(event: dict[str, Any], name: str) -> str | None:
    value = (event.get("queryStringParameters") or {}).get(name)
    return str(value) if value is not None else None


def connection_id(event: dict[str, Any]) -> str:
    return str(event["requestContext"]["connectionId"])


def identity(event: dict[str, Any]) -> Identity:
    """Who is behind the connection: the `$connect` authorizer's context, which API Gateway
    passes on every later event of the connection as `requestContext.authorizer`."""
    return from_context(event["requestContext"].get("authorizer"))


def management_endpoint(event: dict[str, Any]) -> str:
    ctx = event["requestContext"]
    return f"https://{ctx['domainName']}/{ctx['stage']}"


def frame_response(frame: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps(frame, separators=(",", ":"))}


def guarded_frame(request_id: str | None, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run an action; any domain error becomes an error frame (the connection stays usable)."""
    return _guarded(lambda: request_id, run)


def guarded_action(body: str | None, run: Callable[[ChatAction], dict[str, Any]]) -> dict[str, Any]:
    """Parse a frame and run its action, all inside the guard: a frame that cannot be parsed
    (too large, too deep, not JSON, lone surrogates, wrong types) is an error frame like any
    other refusal, echoing the requestId once the frame was read far enough to have one."""
    seen: list[str | None] = [None]

    def parse_and_run() -> dict[str, Any]:
        data = load_frame(body)
        seen[0] = request_id_in(data)
        return run(action_of(data))

    return _guarded(lambda: seen[0], parse_and_run)


def _guarded(request_id: Callable[[], str | None], run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return frame_response(run())
    except ParleyError as exc:
        logger.info("action refused", code=exc.code, detail=exc.message)
        return frame_response({**error_frame(exc.code, exc.message, request_id()), **exc.details()})
    except Exception:
        logger.exception("action failed")
        return frame_response(error_frame("internal_error", "something went wrong", request_id()))


def connect_response(run: Callable[[], object]) -> dict[str, Any]:
    """$connect: 200 accepts the connection; 401/403 refuse it (nothing is stored)."""
    try:
        run()
        return {"statusCode": 200}
    except ParleyError as exc:
        logger.info("connection refused", code=exc.code, detail=exc.message)
        return {"statusCode": exc.status, "body": json.dumps({"code": exc.code, "message": exc.message})}


class AuthorizerRefusal(Exception):
    """Raised with the message "Unauthorized": the one error API Gateway turns into a 401
    (any other error of an authorizer is a 500)."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def _policy(method_arn: str, effect: str, principal_id: str) -> dict[str, Any]:
    return {"principalId": principal_id,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}]}}


def authorize_connect(event: dict[str, Any], run: Callable[[], Identity]) -> dict[str, Any]:
    """The `$connect` REQUEST authorizer's reply: Allow with the identity as `context`; a
    401-class refusal (no or bad credentials) raises "Unauthorized" so API Gateway answers 401;
    any other refusal (origin not allowed, client disabled, unknown widget key, not an agent) is
    a Deny policy, which API Gateway answers with 403. Nothing is stored either way."""
    method_arn = str(event.get("methodArn", ""))
    try:
        who = run()
    except ParleyError as exc:
        logger.info("connection refused", code=exc.code, detail=exc.message)
        if exc.status == 401:
            raise AuthorizerRefusal() from exc
        return _policy(method_arn, "Deny", "refused")
    return {**_policy(method_arn, "Allow", who.user_id), "context": to_context(who)}
