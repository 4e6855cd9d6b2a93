"""POST /api/visitor/offline-message: the widget's offline form → a lead of the client, stored
with its notification email (docs/leads.md). Authenticated as the other visitor routes are: the
widget key and the page's Origin, and the signed visitor token of that client."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from parley.clock import get_clock, iso
from parley.composition import chat as chat_services
from parley.composition.leads import lead_service
from parley.errors import Unauthorized
from parley.http import build_resolver, parse_body
from parley.leads.errors import RateLimited
from parley.leads.models import OfflineMessage
from parley.observability import logger, tracer

app = build_resolver()


class OfflineRequest(OfflineMessage):
    widget_key: str = Field(alias="widgetKey", min_length=1, max_length=100)
    visitor_token: str | None = Field(default=None, alias="visitorToken", max_length=1000)


@app.exception_handler(RateLimited)
def rate_limited(exc: RateLimited) -> Response[Any]:
    return Response(status_code=429, content_type=content_types.APPLICATION_JSON,
                    headers={"Retry-After": str(exc.retry_after)},
                    body={"code": exc.code, "message": exc.message, "retryAfter": exc.retry_after})


def _visitor_token(request: OfflineRequest) -> str:
    header = app.current_event.headers.get("authorization") or ""
    scheme, _, bearer = header.partition(" ")
    token = request.visitor_token or (bearer if scheme.lower() == "bearer" else "")
    if not token:
        raise Unauthorized("visitorToken is required")
    return token


@app.post("/api/visitor/offline-message")
def offline_message() -> Response[Any]:
    request = parse_body(app, OfflineRequest)
    # As at the session and $connect: the widget key, an Origin it allows, not disabled (a
    # deactivated service still takes offline messages).
    client = chat_services.connect_access().widget_client(request.widget_key, app.current_event.headers.get("origin"))
    claims = chat_services.visitor_tokens().verify(_visitor_token(request), get_clock().now())
    if claims.client_id != client.client_id:
        raise Unauthorized("the visitor token was issued for another client")
    lead = lead_service(for_visitors=True).submit_offline(client, claims.visitor_id, request)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON,
                    body={"leadId": lead.lead_id, "status": "received", "receivedAt": iso(lead.created_at)})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
