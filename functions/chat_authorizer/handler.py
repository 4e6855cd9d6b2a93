"""WebSocket `$connect` REQUEST authorizer: authenticate the visitor (widget key + Origin +
signed visitor token) or the agent (Cognito JWT), and hand the identity to API Gateway as
the policy's `context` — every later event of the connection carries it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley import ws
from parley.chat.models import Identity
from parley.composition import chat as services
from parley.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def authenticate() -> Identity:
        access = services.connect_access()
        token = ws.query(event, "token")
        if token is not None:  # an agent
            return access.agent(services.cognito_verifier().verify(token))
        # a visitor on a client's website
        return access.visitor(ws.query(event, "widgetKey"), ws.header(event, "Origin"),
                              ws.query(event, "visitorToken"), services.visitor_tokens())

    return ws.authorize_connect(event, authenticate)
