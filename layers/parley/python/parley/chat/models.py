"""Chat domain objects (pydantic v2). Public shapes are documented in docs/protocol.md."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parley.auth.roles import StaffRole
from parley.clock import iso
from parley.hours.models import BusinessHours


class Role(StrEnum):
    VISITOR = "visitor"
    AGENT = "agent"
    SYSTEM = "system"


class ConversationStatus(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class ClientStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"  # service cut off (default, termination): offline form only
    DISABLED = "disabled"  # widget key refused altogether


class Identity(BaseModel):
    """Who is behind a connection, established once at $connect."""

    model_config = ConfigDict(frozen=True)

    role: Role
    user_id: str  # visitor id or agent id (Cognito sub)
    client_ids: tuple[str, ...]  # a visitor belongs to one client; an agent may serve several
    name: str = ""
    staff_role: StaffRole | None = None  # agents only: agent / supervisor / admin (from the Agent item)

    @property
    def client_id(self) -> str:
        return self.client_ids[0]


class Connection(BaseModel):
    connection_id: str
    identity: Identity
    connected_at: datetime


class Tier(StrEnum):
    """PR-6 service tiers: a per-client setting that switches features on."""

    BASIC = "basic"  # query handling, troubleshooting, ticket creation
    PROACTIVE = "proactive"  # + proactive invitations, lead generation
    PREMIUM = "premium"  # + CRM integration, multilingual, after-hours, real-time analytics


class PreChatFieldType(StrEnum):
    TEXT = "text"
    EMAIL = "email"
    PHONE = "phone"
    TEXTAREA = "textarea"
    SELECT = "select"  # one of `options`
    CONSENT = "consent"  # a checkbox; `consent_text` is what the visitor agrees to


class PreChatField(BaseModel):
    """One field of a client's pre-chat form (validated on the server when a chat starts)."""

    key: str  # the answer's name on the conversation, e.g. "name", "phone", "vehicle"
    label: str
    type: PreChatFieldType = PreChatFieldType.TEXT
    required: bool = False
    consent_text: str = ""
    options: list[str] = Field(default_factory=list)  # select fields only

    def public(self) -> dict[str, Any]:
        """The field as the widget renders it (POST /api/visitor/session, docs/protocol.md)."""
        data: dict[str, Any] = {"key": self.key, "label": self.label, "type": self.type.value,
                                "required": self.required}
        if self.type is PreChatFieldType.SELECT:
            data["options"] = list(self.options)
        if self.type is PreChatFieldType.CONSENT:
            data["consentText"] = self.consent_text
        return data


DEFAULT_TEAM_ID = "tm_default"  # self-service signups land here, so their chats are never unanswered


class Client(BaseModel):
    """A provider's client (a tenant): the business whose website carries the widget."""

    client_id: str
    name: str
    widget_key: str
    allowed_origins: list[str] = Field(default_factory=list)
    status: ClientStatus = ClientStatus.ACTIVE
    disabled_from: ClientStatus | None = None  # the status an admin's disable replaced (enable restores it)
    accent_color: str = "#1f6feb"
    greeting: str = ""
    team_ids: list[str] = Field(default_factory=list)  # the teams whose agents answer this client
    languages: list[str] = Field(default_factory=lambda: ["en"])
    pre_chat_fields: list[PreChatField] = Field(default_factory=list)
    no_answer_timeout_seconds: int = 60  # an assigned agent who does not answer loses the chat after this
    idle_timeout_seconds: int = 1800  # an idle conversation is closed after this
    notification_email: str = ""  # where leads are emailed
    tier: Tier = Tier.BASIC
    self_service: bool = False  # signed up on its own (POST /api/signup), not onboarded by an admin
    hours: BusinessHours | None = None  # weekly hours, holidays, after-hours (docs/hours.md); None: always open

    def allows_origin(self, origin: str | None) -> bool:
        return origin is not None and origin.rstrip("/") in {o.rstrip("/") for o in self.allowed_origins}

    def with_service(self, status: ClientStatus) -> Client:
        """The client after billing turns its service on or off (default, reinstatement, trial
        end). An admin's disable stands: billing then changes the status the admin's enable will
        restore, not the disable itself."""
        if self.status is ClientStatus.DISABLED:
            return self.model_copy(update={"disabled_from": status})
        return self.model_copy(update={"status": status})


