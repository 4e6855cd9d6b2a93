"""Frames a client sends (validated pydantic models) and frames the server sends."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from parley.errors import EmptyMessage, InvalidJson, InvalidRequest, MessageTooLong, UnknownAction
from parley.interfaces import MAX_MESSAGE_CHARS  # one source, also read by infra/wiring.py

MAX_NOTE_CHARS = 1000  # a transfer note
MAX_PRECHAT_ANSWERS = 20  # a form has at most 12 fields (parley.admin.requests)

ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]


class _Action(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    request_id: Annotated[str, StringConstraints(max_length=64)] | None = Field(default=None, alias="requestId")


class _TextMixin(BaseModel):
    text: str

    def clean_text(self) -> str:
        text = self.text.strip()
        if not text:
            raise EmptyMessage("text is empty")
        if len(text) > MAX_MESSAGE_CHARS:
            raise MessageTooLong(f"text is {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}")
        return text


class Ping(_Action):
    action: Literal["ping"]


class StartConversation(_Action, _TextMixin):
    action: Literal["startConversation"]
    name: ShortText = ""
    email: ShortText = ""
    page_url: Annotated[str, StringConstraints(max_length=2000)] = Field(default="", alias="pageUrl")
    language: Annotated[str, StringConstraints(max_length=16)] = ""
    # The pre-chat form's answers by field key, checked against the client's form (parley.chat.prechat).
    pre_chat: Annotated[dict[Annotated[str, StringConstraints(max_length=64)], Any],
                        Field(max_length=MAX_PRECHAT_ANSWERS)] = Field(default_factory=dict, alias="preChat")


class SendMessage(_Action, _TextMixin):
    action: Literal["sendMessage"]
    conversation_id: ConversationId = Field(alias="conversationId")


class Typing(_Action):
    action: Literal["typing"]
    conversation_id: ConversationId = Field(alias="conversationId")
    is_typing: bool = Field(alias="isTyping")


class CloseConversation(_Action):
    action: Literal["closeConversation"]
    conversation_id: ConversationId = Field(alias="conversationId")


class Resume(_Action):
    action: Literal["resume"]
    conversation_id: ConversationId = Field(alias="conversationId")
    since_seq: int = Field(alias="sinceSeq", ge=0)


class SubscribeQueue(_Action):
    action: Literal["subscribeQueue"]


class AcceptConversation(_Action):
    action: Literal["acceptConversation"]
    conversation_id: ConversationId = Field(alias="conversationId")


class SetStatus(_Action):
    """An agent's presence (parley.routing): online gets chats routed, away keeps its chats only."""

    action: Literal["setStatus"]
    status: Literal["online", "away", "offline"]


class TransferConversation(_Action):
    """Hand a chat to an agent or a team (exactly one), with a note only agents see."""

    action: Literal["transferConversation"]
    conversation_id: ConversationId = Field(alias="conversationId")
    to_agent_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, alias="toAgentId")
    to_team_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, alias="toTeamId")
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE_CHARS)] = ""

    @model_validator(mode="after")
    def _one_target(self) -> TransferConversation:
        if (self.to_agent_id is None) == (self.to_team_id is None):
            raise ValueError("give exactly one of toAgentId and toTeamId")
        return self


ChatAction = Annotated[
    Ping | StartConversation | SendMessage | Typing | CloseConversation | Resume | SubscribeQueue | AcceptConversation
    | SetStatus | TransferConversation,
    Field(discriminator="action"),
]
ACTIONS = frozenset(
    {"ping", "startConversation", "sendMessage", "typing", "closeConversation", "resume", "subscribeQueue",
     "acceptConversation", "setStatus", "transferConversation"}
)
_adapter: TypeAdapter[ChatAction] = TypeAdapter(ChatAction)


def request_id_of(body: str | None) -> str | None:
    """Best effort: the requestId of a frame, so even an error reply can echo it."""
    try:
        data = json.loads(body or "")
    except ValueError:
        return None
    rid = data.get("requestId") if isinstance(data, dict) else None
    return rid if isinstance(rid, str) and len(rid) <= 64 else None


def parse_action(body: str | None) -> ChatAction:
    try:
        data = json.loads(body or "")
    except ValueError as exc:
        raise InvalidJson("the frame is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidJson("the frame must be a JSON object")
    action = data.get("action")
    if action not in ACTIONS:
        raise UnknownAction(f"unknown action {action!r}" if action is not None else "missing action")
    try:
        return _adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"][1:]) or "frame"
        raise InvalidRequest(f"{field}: {first['msg']}") from exc


def ack(action: str, request_id: str | None, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "ack", "action": action, "requestId": request_id, "data": data or {}}


def error_frame(code: str, message: str, request_id: str | None) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, "requestId": request_id}
