"""The chat domain: who may do what, and what is relayed to whom.

Messages are stored before they are acknowledged (ARCHITECTURE principle 6); the
acknowledgement is the route response, relayed frames go to the other connections of the
conversation only, and a connection that answers 410 is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from parley.auth.revocation import AGENT_STATUS, CLIENT_STATUS
from parley.chat import limits, paging, queue
from parley.chat.frames import (
    AcceptConversation,
    ChatAction,
    CloseConversation,
    Ping,
    Resume,
    SendMessage,
    SetStatus,
    StartConversation,
    SubscribeQueue,
    TransferConversation,
    Typing,
)
from parley.chat.models import (
    ClientStatus,
    Connection,
    Conversation,
    ConversationStatus,
    Identity,
    Message,
    Role,
)
from parley.chat.prechat import validate_answers, visitor_contact
from parley.clock import Clock
from parley.errors import ConversationClosed, Forbidden, NotFound, ServiceUnavailable
from parley.gateways.connections import ConnectionsGateway
from parley.ids import new_id
from parley.observability import logger
from parley.repositories.chat import ChatRepository
from parley.repositories.tenants import TenantRepository
from parley.routing.choice import AgentStatus, routing_teams
from parley.routing.hooks import NO_ROUTING, RoutingHooks

# Called as (identity, connection_id, action); each handler takes its own action type.
ActionHandler = Callable[[Identity, str, Any], dict[str, Any]]


class ChatService:
    def __init__(self, chat: ChatRepository, tenants: TenantRepository, relay: ConnectionsGateway,
                 clock: Clock) -> None:
        self._chat = chat
        self._tenants = tenants
        self._relay = relay
        self._clock = clock
        self._routing: RoutingHooks = NO_ROUTING
        self._handlers: dict[type[ChatAction], ActionHandler] = {
            Ping: self._ping, StartConversation: self._start, SendMessage: self._send,
            Typing: self._typing, CloseConversation: self._close, Resume: self._resume,
            SubscribeQueue: self._subscribe_queue, AcceptConversation: self._accept,
            SetStatus: self._set_status, TransferConversation: self._transfer,
        }

    def with_routing(self, routing: RoutingHooks) -> ChatService:
        """Route new chats automatically (parley.routing); without it they wait to be accepted."""
        self._routing = routing
        return self

    # --- $connect / $disconnect ----------------------------------------------------------
    def connect(self, connection_id: str, identity: Identity) -> Connection:
        """Remember a connection the `$connect` authorizer let in (relays and queue broadcasts
        find connections by these items; actions get the identity from the event)."""
        connection = Connection(connection_id=connection_id, identity=identity, connected_at=self._clock.now())
        self._chat.put_connection(connection)
        return connection

    def disconnect(self, connection_id: str) -> None:
        found = self._chat.delete_connection(connection_id)
        if found is None:
            return
        connection, conversations = found
        if connection.identity.role is Role.AGENT:
            self._routing.on_agent_disconnected(connection.identity.user_id)
        else:  # the agent hears when every visitor connection of a chat is gone
            self._routing.on_visitor_disconnected(conversations)

    # --- actions -----------------------------------------------------------------------
    def handle(self, connection_id: str, identity: Identity, action: ChatAction) -> dict[str, Any]:
        """Run one action of `identity` (from the `$connect` authorizer's context: no read).
        Membership is checked on every action by the repository's conditional writes."""
        self._refuse_revoked(identity, action)
        handler = self._handlers.get(type(action))
        if handler is None:
            raise NotFound("unknown action")  # unreachable: parse_action only yields the handled types
        return handler(identity, connection_id, action)

    @staticmethod
    def _ping(identity: Identity, connection_id: str, action: Ping) -> dict[str, Any]:
        return {}

    def _send(self, identity: Identity, connection_id: str, action: SendMessage) -> dict[str, Any]:
        sent = self._chat.send(identity, connection_id, action.conversation_id, action.clean_text(),
                               self._clock.now(), action.client_message_id)
        if sent.duplicate:  # a retry: the original's ack, nothing stored or relayed again
            if connection_id not in sent.conversation.connections:  # retried from a new socket
                self._chat.attach(identity, connection_id, action.conversation_id)
            return {"message": sent.message.public(), "duplicate": True}
        if sent.newly_attached:  # sent without `resume`: detach it on $disconnect too
            self._chat.remember_joined([connection_id], action.conversation_id)
        self._post(sent.conversation, {"type": "message", "conversationId": sent.conversation.conversation_id,
                                       "message": sent.message.public()}, exclude=connection_id)
        return {"message": sent.message.public()}

    def _typing(self, identity: Identity, connection_id: str, action: Typing) -> dict[str, Any]:
        conversation = self._visible(identity, action.conversation_id)
        if conversation.status is ConversationStatus.CLOSED:
            raise ConversationClosed("the conversation is closed")
        self._post(conversation, {"type": "typing", "conversationId": conversation.conversation_id,
                                  "role": identity.role.value, "isTyping": action.is_typing},
                   exclude=connection_id)
        return {}

    def _close(self, identity: Identity, connection_id: str, action: CloseConversation) -> dict[str, Any]:
        message, conversation = self._chat.close(identity, connection_id, action.conversation_id,
                                                 self._clock.now())
        frame = {"type": "conversation.closed", "conversation": conversation.public(),
                 "message": message.public()}
        self._post(conversation, frame, exclude=connection_id)
        if conversation.accepted_at is None:  # still in the queue: agents drop it
            self._broadcast_to_agents(conversation.client_id, frame)
        self._routing.on_closed(conversation)
        return {"conversation": conversation.public()}

    def _resume(self, identity: Identity, connection_id: str, action: Resume) -> dict[str, Any]:
        conversation = self._chat.attach(identity, connection_id, action.conversation_id)
        return self._with_messages({"conversation": conversation.public()}, action.since_seq)

    def _with_messages(self, reply: dict[str, Any], since_seq: int) -> dict[str, Any]:
        """`reply` plus the messages after `since_seq`, as many as fit one frame (parley.chat.paging);
        `hasMore`: the client resumes from the last seq it got."""
        messages, more = self._chat.messages_since(reply["conversation"]["conversationId"], since_seq)
        page, cut = paging.fill([m.public() for m in messages],
                                paging.budget_for({**reply, "messages": [], "hasMore": True}))
        return {**reply, "messages": page, "hasMore": more or cut}

    def _subscribe_queue(self, identity: Identity, connection_id: str, action: SubscribeQueue) -> dict[str, Any]:
        self._require(identity, Role.AGENT)
        found = queue.waiting_page(self._chat, identity.client_ids, action.limit, action.order, action.cursor)
        mine = self._chat.open_for_agent(identity.user_id)
        # The clients this agent serves (the console's Leads inbox picks among them).
        reply: dict[str, Any] = {"mine": [c.public() for c in mine],
                                 "clients": [{"id": client_id} for client_id in identity.client_ids],
                                 "waitingTotal": queue.waiting_total(self._chat, identity.client_ids)}
        budget = paging.budget_for({**reply, "waiting": [], "nextCursor": "x" * 200})
        waiting, cut = paging.fill([c.public() for _, c in found.waiting], budget)
        more = cut or found.more
        next_cursor = found.cursor_after(len(waiting), action.order) if more and waiting else None
        return {**reply, "waiting": waiting, "nextCursor": next_cursor}

    def _accept(self, identity: Identity, connection_id: str, action: AcceptConversation) -> dict[str, Any]:
        self._require(identity, Role.AGENT)
        tabs = self._chat.connections_of_agent(identity.user_id) or [connection_id]
        message, conversation = self._chat.accept(identity, action.conversation_id, tabs,
                                                  self._clock.now())
        frame = {"type": "conversation.accepted", "conversation": conversation.public(),
                 "message": message.public()}
        self._post(conversation, frame, exclude=connection_id)
        self._broadcast_to_agents(conversation.client_id, frame, exclude=set(tabs))
        self._routing.on_accepted(conversation, identity)
        return self._with_messages({"conversation": conversation.public()}, 0)

    def _start(self, identity: Identity, connection_id: str, action: StartConversation) -> dict[str, Any]:
        self._require(identity, Role.VISITOR)
        client = self._tenants.get_client(identity.client_id)
        if client is None or client.status is not ClientStatus.ACTIVE:
            raise ServiceUnavailable("chat is not available right now; leave a message")
        now = self._clock.now()
        text = action.clean_text()
        answers = validate_answers(client.pre_chat_fields, action.pre_chat)  # refused: nothing stored
        name, email = visitor_contact(client.pre_chat_fields, answers)
        # With a client message id the conversation's id is derived from it, so a retried start
        # finds the conversation the first one created (parley.chat.limits).
        conversation_id = (new_id("cv") if action.client_message_id is None else
                           limits.conversation_id_for(client.client_id, identity.user_id, action.client_message_id))
        conversation = Conversation(
            conversation_id=conversation_id, client_id=client.client_id, status=ConversationStatus.WAITING,
            visitor_id=identity.user_id, visitor_name=action.name or name or "Visitor",
            visitor_email=action.email or email, pre_chat=answers,
            last_seq=1, created_at=now, page_url=action.page_url, language=action.language, preview=text[:120],
            visitor_messages=1, first_visitor_message_at=now,
            team_ids=routing_teams(client.team_ids, [client.client_id]),
            no_answer_timeout_seconds=client.no_answer_timeout_seconds,
            idle_timeout_seconds=client.idle_timeout_seconds,
        )
        first = Message(conversation_id=conversation.conversation_id, client_id=client.client_id, seq=1,
                        role=Role.VISITOR, sender_id=identity.user_id, sender_name=conversation.visitor_name,
                        text=text, sent_at=now, client_message_id=action.client_message_id)
        self._chat.check_client_starts(client.client_id, now)  # a ceiling over all the client's visitors
        if not self._chat.create_conversation(conversation, first, connection_id, limited_at=now):
            return self._started_before(identity, connection_id, conversation_id)
        self._chat.count_client_start(client.client_id, now)
        self._broadcast_to_agents(client.client_id, {"type": "conversation.waiting",
                                                     "conversation": conversation.public()})
        joined = conversation.model_copy(update={"connections": {connection_id: Role.VISITOR.value}})
        conversation = self._routing.route_new(joined)
        reply = {"conversation": conversation.public(), "message": first.public()}
        queue = self._routing.queue_info(conversation)
        return {**reply, "queue": queue} if queue is not None else reply

    def _started_before(self, identity: Identity, connection_id: str, conversation_id: str) -> dict[str, Any]:
        """A retried start: the conversation and first message the original created, with
        `duplicate` (nothing stored, broadcast or routed again)."""
        conversation = self._chat.get_conversation(conversation_id)
        if conversation is None or conversation.visitor_id != identity.user_id:
            raise NotFound("no such conversation")  # unreachable: the id is derived from the visitor's
        if connection_id not in conversation.connections:  # retried from a new socket
            conversation = self._chat.attach(identity, connection_id, conversation_id)
        messages, _ = self._chat.messages_since(conversation_id, 0, limit=1)
        reply = {"conversation": conversation.public(), "message": messages[0].public(), "duplicate": True}
        queue = self._routing.queue_info(conversation) if conversation.status is ConversationStatus.WAITING else None
        return {**reply, "queue": queue} if queue is not None else reply

    def _set_status(self, identity: Identity, connection_id: str, action: SetStatus) -> dict[str, Any]:
        self._require(identity, Role.AGENT)
        return {"agent": self._routing.set_status(identity, AgentStatus(action.status)).public()}

    def _transfer(self, identity: Identity, connection_id: str, action: TransferConversation) -> dict[str, Any]:
        self._require(identity, Role.AGENT)
        moved = self._routing.transfer(identity, action.conversation_id, (action.to_agent_id, action.to_team_id),
                                       action.note)
        return {"conversation": moved.public()}

    # --- helpers -----------------------------------------------------------------------
    def _refuse_revoked(self, identity: Identity, action: ChatAction) -> None:
        """Revocation: a disabled agent's every action is refused, and a disabled client's
        visitors' (their status cached ≤ 30 s, parley.auth.revocation). A start reads the
        client itself (and refuses any client that is not active)."""
        if identity.role is Role.AGENT:
            AGENT_STATUS.require_active(identity.user_id, self._tenants.get_agent, self._clock.now())
        elif identity.role is Role.VISITOR and not isinstance(action, StartConversation):
            CLIENT_STATUS.require_enabled(identity.client_id, self._tenants.get_client, self._clock.now())

    @staticmethod
    def _require(identity: Identity, role: Role) -> None:
        if identity.role is not role:
            raise Forbidden(f"only a {role.value} may do this")

    def _visible(self, identity: Identity, conversation_id: str) -> Conversation:
        conversation = self._chat.get_conversation(conversation_id)
        if conversation is None or conversation.client_id not in identity.client_ids:
            raise NotFound("no such conversation")
        participant = (conversation.visitor_id if identity.role is Role.VISITOR else conversation.agent_id)
        if participant != identity.user_id:
            raise NotFound("no such conversation")
        return conversation

    def _post(self, conversation: Conversation, frame: dict[str, Any], exclude: str) -> None:
        targets = [cid for cid in conversation.connections if cid != exclude]
        gone = self._relay.post(targets, frame)
        for connection_id in gone:
            self._chat.detach(conversation.conversation_id, connection_id)
        self._forget(gone)

    def _broadcast_to_agents(self, client_id: str, frame: dict[str, Any], exclude: Iterable[str] = ()) -> None:
        skip = set(exclude)
        targets = [cid for cid in self._chat.agent_connections_for_client(client_id) if cid not in skip]
        self._forget(self._relay.post(targets, frame))

    def _forget(self, gone: set[str]) -> None:
        for connection_id in gone:
            logger.info("removing stale connection", connection_id=connection_id)
            self._chat.delete_connection(connection_id)
