"""Disabling a client: its visitors' open connections are closed at once, its status restored on
enable, and every later visitor action refused through a cache bounded to 30 s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.auth.revocation import TTL, ClientStatusCache
from parley.chat.models import Client, ClientStatus
from parley.errors import ClientDisabled
from tests.unit.admin.conftest import AdminWorld

T0 = datetime(2026, 12, 1, 15, tzinfo=UTC)


def _client(world: AdminWorld, status: ClientStatus = ClientStatus.ACTIVE) -> Client:
    client = Client(client_id="cl_x", name="X", widget_key="wk_x", allowed_origins=["https://x.test"], status=status)
    world.tenants.put_client(client)
    return client


def test_disabling_closes_the_visitors_connections_and_enabling_gives_the_status_back(world: AdminWorld) -> None:
    _client(world)
    world.connections.open = {"cl_x": ["c1", "c2"], "cl_other": ["c3"]}
    client, closed = world.service.set_client_disabled("cl_x", disabled=True)
    assert (client.status, closed, world.connections.closed) == (ClientStatus.DISABLED, 2, ["c1", "c2"])
    stored = world.tenants.get_client("cl_x")
    assert stored is not None and stored.status is ClientStatus.DISABLED
    client, closed = world.service.set_client_disabled("cl_x", disabled=False)
    assert (client.status, closed, client.disabled_from) == (ClientStatus.ACTIVE, 0, None)
    assert world.connections.closed == ["c1", "c2"]  # enabling closes nothing


def test_a_client_cut_off_before_the_disable_stays_cut_off_after_the_enable(world: AdminWorld) -> None:
    _client(world, ClientStatus.DEACTIVATED)
    world.service.set_client_disabled("cl_x", disabled=True)
    world.service.set_client_disabled("cl_x", disabled=True)  # twice: the status it replaced is kept
    client, _ = world.service.set_client_disabled("cl_x", disabled=False)
    assert client.status is ClientStatus.DEACTIVATED


class Loader:
    def __init__(self, client: Client | None) -> None:
        self.client = client
        self.loads = 0

    def __call__(self, client_id: str) -> Client | None:
        self.loads += 1
        return self.client


def test_a_visitors_client_status_is_read_once_per_ttl_and_a_disable_bites_at_the_edge() -> None:
    active = Client(client_id="cl_x", name="X", widget_key="wk_x")
    loader = Loader(active)
    cache = ClientStatusCache()
    cache.require_enabled("cl_x", loader, T0)
    loader.client = active.model_copy(update={"status": ClientStatus.DISABLED})
    cache.require_enabled("cl_x", loader, T0 + TTL - timedelta(milliseconds=1))  # cached: the bound
    with pytest.raises(ClientDisabled) as refused:
        cache.require_enabled("cl_x", loader, T0 + TTL)
    assert (refused.value.status, refused.value.code, loader.loads) == (403, "client_disabled", 2)
    loader.client = None  # gone altogether: refused too
    with pytest.raises(ClientDisabled):
        cache.require_enabled("cl_x", loader, T0 + 2 * TTL)


def test_a_deactivated_client_is_not_a_disabled_one() -> None:
    """Cut off for non-payment, visitors keep the offline form and their open chats' history."""
    loader = Loader(Client(client_id="cl_x", name="X", widget_key="wk_x", status=ClientStatus.DEACTIVATED))
    ClientStatusCache().require_enabled("cl_x", loader, T0)
