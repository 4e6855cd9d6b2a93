"""Revocation: an agent's status, and a visitor's client's, re-checked on every WebSocket action
from a short-lived cache.

Disabling an agent (or a client) closes their open connections (or the client's visitors') at
once (parley.admin); this check is the bound for anything else — a connection opened just before
the disable, or an action already in flight: at most `TTL` after the disable, every action of
theirs is refused. The cache lives in the execution environment, so the cost is one GetItem per
agent (client) per environment per TTL, not one per action. Time is the service's clock (the
wall clock on AWS; tests freeze it): the local stack's clock only moves forward, which can only
make entries expire sooner, and an entry from the clock's "future" counts as expired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from parley.auth.roles import AccountDisabled
from parley.chat.models import Agent, Client, ClientStatus
from parley.errors import ClientDisabled

TTL = timedelta(seconds=30)


class _StatusCache:
    """Whether a subject may act, as last read, for `ttl`."""

    def __init__(self, ttl: timedelta = TTL) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._allowed: dict[str, tuple[bool, datetime]] = {}  # subject id -> (may act, checked at)

    def _may_act(self, subject_id: str, read: Callable[[], bool], now: datetime) -> bool:
        with self._lock:
            cached = self._allowed.get(subject_id)
        if cached is None or not timedelta(0) <= now - cached[1] < self._ttl:
            cached = (read(), now)
            with self._lock:
                self._allowed[subject_id] = cached
        return cached[0]


class AgentStatusCache(_StatusCache):
    def require_active(self, agent_id: str, load: Callable[[str], Agent | None], now: datetime) -> None:
        """Refuse (403 `account_disabled`) an agent who is disabled or gone."""
        def read() -> bool:
            agent = load(agent_id)
            return agent is not None and not agent.disabled

        if not self._may_act(agent_id, read, now):
            raise AccountDisabled("this account has been disabled")


class ClientStatusCache(_StatusCache):
    def require_enabled(self, client_id: str, load: Callable[[str], Client | None], now: datetime) -> None:
        """Refuse (403 `client_disabled`) a visitor of a client that is disabled or gone."""
        def read() -> bool:
            client = load(client_id)
            return client is not None and client.status is not ClientStatus.DISABLED

        if not self._may_act(client_id, read, now):
            raise ClientDisabled("this widget is disabled")


AGENT_STATUS = AgentStatusCache()  # one per execution environment
CLIENT_STATUS = ClientStatusCache()
