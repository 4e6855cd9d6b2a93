"""The Leads inbox API for the provider's staff (Cognito JWT; agents and supervisors for the
clients they serve, admins for all): list, read, change status/assignee, append notes, and turn
a chat into a lead (docs/leads.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from parley.composition import chat as chat_services
from parley.composition.leads import lead_service
from parley.errors import InvalidRequest
from parley.http import bearer_token, build_resolver, parse_body
from parley.leads.models import MAX_MESSAGE_CHARS, MAX_NOTE_CHARS, LeadStatus
from parley.leads.service import LeadChanges, Staff
from parley.observability import logger, tracer

app = build_resolver()
DEFAULT_PAGE = 25


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class FromConversationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(default="", max_length=MAX_MESSAGE_CHARS)


def _staff() -> Staff:
    claims = chat_services.cognito_verifier().verify(bearer_token(app))
    return Staff(user_id=claims.sub, groups=claims.groups, name=claims.username)


def _page_query() -> tuple[LeadStatus | None, int, str | None]:
    query = app.current_event.query_string_parameters or {}
    try:
        status = LeadStatus(query["status"]) if query.get("status") else None
        limit = int(query.get("limit") or DEFAULT_PAGE)
    except ValueError as exc:
        raise InvalidRequest("status is new, in_progress or done; limit is 1 to 100") from exc
    if not 1 <= limit <= 100:
        raise InvalidRequest("limit is 1 to 100")
    return status, limit, query.get("cursor") or None


@app.get("/api/clients/<client_id>/leads")
def list_leads(client_id: str) -> dict[str, Any]:
    status, limit, cursor = _page_query()
    leads, next_cursor = lead_service().list_leads(_staff(), client_id, status, limit, cursor)
    return {"leads": [lead.public() for lead in leads], "nextCursor": next_cursor}


@app.get("/api/clients/<client_id>/leads/<lead_id>")
def get_lead(client_id: str, lead_id: str) -> dict[str, Any]:
    return lead_service().get_lead(_staff(), client_id, lead_id).public()


@app.patch("/api/clients/<client_id>/leads/<lead_id>")
def change_lead(client_id: str, lead_id: str) -> dict[str, Any]:
    changes = parse_body(app, LeadChanges)
    return lead_service().change(_staff(), client_id, lead_id, changes).public()


@app.post("/api/clients/<client_id>/leads/<lead_id>/notes")
def add_note(client_id: str, lead_id: str) -> Response[Any]:
    note = parse_body(app, NoteRequest)
    lead = lead_service().add_note(_staff(), client_id, lead_id, note.text)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=lead.public())


@app.post("/api/conversations/<conversation_id>/lead")
def lead_from_conversation(conversation_id: str) -> Response[Any]:
    request = parse_body(app, FromConversationRequest)
    lead = lead_service().from_conversation(_staff(), conversation_id, request.message)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=lead.public())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
