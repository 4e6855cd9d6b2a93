"""The admin domain: onboarding and editing clients, inviting and managing agents, forming
teams and assigning them to clients.

Membership is kept on both sides (Team.agent_ids ↔ Agent.team_ids, Team.client_ids ↔
Client.team_ids) so routing reads a client's teams and a team's agents with key lookups; every
change writes both sides in one transaction. Disabling an agent closes their connections at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from parley.admin.ports import AgentConnections, InvitationMailer, StaffDirectory
from parley.admin.requests import AgentPatch, ClientSettingsPatch, InviteAgent, OnboardClient, TeamBody, TeamPatch
from parley.auth.roles import StaffRole
from parley.chat.models import Agent, Client, ClientStatus, Team
from parley.errors import InvalidRequest, NotFound
from parley.hours.client_hours import with_hours
from parley.ids import new_id
from parley.observability import logger
from parley.repositories.tenants import TenantRepository

Updates = list[tuple[str, dict[str, Any]]]


def _moved(old: Sequence[str], new: Sequence[str]) -> tuple[set[str], set[str]]:
    """(added, removed) between two id lists."""
    return set(new) - set(old), set(old) - set(new)


def _changes(patch: BaseModel, erasable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields an edit sends; an explicit null is refused (a field is changed, never erased),
    except for the ``erasable`` fields, where null removes the setting (a client's hours)."""
    changes = patch.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in erasable:
            raise InvalidRequest(f"{type(patch).model_fields[name].alias or name}: must not be null")
    return changes


