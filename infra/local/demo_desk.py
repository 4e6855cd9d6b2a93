"""The demo desk of the local stack: teams, caps and roles for the demo agents, an admin and a
supervisor login (printed by `make dev`), and the default team self-service signups land in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parley.auth.roles import Group, StaffRole
from parley.chat.models import DEFAULT_TEAM_ID, Agent, Team
from parley.repositories.tenants import DEFAULT_TEAM_NAME, TenantRepository

ADMIN_USERNAME = "admin"
SUPERVISOR_USERNAME = "sam"

CAPS = {"alex": 4, "bianca": 2}  # demo agents' concurrency caps


@dataclass(frozen=True)
class DemoDesk:
    admin_username: str
    supervisor_username: str
    team_ids: dict[str, str]  # client id -> its team


def seed_desk(tenants: TenantRepository, create_user: Callable[[str, str], str],
              agents: dict[str, tuple[str, str]]) -> DemoDesk:
    """`agents`: demo username -> (Cognito sub, client id); `create_user(username, group)` -> sub."""
    create_user(ADMIN_USERNAME, Group.ADMINS.value)
    supervisor = create_user(SUPERVISOR_USERNAME, Group.SUPERVISORS.value)
    client_ids = [client for _, client in agents.values()]
    team_of = {client: f"tm_{client.removeprefix('cl_')}" for client in client_ids}
    tenants.put_agent(Agent(agent_id=supervisor, username=SUPERVISOR_USERNAME, name="Sam Ortiz",
                            email=f"{SUPERVISOR_USERNAME}@parley.local", role=StaffRole.SUPERVISOR,
                            max_concurrent_chats=5, client_ids=client_ids,
                            team_ids=[*team_of.values(), DEFAULT_TEAM_ID]))
    everyone = [sub for sub, _ in agents.values()]
    tenants.put_team(Team(team_id=DEFAULT_TEAM_ID, name=DEFAULT_TEAM_NAME, agent_ids=[*everyone, supervisor]))
    updates: list[tuple[str, dict[str, object]]] = []
    for username, (sub, client_id) in agents.items():
        team_id = team_of[client_id]
        tenants.put_team(Team(team_id=team_id, name=f"{client_id.removeprefix('cl_').title()} desk",
                              agent_ids=[sub, supervisor], client_ids=[client_id]))
        updates.append((f"AGENT#{sub}", {"team_ids": [team_id, DEFAULT_TEAM_ID], "username": username,
                                         "max_concurrent_chats": CAPS.get(username, 3)}))
        updates.append((f"CLIENT#{client_id}", {"team_ids": [team_id]}))
    tenants.apply_updates(updates)
    return DemoDesk(ADMIN_USERNAME, SUPERVISOR_USERNAME, team_of)
