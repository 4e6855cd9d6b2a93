"""The leads domain: a visitor's offline message becomes a lead (rate-limited per visitor,
stored with its notification email in one transaction), an agent turns a chat into a lead, and
staff work leads in the inbox. Every staff action is checked against the clients they serve."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from parley.auth.roles import StaffRole, require_staff
from parley.availability import AvailabilityService
from parley.chat.models import Agent, Client, Conversation, Message, Role
from parley.clock import Clock
from parley.email.models import OutboxEmail
from parley.email.outbox import EmailOutbox
from parley.errors import InvalidRequest, NotFound
from parley.ids import new_id
from parley.leads.errors import ClientNotServed, QuotaExceeded
from parley.leads.models import (
    MAX_MESSAGE_CHARS,
    MAX_NOTE_CHARS,
    Lead,
    LeadNote,
    LeadSource,
    LeadStatus,
    OfflineMessage,
    OfflineReason,
)
from parley.observability import logger
from parley.ratelimit import FixedWindow


class LeadStore(Protocol):
    def create(self, lead: Lead, email: OutboxEmail | None, quota: tuple[str, int] | None = None,
               once_per_conversation: bool = False) -> None: ...
    def get(self, client_id: str, lead_id: str) -> Lead | None: ...
    def page(self, client_id: str, status: LeadStatus | None, limit: int,
             cursor: str | None) -> tuple[list[Lead], str | None]: ...
    def all_of_client(self, client_id: str) -> Iterator[Lead]: ...
    def update(self, client_id: str, lead_id: str, *, sets: dict[str, Any], removes: tuple[str, ...] = (),
               now: datetime, expected_version: int | None) -> Lead: ...
    def add_note(self, client_id: str, lead_id: str, note: LeadNote) -> Lead: ...


class Tenants(Protocol):
    def get_client(self, client_id: str) -> Client | None: ...
    def get_agent(self, agent_id: str) -> Agent | None: ...
    def served_client_ids(self, agent: Agent) -> list[str]: ...


class Conversations(Protocol):
    def get_conversation(self, conversation_id: str) -> Conversation | None: ...
    def messages_since(self, conversation_id: str, since_seq: int, limit: int = ...) -> tuple[list[Message], bool]: ...


class LeadQuota(FixedWindow):
    """Per visitor: at most `limit` offline messages per fixed window (docs/leads.md). The
    counter rides in the lead's own transaction (its key under the client's partition)."""

    name: str = "lead_quota"
    limit: int = Field(default=5, ge=1)
    window_seconds: int = Field(default=3600, ge=60)

    def key(self, visitor_id: str, now: datetime) -> str:
        return f"LEADQUOTA#{visitor_id}#{self.window_label(now)}"


@dataclass(frozen=True)
class Staff:
    """A signed-in member of the provider's staff (from a verified Cognito token)."""

    user_id: str
    groups: tuple[str, ...]
    name: str = ""


