"""Onboarding, invitations, teams and the disable cut-off: what is stored on both sides of every
membership, and that refused input changes nothing."""

from __future__ import annotations

import pytest

from parley.admin.requests import AgentPatch, ClientSettingsPatch, InviteAgent, OnboardClient, TeamBody, TeamPatch
from parley.auth.cognito import AgentClaims
from parley.auth.roles import StaffRole
from parley.chat.access import ConnectAccess
from parley.chat.models import DEFAULT_TEAM_ID, Agent, Tier
from parley.clock import ControlledClock
from parley.errors import Forbidden, InvalidRequest, NotFound
from tests.unit.admin.conftest import AdminWorld


def _onboard(world: AdminWorld, **extra: object) -> str:
    request = OnboardClient.model_validate({"name": "Sierra Vista Motors", "allowedOrigins": ["https://sierra.test"],
                                            **extra})
    return world.service.onboard_client(request).client_id


def _invite(world: AdminWorld, email: str = "Dana@Example.com", **extra: object) -> Agent:
    return world.service.invite_agent(InviteAgent.model_validate({"name": "Dana", "email": email, **extra}))


def test_onboarding_stores_every_setting_and_a_fresh_widget_key(world: AdminWorld) -> None:
    team = world.service.create_team(TeamBody(name="Dealers"))
    client_id = _onboard(world, greeting="Hola", accentColor="#aa00ff", languages=["en", "es"], tier="proactive",
                         notificationEmail="leads@sierra.test", noAnswerTimeoutSeconds=45, idleTimeoutSeconds=900,
                         teamIds=[team.team_id],
                         preChatFields=[{"key": "name", "label": "Your name", "required": True},
                                        {"key": "gdpr", "label": "Consent", "type": "consent",
                                         "consentText": "I agree to be contacted"}])
    stored = world.tenants.get_client(client_id)
    assert stored is not None
    assert (stored.greeting, stored.accent_color, stored.languages, stored.tier) == ("Hola", "#aa00ff", ["en", "es"],
                                                                                     Tier.PROACTIVE)
    assert (stored.no_answer_timeout_seconds, stored.idle_timeout_seconds) == (45, 900)
    assert [f.key for f in stored.pre_chat_fields] == ["name", "gdpr"]
    assert stored.pre_chat_fields[0].required and stored.pre_chat_fields[1].consent_text == "I agree to be contacted"
    assert world.tenants.client_by_widget_key(stored.widget_key) == stored
    assert stored.widget_key != world.tenants.get_client(_onboard(world)).widget_key  # type: ignore[union-attr]
    assert world.tenants.get_team(team.team_id).client_ids == [client_id]  # type: ignore[union-attr]


def test_listing_clients_reads_the_directory_and_filters_self_service(world: AdminWorld) -> None:
    first, second = _onboard(world), _onboard(world)
    assert {c.client_id for c in world.service.list_clients()} == {first, second}
    assert world.service.list_clients(self_service=True) == []


def test_onboarding_with_an_unknown_team_changes_nothing(world: AdminWorld) -> None:
    with pytest.raises(InvalidRequest, match="teamIds: no such team 'tm_nope'"):
        _onboard(world, teamIds=["tm_nope"])
    assert world.service.list_clients() == []


def test_editing_a_client_changes_only_the_fields_sent_and_moves_teams_on_both_sides(world: AdminWorld) -> None:
    a = world.service.create_team(TeamBody(name="A"))
    b = world.service.create_team(TeamBody(name="B"))
    client_id = _onboard(world, teamIds=[a.team_id], greeting="Hi")
    edited = world.service.edit_client(client_id, ClientSettingsPatch.model_validate(
        {"teamIds": [b.team_id], "accentColor": "#000000"}))
    stored = world.tenants.get_client(client_id)
    assert stored == edited
    assert (stored.greeting, stored.accent_color, stored.team_ids) == ("Hi", "#000000", [b.team_id])
    assert world.tenants.get_team(a.team_id).client_ids == []  # type: ignore[union-attr]
    assert world.tenants.get_team(b.team_id).client_ids == [client_id]  # type: ignore[union-attr]


def test_an_explicit_null_is_refused_and_nothing_changes(world: AdminWorld) -> None:
    client_id = _onboard(world, greeting="Hi")
    before = world.tenants.get_client(client_id)
    with pytest.raises(InvalidRequest, match=r"^greeting: must not be null"):
        world.service.edit_client(client_id, ClientSettingsPatch.model_validate({"greeting": None}))
    assert world.tenants.get_client(client_id) == before


def test_editing_an_unknown_client_is_not_found(world: AdminWorld) -> None:
    with pytest.raises(NotFound):
        world.service.edit_client("cl_nope", ClientSettingsPatch(greeting="x"))


def test_invitation_creates_the_user_the_agent_and_sends_the_temporary_password(world: AdminWorld) -> None:
    team = world.service.create_team(TeamBody(name="Dealers"))
    agent = _invite(world, role="supervisor", maxConcurrentChats=5, teamIds=[team.team_id])
    stored = world.tenants.get_agent(agent.agent_id)
    assert stored == agent
    assert (stored.email, stored.role, stored.max_concurrent_chats, stored.team_ids, stored.disabled) == (
        "dana@example.com", StaffRole.SUPERVISOR, 5, [team.team_id], False)
    assert world.directory.users[stored.username]["role"] is StaffRole.SUPERVISOR
    assert [(to, user.temporary_password) for to, _, user in world.mailer.sent] == [("dana@example.com",
                                                                                       "Temp-Pass-1234")]
    assert world.tenants.get_team(team.team_id).agent_ids == [agent.agent_id]  # type: ignore[union-attr]


