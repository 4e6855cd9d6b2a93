"""Routing: who answers a chat, the queue while nobody can, and what happens when an agent
does not answer, disconnects, transfers or a chat goes idle.

Every routing decision is a bounded number of DynamoDB requests, whatever the number of
agents, visitors and waiting chats: a Query of each routing team's availability index with a
small Limit, at most `MAX_RESERVE_TRIES` conditional reservations (`load < cap AND status =
online`), one conditional assignment (`status = waiting`) and a few writes to known keys.
Race safety comes from those two conditions alone: a slot is taken by exactly one writer and
a chat leaves `waiting` exactly once; a router that wins a slot but loses the chat gives the
slot back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from parley.auth.roles import StaffRole, at_least
from parley.chat.models import Conversation, ConversationStatus, Identity, Message, Role
from parley.clock import Clock
from parley.errors import InvalidRequest, NotAccepted, NotFound
from parley.gateways.connections import ConnectionsGateway
from parley.repositories.routing import RoutingRepository, queue_sort_key
from parley.repositories.tenants import TenantRepository
from parley.routing.choice import (
    CANDIDATES_PER_TEAM,
    MAX_RESERVE_TRIES,
    AgentStatus,
    answer_deadline,
    estimate_wait_seconds,
    is_idle,
    order_candidates,
    routing_teams,
)
from parley.routing.errors import AgentUnavailable, NotServingClient
from parley.routing.models import AgentState, Note, Timer, TimerKind

PRESENCE_GRACE = timedelta(seconds=30)  # a reload or a network blip does not make an agent offline
POSITION_WINDOW = 50  # visitors told their place live; the rest learn it on entering and on reaching it
MIN_IDLE_TIMEOUT = timedelta(minutes=1)  # the idle sweep reads conversations untouched at least this long
ROUTING_ROUNDS = 2  # availability Queries per routing decision


@dataclass
class SweepReport:
    answers_missed: int = 0
    agents_offline: int = 0
    unanswered: int = 0  # waiting visitors told that nobody answered in time
    idle_closed: list[str] = field(default_factory=list)


def system_message(conversation: Conversation, code: str, params: dict[str, str], text: str,
                   now: datetime) -> Message:
    """A system event at the conversation's current seq, as a code with params (and an English fallback)."""
    return Message(conversation_id=conversation.conversation_id, client_id=conversation.client_id,
                   seq=conversation.last_seq, kind="system", role=Role.SYSTEM, sender_id="system", text=text,
                   sent_at=now, code=code, params=params)


def _connections(conversation: Conversation, role: Role) -> list[str]:
    return [cid for cid, r in conversation.connections.items() if r == role.value]


