"""Pure routing rules: who gets a chat, in which order agents are tried, how long a visitor
waits. No I/O here; the repository reads candidates, these functions order them.

Fairness: the least-loaded agent first (fewest open chats), and among equals the one idle
longest since their last assignment (or since they came online). The availability index
stores exactly this order in its sort key, so a Query with a small Limit returns the best
candidates first whatever the number of agents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from parley.clock import iso

MAX_LOAD_DIGITS = 4  # loads up to 9,999 sort correctly as text
CANDIDATES_PER_TEAM = 3  # the Limit of one availability Query
MAX_RESERVE_TRIES = 3  # conditional reservations tried per routing decision
DEFAULT_SECONDS_PER_PLACE = 60.0  # the estimate before any chat has left the queue
RECENT_DEQUEUES = 10  # departures from the queue the estimate averages over


class AgentStatus(StrEnum):
    ONLINE = "online"  # routable (under their cap)
    AWAY = "away"  # keeps their chats, gets no new ones
    OFFLINE = "offline"  # not working; their chats go to colleagues


@dataclass(frozen=True)
class Candidate:
    """One agent as the availability index shows them (possibly a moment stale)."""

    agent_id: str
    load: int
    idle_since: datetime


def availability_key(load: int, idle_since: datetime, agent_id: str) -> str:
    """The index sort key: load (zero-padded), then idle-since, then the id (a stable tie-break)."""
    return f"{load:0{MAX_LOAD_DIGITS}d}#{iso(idle_since)}#{agent_id}"


def is_available(status: AgentStatus, load: int, cap: int) -> bool:
    return status is AgentStatus.ONLINE and load < cap


def order_candidates(candidates: Iterable[Candidate], exclude: Iterable[str] = ()) -> list[Candidate]:
    """Best first: least loaded, then longest idle, then id. One agent once (they may be found
    through several teams), excluded agents (the one losing the chat) never."""
    skip = set(exclude)
    best: dict[str, Candidate] = {}
    for candidate in candidates:
        if candidate.agent_id in skip:
            continue
        known = best.get(candidate.agent_id)
        if known is None or _rank(candidate) < _rank(known):
            best[candidate.agent_id] = candidate
    return sorted(best.values(), key=_rank)


def _rank(candidate: Candidate) -> tuple[int, datetime, str]:
    return candidate.load, candidate.idle_since, candidate.agent_id


def seconds_per_place(recent_dequeues: Sequence[datetime]) -> float:
    """Mean time between the last departures from a queue (an assignment or a visitor leaving):
    how long one place in the queue takes. Before two departures, a default minute."""
    if len(recent_dequeues) < 2:
        return DEFAULT_SECONDS_PER_PLACE
    ordered = sorted(recent_dequeues)
    span = (ordered[-1] - ordered[0]).total_seconds()
    return max(span / (len(ordered) - 1), 1.0)


def estimate_wait_seconds(position: int, recent_dequeues: Sequence[datetime]) -> int:
    """Estimated wait of the visitor at `position` (1 = next to be served): one place per mean
    interval between recent departures, rounded up to whole seconds."""
    if position < 1:
        return 0
    return math.ceil(position * seconds_per_place(recent_dequeues))


def answer_deadline(assigned_at: datetime, no_answer_timeout_seconds: int) -> datetime | None:
    """When an assigned agent who has not answered loses the chat (None: no timeout)."""
    if no_answer_timeout_seconds <= 0:
        return None
    return assigned_at + timedelta(seconds=no_answer_timeout_seconds)


def is_idle(last_activity: datetime, idle_timeout_seconds: int, now: datetime) -> bool:
    return idle_timeout_seconds > 0 and now >= last_activity + timedelta(seconds=idle_timeout_seconds)


def routing_teams(team_ids: Sequence[str], client_ids: Sequence[str]) -> list[str]:
    """The availability partitions a party routes through. Clients and agents with teams use
    their teams; an agent without a team serves its clients directly (and a client without a
    team is served by such agents), through one implicit team per client, `@{clientId}`."""
    return list(dict.fromkeys(team_ids)) if team_ids else [f"@{c}" for c in dict.fromkeys(client_ids)]