class Agent(BaseModel):
    agent_id: str  # the Cognito user's `sub`
    name: str
    email: str = ""
    # The clients the agent serves: the union of the clients of their teams, kept in step by the
    # admin service whenever teams or assignments change (the $connect identity reads it in one get).
    client_ids: list[str] = Field(default_factory=list)
    team_ids: list[str] = Field(default_factory=list)
    max_concurrent_chats: int = Field(default=3, ge=1)
    role: StaffRole = StaffRole.AGENT
    disabled: bool = False
    username: str = ""  # the Cognito username (opaque), for admin actions on the user

    @model_validator(mode="before")
    @classmethod
    def _legacy_enabled(cls, data: Any) -> Any:
        # Items written before `disabled` carried `enabled`.
        if isinstance(data, dict) and "enabled" in data and "disabled" not in data:
            data = {**data, "disabled": not data["enabled"]}
        return data

    @property
    def enabled(self) -> bool:
        return not self.disabled


class Team(BaseModel):
    """A group of agents; teams are assigned to clients (`Client.team_ids`)."""

    team_id: str
    name: str
    agent_ids: list[str] = Field(default_factory=list)
    client_ids: list[str] = Field(default_factory=list)  # kept in step with Client.team_ids


class Message(BaseModel):
    conversation_id: str
    client_id: str
    seq: int
    kind: str = "text"  # "text" | "system"
    role: Role
    sender_id: str
    sender_name: str = ""
    text: str
    sent_at: datetime
    # System messages travel as a code with params (docs/protocol.md), translated in the browser;
    # `text` is an English fallback for older front ends.
    code: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    # The sender's own id for the send (docs/protocol.md, "Idempotent sends"), so a client can
    # match a relayed or resumed copy of its message to the send it is waiting on.
    client_message_id: str | None = None

    def public(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "conversationId": self.conversation_id,
            "seq": self.seq,
            "kind": self.kind,
            "role": self.role.value,
            "senderName": self.sender_name,
            "text": self.text,
            "sentAt": iso(self.sent_at),
        }
        if self.code is not None:
            data.update(code=self.code, params=self.params)
        if self.client_message_id is not None:
            data["clientMessageId"] = self.client_message_id
        return data


class Conversation(BaseModel):
    conversation_id: str
    client_id: str
    status: ConversationStatus
    visitor_id: str
    visitor_name: str = ""
    visitor_email: str = ""
    agent_id: str | None = None
    agent_name: str | None = None
    last_seq: int = 0
    created_at: datetime
    accepted_at: datetime | None = None
    closed_at: datetime | None = None
    page_url: str = ""
    language: str = ""
    preview: str = ""
    visitor_messages: int = 0
    agent_messages: int = 0
    first_visitor_message_at: datetime | None = None
    first_agent_reply_at: datetime | None = None
    connections: dict[str, str] = Field(default_factory=dict)  # connection id -> role
    # Routing (parley.routing): the teams it is routed through, a counter bumped by every
    # (re)assignment so timers and disconnects act on the assignment they were set for, and the
    # client's timeouts copied at the start (no client read on the timer path).
    team_ids: list[str] = Field(default_factory=list)
    routing_version: int = 0
    assigned_at: datetime | None = None
    agent_messages_at_assignment: int = 0
    no_answer_timeout_seconds: int = 0
    idle_timeout_seconds: int = 0
    updated_at: datetime | None = None
    pre_chat: dict[str, str] = Field(default_factory=dict)  # the visitor's pre-chat answers (parley.chat.prechat)

    def public(self) -> dict[str, Any]:
        return {
            "conversationId": self.conversation_id,
            "clientId": self.client_id,
            "status": self.status.value,
            "visitorId": self.visitor_id,
            "visitorName": self.visitor_name,
            "agentId": self.agent_id,
            "agentName": self.agent_name,
            "lastSeq": self.last_seq,
            "createdAt": iso(self.created_at),
            "acceptedAt": iso(self.accepted_at) if self.accepted_at else None,
            "closedAt": iso(self.closed_at) if self.closed_at else None,
            "pageUrl": self.page_url,
            "preview": self.preview,
            "preChat": dict(self.pre_chat),
        }
