"""What the chat service asks of routing. `Router` implements it; `NO_ROUTING` (chats wait
to be accepted by hand, as before routing existed) keeps the chat domain usable without it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from parley.chat.models import Conversation, Identity
from parley.errors import ServiceUnavailable
from parley.routing.choice import AgentStatus
from parley.routing.models import AgentState


class RoutingHooks(Protocol):
    def route_new(self, conversation: Conversation) -> Conversation: ...
    def queue_info(self, conversation: Conversation) -> dict[str, int] | None: ...
    def on_accepted(self, conversation: Conversation, identity: Identity) -> None: ...
    def on_closed(self, conversation: Conversation) -> None: ...
    def on_agent_disconnected(self, agent_id: str) -> None: ...
    def on_visitor_disconnected(self, conversation_ids: Iterable[str]) -> None: ...
    def set_status(self, identity: Identity, status: AgentStatus) -> AgentState: ...
    def transfer(self, identity: Identity, conversation_id: str, target: tuple[str | None, str | None],
                 note: str) -> Conversation: ...


class _NoRouting:
    def route_new(self, conversation: Conversation) -> Conversation:
        return conversation

    def queue_info(self, conversation: Conversation) -> dict[str, int] | None:
        return None

    def on_accepted(self, conversation: Conversation, identity: Identity) -> None:
        return None

    def on_closed(self, conversation: Conversation) -> None:
        return None

    def on_agent_disconnected(self, agent_id: str) -> None:
        return None

    def on_visitor_disconnected(self, conversation_ids: Iterable[str]) -> None:
        return None

    def set_status(self, identity: Identity, status: AgentStatus) -> AgentState:
        raise ServiceUnavailable("routing is not enabled")

    def transfer(self, identity: Identity, conversation_id: str, target: tuple[str | None, str | None],
                 note: str) -> Conversation:
        raise ServiceUnavailable("routing is not enabled")


NO_ROUTING: RoutingHooks = _NoRouting()
