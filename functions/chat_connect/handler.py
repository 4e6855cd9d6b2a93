"""WebSocket $connect and $disconnect: authenticate the visitor or agent, remember the connection."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import ws
from parley.composition import chat as services
from parley.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id = ws.connection_id(event)
    chat = services.chat_service()
    if event["requestContext"].get("eventType") == "DISCONNECT":
        chat.disconnect(connection_id)
        return {"statusCode": 200}

    def connect() -> None:
        token = ws.query(event, "token")
        if token is not None:  # an agent
            claims = services.cognito_verifier().verify(token)
            chat.connect_agent(connection_id, claims)
        else:  # a visitor on a client's website
            chat.connect_visitor(connection_id, ws.query(event, "widgetKey"), ws.header(event, "Origin"),
                                 ws.query(event, "visitorToken"), services.visitor_tokens())

    return ws.connect_response(connect)
