"""Every WebSocket action (and $default): parse the frame, run it, reply with ack or error."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import ws
from parley.chat.frames import ack, parse_action, request_id_of
from parley.composition import chat as services
from parley.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = event.get("body")

    def run() -> dict[str, Any]:
        action = parse_action(body)
        chat = services.chat_service(ws.management_endpoint(event))
        return ack(action.action, action.request_id, chat.handle(ws.connection_id(event), action))

    return ws.guarded_frame(request_id_of(body), run)
