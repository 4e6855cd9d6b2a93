"""Frames a client sends (validated pydantic models) and frames the server sends."""

from __future__ import annotations

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

from parley import strict_json
from parley.errors import EmptyMessage, InvalidJson, InvalidRequest, MessageTooLong, UnknownAction
from parley.interfaces import MAX_MESSAGE_CHARS  # one source, also read by infra/wiring.py

MAX_NOTE_CHARS = 1000  # a transfer note
MAX_PRECHAT_ANSWERS = 20  # a form has at most 12 fields (parley.admin.requests)
# Bounds checked on the raw frame before it is parsed (docs/protocol.md, "Frames"): twice the
# largest frame a client builds (4,000 characters of 4 UTF-8 bytes each, a pre-chat form), and
# deeper than any frame is (a frame is an object of scalars; preChat answers are one level more).
MAX_FRAME_BYTES = 64 * 1024
MAX_FRAME_DEPTH = 4

ConversationId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]
# An id the client gives a send so that a retry is recognised (docs/protocol.md, "Idempotent sends").
ClientMessageId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class _Action(BaseModel):
    # Strict: no coercion ("yes" is not a bool, "0" not an int, 1 not a bool); unknown fields
    # are ignored so that newer clients may add some.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, strict=True)
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
    client_message_id: ClientMessageId | None = Field(default=None, alias="clientMessageId")
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
    client_message_id: ClientMessageId | None = Field(default=None, alias="clientMessageId")


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
    """One page of the waiting queue (parley.chat.queue): `limit` chats, oldest or newest first,
    after the `cursor` of the previous reply."""

    action: Literal["subscribeQueue"]
    limit: int = Field(default=50, ge=1, le=100)
    order: Literal["oldest", "newest"] = "oldest"
    cursor: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None


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


def load_frame(body: str | None) -> dict[str, Any]:
    """The frame as a JSON object, bounded in size and depth before it is parsed."""
    try:
        data = strict_json.load(body, max_bytes=MAX_FRAME_BYTES, max_depth=MAX_FRAME_DEPTH)
    except strict_json.JsonRefused as exc:
        if exc.reason is strict_json.Refusal.NOT_JSON:
            raise InvalidJson("the frame is not valid JSON") from exc
        if exc.reason is strict_json.Refusal.TOO_DEEP:
            raise InvalidJson(exc.message) from exc
        raise InvalidRequest(f"frame: {exc.message}") from exc
    if not isinstance(data, dict):
        raise InvalidJson("the frame must be a JSON object")
    return data


def request_id_in(data: dict[str, Any]) -> str | None:
    """The frame's requestId if it is a usable one, so even an error reply can echo it."""
    rid = data.get("requestId")
    return rid if isinstance(rid, str) and len(rid) <= 64 and not strict_json.has_lone_surrogate(rid) else None


def request_id_of(body: str | None) -> str | None:
    """Best effort, never raising: the requestId of a raw frame."""
    try:
        return request_id_in(load_frame(body))
    except InvalidRequest:
        return None


def parse_action(body: str | None) -> ChatAction:
    return action_of(load_frame(body))


def action_of(data: dict[str, Any]) -> ChatAction:
    """The typed action of a loaded frame (`load_frame`); every refusal is an `InvalidRequest`."""
    action = data.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise UnknownAction(f"unknown action {action!r}"[:120] if action is not None else "missing action")
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
