"""Revocation: an agent's status re-checked on every WebSocket action, from a short-lived cache.

Disabling an agent closes their open connections at once (parley.admin); this check is the
bound for anything else — a connection opened just before the disable, or an action already in
flight: at most `TTL` after the disable, every action of theirs is refused. The cache lives in
the execution environment, so the cost is one GetItem per agent per environment per TTL, not
one per action. Time is the service's clock (the wall clock on AWS; tests freeze it): the
local stack's clock only moves forward, which can only make entries expire sooner, and an entry
from the clock's "future" counts as expired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from parley.auth.roles import AccountDisabled
from parley.chat.models import Agent

TTL = timedelta(seconds=30)


class AgentStatusCache:
    def __init__(self, ttl: timedelta = TTL) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._active: dict[str, tuple[bool, datetime]] = {}  # agent id -> (may act, checked at)

    def require_active(self, agent_id: str, load: Callable[[str], Agent | None], now: datetime) -> None:
        """Refuse (403 `account_disabled`) an agent who is disabled or gone."""
        with self._lock:
            cached = self._active.get(agent_id)
        if cached is None or not timedelta(0) <= now - cached[1] < self._ttl:
            agent = load(agent_id)
            cached = (agent is not None and not agent.disabled, now)
            with self._lock:
                self._active[agent_id] = cached
        if not cached[0]:
            raise AccountDisabled("this account has been disabled")


AGENT_STATUS = AgentStatusCache()  # one per execution environment
