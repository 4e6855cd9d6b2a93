"""Every WebSocket action (and $default): parse the frame, run it, reply with ack or error.

The sender's identity is the `$connect` authorizer's context on the event (no read)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import ws
from parley.chat.frames import ChatAction, ack
from parley.composition import chat as services
from parley.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = event.get("body")

    def run(action: ChatAction) -> dict[str, Any]:
        who = ws.identity(event)
        chat = services.chat_service(ws.management_endpoint(event))
        return ack(action.action, action.request_id, chat.handle(ws.connection_id(event), who, action))

    return ws.guarded_action(body, run)  # parsing too runs inside the guard
