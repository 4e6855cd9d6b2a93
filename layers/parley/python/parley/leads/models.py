"""Lead objects and the visitor's offline message, validated strictly (docs/leads.md)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from parley.clock import iso
from parley.email.models import is_email_address

MAX_MESSAGE_CHARS = 4000  # as a chat message (docs/protocol.md)
MAX_NOTE_CHARS = 2000
MAX_NOTES = 100  # notes live on the lead item (one read shows all; 400 KB item limit)
MAX_PRECHAT_FIELDS = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\u2028\u2029]")
_PHONE = re.compile(r"^[0-9+()./ -]{4,40}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class LeadStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class LeadSource(StrEnum):
    OFFLINE_FORM = "offline_form"  # a visitor's offline message
    CONVERSATION = "conversation"  # an agent turned a chat into a lead/ticket


class OfflineReason(StrEnum):
    """Why the visitor got the offline form (parley/availability.py decides the first three)."""

    OUTSIDE_HOURS = "outside_hours"
    NO_AGENT_ONLINE = "no_agent_online"
    SERVICE_DEACTIVATED = "service_deactivated"
    NO_ANSWER = "no_answer"  # nobody accepted within the client's timeout


def _single_line(value: str, field: str) -> str:
    value = value.strip()
    if _LINE_BREAK.search(value) or _CONTROL.search(value):
        raise ValueError(f"{field} must be one line of text")
    return value


def _text(value: str) -> str:
    value = value.strip()
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


class OfflineMessage(BaseModel):
    """The offline form as the widget posts it (camelCase); unknown fields are refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", str_max_length=MAX_MESSAGE_CHARS)

    name: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field(default="", max_length=40)
    # `text` is what the widget of today sends; `message` is the documented name.
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS, validation_alias=AliasChoices("message", "text"))
    page: str = Field(default="", max_length=2000, validation_alias=AliasChoices("page", "pageUrl"))
    language: str = Field(default="", max_length=35)
    pre_chat: dict[str, str] = Field(default_factory=dict, alias="preChat")
    conversation_id: str | None = Field(default=None, alias="conversationId")
    reason: OfflineReason | None = None  # what the widget was told; the server checks it again

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = _single_line(value, "name")
        if not value:
            raise ValueError("name is required")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not is_email_address(value):
            raise ValueError("not a valid email address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        value = value.strip()
        if value and not _PHONE.match(value):
            raise ValueError("a phone number has 4 to 40 digits, spaces and + ( ) - . /")
        return value

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        value = _text(value)
        if not value:
            raise ValueError("message is required")
        return value

    @field_validator("page")
    @classmethod
    def _page(cls, value: str) -> str:
        value = value.strip()
        if value and (urlsplit(value).scheme not in ("http", "https") or _CONTROL.search(value) or " " in value):
            raise ValueError("page must be an http(s) URL")
        return value

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value and not _LANGUAGE.match(value):
            raise ValueError("language must be a language tag such as 'en' or 'es-MX'")
        return value

    @field_validator("pre_chat")
    @classmethod
    def _pre_chat(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_PRECHAT_FIELDS:
            raise ValueError(f"at most {MAX_PRECHAT_FIELDS} pre-chat answers")
        for key, answer in value.items():
            if not _KEY.match(key) or len(answer) > 500:
                raise ValueError(f"pre-chat answer {key[:40]!r}: a field key and at most 500 characters")
        return {k: _text(v) for k, v in value.items()}

    @field_validator("conversation_id")
    @classmethod
    def _conversation(cls, value: str | None) -> str | None:
        if value is not None and not _ID.match(value):
            raise ValueError("not a conversation id")
        return value


class LeadNote(BaseModel):
    author_id: str
    author_name: str = ""
    text: str
    at: datetime

    def public(self) -> dict[str, Any]:
        return {"authorId": self.author_id, "authorName": self.author_name, "text": self.text, "at": iso(self.at)}


class Lead(BaseModel):
    """A lead of a client: `CLIENT#{clientId}` / `LEAD#{leadId}` (docs/data-model.md)."""

    lead_id: str
    client_id: str
    status: LeadStatus = LeadStatus.NEW
    source: LeadSource
    name: str
    email: str = ""
    phone: str = ""
    message: str
    page_url: str = ""
    language: str = ""
    pre_chat: dict[str, str] = Field(default_factory=dict)
    conversation_id: str | None = None
    visitor_id: str | None = None
    offline_reason: OfflineReason | None = None
    created_by: str | None = None  # the agent who made it from a chat
    assignee_id: str | None = None
    assignee_name: str | None = None
    notes: list[LeadNote] = Field(default_factory=list)
    email_id: str | None = None  # the notification in the outbox, if the client has an address
    created_at: datetime
    updated_at: datetime
    version: int = 0

    def public(self) -> dict[str, Any]:
        return {
            "leadId": self.lead_id, "clientId": self.client_id, "status": self.status.value,
            "source": self.source.value, "name": self.name, "email": self.email, "phone": self.phone,
            "message": self.message, "pageUrl": self.page_url, "language": self.language, "preChat": self.pre_chat,
            "conversationId": self.conversation_id, "visitorId": self.visitor_id,
            "offlineReason": self.offline_reason.value if self.offline_reason else None,
            "createdBy": self.created_by, "assigneeId": self.assignee_id, "assigneeName": self.assignee_name,
            "notes": [n.public() for n in self.notes], "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at), "version": self.version,
        }
