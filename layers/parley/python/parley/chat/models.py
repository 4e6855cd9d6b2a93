"""Chat domain objects (pydantic v2). Public shapes are documented in docs/protocol.md."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from parley.clock import iso


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

    @property
    def client_id(self) -> str:
        return self.client_ids[0]


class Connection(BaseModel):
    connection_id: str
    identity: Identity
    connected_at: datetime


class Client(BaseModel):
    """A provider's client (a tenant): the business whose website carries the widget."""

    client_id: str
    name: str
    widget_key: str
    allowed_origins: list[str] = Field(default_factory=list)
    status: ClientStatus = ClientStatus.ACTIVE
    accent_color: str = "#1f6feb"
    greeting: str = ""

    def allows_origin(self, origin: str | None) -> bool:
        return origin is not None and origin.rstrip("/") in {o.rstrip("/") for o in self.allowed_origins}


class Agent(BaseModel):
    agent_id: str  # the Cognito user's `sub`
    name: str
    email: str = ""
    client_ids: list[str] = Field(default_factory=list)
    enabled: bool = True


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

    def public(self) -> dict[str, Any]:
        return {
            "conversationId": self.conversation_id,
            "seq": self.seq,
            "kind": self.kind,
            "role": self.role.value,
            "senderName": self.sender_name,
            "text": self.text,
            "sentAt": iso(self.sent_at),
        }


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
        }