class LeadChanges(BaseModel):
    """PATCH body: any of status and assignee (null unassigns), optionally the version read."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    status: LeadStatus | None = None
    assignee_id: str | None = Field(default=None, alias="assigneeId", max_length=100)
    unassign: bool = False
    version: int | None = Field(default=None, ge=0)


class LeadService:
    def __init__(self, store: LeadStore, tenants: Tenants, conversations: Conversations, outbox: EmailOutbox,
                 availability: AvailabilityService | None, clock: Clock) -> None:
        self._store = store
        self._tenants = tenants
        self._conversations = conversations
        self._outbox = outbox
        self._availability = availability
        self._clock = clock
        self.quota = LeadQuota()  # replaceable (tests, a deployment's own limits)

    # --- visitors ------------------------------------------------------------------------
    def submit_offline(self, client: Client, visitor_id: str, form: OfflineMessage) -> Lead:
        now = self._clock.now()
        conversation_id = self._visitor_conversation(client, visitor_id, form.conversation_id)
        if self._availability is None:
            raise RuntimeError("LeadService built without availability cannot take offline messages")
        reason = self._availability.of(client, now).reason
        if reason is None and form.reason is OfflineReason.NO_ANSWER:
            reason = OfflineReason.NO_ANSWER  # a conversation nobody accepted in time (routing told the widget)
        lead = Lead(lead_id=new_id("ld"), client_id=client.client_id, source=LeadSource.OFFLINE_FORM,
                    name=form.name, email=form.email, phone=form.phone, message=form.message, page_url=form.page,
                    language=form.language, pre_chat=form.pre_chat, conversation_id=conversation_id,
                    visitor_id=visitor_id, offline_reason=reason, created_at=now, updated_at=now)
        why = (reason or "visitor chose").replace("_", " ")
        lead, email = self._with_email(client, lead, origin=f"offline form ({why})")
        try:
            self._store.create(lead, email, quota=(self.quota.key(visitor_id, now), self.quota.limit))
        except QuotaExceeded as exc:
            raise self.quota.refusal(now, "messages") from exc
        logger.info("lead stored", lead_id=lead.lead_id, client_id=client.client_id, reason=reason,
                    emailed=email is not None)
        return lead

    def _visitor_conversation(self, client: Client, visitor_id: str, conversation_id: str | None) -> str | None:
        if conversation_id is None:
            return None
        conversation = self._conversations.get_conversation(conversation_id)
        if conversation is None:
            # A widget remembering a chat deleted since (data retention): the message still counts.
            logger.info("offline message names an unknown conversation; stored without it", visitor_id=visitor_id)
            return None
        if conversation.client_id != client.client_id or conversation.visitor_id != visitor_id:
            raise InvalidRequest("conversationId: not a conversation of this visitor")
        return conversation_id

    def _with_email(self, client: Client, lead: Lead, origin: str) -> tuple[Lead, OutboxEmail | None]:
        """The notification to the client's address (none configured: the lead is stored alone)."""
        if not client.notification_email:
            return lead, None
        email = self._outbox.compose(
            to=[client.notification_email], template="lead.new", key=f"lead-{lead.lead_id}",
            reply_to=lead.email or None, client_id=client.client_id,
            data={"visitor_name": lead.name, "visitor_email": lead.email or "—", "visitor_phone": lead.phone or "—",
                  "page_url": lead.page_url or "—", "origin": origin, "client_name": client.name,
                  "message": lead.message, "lead_id": lead.lead_id},
        )
        return lead.model_copy(update={"email_id": email.email_id}), email

    # --- staff ---------------------------------------------------------------------------
    def _check_serves(self, staff: Staff, client_id: str) -> Agent | None:
        """Admins act for every client; agents and supervisors for the clients they serve."""
        role = require_staff(staff.groups)
        agent = self._tenants.get_agent(staff.user_id)
        if role is StaffRole.ADMIN:
            return agent
        # The clients assigned to the agent directly and those of the agent's teams.
        if agent is None or not agent.enabled or client_id not in self._tenants.served_client_ids(agent):
            raise ClientNotServed("you do not serve this client")
        return agent

    def list_leads(self, staff: Staff, client_id: str, status: LeadStatus | None, limit: int,
                   cursor: str | None) -> tuple[list[Lead], str | None]:
        self._check_serves(staff, client_id)
        return self._store.page(client_id, status, limit, cursor)

    def get_lead(self, staff: Staff, client_id: str, lead_id: str) -> Lead:
        self._check_serves(staff, client_id)
        lead = self._store.get(client_id, lead_id)
        if lead is None:
            raise NotFound("no such lead")
        return lead

    def change(self, staff: Staff, client_id: str, lead_id: str, changes: LeadChanges) -> Lead:
        self._check_serves(staff, client_id)
        sets: dict[str, Any] = {}
        removes: tuple[str, ...] = ()
        if changes.status is not None:
            sets["status"] = changes.status
        if changes.unassign:
            removes = ("assignee_id", "assignee_name")
        elif changes.assignee_id is not None:
            assignee = self._tenants.get_agent(changes.assignee_id)
            if assignee is None or not assignee.enabled or client_id not in assignee.client_ids:
                raise InvalidRequest("assigneeId: not an agent who serves this client")
            sets.update(assignee_id=assignee.agent_id, assignee_name=assignee.name)
        if not sets and not removes:
            raise InvalidRequest("nothing to change: give status, assigneeId or unassign")
        return self._store.update(client_id, lead_id, sets=sets, removes=removes, now=self._clock.now(),
                                  expected_version=changes.version)

    def add_note(self, staff: Staff, client_id: str, lead_id: str, text: str) -> Lead:
        agent = self._check_serves(staff, client_id)
        text = text.strip()
        if not text or len(text) > MAX_NOTE_CHARS:
            raise InvalidRequest(f"text: a note has 1 to {MAX_NOTE_CHARS} characters")
        note = LeadNote(author_id=staff.user_id, author_name=agent.name if agent else staff.name, text=text,
                        at=self._clock.now())
        return self._store.add_note(client_id, lead_id, note)

    def from_conversation(self, staff: Staff, conversation_id: str, message: str = "") -> Lead:
        """PR-6 Basic: an agent turns a chat into a lead/ticket (once per conversation)."""
        conversation = self._conversations.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound("no such conversation")
        try:
            agent = self._check_serves(staff, conversation.client_id)
        except ClientNotServed as exc:  # another tenant's chat looks like a missing one
            raise NotFound("no such conversation") from exc
        client = self._tenants.get_client(conversation.client_id)
        if client is None:
            raise NotFound("no such conversation")
        now = self._clock.now()
        lead = Lead(lead_id=new_id("ld"), client_id=client.client_id, source=LeadSource.CONVERSATION,
                    name=conversation.visitor_name or "Visitor", email=conversation.visitor_email,
                    message=(message.strip() or self._transcript(conversation))[:MAX_MESSAGE_CHARS],
                    page_url=conversation.page_url, language=conversation.language,
                    pre_chat=_answers(conversation), conversation_id=conversation_id,
                    visitor_id=conversation.visitor_id, created_by=staff.user_id, created_at=now, updated_at=now)
        author = agent.name if agent else staff.name
        lead, email = self._with_email(client, lead, origin=f"made from a chat by {author or 'an agent'}")
        self._store.create(lead, email, once_per_conversation=True)
        return lead

    def _transcript(self, conversation: Conversation) -> str:
        messages, _ = self._conversations.messages_since(conversation.conversation_id, 0)
        lines = [m.text for m in messages if m.role is Role.VISITOR and m.kind == "text"]
        return "\n".join(lines) or conversation.preview or "(no visitor message)"

    def export(self, client_id: str) -> list[dict[str, Any]]:
        """Every lead of a client, for its data export (LC-3)."""
        return [lead.public() for lead in self._store.all_of_client(client_id)]


def _answers(conversation: Conversation) -> dict[str, str]:
    # Pre-chat answers, where the conversation carries them (parley/chat's pre-chat form).
    raw = conversation.model_dump().get("pre_chat") or {}
    return {str(k): str(v) for k, v in dict(raw).items()} if isinstance(raw, dict) else {}