class AdminService:
    def __init__(self, tenants: TenantRepository, directory: StaffDirectory, mailer: InvitationMailer,
                 connections: AgentConnections) -> None:
        self._tenants = tenants
        self._directory = directory
        self._mailer = mailer
        self._connections = connections

    # --- clients -----------------------------------------------------------------------
    def list_clients(self, self_service: bool | None = None) -> list[Client]:
        clients = self._tenants.list_clients()
        return [c for c in clients if self_service is None or c.self_service is self_service]

    def client(self, client_id: str) -> Client:
        client = self._tenants.get_client(client_id)
        if client is None:
            raise NotFound(f"no client {client_id!r}")
        return client

    def onboard_client(self, request: OnboardClient) -> Client:
        teams = self._existing_teams(request.team_ids or [], "teamIds")
        settings = request.model_dump(exclude_none=True, exclude={"hours"})
        client = Client.model_validate({**settings, "client_id": new_id("cl"),
                                        "widget_key": f"wk_{secrets.token_urlsafe(18)}"})
        client = with_hours(client, request.hours)  # InvalidHours before anything is written
        self._tenants.put_client(client)
        self._tenants.apply_updates([(f"TEAM#{t.team_id}", {"client_ids": [*t.client_ids, client.client_id]})
                                     for t in teams])
        logger.info("client onboarded", client_id=client.client_id, teams=client.team_ids)
        return client

    def edit_client(self, client_id: str, patch: ClientSettingsPatch) -> Client:
        client = self.client(client_id)
        changes = _changes(patch, erasable=frozenset({"hours"}))
        updated = Client.model_validate({**client.model_dump(), **changes, "hours": client.hours})
        if "hours" in changes:
            updated = with_hours(updated, patch.hours)  # InvalidHours before anything is written
        updates: Updates = []
        if patch.team_ids is not None:
            updates += self._client_team_updates(client, patch.team_ids)
        stored = {k: v for k, v in updated.model_dump(mode="json").items() if k in changes}
        self._tenants.apply_updates([(f"CLIENT#{client_id}", stored), *updates])
        return updated

    def _client_team_updates(self, client: Client, team_ids: list[str]) -> Updates:
        added, removed = _moved(client.team_ids, team_ids)
        teams = self._existing_teams([*added, *removed], "teamIds", must_exist=added)
        updates: Updates = []
        for team in teams:
            if team.team_id in added:
                updates.append((f"TEAM#{team.team_id}", {"client_ids": [*team.client_ids, client.client_id]}))
            else:
                updates.append((f"TEAM#{team.team_id}",
                                {"client_ids": [c for c in team.client_ids if c != client.client_id]}))
        return updates

    # --- agents ------------------------------------------------------------------------
    def list_agents(self) -> list[Agent]:
        return self._tenants.list_agents()

    def agent(self, agent_id: str) -> Agent:
        agent = self._tenants.get_agent(agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id!r}")
        return agent

    def invite_agent(self, request: InviteAgent) -> Agent:
        teams = self._existing_teams(request.team_ids, "teamIds")
        role = StaffRole(request.role)
        email = request.email.lower()
        user = self._directory.invite(email, request.name, role)
        agent = Agent(agent_id=user.sub, username=user.username, name=request.name, email=email, role=role,
                      max_concurrent_chats=request.max_concurrent_chats, team_ids=request.team_ids)
        try:
            self._tenants.put_agent(agent)
            self._mailer.send_invitation(email, request.name, user)
        except Exception:
            # No half-made account: without it, a retry would hit `email_taken` for good.
            self._tenants.delete_agent(agent.agent_id)
            self._directory.remove(user.username)
            raise
        self._tenants.apply_updates([(f"TEAM#{t.team_id}", {"agent_ids": [*t.agent_ids, agent.agent_id]})
                                     for t in teams])
        logger.info("agent invited", agent_id=agent.agent_id, role=role.value, teams=agent.team_ids)
        return agent

    def edit_agent(self, agent_id: str, patch: AgentPatch) -> Agent:
        agent = self.agent(agent_id)
        changes = _changes(patch)
        updates: Updates = []
        if patch.team_ids is not None:
            added, removed = _moved(agent.team_ids, patch.team_ids)
            for team in self._existing_teams([*added, *removed], "teamIds", must_exist=added):
                members = ([*team.agent_ids, agent_id] if team.team_id in added
                           else [a for a in team.agent_ids if a != agent_id])
                updates.append((f"TEAM#{team.team_id}", {"agent_ids": members}))
        updated = Agent.model_validate({**agent.model_dump(), **changes})
        if patch.role is not None and updated.role is not agent.role:
            self._directory.set_role(agent.username or agent.agent_id, updated.role)
        stored = {k: v for k, v in updated.model_dump(mode="json").items() if k in changes}
        self._tenants.apply_updates([(f"AGENT#{agent_id}", stored), *updates])
        return updated

    def set_agent_disabled(self, agent_id: str, disabled: bool) -> tuple[Agent, int]:
        """Disable (or enable) an agent; disabling closes every open connection of theirs at once.
        Returns the agent and the number of connections closed."""
        agent = self.agent(agent_id)
        self._directory.set_enabled(agent.username or agent.agent_id, not disabled)
        self._tenants.apply_updates([(f"AGENT#{agent_id}", {"disabled": disabled})])
        closed = 0
        if disabled:
            closed = self._connections.close(self._connections.connections_of_agent(agent_id))
        logger.info("agent disabled" if disabled else "agent enabled", agent_id=agent_id, closed=closed)
        return agent.model_copy(update={"disabled": disabled}), closed

    def set_client_disabled(self, client_id: str, disabled: bool) -> tuple[Client, int]:
        """Disable (or enable) a client's widget: its key is refused at `$connect`, every open
        visitor connection is closed at once and their later actions refused (parley.auth.revocation).
        Enabling gives back the status the disable replaced (a client cut off for non-payment stays
        cut off). Returns the client and the number of connections closed."""
        client = self.client(client_id)
        if disabled and client.status is not ClientStatus.DISABLED:
            client = client.model_copy(update={"status": ClientStatus.DISABLED, "disabled_from": client.status})
            self._tenants.put_client(client)
        elif not disabled and client.status is ClientStatus.DISABLED:
            client = client.model_copy(update={"status": client.disabled_from or ClientStatus.ACTIVE,
                                               "disabled_from": None})
            self._tenants.put_client(client)
        closed = self._connections.close(self._connections.visitor_connections_of_client(client_id)) if disabled else 0
        logger.info("client disabled" if disabled else "client enabled", client_id=client_id, closed=closed)
        return client, closed

    # --- teams -------------------------------------------------------------------------
    def list_teams(self) -> list[Team]:
        return self._tenants.list_teams()

    def create_team(self, request: TeamBody) -> Team:
        agents = self._existing_agents(request.agent_ids)
        team = Team(team_id=new_id("tm"), name=request.name, agent_ids=request.agent_ids)
        self._tenants.put_team(team)
        self._tenants.apply_updates([(f"AGENT#{a.agent_id}", {"team_ids": [*a.team_ids, team.team_id]})
                                     for a in agents])
        return team

    def edit_team(self, team_id: str, patch: TeamPatch) -> Team:
        team = self._tenants.get_team(team_id)
        if team is None:
            raise NotFound(f"no team {team_id!r}")
        changes = _changes(patch)
        updates: Updates = []
        if patch.agent_ids is not None:
            added, removed = _moved(team.agent_ids, patch.agent_ids)
            for agent in self._existing_agents([*added, *removed], must_exist=added):
                teams = ([*agent.team_ids, team_id] if agent.agent_id in added
                         else [t for t in agent.team_ids if t != team_id])
                updates.append((f"AGENT#{agent.agent_id}", {"team_ids": teams}))
        self._tenants.apply_updates([(f"TEAM#{team_id}", changes), *updates])
        return team.model_copy(update=changes)

    # --- helpers -----------------------------------------------------------------------
    def _existing_teams(self, team_ids: Sequence[str], field: str,
                        must_exist: set[str] | None = None) -> list[Team]:
        teams = self._tenants.get_teams(team_ids) if team_ids else []
        missing = (set(team_ids) if must_exist is None else must_exist) - {t.team_id for t in teams}
        if missing:
            raise InvalidRequest(f"{field}: no such team {sorted(missing)[0]!r}")
        return teams

    def _existing_agents(self, agent_ids: Sequence[str], must_exist: set[str] | None = None) -> list[Agent]:
        agents = [a for a in (self._tenants.get_agent(i) for i in dict.fromkeys(agent_ids)) if a is not None]
        missing = (set(agent_ids) if must_exist is None else must_exist) - {a.agent_id for a in agents}
        if missing:
            raise InvalidRequest(f"agentIds: no such agent {sorted(missing)[0]!r}")
        return agents
