"""API Gateway WebSocket events in, route responses out; typed errors mapped in one place."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from parley.chat.frames import error_frame
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


def management_endpoint(event: dict[str, Any]) -> str:
    ctx = event["requestContext"]
    return f"https://{ctx['domainName']}/{ctx['stage']}"


def frame_response(frame: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {"statusCode": status, "body": json.dumps(frame, separators=(",", ":"))}


def guarded_frame(request_id: str | None, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run an action; any domain error becomes an error frame (the connection stays usable)."""
    try:
        return frame_response(run())
    except ParleyError as exc:
        logger.info("action refused", code=exc.code, detail=exc.message)
        return frame_response(error_frame(exc.code, exc.message, request_id))
    except Exception:
        logger.exception("action failed")
        return frame_response(error_frame("internal_error", "something went wrong", request_id))


def connect_response(run: Callable[[], None]) -> dict[str, Any]:
    """$connect: 200 accepts the connection; 401/403 refuse it (nothing is stored)."""
    try:
        run()
        return {"statusCode": 200}
    except ParleyError as exc:
        logger.info("connection refused", code=exc.code, detail=exc.message)
        return {"statusCode": exc.status, "body": json.dumps({"code": exc.code, "message": exc.message})}
