"""The admin service against in-process moto DynamoDB; the user pool, the mailer and the
@connections API are recording fakes of their ports (the integration tests use the real ones)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws

from infra.local.tables import create_tables
from parley.admin.ports import InvitedUser
from parley.admin.service import AdminService
from parley.auth.roles import StaffRole
from parley.repositories.tenants import TenantRepository


@dataclass
class FakeDirectory:
    users: dict[str, dict[str, object]] = field(default_factory=dict)  # username -> attributes

    def invite(self, email: str, name: str, role: StaffRole) -> InvitedUser:
        username = f"user-{len(self.users) + 1}"
        self.users[username] = {"email": email, "role": role, "enabled": True}
        return InvitedUser(sub=f"sub-{len(self.users)}", username=username, temporary_password="Temp-Pass-1234")

    def set_role(self, username: str, role: StaffRole) -> None:
        self.users[username]["role"] = role

    def set_enabled(self, username: str, enabled: bool) -> None:
        self.users[username]["enabled"] = enabled

    def remove(self, username: str) -> None:
        del self.users[username]


@dataclass
class FakeMailer:
    sent: list[tuple[str, str, InvitedUser]] = field(default_factory=list)
    failing: bool = False

    def send_invitation(self, to: str, name: str, user: InvitedUser) -> None:
        if self.failing:
            raise ConnectionError("the outbox is unreachable")
        self.sent.append((to, name, user))


@dataclass
class FakeConnections:
    open: dict[str, list[str]] = field(default_factory=dict)  # agent -> connection ids
    closed: list[str] = field(default_factory=list)

    def connections_of_agent(self, agent_id: str) -> list[str]:
        return list(self.open.get(agent_id, []))

    def visitor_connections_of_client(self, client_id: str) -> list[str]:
        return list(self.open.get(client_id, []))

    def close(self, connection_ids: Iterable[str]) -> int:
        ids = list(connection_ids)
        self.closed += ids
        return len(ids)


@dataclass
class AdminWorld:
    service: AdminService
    tenants: TenantRepository
    directory: FakeDirectory
    mailer: FakeMailer
    connections: FakeConnections


@pytest.fixture
def world() -> Iterator[AdminWorld]:
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(db, lambda name: name)
        tenants = TenantRepository(db, "data")
        directory, mailer, connections = FakeDirectory(), FakeMailer(), FakeConnections()
        yield AdminWorld(AdminService(tenants, directory, mailer, connections), tenants, directory, mailer,
                         connections)