def test_an_invitation_into_an_unknown_team_creates_no_user_and_sends_nothing(world: AdminWorld) -> None:
    with pytest.raises(InvalidRequest, match="teamIds"):
        _invite(world, teamIds=["tm_nope"])
    assert world.directory.users == {} and world.mailer.sent == [] and world.service.list_agents() == []


def test_editing_an_agent_sets_cap_role_and_teams_on_both_sides(world: AdminWorld) -> None:
    a = world.service.create_team(TeamBody(name="A"))
    b = world.service.create_team(TeamBody(name="B"))
    agent = _invite(world, teamIds=[a.team_id])
    world.service.edit_agent(agent.agent_id, AgentPatch.model_validate(
        {"maxConcurrentChats": 2, "role": "supervisor", "teamIds": [b.team_id]}))
    stored = world.tenants.get_agent(agent.agent_id)
    assert stored is not None
    assert (stored.max_concurrent_chats, stored.role, stored.team_ids) == (2, StaffRole.SUPERVISOR, [b.team_id])
    assert world.directory.users[stored.username]["role"] is StaffRole.SUPERVISOR
    assert world.tenants.get_team(a.team_id).agent_ids == []  # type: ignore[union-attr]
    assert world.tenants.get_team(b.team_id).agent_ids == [agent.agent_id]  # type: ignore[union-attr]


def test_team_members_are_kept_on_both_sides(world: AdminWorld) -> None:
    dana, eli = _invite(world), _invite(world, email="eli@example.com")
    team = world.service.create_team(TeamBody.model_validate({"name": "Night", "agentIds": [dana.agent_id]}))
    assert world.tenants.get_agent(dana.agent_id).team_ids == [team.team_id]  # type: ignore[union-attr]
    renamed = world.service.edit_team(team.team_id, TeamPatch.model_validate(
        {"name": "Night shift", "agentIds": [eli.agent_id]}))
    assert world.tenants.get_team(team.team_id) == renamed
    assert (renamed.name, renamed.agent_ids) == ("Night shift", [eli.agent_id])
    assert world.tenants.get_agent(dana.agent_id).team_ids == []  # type: ignore[union-attr]
    assert world.tenants.get_agent(eli.agent_id).team_ids == [team.team_id]  # type: ignore[union-attr]
    assert [t.team_id for t in world.service.list_teams()] == [team.team_id]


def test_a_team_with_an_unknown_member_is_not_created(world: AdminWorld) -> None:
    with pytest.raises(InvalidRequest, match="agentIds: no such agent 'ag_nope'"):
        world.service.create_team(TeamBody.model_validate({"name": "X", "agentIds": ["ag_nope"]}))
    assert world.service.list_teams() == []


def test_disabling_closes_every_open_connection_and_enabling_restores(world: AdminWorld) -> None:
    agent = _invite(world)
    world.connections.open[agent.agent_id] = ["c1", "c2"]
    disabled, closed = world.service.set_agent_disabled(agent.agent_id, disabled=True)
    assert (disabled.disabled, closed, world.connections.closed) == (True, 2, ["c1", "c2"])
    assert world.tenants.get_agent(agent.agent_id).disabled  # type: ignore[union-attr]
    assert world.directory.users[agent.username]["enabled"] is False
    enabled, closed = world.service.set_agent_disabled(agent.agent_id, disabled=False)
    assert (enabled.disabled, closed) == (False, 0)
    assert world.tenants.get_agent(agent.agent_id).enabled  # type: ignore[union-attr]
    assert world.directory.users[agent.username]["enabled"] is True


def test_served_clients_are_the_direct_ones_plus_those_of_the_agents_teams(world: AdminWorld) -> None:
    team = world.service.create_team(TeamBody(name="A"))
    client_id = _onboard(world, teamIds=[team.team_id])
    agent = _invite(world, teamIds=[team.team_id])
    world.tenants.add_client_to_team(DEFAULT_TEAM_ID, "cl_signup", "Default team")
    world.service.edit_agent(agent.agent_id, AgentPatch(team_ids=[team.team_id, DEFAULT_TEAM_ID]))
    stored = world.tenants.get_agent(agent.agent_id)
    assert stored is not None
    assert world.tenants.served_client_ids(stored) == [client_id, "cl_signup"]


def test_an_agent_connects_for_the_clients_of_their_teams(world: AdminWorld) -> None:
    team = world.service.create_team(TeamBody(name="A"))
    client_id = _onboard(world, teamIds=[team.team_id])
    agent = _invite(world, teamIds=[team.team_id])
    access = ConnectAccess(world.tenants, ControlledClock())
    claims = AgentClaims(sub=agent.agent_id, username=agent.username, email=agent.email, groups=("agents",))
    assert access.agent(claims).client_ids == (client_id,)
    world.service.set_agent_disabled(agent.agent_id, disabled=True)
    with pytest.raises(Forbidden):
        access.agent(claims)


def test_an_invitation_that_cannot_be_sent_leaves_no_user_and_no_agent(world: AdminWorld) -> None:
    team = world.service.create_team(TeamBody(name="A"))
    world.mailer.failing = True
    with pytest.raises(ConnectionError):
        _invite(world, teamIds=[team.team_id])
    assert world.directory.users == {} and world.service.list_agents() == []
    assert world.tenants.get_team(team.team_id).agent_ids == []  # type: ignore[union-attr]
    world.mailer.failing = False
    assert _invite(world).email == "dana@example.com"  # a retry works: no email_taken
