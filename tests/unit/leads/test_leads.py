"""Leads: the offline form's validation, the lead model, the per-visitor quota window, the
availability decision, and the service's rules with in-memory ports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from parley.auth.roles import RoleRequired
from parley.availability import Availability, AvailabilityService
from parley.chat.models import Agent, Client, ClientStatus, Conversation, ConversationStatus, Message
from parley.clock import ControlledClock
from parley.email.models import OutboxEmail
from parley.email.outbox import EmailOutbox
from parley.errors import InvalidRequest, NotFound
from parley.leads.errors import ClientNotServed, QuotaExceeded, RateLimited
from parley.leads.models import Lead, LeadNote, LeadSource, LeadStatus, OfflineMessage, OfflineReason
from parley.leads.service import LeadChanges, LeadQuota, LeadService, Staff

NOW = datetime(2026, 3, 2, 17, 59, 30, tzinfo=UTC)
FORM = {"name": "Ana", "email": "ana@example.com", "message": "Hello"}


def form(**fields: Any) -> OfflineMessage:
    return OfflineMessage.model_validate({**FORM, **fields})


# --- validation -------------------------------------------------------------------------
def test_the_widgets_text_field_and_camel_case_names_are_accepted() -> None:
    parsed = OfflineMessage.model_validate(
        {"name": " Ana ", "email": " ana@example.com ", "text": " Is it sold? ", "preChat": {"vehicle": "F-150"},
         "pageUrl": "https://s.test/a", "conversationId": "c_1", "reason": "no_answer", "language": "es-MX"})
    assert (parsed.name, parsed.email, parsed.message, parsed.page, parsed.language) == (
        "Ana", "ana@example.com", "Is it sold?", "https://s.test/a", "es-MX")
    assert parsed.pre_chat == {"vehicle": "F-150"} and parsed.reason is OfflineReason.NO_ANSWER


@pytest.mark.parametrize("fields", [
    {"email": "nope"}, {"email": "a@b"}, {"email": "a@b.com\nBcc: c@d.com"}, {"name": "Ana\r\nX-Header: 1"},
    {"name": "  "}, {"name": "x" * 101}, {"message": ""}, {"message": "\x00"}, {"message": "x" * 4001},
    {"phone": "12"}, {"phone": "call me"}, {"page": "ftp://x.test"}, {"page": "https:// spaced"},
    {"language": "en_US!"}, {"preChat": {"1abc": "x"}}, {"preChat": {"k": "x" * 501}},
    {"preChat": {f"k{i}": "v" for i in range(21)}}, {"conversationId": "../x"}, {"reason": "bored"},
    {"extra": "field"},
])
def test_bad_fields_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        form(**fields)


# --- lead model -------------------------------------------------------------------------
def test_lead_public_shape() -> None:
    lead = Lead(lead_id="ld_1", client_id="cl_1", source=LeadSource.OFFLINE_FORM, name="Ana", message="Hi",
                offline_reason=OfflineReason.OUTSIDE_HOURS, created_at=NOW, updated_at=NOW,
                notes=[LeadNote(author_id="ag_1", author_name="Alex", text="called", at=NOW)])
    public = lead.public()
    assert public["status"] == "new" and public["offlineReason"] == "outside_hours"
    assert public["notes"] == [{"authorId": "ag_1", "authorName": "Alex", "text": "called",
                                "at": "2026-03-02T17:59:30.000Z"}]
    assert public["createdAt"] == "2026-03-02T17:59:30.000Z"


# --- quota window -----------------------------------------------------------------------
def test_quota_window_is_fixed_per_hour_and_retry_after_counts_to_its_end() -> None:
    quota = LeadQuota()
    assert quota.window(NOW) == (datetime(2026, 3, 2, 17, tzinfo=UTC), datetime(2026, 3, 2, 18, tzinfo=UTC))
    assert quota.key("v_1", NOW) == "LEADQUOTA#v_1#20260302T170000"
    assert quota.key("v_1", NOW + timedelta(seconds=30)) == "LEADQUOTA#v_1#20260302T180000"  # a new window
    assert quota.retry_after(NOW) == 30
    assert quota.retry_after(datetime(2026, 3, 2, 17, 59, 59, 500000, tzinfo=UTC)) == 1  # never 0


# --- availability -----------------------------------------------------------------------
class Hours:
    def __init__(self, open_now: bool) -> None:
        self.open = open_now

    def open_now(self, client: Client, at: datetime) -> tuple[bool, datetime | None]:
        return self.open, None if self.open else at + timedelta(hours=15)


class Presence:
    def __init__(self, online: bool) -> None:
        self.online = online

    def agent_online(self, client: Client) -> bool:
        return self.online


class Service:
    def active(self, client: Client) -> bool:
        return client.status is ClientStatus.ACTIVE


def _client(status: ClientStatus = ClientStatus.ACTIVE, email: str = "leads@c.test") -> Client:
    return Client(client_id="cl_1", name="Sierra", widget_key="wk_1", allowed_origins=["https://s.test"],
                  status=status, notification_email=email)


@pytest.mark.parametrize(("status", "open_now", "online", "expected"), [
    (ClientStatus.DEACTIVATED, True, True, OfflineReason.SERVICE_DEACTIVATED),  # whatever the hours and agents
    (ClientStatus.DEACTIVATED, False, False, OfflineReason.SERVICE_DEACTIVATED),
    (ClientStatus.ACTIVE, False, True, OfflineReason.OUTSIDE_HOURS),  # agents online outside hours: still closed
    (ClientStatus.ACTIVE, True, False, OfflineReason.NO_AGENT_ONLINE),
    (ClientStatus.ACTIVE, True, True, None),
])
def test_availability_order(status: ClientStatus, open_now: bool, online: bool,
                            expected: OfflineReason | None) -> None:
    result = AvailabilityService(Hours(open_now), Presence(online), Service()).of(_client(status), NOW)
    assert result.reason is expected and result.online is (expected is None)
    if expected is OfflineReason.OUTSIDE_HOURS:
        assert result.public() == {"reason": "outside_hours", "nextChange": "2026-03-03T08:59:30.000Z"}
    if expected is None:
        assert result.public() is None


def test_availability_public_is_none_when_online() -> None:
    assert Availability(online=True).public() is None


# --- service with in-memory ports ---------------------------------------------------------
class Store:
    def __init__(self) -> None:
        self.leads: dict[tuple[str, str], Lead] = {}
        self.emails: list[OutboxEmail] = []
        self.quota: dict[str, int] = {}

    def create(self, lead: Lead, email: OutboxEmail | None, quota: tuple[str, int] | None = None,
               once_per_conversation: bool = False) -> None:
        if quota is not None:
            key, limit = quota
            if self.quota.get(key, 0) >= limit:
                raise QuotaExceeded
            self.quota[key] = self.quota.get(key, 0) + 1
        self.leads[(lead.client_id, lead.lead_id)] = lead
        if email is not None:
            self.emails.append(email)

    def get(self, client_id: str, lead_id: str) -> Lead | None:
        return self.leads.get((client_id, lead_id))

    def page(self, client_id: str, status: LeadStatus | None, limit: int,
             cursor: str | None) -> tuple[list[Lead], str | None]:
        return [v for (c, _), v in self.leads.items() if c == client_id and status in (None, v.status)], None

    def all_of_client(self, client_id: str) -> Iterator[Lead]:
        return iter(self.page(client_id, None, 100, None)[0])

    def update(self, client_id: str, lead_id: str, *, sets: dict[str, Any], removes: tuple[str, ...] = (),
               now: datetime, expected_version: int | None) -> Lead:
        lead = self.leads[(client_id, lead_id)]
        data = {**lead.model_dump(), **sets, **{k: None for k in removes}, "version": lead.version + 1}
        self.leads[(client_id, lead_id)] = Lead.model_validate(data)
        return self.leads[(client_id, lead_id)]

    def add_note(self, client_id: str, lead_id: str, note: LeadNote) -> Lead:
        lead = self.leads[(client_id, lead_id)]
        self.leads[(client_id, lead_id)] = lead.model_copy(update={"notes": [*lead.notes, note]})
        return self.leads[(client_id, lead_id)]


class Tenants:
    def __init__(self, client: Client, agents: list[Agent]) -> None:
        self.client = client
        self.agents = {a.agent_id: a for a in agents}

    def client_by_widget_key(self, widget_key: str) -> Client | None:
        return self.client if widget_key == self.client.widget_key else None

    def get_client(self, client_id: str) -> Client | None:
        return self.client if client_id == self.client.client_id else None

    def get_agent(self, agent_id: str) -> Agent | None:
        return self.agents.get(agent_id)

    def served_client_ids(self, agent: Agent) -> list[str]:
        return [*agent.client_ids, *(c for t in agent.team_ids for c in self.team_clients.get(t, []))]

    team_clients: dict[str, list[str]] = {"tm_1": ["cl_1"]}


class Conversations:
    def __init__(self, conversations: list[Conversation]) -> None:
        self.by_id = {c.conversation_id: c for c in conversations}

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        return self.by_id.get(conversation_id)

    def messages_since(self, conversation_id: str, since_seq: int, limit: int = 100) -> tuple[list[Message], bool]:
        return [], False


class NullOutboxStore:
    def put(self, email: OutboxEmail) -> bool:
        return True

    def get(self, email_id: str) -> OutboxEmail | None:
        return None

    def claim(self, email_id: str, attempts: int, now: datetime, lease_until: datetime) -> bool:
        return False

    def mark_sent(self, email_id: str, now: datetime) -> None: ...
    def mark_retry(self, email_id: str, attempts: int, next_attempt_at: datetime, error: str) -> None: ...
    def mark_failed(self, email_id: str, attempts: int, error: str) -> None: ...


ALEX = Agent(agent_id="ag_alex", name="Alex", client_ids=["cl_1"])
BIANCA = Agent(agent_id="ag_bianca", name="Bianca", client_ids=["cl_2"])
CONVERSATION = Conversation(conversation_id="c_1", client_id="cl_1", status=ConversationStatus.WAITING,
                            visitor_id="v_1", created_at=NOW, preview="hello")


def service(client: Client | None = None, online: bool = False) -> tuple[LeadService, Store]:
    store, clock = Store(), ControlledClock(NOW)
    clock.set(NOW)
    availability = AvailabilityService(Hours(True), Presence(online), Service())
    tenants = Tenants(client or _client(), [ALEX, BIANCA])
    return LeadService(store, tenants, Conversations([CONVERSATION]), EmailOutbox(NullOutboxStore(), clock),
                       availability, clock), store


def test_a_lead_and_its_email_are_stored_together_with_the_servers_reason() -> None:
    leads, store = service()
    lead = leads.submit_offline(_client(), "v_1", form(reason="outside_hours"))  # the widget's claim is not trusted
    assert lead.offline_reason is OfflineReason.NO_AGENT_ONLINE
    (email,) = store.emails
    assert email.to == ["leads@c.test"] and email.reply_to == "ana@example.com" and lead.email_id == email.email_id
    assert "offline form (no agent online)" in email.text


def test_no_answer_is_taken_from_the_widget_only_when_the_desk_is_otherwise_open() -> None:
    leads, _ = service(online=True)
    assert leads.submit_offline(_client(), "v_1", form(reason="no_answer", conversationId="c_1")).offline_reason \
        is OfflineReason.NO_ANSWER
    assert leads.submit_offline(_client(), "v_2", form()).offline_reason is None


def test_without_a_notification_address_the_lead_is_stored_alone() -> None:
    leads, store = service(_client(email=""))
    lead = leads.submit_offline(_client(email=""), "v_1", form())
    assert store.emails == [] and lead.email_id is None and store.get("cl_1", lead.lead_id) == lead


def test_the_sixth_message_in_a_window_is_rate_limited_and_another_visitor_is_not() -> None:
    leads, store = service()
    for _ in range(5):
        leads.submit_offline(_client(), "v_1", form())
    with pytest.raises(RateLimited) as limited:
        leads.submit_offline(_client(), "v_1", form())
    assert limited.value.status == 429 and limited.value.retry_after == 30
    leads.submit_offline(_client(), "v_2", form())
    assert len(store.leads) == 6


def test_a_conversation_of_another_visitor_is_refused_and_an_unknown_one_dropped() -> None:
    leads, store = service()
    with pytest.raises(InvalidRequest):
        leads.submit_offline(_client(), "v_other", form(conversationId="c_1"))
    assert store.leads == {}
    assert leads.submit_offline(_client(), "v_1", form(conversationId="c_gone")).conversation_id is None
    assert leads.submit_offline(_client(), "v_1", form(conversationId="c_1")).conversation_id == "c_1"


def test_staff_scope() -> None:
    leads, _ = service()
    lead = leads.submit_offline(_client(), "v_1", form())
    alex, bianca = Staff("ag_alex", ("agents",)), Staff("ag_bianca", ("agents",))
    admin, client_user = Staff("ad_1", ("admins",)), Staff("cu_1", ("clients",))
    assert leads.get_lead(alex, "cl_1", lead.lead_id) == lead
    assert leads.get_lead(admin, "cl_1", lead.lead_id) == lead
    with pytest.raises(ClientNotServed):
        leads.get_lead(bianca, "cl_1", lead.lead_id)
    with pytest.raises(RoleRequired):
        leads.list_leads(client_user, "cl_1", None, 10, None)
    with pytest.raises(NotFound):
        leads.get_lead(alex, "cl_1", "ld_missing")
    with pytest.raises(NotFound):  # another tenant's chat is not there for Bianca
        leads.from_conversation(bianca, "c_1")


def test_an_agent_serving_a_client_through_a_team_works_its_leads() -> None:
    leads, _ = service()
    lead = leads.submit_offline(_client(), "v_1", form())
    teammate = Agent(agent_id="ag_team", name="Tess", client_ids=[], team_ids=["tm_1"])
    leads._tenants.agents[teammate.agent_id] = teammate  # type: ignore[attr-defined]
    assert leads.get_lead(Staff("ag_team", ("agents",)), "cl_1", lead.lead_id) == lead


def test_changes_and_notes() -> None:
    leads, _ = service()
    lead = leads.submit_offline(_client(), "v_1", form())
    alex = Staff("ag_alex", ("agents",))
    changed = leads.change(alex, "cl_1", lead.lead_id, LeadChanges(status=LeadStatus.DONE, assigneeId="ag_alex"))
    assert (changed.status, changed.assignee_name) == (LeadStatus.DONE, "Alex")
    unassigned = leads.change(alex, "cl_1", lead.lead_id, LeadChanges(unassign=True))
    assert unassigned.assignee_id is None
    with pytest.raises(InvalidRequest):  # Bianca does not serve this client
        leads.change(alex, "cl_1", lead.lead_id, LeadChanges(assigneeId="ag_bianca"))
    with pytest.raises(InvalidRequest):
        leads.change(alex, "cl_1", lead.lead_id, LeadChanges())
    noted = leads.add_note(alex, "cl_1", lead.lead_id, "  called back  ")
    assert [(n.author_name, n.text, n.at) for n in noted.notes] == [("Alex", "called back", NOW)]
    with pytest.raises(InvalidRequest):
        leads.add_note(alex, "cl_1", lead.lead_id, "x" * 2001)


def test_a_chat_becomes_a_lead_with_its_context() -> None:
    leads, store = service()
    lead = leads.from_conversation(Staff("ag_alex", ("agents",)), "c_1")
    assert (lead.source, lead.conversation_id, lead.visitor_id, lead.created_by, lead.message) == (
        LeadSource.CONVERSATION, "c_1", "v_1", "ag_alex", "hello")
    assert "made from a chat by Alex" in store.emails[0].text
