"""The role checks: one group list, the highest role wins, and who is refused with which code."""

from __future__ import annotations

import pytest

from parley.auth.roles import (
    GROUP_OF_ROLE,
    AdminRequired,
    Group,
    RoleRequired,
    StaffRole,
    require_admin,
    require_staff,
    staff_role_of,
)


def test_the_groups_are_the_four_of_the_pool() -> None:
    assert [g.value for g in Group] == ["admins", "supervisors", "agents", "clients"]
    assert set(GROUP_OF_ROLE.values()) == {Group.ADMINS, Group.SUPERVISORS, Group.AGENTS}


@pytest.mark.parametrize(("groups", "role"), [
    ((), None), (("clients",), None), (("agents",), StaffRole.AGENT), (("supervisors",), StaffRole.SUPERVISOR),
    (("agents", "supervisors"), StaffRole.SUPERVISOR), (("admins", "agents"), StaffRole.ADMIN), (("Admins",), None),
])
def test_the_highest_staff_role_of_the_groups(groups: tuple[str, ...], role: StaffRole | None) -> None:
    assert staff_role_of(groups) is role


@pytest.mark.parametrize("groups", [(), ("clients",), ("agents",), ("supervisors",), ("agents", "supervisors")])
def test_anyone_but_an_admin_acting_as_admin_gets_admin_required(groups: tuple[str, ...]) -> None:
    with pytest.raises(AdminRequired) as refused:
        require_admin(groups)
    assert (refused.value.status, refused.value.code) == (403, "admin_required")


def test_an_admin_passes() -> None:
    require_admin(("admins",))


def test_staff_checks_rank_the_roles() -> None:
    assert require_staff(("supervisors",), StaffRole.AGENT) is StaffRole.SUPERVISOR
    with pytest.raises(RoleRequired) as refused:
        require_staff(("agents",), StaffRole.SUPERVISOR)
    assert (refused.value.status, refused.value.code) == (403, "role_required")
    with pytest.raises(RoleRequired):
        require_staff(("clients",))


def test_the_user_pool_declares_exactly_these_groups() -> None:
    from infra.constructs.auth import USER_GROUPS

    assert list(USER_GROUPS) == [g.value for g in Group]
