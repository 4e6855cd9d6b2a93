"""Composition root of the admin API: the admin service over the data table, the user pool, the
email outbox and the @connections API, built lazily from configuration."""

from __future__ import annotations

from parley import aws
from parley.admin.adapters import CognitoStaffDirectory, LiveAgentConnections, OutboxInvitationMailer
from parley.admin.service import AdminService
from parley.gateways.connections import ApiGatewayConnections
from parley.repositories.chat import ChatRepository
from parley.repositories.tenants import TenantRepository
from parley.settings import get_settings


def tenant_repository() -> TenantRepository:
    return TenantRepository(aws.dynamodb(), get_settings().data_table)


def admin_service(login_url: str) -> AdminService:
    s = get_settings()
    connections = LiveAgentConnections(ChatRepository(aws.dynamodb(), s.data_table, s.connections_table),
                                       ApiGatewayConnections(s.management_endpoint))
    return AdminService(tenant_repository(), CognitoStaffDirectory(s.cognito_user_pool_id),
                        OutboxInvitationMailer(login_url), connections)