class Router:
    def __init__(self, repo: RoutingRepository, tenants: TenantRepository, relay: ConnectionsGateway,
                 clock: Clock) -> None:
        self._repo = repo
        self._tenants = tenants
        self._relay = relay
        self._clock = clock

    # --- presence ----------------------------------------------------------------------
    def set_status(self, identity: Identity, status: AgentStatus) -> AgentState:
        """The agent sets themselves online / away / offline (the `setStatus` action)."""
        agent = self._tenants.get_agent(identity.user_id)
        if agent is None or not agent.enabled:
            raise NotFound("no such agent")
        before = self._repo.agent_state(agent.agent_id)
        wanted = AgentState(agent_id=agent.agent_id, name=agent.name, status=status, cap=agent.max_concurrent_chats,
                            team_ids=routing_teams(agent.team_ids, agent.client_ids), client_ids=agent.client_ids,
                            idle_since=self._clock.now())
        state = self._repo.save_status(wanted)
        dropped = [t for t in (before.team_ids if before else []) if t not in state.team_ids]
        self._repo.sync_availability(state, dropped)
        if status is AgentStatus.ONLINE:
            self.drain(state)
        elif status is AgentStatus.OFFLINE:
            self._hand_back_all(state.agent_id, "agent_offline")
        return self._repo.agent_state(state.agent_id) or state

    def on_agent_disconnected(self, agent_id: str) -> None:
        """The last tab closed: after a grace period the agent is offline and loses their chats."""
        if self._repo.has_connection(agent_id):
            return
        state = self._repo.agent_state(agent_id)
        if state is None or state.status is AgentStatus.OFFLINE:
            return
        self._repo.put_timer(Timer(kind=TimerKind.PRESENCE, subject=agent_id, agent_id=agent_id,
                                   due=self._clock.now() + PRESENCE_GRACE))

    def on_visitor_disconnected(self, conversation_ids: Iterable[str]) -> None:
        """Tell the agent when every visitor connection of a conversation is gone."""
        for conversation in self._repo.conversations(list(conversation_ids)).values():
            if conversation.status is ConversationStatus.CLOSED or _connections(conversation, Role.VISITOR):
                continue
            self._post(_connections(conversation, Role.AGENT),
                       {"type": "conversation.visitor_left", "conversationId": conversation.conversation_id})

    # --- new chats, picks and closes ---------------------------------------------------
    def route_new(self, conversation: Conversation) -> Conversation:
        """A visitor's first message: queue it (first, so no free slot is missed), then route."""
        self._repo.enqueue(conversation)
        assigned = self._route(conversation, exclude=())
        if assigned is not None:
            return assigned
        self._tell_place(conversation)
        self._arm_unanswered(conversation)
        return conversation

    def on_accepted(self, conversation: Conversation, identity: Identity) -> None:
        """A supervisor (or an agent) picked a waiting chat by hand: count it, leave the queue."""
        state = self._repo.add_load(identity.user_id, self._clock.now())
        if state is not None:
            self._repo.sync_availability(state)
        self._left_queue(conversation, conversation.team_ids)

    def on_closed(self, conversation: Conversation) -> None:
        if conversation.agent_id:
            self._free_slot(conversation.agent_id)
        else:  # closed while waiting
            self._left_queue(conversation, conversation.team_ids)

    def drain(self, state: AgentState) -> int:
        """Capacity freed (a chat closed, an agent came online): assign the oldest waiting chats
        of the agent's teams, one routing decision each, as long as slots and chats are there."""
        assigned = 0
        for _ in range(max(state.cap - state.load, 0)):
            conversation = self._oldest_waiting(state.team_ids)
            if conversation is None or self._route(conversation, exclude=()) is None:
                break
            assigned += 1
        return assigned

    def _oldest_waiting(self, team_ids: Sequence[str]) -> Conversation | None:
        """The first waiting chat across these team queues (a Query per team, Limit 3, and one
        BatchGetItem); places whose chat no longer waits (a crash between two writes) are dropped."""
        places = sorted((p for t in team_ids for p in self._repo.queue_head(t, MAX_RESERVE_TRIES)),
                        key=lambda p: p.sk)[:MAX_RESERVE_TRIES]
        found = self._repo.conversations([p.conversation_id for p in places])
        for place in places:
            conversation = found.get(place.conversation_id)
            if conversation is not None and conversation.status is ConversationStatus.WAITING:
                return conversation
            self._repo.drop_place(place)
        return None

    # --- transfer ----------------------------------------------------------------------
    def transfer(self, identity: Identity, conversation_id: str, target: tuple[str | None, str | None],
                 note: str) -> Conversation:
        """Hand a chat to an agent (`target[0]`) or a team (`target[1]`), with a note for agents only."""
        conversation = self._transferable(identity, conversation_id)
        to_agent, to_team = target
        now = self._clock.now()
        if to_agent is not None:
            return self._transfer_to_agent(conversation, identity, to_agent, note)
        client = self._tenants.get_client(conversation.client_id)
        teams = routing_teams(client.team_ids if client else [], [conversation.client_id])
        if to_team not in teams:
            raise NotServingClient(f"team {to_team!r} does not serve this client")
        self._repo.add_note(Note(conversation_id=conversation.conversation_id, author_id=identity.user_id,
                                 author_name=identity.name, text=note, at=now, to_team_id=to_team))
        moved = self._take_away(conversation, "transferred", [str(to_team)])
        if moved is None:
            raise NotAccepted("the conversation changed meanwhile; try again")
        return moved

    def _transferable(self, identity: Identity, conversation_id: str) -> Conversation:
        conversation = self._repo.get_conversation(conversation_id)
        if conversation is None or conversation.client_id not in identity.client_ids:
            raise NotFound("no such conversation")
        supervisor = at_least(identity.staff_role, StaffRole.SUPERVISOR)
        if conversation.agent_id != identity.user_id and not supervisor:
            raise NotFound("no such conversation")
        if conversation.status is not ConversationStatus.ACTIVE:
            raise NotAccepted("only an active conversation can be transferred")
        return conversation

    def _transfer_to_agent(self, conversation: Conversation, identity: Identity, to_agent: str,
                           note: str) -> Conversation:
        agent = self._tenants.get_agent(to_agent)
        if agent is None or not agent.enabled or conversation.client_id not in agent.client_ids:
            raise NotServingClient("that agent does not serve this client")
        if to_agent == conversation.agent_id:
            raise InvalidRequest("toAgentId: the conversation is already theirs")
        now = self._clock.now()
        slot = self._repo.reserve(to_agent, now)
        if slot is None:
            raise AgentUnavailable("that agent is not online or has no free slot")
        moved = self._repo.unassign(conversation, now)
        if moved is None:
            self._give_back(to_agent)
            raise NotAccepted("the conversation changed meanwhile; try again")
        self._repo.add_note(Note(conversation_id=conversation.conversation_id, author_id=identity.user_id,
                                 author_name=identity.name, text=note, at=now, to_agent_id=to_agent))
        self._announce_loss(conversation, moved, "transferred")
        assigned = self._hand_over(moved, slot, from_queue=False)
        self._free_slot(str(conversation.agent_id))
        if assigned is None:  # closed in between: nothing more to do
            return moved
        return assigned

    # --- the sweep (every minute) ------------------------------------------------------
    def sweep(self) -> SweepReport:
        """Due no-answer deadlines and presence grace periods, then idle conversations."""
        now = self._clock.now()
        report = SweepReport()
        for timer in self._repo.due_timers(now):
            if timer.kind is TimerKind.ANSWER:
                report.answers_missed += self._answer_due(timer)
            elif timer.kind is TimerKind.UNANSWERED:
                report.unanswered += self._unanswered_due(timer)
            else:
                report.agents_offline += self._presence_due(timer)
            self._repo.delete_timer(timer)
        for conversation in self._repo.idle_candidates(now - MIN_IDLE_TIMEOUT):
            last = conversation.updated_at or conversation.created_at
            if is_idle(last, conversation.idle_timeout_seconds, now) and self._close_idle(conversation, now):
                report.idle_closed.append(conversation.conversation_id)
        return report

    def _answer_due(self, timer: Timer) -> int:
        conversation = self._repo.get_conversation(timer.subject)
        if (conversation is None or conversation.status is not ConversationStatus.ACTIVE
                or conversation.routing_version != timer.version or conversation.agent_id != timer.agent_id
                or conversation.agent_messages > conversation.agent_messages_at_assignment):
            return 0
        # An agent who let a chat time out is set away, so they are not routed chats they won't answer.
        state = self._repo.agent_state(timer.agent_id)
        if state is not None and state.status is AgentStatus.ONLINE:
            away = self._repo.save_status(state.model_copy(update={"status": AgentStatus.AWAY}))
            self._repo.sync_availability(away)
            self._post(self._repo.agent_connection_ids(timer.agent_id),
                       {"type": "agent.status", "agent": away.public(), "reason": "no_answer"})
        return 1 if self._take_away(conversation, "no_answer") is not None else 0

    def _arm_unanswered(self, conversation: Conversation) -> None:
        """A chat left waiting: if nobody takes it within the client's no-answer timeout, the
        sweep tells the visitor (one timer item, like the answer deadline; none without a timeout)."""
        deadline = answer_deadline(self._clock.now(), conversation.no_answer_timeout_seconds)
        if deadline is not None:
            self._repo.put_timer(Timer(kind=TimerKind.UNANSWERED, subject=conversation.conversation_id, due=deadline,
                                       version=conversation.routing_version))

    def _unanswered_due(self, timer: Timer) -> int:
        """Still waiting: the visitor's connections get `conversation.unanswered` (once per
        conversation, by condition). The chat stays queued, so an agent can still take it."""
        conversation = self._repo.get_conversation(timer.subject)
        if conversation is None or conversation.status is not ConversationStatus.WAITING:
            return 0
        marked = self._repo.mark_unanswered(conversation.conversation_id, self._clock.now())
        if marked is None:
            return 0
        self._post(_connections(marked, Role.VISITOR), {"type": "conversation.unanswered",
                                                        "conversationId": marked.conversation_id,
                                                        "reason": "no_answer"})
        return 1

    def _presence_due(self, timer: Timer) -> int:
        if self._repo.has_connection(timer.subject):
            return 0
        state = self._repo.agent_state(timer.subject)
        if state is None:
            return 0
        if state.status is not AgentStatus.OFFLINE:
            offline = self._repo.save_status(state.model_copy(update={"status": AgentStatus.OFFLINE}))
            self._repo.sync_availability(offline)
        self._hand_back_all(timer.subject, "disconnected")
        return 1

    def _close_idle(self, conversation: Conversation, now: datetime) -> bool:
        closed = self._repo.close_idle(conversation, now)
        if closed is None:
            return False
        message = system_message(closed, "idle_closed", {}, "This chat was closed after a period of inactivity.", now)
        self._repo.put_system_message(message)
        self._post(list(closed.connections), {"type": "conversation.closed", "conversation": closed.public(),
                                              "message": message.public()})
        self.on_closed(closed)
        return True

    # --- internals: one routing decision -----------------------------------------------
    def _route(self, conversation: Conversation, exclude: Sequence[str]) -> Conversation | None:
        """Give a waiting chat to the best available agent of its teams, or leave it queued.
        Two rounds at most: refused tries repair the rows they found stale, so the second
        Query sees agents a burst of simultaneous chats had hidden behind full ones."""
        limit = CANDIDATES_PER_TEAM + len(exclude)
        for _ in range(ROUTING_ROUNDS):
            found = [c for team in conversation.team_ids for c in self._repo.candidates(team, limit)]
            candidates = order_candidates(found, exclude)[:MAX_RESERVE_TRIES]
            for candidate in candidates:
                slot = self._repo.reserve(candidate.agent_id, self._clock.now())
                if slot is None:  # full or gone since the index was written: repair its rows
                    self._resync(candidate.agent_id)
                    continue
                return self._hand_over(conversation, slot, from_queue=True)
            if not candidates:
                return None
        return None

    def _hand_over(self, conversation: Conversation, slot: AgentState, *, from_queue: bool) -> Conversation | None:
        now = self._clock.now()
        tabs = self._repo.agent_connection_ids(slot.agent_id)
        assigned = self._repo.assign(conversation.conversation_id, slot, tabs, now)
        if assigned is None:  # assigned or closed by someone else meanwhile
            self._give_back(slot.agent_id)
            return None
        self._repo.sync_availability(slot)
        message = system_message(assigned, "agent_joined", {"name": slot.name}, f"{slot.name} joined the chat", now)
        self._repo.put_system_message(message)
        self._repo.remember_joined(tabs, assigned.conversation_id)
        deadline = answer_deadline(now, assigned.no_answer_timeout_seconds)
        if deadline is not None:
            self._repo.put_timer(Timer(kind=TimerKind.ANSWER, subject=assigned.conversation_id, due=deadline,
                                       version=assigned.routing_version, agent_id=slot.agent_id))
        # A chat that changed hands brings its transfer notes (agents only).
        notes = [n.public() for n in self._repo.notes(assigned.conversation_id)] if assigned.routing_version > 1 else []
        self._post(tabs, {"type": "conversation.assigned", "conversation": assigned.public(),
                          "message": message.public(), "notes": notes})
        accepted = {"type": "conversation.accepted", "conversation": assigned.public(), "message": message.public()}
        self._post(_connections(assigned, Role.VISITOR), accepted)
        skip = set(tabs)
        self._post([c for c in self._repo.client_agent_connection_ids(assigned.client_id) if c not in skip], accepted)
        if from_queue:
            self._left_queue(conversation, conversation.team_ids)
        return assigned

    def _take_away(self, conversation: Conversation, reason: str,
                   to_teams: Sequence[str] | None = None) -> Conversation | None:
        """The agent loses the chat (no answer, disconnected, offline, transfer to a team): back
        to the queue of its teams, then routed to the best other agent."""
        moved = self._repo.unassign(conversation, self._clock.now(), to_teams)
        if moved is None:
            return None
        self._announce_loss(conversation, moved, reason)
        self._repo.enqueue(moved)
        old_agent = str(conversation.agent_id)
        assigned = self._route(moved, exclude=[old_agent])
        if assigned is None:
            self._tell_place(moved)
            self._arm_unanswered(moved)
        self._free_slot(old_agent)
        return assigned or moved

    def _announce_loss(self, before: Conversation, moved: Conversation, reason: str) -> None:
        now = self._clock.now()
        message = system_message(moved, "transferred", {}, "You are being connected with another agent.", now)
        self._repo.put_system_message(message)
        self._post(_connections(before, Role.AGENT), {"type": "conversation.transferred",
                                                      "conversation": moved.public(), "reason": reason})
        self._post(_connections(moved, Role.VISITOR), {"type": "message", "conversationId": moved.conversation_id,
                                                       "message": message.public()})

    def _hand_back_all(self, agent_id: str, reason: str) -> None:
        for conversation in self._repo.open_conversations(agent_id):
            if conversation.status is ConversationStatus.ACTIVE and conversation.agent_id == agent_id:
                self._take_away(conversation, reason)

    def _free_slot(self, agent_id: str, *, drain: bool = True) -> None:
        state = self._repo.release(agent_id)
        if state is None:
            return
        self._repo.sync_availability(state)
        if drain and state.available:
            self.drain(state)

    def _give_back(self, agent_id: str) -> None:
        self._free_slot(agent_id, drain=False)

    def _resync(self, agent_id: str) -> None:
        state = self._repo.agent_state(agent_id)
        if state is not None:
            self._repo.sync_availability(state)

    # --- internals: the queue as the visitor sees it ------------------------------------
    def _left_queue(self, conversation: Conversation, team_ids: Sequence[str]) -> None:
        self._repo.dequeue(conversation, team_ids, self._clock.now())
        self._announce_places(team_ids, after=queue_sort_key(conversation))

    def _tell_place(self, conversation: Conversation) -> None:
        for team in conversation.team_ids[:1]:
            position = self._repo.queue_position(team, conversation)
            wait = estimate_wait_seconds(position, self._repo.recent_departures(team))
            self._post(_connections(conversation, Role.VISITOR), self._place_frame(conversation, position, wait))

    def _announce_places(self, team_ids: Sequence[str], after: str) -> None:
        """Everyone behind a departure moved up one place: tell the first POSITION_WINDOW of them."""
        for team in team_ids[:1]:
            places = self._repo.queue_head(team, POSITION_WINDOW)
            behind = [(i + 1, p) for i, p in enumerate(places) if p.sk > after]
            if not behind:
                continue
            recent = self._repo.recent_departures(team)
            found = self._repo.conversations([p.conversation_id for _, p in behind])
            for position, place in behind:
                conversation = found.get(place.conversation_id)
                if conversation is not None and conversation.status is ConversationStatus.WAITING:
                    wait = estimate_wait_seconds(position, recent)
                    self._post(_connections(conversation, Role.VISITOR),
                               self._place_frame(conversation, position, wait))

    @staticmethod
    def _place_frame(conversation: Conversation, position: int, wait: int) -> dict[str, Any]:
        return {"type": "queue.position", "conversationId": conversation.conversation_id, "position": position,
                "estimatedWaitSeconds": wait}

    def queue_info(self, conversation: Conversation) -> dict[str, int] | None:
        """Place and estimate of a waiting chat (the startConversation ack), None once assigned."""
        if conversation.status is not ConversationStatus.WAITING or not conversation.team_ids:
            return None
        team = conversation.team_ids[0]
        position = self._repo.queue_position(team, conversation)
        return {"position": position,
                "estimatedWaitSeconds": estimate_wait_seconds(position, self._repo.recent_departures(team))}

    def _post(self, connection_ids: Sequence[str], frame: dict[str, Any]) -> None:
        if connection_ids:
            self._relay.post(connection_ids, frame)
