"""Who is who: the Cognito groups, the staff roles they grant, and the checks on them.

The one source for the group names: the CDK user pool (infra/constructs/auth.py), the local
stack's pool and every role check read them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from parley.errors import Forbidden


class Group(StrEnum):
    """Cognito groups of the user pool."""

    ADMINS = "admins"  # the provider: onboards clients, invites agents, forms teams
    SUPERVISORS = "supervisors"  # agents who may also pick any waiting chat and watch others
    AGENTS = "agents"
    CLIENTS = "clients"  # a client's dashboard users


class StaffRole(StrEnum):
    """The provider's people, least to most privileged (an `Agent` item's `role`)."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


GROUP_DESCRIPTIONS: dict[Group, str] = {
    Group.ADMINS: "The provider's admins (admin area: clients, agents, teams)",
    Group.SUPERVISORS: "The provider's supervisors (agent console, any waiting chat)",
    Group.AGENTS: "The provider's agents (agent console)",
    Group.CLIENTS: "The provider's clients (client dashboard)",
}

GROUP_OF_ROLE: dict[StaffRole, Group] = {
    StaffRole.AGENT: Group.AGENTS,
    StaffRole.SUPERVISOR: Group.SUPERVISORS,
    StaffRole.ADMIN: Group.ADMINS,
}
_RANK = [StaffRole.AGENT, StaffRole.SUPERVISOR, StaffRole.ADMIN]


class AdminRequired(Forbidden):
    """A signed-in user who is not in the `admins` group called an admin route."""

    code = "admin_required"


class RoleRequired(Forbidden):
    """The caller's role does not allow this route or action (e.g. a client user on an agent route)."""

    code = "role_required"


class AccountDisabled(Forbidden):
    """The agent was disabled by an admin: connections are closed and every later action refused."""

    code = "account_disabled"


def staff_role_of(groups: Iterable[str]) -> StaffRole | None:
    """The highest staff role the groups grant, or None for a non-staff user (a client user)."""
    held = set(groups)
    granted = [role for role in _RANK if GROUP_OF_ROLE[role].value in held]
    return granted[-1] if granted else None


def at_least(role: StaffRole | None, needed: StaffRole) -> bool:
    return role is not None and _RANK.index(role) >= _RANK.index(needed)


def require_admin(groups: Iterable[str]) -> None:
    if staff_role_of(groups) is not StaffRole.ADMIN:
        raise AdminRequired("this route is for the provider's admins")


def require_staff(groups: Iterable[str], needed: StaffRole = StaffRole.AGENT) -> StaffRole:
    role = staff_role_of(groups)
    if role is None or not at_least(role, needed):
        raise RoleRequired(f"this needs the {needed.value} role or higher")
    return role
