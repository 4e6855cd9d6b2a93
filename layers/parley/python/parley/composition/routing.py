"""Composition root of routing: the router over DynamoDB and the @connections API."""

from __future__ import annotations

from parley import aws
from parley.clock import get_clock
from parley.gateways.connections import ApiGatewayConnections, ConnectionsGateway
from parley.repositories.routing import RoutingRepository
from parley.repositories.tenants import TenantRepository
from parley.routing.service import Router
from parley.settings import get_settings


def routing_repository() -> RoutingRepository:
    s = get_settings()
    return RoutingRepository(aws.dynamodb(), s.data_table, s.connections_table)


def router(relay: ConnectionsGateway | None = None) -> Router:
    s = get_settings()
    return Router(routing_repository(), TenantRepository(aws.dynamodb(), s.data_table),
                  relay or ApiGatewayConnections(s.management_endpoint), get_clock())
