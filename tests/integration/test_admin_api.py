"""The admin API on the local stack, through the HTTP gateway with real Cognito tokens: an admin
onboards a client, forms a team, invites an agent (the temporary password goes out by email),
assigns the team; nobody else may; bad input is refused naming the field and changes nothing;
disabling an agent closes their open WebSockets at once and refuses them afterwards."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from infra.local.stack import table_name
from parley import aws
from parley.chat.models import DEFAULT_TEAM_ID
from parley.email.outbox import email_id_for
from parley.repositories.outbox import OutboxRepository
from tests.integration.chat_client import ChatClient, Harness, http_post
from tests.integration.identity_support import signup_verified


def api(stack: Any, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "Origin": stack.base_url}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.base_url}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def admin(chat: Harness) -> str:
    return chat.agent_token(chat.stack.demo.admin_username)


def test_nobody_but_an_admin_reaches_the_admin_api(chat: Harness) -> None:
    stack = chat.stack
    tokens = {"agent": chat.agent_token(stack.demo.sierra.agent_username),
              "supervisor": chat.agent_token(stack.demo.supervisor_username),
              "client user": chat.agent_token("owner-sierra")}
    for who, token in tokens.items():
        for method, path in (("GET", "/api/admin/clients"), ("POST", "/api/admin/teams"),
                             ("POST", f"/api/admin/agents/{stack.demo.agent_subs['alex']}/disable")):
            status, body = api(stack, method, path, token, {"name": "x"} if method == "POST" else None)
            assert (status, body.get("code")) == (403, "admin_required"), (who, path, body)
    assert api(stack, "GET", "/api/admin/clients", None)[0] == 401
    assert api(stack, "GET", "/api/admin/clients", "not-a-jwt")[0] == 401
    # The refused disable changed nothing: alex still logs in and connects.
    chat.agent().ok("subscribeQueue")


def test_admin_onboards_a_client_invites_an_agent_and_assigns_a_team(chat: Harness, admin: str) -> None:
    stack = chat.stack
    status, created = api(stack, "POST", "/api/admin/teams", admin, {"name": "Boats desk"})
    assert status == 201, created
    team_id = created["team"]["team_id"]
    status, onboarded = api(stack, "POST", "/api/admin/clients", admin, {
        "name": "Bayside Boats", "allowedOrigins": ["http://bayside.test"], "greeting": "Ahoy!",
        "accentColor": "#0a7cff", "languages": ["en", "es"], "tier": "proactive", "noAnswerTimeoutSeconds": 45,
        "notificationEmail": "leads@bayside.test",
        "preChatFields": [{"key": "name", "label": "Name", "required": True},
                          {"key": "ok", "label": "Consent", "type": "consent", "consentText": "You may call me"}]})
    assert status == 201, onboarded
    client = onboarded["client"]
    assert (client["greeting"], client["tier"], client["team_ids"]) == ("Ahoy!", "proactive", [])
    # The new widget key works for a visitor session from the allowed origin.
    status, session = http_post(f"{stack.base_url}/api/visitor/session", {"widgetKey": client["widget_key"]},
                                "http://bayside.test")
    assert status == 200, session

    email = f"new.agent.{time.time_ns()}@bayside.test"
    status, invited = api(stack, "POST", "/api/admin/agents", admin, {
        "name": "Nia Park", "email": email.upper(), "maxConcurrentChats": 2, "teamIds": [team_id]})
    assert status == 201, invited
    agent = invited["agent"]
    assert (agent["email"], agent["max_concurrent_chats"], agent["team_ids"], agent["role"]) == (
        email, 2, [team_id], "agent")
    assert agent["username"] and "@" not in agent["username"]  # opaque username, email as attribute
    outbox = OutboxRepository(aws.dynamodb(), table_name("data"))
    queued = outbox.get(email_id_for(f"invitation:{agent['agent_id']}"))
    assert queued is not None and queued.to == [email]
    assert "Temporary password:" in queued.text and agent["username"] not in queued.subject
    stack.drain_streams()  # the email path (outbox → stream → email_sender) delivers it by SMTP
    (mail,) = stack.smtp.to(email)
    assert mail.subject == "You're invited to answer chats on Parley"
    assert email in mail.text and "Temporary password:" in mail.text
    temporary = re.search(r"Temporary password: (\S+)", mail.text).group(1)  # type: ignore[union-attr]

    status, assigned = api(stack, "PATCH", f"/api/admin/clients/{client['client_id']}", admin,
                           {"teamIds": [team_id]})
    assert status == 200 and assigned["client"]["team_ids"] == [team_id], assigned
    teams = {t["team_id"]: t for t in api(stack, "GET", "/api/admin/teams", admin)[1]["teams"]}
    assert teams[team_id]["client_ids"] == [client["client_id"]]
    assert teams[team_id]["agent_ids"] == [agent["agent_id"]]
    listed = {c["client_id"] for c in api(stack, "GET", "/api/admin/clients", admin)[1]["clients"]}
    assert client["client_id"] in listed

    # The invited agent signs in with the email and the temporary password, chooses their own,
    # and connects for the client their team serves.
    login = f"{stack.base_url}/api/auth/login"
    status, refused = http_post(login, {"username": email, "password": temporary})
    assert (status, refused["code"]) == (409, "new_password_required"), refused
    status, signed_in = http_post(login, {"username": email, "password": temporary, "newPassword": "Nia-own-pass-2026"})
    assert status == 200, signed_in
    assert http_post(login, {"username": email, "password": "Nia-own-pass-2026"})[0] == 200
    console = ChatClient(connect(f"{stack.ws_url}?token={signed_in['idToken']}", open_timeout=30))
    console.ok("subscribeQueue")
    console.close()


@pytest.mark.parametrize("cap", [0, -1, "2"])
def test_a_cap_below_one_is_refused_naming_the_field_and_nothing_changes(chat: Harness, admin: str,
                                                                           cap: object) -> None:
    stack = chat.stack
    alex = stack.demo.agent_subs["alex"]
    before = _agent(stack, admin, alex)
    status, body = api(stack, "PATCH", f"/api/admin/agents/{alex}", admin, {"maxConcurrentChats": cap, "name": "X"})
    assert (status, body["code"]) == (400, "invalid_request") and body["message"].startswith("maxConcurrentChats:")
    assert _agent(stack, admin, alex) == before


def test_bad_input_elsewhere_is_a_400_naming_the_field(chat: Harness, admin: str) -> None:
    stack = chat.stack
    cases = [("POST", "/api/admin/clients", {"name": "Y", "allowedOrigins": ["nope"]}, "name"),
             ("POST", "/api/admin/clients", {"name": "Yacht Co", "allowedOrigins": ["nope"]}, "allowedOrigins"),
             ("POST", "/api/admin/agents", {"name": "Z", "email": "z@z.test", "teamIds": ["tm_missing"]}, "teamIds"),
             ("PATCH", "/api/admin/clients/cl_sierra", {"accentColor": "blue"}, "accentColor")]
    clients_before = api(stack, "GET", "/api/admin/clients", admin)[1]
    for method, path, body, field in cases:
        status, reply = api(stack, method, path, admin, body)
        assert status == 400 and reply["message"].startswith(f"{field}:"), (path, reply)
    assert api(stack, "GET", "/api/admin/clients", admin)[1] == clients_before
    assert api(stack, "PATCH", "/api/admin/clients/cl_missing", admin, {"greeting": "x"})[0] == 404


def _agent(stack: Any, admin: str, agent_id: str) -> dict[str, Any]:
    agents = api(stack, "GET", "/api/admin/agents", admin)[1]["agents"]
    return next(a for a in agents if a["agent_id"] == agent_id)


def test_disabling_an_agent_closes_their_open_sockets_and_refuses_them_after(chat: Harness, admin: str) -> None:
    stack = chat.stack
    username = f"cutoff{time.time_ns() % 10**8}"
    sub = stack.add_agent(username, "Cut Off", ["cl_sierra"])
    token = chat.agent_token(username)
    tabs = [ChatClient(connect(f"{stack.ws_url}?token={token}", open_timeout=30)) for _ in range(2)]
    for tab in tabs:
        tab.ok("subscribeQueue")

    status, body = api(stack, "POST", f"/api/admin/agents/{sub}/disable", admin)
    assert (status, body["closedConnections"], body["agent"]["disabled"]) == (200, 2, True), body
    for tab in tabs:
        with pytest.raises(ConnectionClosed):
            while True:  # anything already in flight, then the close
                tab.ws.recv(timeout=10)
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{stack.ws_url}?token={token}", open_timeout=30)
    assert refused.value.response.status_code == 403
    status, login = http_post(f"{stack.base_url}/api/auth/login", {"username": username,
                                                                    "password": stack.demo.agent_password})
    assert status == 401, login

    status, _ = api(stack, "POST", f"/api/admin/agents/{sub}/enable", admin)
    assert status == 200
    again = ChatClient(connect(f"{stack.ws_url}?token={chat.agent_token(username)}", open_timeout=30))
    again.ok("subscribeQueue")
    again.close()


def test_a_self_service_signup_lands_in_the_default_team_for_the_admin_to_pick_up(chat: Harness, admin: str) -> None:
    stack = chat.stack
    email = f"owner-{time.time_ns()}@selfserve.test"
    signed_up = signup_verified(stack, "Self Serve Bikes", email, "Self-serve-2026!", "https://bikes.test")
    client_id = signed_up["clientId"]
    picked = {c["client_id"]: c for c in api(stack, "GET", "/api/admin/clients?selfService=true", admin)[1]["clients"]}
    assert picked[client_id]["team_ids"] == [DEFAULT_TEAM_ID] and picked[client_id]["self_service"] is True
    teams = {t["team_id"]: t for t in api(stack, "GET", "/api/admin/teams", admin)[1]["teams"]}
    assert client_id in teams[DEFAULT_TEAM_ID]["client_ids"]
    onboarded = {c["client_id"] for c in api(stack, "GET", "/api/admin/clients?selfService=false", admin)[1]["clients"]}
    assert client_id not in onboarded and "cl_sierra" in onboarded
    assert api(stack, "GET", "/api/admin/clients?selfService=maybe", admin)[0] == 400
