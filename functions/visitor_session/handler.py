"""POST /api/visitor/session: check the widget key and the page's Origin, issue a visitor token."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from parley.clock import get_clock, iso
from parley.composition import chat as services
from parley.composition.leads import availability_service
from parley.errors import Unauthorized
from parley.hours.client_hours import client_availability
from parley.http import build_resolver, parse_body
from parley.ids import new_id
from parley.observability import logger

app = build_resolver(billing_errors=False)


class SessionRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    widget_key: str = Field(alias="widgetKey", min_length=1, max_length=100)
    visitor_token: str | None = Field(default=None, alias="visitorToken", max_length=1000)


@app.post("/api/visitor/session")
def create_session() -> dict[str, Any]:
    request = parse_body(app, SessionRequest)
    client = services.connect_access().widget_client(request.widget_key, app.current_event.headers.get("origin"))
    tokens = services.visitor_tokens()
    now = get_clock().now()
    visitor_id = None
    if request.visitor_token:
        try:  # a valid earlier token keeps the visitor's identity (and history)
            claims = tokens.verify(request.visitor_token, now)
            visitor_id = claims.visitor_id if claims.client_id == client.client_id else None
        except Unauthorized:
            visitor_id = None
    token, expires = tokens.issue(client.client_id, visitor_id or new_id("v"), now)
    claims = tokens.verify(token, now)
    hours = client_availability(client, now)  # the clock's now: the local ControlledClock moves it
    return {
        "visitorId": claims.visitor_id,
        "visitorToken": token,
        "expiresAt": iso(expires),
        "open": hours.open,  # chats answered live now: within hours, or after-hours coverage (docs/hours.md)
        "nextChange": iso(hours.next_change) if hours.next_change else None,
        # None, or why nobody can chat now: service_deactivated / outside_hours / no_agent_online
        # (parley/availability.py; the offline form then, docs/leads.md).
        "offline": availability_service().of(client, now).public(),
        "client": {"id": client.client_id, "name": client.name, "accentColor": client.accent_color,
                   "greeting": client.greeting, "online": client.status.value == "active"},
        # The pre-chat form the widget shows before the first message; `[]`: none (docs/protocol.md).
        "preChatFields": [field.public() for field in client.pre_chat_fields],
    }


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
