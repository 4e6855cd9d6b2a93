"""WebSocket $connect and $disconnect: remember the connection the authorizer let in, forget it.

Authentication is the `$connect` authorizer's (functions/chat_authorizer): API Gateway calls
this handler only for a connection it allowed, with the identity in
`requestContext.authorizer`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import ws
from parley.composition import chat as services
from parley.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id = ws.connection_id(event)
    chat = services.chat_service()
    if event["requestContext"].get("eventType") == "DISCONNECT":
        chat.disconnect(connection_id)
        return {"statusCode": 200}
    return ws.connect_response(lambda: chat.connect(connection_id, ws.identity(event)))
