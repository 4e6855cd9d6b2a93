"""The provider's admin API (`/api/admin/...`, Cognito group "admins" only): onboard and edit
clients, invite and manage agents, form teams and assign them to clients (docs/admin.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.admin.hours import client_view
from parley.admin.requests import AgentPatch, ClientSettingsPatch, InviteAgent, OnboardClient, TeamBody, TeamPatch
from parley.admin.service import AdminService
from parley.auth.callers import caller_admin
from parley.clock import get_clock
from parley.composition import admin as services
from parley.errors import InvalidRequest
from parley.http import build_resolver, parse_body
from parley.observability import logger, tracer

app = build_resolver()


def _service(resolver: APIGatewayHttpResolver) -> AdminService:
    """Every route starts here: the caller must be an admin, else 401/403 before anything is read."""
    caller_admin(resolver)
    origin = (resolver.current_event.headers.get("origin") or "").rstrip("/")
    return services.admin_service(login_url=f"{origin}/console/" if origin else "/console/")


def _flag(name: str) -> bool | None:
    raw = (app.current_event.query_string_parameters or {}).get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise InvalidRequest(f"{name}: must be true or false")
    return raw == "true"


# --- clients ---------------------------------------------------------------------------
@app.get("/api/admin/clients")
def list_clients() -> dict[str, Any]:
    service = _service(app)
    clients = service.list_clients(self_service=_flag("selfService"))
    return {"clients": [c.model_dump(mode="json") for c in clients]}


@app.post("/api/admin/clients")
def onboard_client() -> tuple[dict[str, Any], int]:
    service = _service(app)
    client = service.onboard_client(parse_body(app, OnboardClient))
    return {"client": client_view(client, get_clock().now())}, 201


@app.get("/api/admin/clients/<client_id>")
def get_client(client_id: str) -> dict[str, Any]:
    return {"client": client_view(_service(app).client(client_id), get_clock().now())}


@app.patch("/api/admin/clients/<client_id>")
def edit_client(client_id: str) -> dict[str, Any]:
    service = _service(app)
    client = service.edit_client(client_id, parse_body(app, ClientSettingsPatch))
    return {"client": client_view(client, get_clock().now())}


@app.post("/api/admin/clients/<client_id>/disable")
def disable_client(client_id: str) -> dict[str, Any]:
    client, closed = _service(app).set_client_disabled(client_id, disabled=True)
    return {"client": client_view(client, get_clock().now()), "closedConnections": closed}


@app.post("/api/admin/clients/<client_id>/enable")
def enable_client(client_id: str) -> dict[str, Any]:
    client, _ = _service(app).set_client_disabled(client_id, disabled=False)
    return {"client": client_view(client, get_clock().now())}


# --- agents ----------------------------------------------------------------------------
@app.get("/api/admin/agents")
def list_agents() -> dict[str, Any]:
    return {"agents": [a.model_dump(mode="json") for a in _service(app).list_agents()]}


@app.post("/api/admin/agents")
def invite_agent() -> tuple[dict[str, Any], int]:
    service = _service(app)
    agent = service.invite_agent(parse_body(app, InviteAgent))
    return {"agent": agent.model_dump(mode="json")}, 201


@app.patch("/api/admin/agents/<agent_id>")
def edit_agent(agent_id: str) -> dict[str, Any]:
    service = _service(app)
    return {"agent": service.edit_agent(agent_id, parse_body(app, AgentPatch)).model_dump(mode="json")}


@app.post("/api/admin/agents/<agent_id>/disable")
def disable_agent(agent_id: str) -> dict[str, Any]:
    agent, closed = _service(app).set_agent_disabled(agent_id, disabled=True)
    return {"agent": agent.model_dump(mode="json"), "closedConnections": closed}


@app.post("/api/admin/agents/<agent_id>/enable")
def enable_agent(agent_id: str) -> dict[str, Any]:
    agent, _ = _service(app).set_agent_disabled(agent_id, disabled=False)
    return {"agent": agent.model_dump(mode="json")}


# --- teams -----------------------------------------------------------------------------
@app.get("/api/admin/teams")
def list_teams() -> dict[str, Any]:
    return {"teams": [t.model_dump(mode="json") for t in _service(app).list_teams()]}


@app.post("/api/admin/teams")
def create_team() -> tuple[dict[str, Any], int]:
    service = _service(app)
    return {"team": service.create_team(parse_body(app, TeamBody)).model_dump(mode="json")}, 201


@app.patch("/api/admin/teams/<team_id>")
def edit_team(team_id: str) -> dict[str, Any]:
    service = _service(app)
    return {"team": service.edit_team(team_id, parse_body(app, TeamPatch)).model_dump(mode="json")}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
