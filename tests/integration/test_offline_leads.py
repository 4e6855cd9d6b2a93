"""The offline path on the local stack: the widget's HTTP call becomes a lead of the client and
an email received by the real local SMTP server (aiosmtpd); bad input and flooding change
nothing; a mail server outage delays the email, never loses the lead; the Leads inbox API is
tenant-scoped; a chat becomes a lead; the client's export includes its leads."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from parley.chat.models import Client, ClientStatus
from parley.composition.email import outbox_repository
from parley.email.models import EmailStatus
from parley.hours.client_hours import with_hours
from tests.integration.chat_client import ChatClient, Harness

pytestmark = pytest.mark.integration


def call(stack: Any, method: str, path: str, body: Any = None, *, token: str | None = None,
         origin: str | None = None) -> tuple[int, Any, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if origin:
        headers["Origin"] = origin
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(stack.base_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null"), dict(exc.headers)


@dataclass
class Tenant:
    client: Client
    agent_username: str
    inbox: str  # the client's notification address

    @property
    def origin(self) -> str:
        return self.client.allowed_origins[0]


def new_tenant(stack: Any, *, status: ClientStatus = ClientStatus.ACTIVE, hours: dict[str, Any] | None = None,
               notification: bool = True) -> Tenant:
    tag = secrets.token_hex(4)
    inbox = f"leads-{tag}@client.test"
    client = Client(client_id=f"cl_{tag}", name=f"Client {tag}", widget_key=f"wk_{tag}",
                    allowed_origins=[stack.base_url], status=status,
                    notification_email=inbox if notification else "")
    if hours is not None:
        client = with_hours(client, hours)
    stack.add_client(client)
    username = f"agent-{tag}"
    stack.add_agent(username, f"Agent {tag}", [client.client_id])
    return Tenant(client=client, agent_username=username, inbox=inbox)


def session(stack: Any, tenant: Tenant, token: str | None = None) -> dict[str, Any]:
    status, body, _ = call(stack, "POST", "/api/visitor/session",
                           {"widgetKey": tenant.client.widget_key, **({"visitorToken": token} if token else {})},
                           origin=tenant.origin)
    assert status == 200, body
    return dict(body)


def offline(stack: Any, tenant: Tenant, visitor_token: str, **fields: Any) -> tuple[int, Any, dict[str, str]]:
    body = {"widgetKey": tenant.client.widget_key, "visitorToken": visitor_token, "name": "Ana Díaz",
            "email": "ana@example.com", "text": "Is the red pickup still for sale?", **fields}
    return call(stack, "POST", "/api/visitor/offline-message", body, origin=tenant.origin)


def login(stack: Any, username: str, password: str | None = None) -> str:
    status, body, _ = call(stack, "POST", "/api/auth/login",
                           {"username": username, "password": password or stack.demo.agent_password})
    assert status == 200, body
    return str(body["idToken"])


def leads_of(stack: Any, tenant: Tenant, token: str, query: str = "") -> list[dict[str, Any]]:
    status, body, _ = call(stack, "GET", f"/api/clients/{tenant.client.client_id}/leads{query}", token=token)
    assert status == 200, body
    return list(body["leads"])


@pytest.fixture
def chat(local_stack: Any) -> Iterator[Harness]:
    harness = Harness(local_stack)
    try:
        yield harness
    finally:
        harness.close_all()


def online_agent(stack: Any, chat: Harness, tenant: Tenant) -> ChatClient:
    agent = chat.agent(tenant.agent_username)
    agent.ok("setStatus", status="online")
    return agent


def test_offline_message_becomes_a_lead_and_the_email_arrives(local_stack: Any) -> None:
    tenant = new_tenant(local_stack)
    visitor = session(local_stack, tenant)
    assert visitor["offline"] == {"reason": "no_agent_online", "nextChange": None}

    status, ack, _ = offline(local_stack, tenant, visitor["visitorToken"], phone="+1 (602) 555-0100",
                             page=f"{tenant.origin}/inventory/42", language="es-MX", preChat={"vehicle": "F-150"})
    assert status == 201 and ack["status"] == "received", ack
    local_stack.drain_streams()

    (mail,) = local_stack.smtp.to(tenant.inbox)
    assert mail.subject == f"New message from Ana Díaz via {tenant.client.name}'s website"
    assert "Is the red pickup still for sale?" in mail.text and "+1 (602) 555-0100" in mail.text
    assert "offline form (no agent online)" in mail.text and ack["leadId"] in mail.text
    assert mail.headers["Reply-To"] == "ana@example.com"

    (lead,) = leads_of(local_stack, tenant, login(local_stack, tenant.agent_username))
    assert {k: lead[k] for k in ("leadId", "status", "source", "name", "email", "offlineReason", "language",
                                 "preChat", "visitorId")} == {
        "leadId": ack["leadId"], "status": "new", "source": "offline_form", "name": "Ana Díaz",
        "email": "ana@example.com", "offlineReason": "no_agent_online", "language": "es-MX",
        "preChat": {"vehicle": "F-150"}, "visitorId": visitor["visitorId"]}


def test_each_offline_case_is_reported_by_the_session_and_recorded_on_the_lead(local_stack: Any,
                                                                               chat: Harness) -> None:
    deactivated = new_tenant(local_stack, status=ClientStatus.DEACTIVATED)
    closed = new_tenant(local_stack, hours={"preset": "call_on_me", "weekly": {}})  # never open
    staffed = new_tenant(local_stack)
    online_agent(local_stack, chat, staffed)
    online_agent(local_stack, chat, closed)  # online, yet the client is closed

    cases = [(deactivated, "service_deactivated"), (closed, "outside_hours")]
    for tenant, reason in cases:
        visitor = session(local_stack, tenant)
        assert visitor["offline"]["reason"] == reason
        status, ack, _ = offline(local_stack, tenant, visitor["visitorToken"])
        assert status == 201, ack
    assert session(local_stack, staffed)["offline"] is None

    # No answer within the timeout: the widget sends the conversation nobody accepted.
    visitor_ws, visitor = chat.visitor(_demo(staffed))
    started = visitor_ws.ok("startConversation", text="hello?")
    conversation_id = started["conversation"]["conversationId"]
    stranger = session(local_stack, staffed)
    status, refused, _ = offline(local_stack, staffed, stranger["visitorToken"], conversationId=conversation_id)
    assert (status, refused["code"]) == (400, "invalid_request")  # someone else's chat cannot be named
    status, ack, _ = offline(local_stack, staffed, visitor["visitorToken"], reason="no_answer",
                             conversationId=conversation_id)
    assert status == 201, ack
    local_stack.drain_streams()

    for tenant, reason in [*cases, (staffed, "no_answer")]:
        (lead,) = leads_of(local_stack, tenant, login(local_stack, tenant.agent_username))
        assert lead["offlineReason"] == reason
        assert len(local_stack.smtp.to(tenant.inbox)) == 1
    assert lead["conversationId"] == conversation_id


@dataclass(frozen=True)
class _Demo:
    widget_key: str
    origin: str


def _demo(tenant: Tenant) -> _Demo:
    return _Demo(tenant.client.widget_key, tenant.origin)


@pytest.mark.parametrize(("fields", "code"), [
    ({"email": "ana@example"}, "invalid_request"),
    ({"email": "ana@example.com\r\nBcc: x@evil.test"}, "invalid_request"),
    ({"name": ""}, "invalid_request"),
    ({"text": " "}, "invalid_request"),
    ({"text": "x" * 4001}, "invalid_request"),
    ({"phone": "call me maybe"}, "invalid_request"),
    ({"page": "javascript:alert(1)"}, "invalid_request"),
    ({"language": "english please"}, "invalid_request"),
    ({"preChat": {"bad key": "x"}}, "invalid_request"),
    ({"unknownField": 1}, "invalid_request"),
    ({"conversationId": "../../etc"}, "invalid_request"),
    ({"visitorToken": "forged.token"}, "unauthorized"),
])
def test_bad_input_is_refused_and_stores_nothing(local_stack: Any, fields: dict[str, Any], code: str) -> None:
    tenant = new_tenant(local_stack)
    visitor = session(local_stack, tenant)
    status, body, _ = offline(local_stack, tenant, visitor["visitorToken"], **fields)
    assert status in (400, 401) and body["code"] == code, body
    local_stack.drain_streams()
    assert leads_of(local_stack, tenant, login(local_stack, tenant.agent_username)) == []
    assert local_stack.smtp.to(tenant.inbox) == []


def test_a_conversation_that_no_longer_exists_is_dropped_not_refused(local_stack: Any) -> None:
    tenant = new_tenant(local_stack, notification=False)
    status, ack, _ = offline(local_stack, tenant, session(local_stack, tenant)["visitorToken"],
                             conversationId="conv_deleted_since")
    assert status == 201, ack
    (lead,) = leads_of(local_stack, tenant, login(local_stack, tenant.agent_username))
    assert lead["conversationId"] is None


def test_wrong_origin_or_another_clients_token_is_refused(local_stack: Any) -> None:
    tenant, other = new_tenant(local_stack), new_tenant(local_stack)
    visitor = session(local_stack, tenant)
    body = {"widgetKey": tenant.client.widget_key, "visitorToken": visitor["visitorToken"], "name": "A",
            "email": "a@example.com", "message": "hi"}
    status, refused, _ = call(local_stack, "POST", "/api/visitor/offline-message", body, origin="https://evil.test")
    assert (status, refused["code"]) == (403, "origin_not_allowed")
    status, refused, _ = offline(local_stack, other, visitor["visitorToken"])
    assert (status, refused["code"]) == (401, "unauthorized")
    assert leads_of(local_stack, other, login(local_stack, other.agent_username)) == []


def test_flooding_is_rate_limited_per_visitor(local_stack: Any) -> None:
    tenant = new_tenant(local_stack, notification=False)
    visitor = session(local_stack, tenant)
    for _ in range(5):
        assert offline(local_stack, tenant, visitor["visitorToken"])[0] == 201
    status, body, headers = offline(local_stack, tenant, visitor["visitorToken"])
    assert status == 429 and body["code"] == "rate_limited"
    assert 0 < body["retryAfter"] <= 3600 and headers["Retry-After"] == str(body["retryAfter"])
    # Another visitor of the same client is not held back.
    assert offline(local_stack, tenant, session(local_stack, tenant)["visitorToken"])[0] == 201
    assert len(leads_of(local_stack, tenant, login(local_stack, tenant.agent_username))) == 6


def test_smtp_down_keeps_the_lead_and_delivers_the_email_once_it_is_back(local_stack: Any) -> None:
    tenant = new_tenant(local_stack)
    visitor = session(local_stack, tenant)
    local_stack.smtp.stop()
    try:
        status, ack, _ = offline(local_stack, tenant, visitor["visitorToken"])
        assert status == 201
        local_stack.drain_streams()  # the first try fails: connection refused
        (lead,) = leads_of(local_stack, tenant, login(local_stack, tenant.agent_username))
        email = outbox_repository().get(lead_email_id(local_stack, tenant, lead["leadId"]))
        assert email is not None and email.status is EmailStatus.RETRYING and email.attempts == 1
    finally:
        local_stack.smtp.start()
    assert local_stack.smtp.to(tenant.inbox) == []
    local_stack.advance(timedelta(seconds=45))  # past the first backoff (30 s): the retry workflow tries again
    (mail,) = local_stack.smtp.to(tenant.inbox)
    assert ack["leadId"] in mail.text
    sent = outbox_repository().get(lead_email_id(local_stack, tenant, lead["leadId"]))
    assert sent is not None and sent.status is EmailStatus.SENT and sent.attempts == 1


def lead_email_id(stack: Any, tenant: Tenant, lead_id: str) -> str:
    from parley.composition.leads import lead_repository

    lead = lead_repository().get(tenant.client.client_id, lead_id)
    assert lead is not None and lead.email_id
    return lead.email_id


def test_inbox_is_tenant_scoped_and_role_checked(local_stack: Any) -> None:
    tenant, other = new_tenant(local_stack), new_tenant(local_stack)
    lead_id = offline(local_stack, tenant, session(local_stack, tenant)["visitorToken"])[1]["leadId"]
    base = f"/api/clients/{tenant.client.client_id}/leads"
    stranger = login(local_stack, other.agent_username)
    for method, path, body in [("GET", base, None), ("GET", f"{base}/{lead_id}", None),
                               ("PATCH", f"{base}/{lead_id}", {"status": "done"}),
                               ("POST", f"{base}/{lead_id}/notes", {"text": "mine now"})]:
        status, refused, _ = call(local_stack, method, path, body, token=stranger)
        assert (status, refused["code"]) == (403, "client_not_served"), (method, path)
        assert call(local_stack, method, path, body)[0] == 401
    owner = login(local_stack, "owner-sierra")  # a client's dashboard user is not staff
    assert call(local_stack, "GET", base, token=owner)[1]["code"] == "role_required"
    # Another tenant's lead id under one's own client is simply not there.
    own = login(local_stack, other.agent_username)
    assert call(local_stack, "GET", f"/api/clients/{other.client.client_id}/leads/{lead_id}", token=own)[0] == 404
    lead = call(local_stack, "GET", f"{base}/{lead_id}", token=login(local_stack, tenant.agent_username))[1]
    assert lead["status"] == "new" and lead["notes"] == []


def test_agents_work_a_lead_status_assignee_and_append_only_notes(local_stack: Any) -> None:
    tenant = new_tenant(local_stack, notification=False)
    colleague = f"colleague-{secrets.token_hex(3)}"
    colleague_id = local_stack.add_agent(colleague, "Casey Colleague", [tenant.client.client_id])
    token = login(local_stack, tenant.agent_username)
    lead_id = offline(local_stack, tenant, session(local_stack, tenant)["visitorToken"])[1]["leadId"]
    base = f"/api/clients/{tenant.client.client_id}/leads/{lead_id}"

    status, lead, _ = call(local_stack, "PATCH", base, {"status": "in_progress", "assigneeId": colleague_id,
                                                         "version": 0}, token=token)
    assert status == 200 and (lead["status"], lead["assigneeName"], lead["version"]) == (
        "in_progress", "Casey Colleague", 1)
    assert call(local_stack, "PATCH", base, {"status": "done", "version": 0}, token=token)[0] == 409  # stale
    assert call(local_stack, "PATCH", base, {"status": "closed"}, token=token)[0] == 400
    assert call(local_stack, "PATCH", base, {"assigneeId": "ag_nobody"}, token=token)[0] == 400
    assert call(local_stack, "PATCH", base, {}, token=token)[0] == 400
    for text in ("Called back, no answer", "Left a voicemail"):
        assert call(local_stack, "POST", f"{base}/notes", {"text": text}, token=token)[0] == 201
    assert call(local_stack, "POST", f"{base}/notes", {"text": ""}, token=token)[0] == 400
    notes = call(local_stack, "GET", base, token=login(local_stack, colleague))[1]["notes"]
    assert [n["text"] for n in notes] == ["Called back, no answer", "Left a voicemail"]
    assert {n["authorName"] for n in notes} == {f"Agent {tenant.client.client_id.removeprefix('cl_')}"}

    assert [x["leadId"] for x in leads_of(local_stack, tenant, token, "?status=in_progress")] == [lead_id]
    assert leads_of(local_stack, tenant, token, "?status=new") == []
    assert call(local_stack, "GET", f"/api/clients/{tenant.client.client_id}/leads?status=open", token=token)[0] == 400


def test_pages_follow_the_cursor_and_a_cursor_cannot_cross_tenants(local_stack: Any) -> None:
    tenant, other = new_tenant(local_stack, notification=False), new_tenant(local_stack, notification=False)
    for _ in range(3):
        offline(local_stack, tenant, session(local_stack, tenant)["visitorToken"])
    token = login(local_stack, tenant.agent_username)
    base = f"/api/clients/{tenant.client.client_id}/leads"
    first = call(local_stack, "GET", f"{base}?limit=2", token=token)[1]
    second = call(local_stack, "GET", f"{base}?limit=2&cursor={first['nextCursor']}", token=token)[1]
    ids = [x["leadId"] for x in first["leads"] + second["leads"]]
    assert len(ids) == len(set(ids)) == 3 and ids == sorted(ids, reverse=True)  # newest first
    status, body, _ = call(local_stack, "GET", f"/api/clients/{other.client.client_id}/leads?cursor="
                           f"{first['nextCursor']}", token=login(local_stack, other.agent_username))
    assert (status, body["code"]) == (400, "invalid_request")


def test_an_agent_turns_a_chat_into_a_lead_once(local_stack: Any, chat: Harness) -> None:
    tenant, other = new_tenant(local_stack), new_tenant(local_stack)
    visitor_ws, _ = chat.visitor(_demo(tenant))
    conversation_id = visitor_ws.ok("startConversation", text="My brakes squeak")["conversation"]["conversationId"]
    path = f"/api/conversations/{conversation_id}/lead"
    assert call(local_stack, "POST", path, {}, token=login(local_stack, other.agent_username))[0] == 404
    token = login(local_stack, tenant.agent_username)
    status, lead, _ = call(local_stack, "POST", path, {}, token=token)
    assert status == 201 and (lead["source"], lead["conversationId"]) == ("conversation", conversation_id)
    assert "My brakes squeak" in lead["message"]
    status, again, _ = call(local_stack, "POST", path, {"message": "twice"}, token=token)
    assert (status, again["code"]) == (409, "lead_exists")
    local_stack.drain_streams()
    (mail,) = local_stack.smtp.to(tenant.inbox)
    assert "made from a chat by" in mail.text


def test_the_clients_export_includes_its_leads(local_stack: Any) -> None:
    sierra = Tenant(client=_client(local_stack, "cl_sierra"), agent_username="alex", inbox="leads@sierra.test")
    lead_id = offline(local_stack, sierra, session(local_stack, sierra)["visitorToken"])[1]["leadId"]
    status, reply, _ = call(local_stack, "GET", "/api/client/export", token=login(local_stack, "owner-sierra"))
    assert status == 200, reply
    with urllib.request.urlopen(reply["downloadUrl"], timeout=60) as response:  # the export is in S3
        export = json.loads(response.read())
    assert lead_id in {lead["leadId"] for lead in export["leads"]}
    assert all(lead["clientId"] == "cl_sierra" for lead in export["leads"])


def _client(stack: Any, client_id: str) -> Client:
    from parley.composition.chat import tenant_repository

    client = tenant_repository().get_client(client_id)
    assert client is not None
    return client


def test_deletion_after_retention_removes_the_clients_leads_only(local_stack: Any) -> None:
    from parley.composition.leads import lead_repository

    tenant, other = new_tenant(local_stack, notification=False), new_tenant(local_stack, notification=False)
    for _ in range(2):
        offline(local_stack, tenant, session(local_stack, tenant)["visitorToken"])
    offline(local_stack, other, session(local_stack, other)["visitorToken"])
    assert lead_repository().delete_all_of_client(tenant.client.client_id) == 4  # 2 leads + 2 visitors' counters
    assert leads_of(local_stack, tenant, login(local_stack, tenant.agent_username)) == []
    assert lead_repository().delete_all_of_client(tenant.client.client_id) == 0  # nothing of theirs is left
    assert len(leads_of(local_stack, other, login(local_stack, other.agent_username))) == 1
