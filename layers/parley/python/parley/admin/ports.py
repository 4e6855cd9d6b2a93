"""What the admin service needs from the outside world (adapters in parley/admin/adapters.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from parley.auth.roles import StaffRole


@dataclass(frozen=True)
class InvitedUser:
    sub: str
    username: str  # opaque; the email is an attribute (and a sign-in alias)
    temporary_password: str


class StaffDirectory(Protocol):
    """The user pool, for the provider's staff."""

    def invite(self, email: str, name: str, role: StaffRole) -> InvitedUser: ...

    def set_role(self, username: str, role: StaffRole) -> None: ...

    def set_enabled(self, username: str, enabled: bool) -> None: ...

    def remove(self, username: str) -> None:
        """Undo an invitation that could not be completed."""
        ...


class InvitationMailer(Protocol):
    """Delivers an invited agent's temporary password by email."""

    def send_invitation(self, to: str, name: str, user: InvitedUser) -> None: ...


class AgentConnections(Protocol):
    """An agent's (or a client's visitors') open WebSocket connections, and closing them
    (`@connections` DELETE)."""

    def connections_of_agent(self, agent_id: str) -> list[str]: ...

    def visitor_connections_of_client(self, client_id: str) -> list[str]: ...

    def close(self, connection_ids: Iterable[str]) -> int: ...
