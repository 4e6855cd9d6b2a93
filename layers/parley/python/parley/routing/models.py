"""Routing records (pydantic v2): an agent's presence and load, a queue place, a timer, a note."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from parley.clock import iso
from parley.routing.choice import AgentStatus, Candidate, is_available


class AgentState(BaseModel):
    """`AGENT#{id} / ROUTING`: the authoritative presence, load and cap of one agent. The
    availability rows per team are a copy for ordering; this item's conditional update decides."""

    agent_id: str
    name: str = ""
    status: AgentStatus = AgentStatus.OFFLINE
    load: int = 0
    cap: int = 3
    team_ids: list[str] = Field(default_factory=list)  # routing teams (choice.routing_teams)
    client_ids: list[str] = Field(default_factory=list)
    idle_since: datetime
    version: int = 0

    @property
    def available(self) -> bool:
        return is_available(self.status, self.load, self.cap)

    def candidate(self) -> Candidate:
        return Candidate(agent_id=self.agent_id, load=self.load, idle_since=self.idle_since)

    def public(self) -> dict[str, Any]:
        return {"agentId": self.agent_id, "status": self.status.value, "load": self.load, "cap": self.cap}


class TimerKind(StrEnum):
    ANSWER = "answer"  # an assigned agent must answer by then (subject: conversation id)
    PRESENCE = "presence"  # an agent's last connection dropped; offline then (subject: agent id)
    UNANSWERED = "unanswered"  # a queued chat nobody took by then: the visitor is told (subject: conversation id)


class Timer(BaseModel):
    kind: TimerKind
    subject: str
    due: datetime
    version: int = 0  # the conversation's routing_version the answer timer was set for
    agent_id: str = ""  # the agent it was set for
    pk: str = ""
    sk: str = ""


class QueuePlace(BaseModel):
    """`TEAMQUEUE#{team} / Q#{created}#{conversation}`: one waiting chat in one team's queue."""

    team_id: str
    conversation_id: str
    client_id: str
    sk: str


class Note(BaseModel):
    """A transfer note: visible to agents only (never relayed to, or resumed by, the visitor)."""

    conversation_id: str
    author_id: str
    author_name: str
    text: str
    at: datetime
    to_agent_id: str | None = None
    to_team_id: str | None = None

    def public(self) -> dict[str, Any]:
        return {"conversationId": self.conversation_id, "authorId": self.author_id, "authorName": self.author_name,
                "text": self.text, "at": iso(self.at), "toAgentId": self.to_agent_id, "toTeamId": self.to_team_id}
