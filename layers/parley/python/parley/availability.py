"""Can a visitor chat with someone now? One answer from three owners' rules, each behind a
small port, and what `POST /api/visitor/session` tells the widget (`offline: {reason}`):

1. service deactivated — the client's service state (billing: default, termination, a trial
   that stopped), kept on the client (`Client.status`, parley/ledger);
2. outside hours — the client's business hours and holidays, after-hours coverage included
   (parley/hours);
3. no agent online — presence (parley/routing): an agent of the client's routing teams is
   online, available or at their cap (a full desk queues the chat; it is not offline).

The fourth offline case, nobody accepting within the client's no-answer timeout, belongs to a
conversation, not to the session: routing decides it while the visitor waits (docs/leads.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from parley.chat.models import Client, ClientStatus
from parley.clock import iso
from parley.hours.client_hours import client_availability
from parley.leads.models import OfflineReason


class HoursPort(Protocol):
    def open_now(self, client: Client, at: datetime) -> tuple[bool, datetime | None]:
        """(chats are routed now, when that changes next)."""
        ...


class PresencePort(Protocol):
    def agent_online(self, client: Client) -> bool: ...


class ServiceStatePort(Protocol):
    def active(self, client: Client) -> bool: ...


class Availability(BaseModel):
    model_config = ConfigDict(frozen=True)

    online: bool
    reason: OfflineReason | None = None
    next_change: datetime | None = None  # outside hours: when the client opens again

    def public(self) -> dict[str, Any] | None:
        """The session's `offline` field: None when someone can chat."""
        if self.online or self.reason is None:
            return None
        return {"reason": self.reason.value, "nextChange": iso(self.next_change) if self.next_change else None}


class BusinessHours:
    """parley/hours: the client's weekly hours, holidays and after-hours coverage (PR-2)."""

    def open_now(self, client: Client, at: datetime) -> tuple[bool, datetime | None]:
        hours = client_availability(client, at)
        return hours.open, hours.next_change


class ClientServiceState:
    """The client's service switch, set by billing (defaults, termination, a stopped trial)."""

    def active(self, client: Client) -> bool:
        return client.status is ClientStatus.ACTIVE


class AvailabilityService:
    def __init__(self, hours: HoursPort, presence: PresencePort, service: ServiceStatePort) -> None:
        self._hours = hours
        self._presence = presence
        self._service = service

    def of(self, client: Client, at: datetime) -> Availability:
        """In this order: a deactivated service is offline whatever the hours; outside hours
        nobody is expected online; within hours an agent must be online."""
        if not self._service.active(client):
            return Availability(online=False, reason=OfflineReason.SERVICE_DEACTIVATED)
        open_now, next_change = self._hours.open_now(client, at)
        if not open_now:
            return Availability(online=False, reason=OfflineReason.OUTSIDE_HOURS, next_change=next_change)
        if not self._presence.agent_online(client):
            return Availability(online=False, reason=OfflineReason.NO_AGENT_ONLINE)
        return Availability(online=True)
