"""Composition root of leads and of the visitor-facing availability answer."""

from __future__ import annotations

from parley import aws
from parley.availability import AvailabilityService, BusinessHours, ClientServiceState
from parley.clock import get_clock
from parley.composition.chat import tenant_repository
from parley.composition.email import email_outbox
from parley.leads.service import LeadService
from parley.repositories.chat import ChatRepository
from parley.repositories.leads import LeadRepository
from parley.repositories.presence import RoutingPresence
from parley.settings import get_settings


def availability_service() -> AvailabilityService:
    s = get_settings()
    return AvailabilityService(BusinessHours(), RoutingPresence(aws.dynamodb(), s.data_table, s.connections_table),
                               ClientServiceState())


def lead_repository() -> LeadRepository:
    return LeadRepository(aws.dynamodb(), get_settings().data_table)


def lead_service(*, for_visitors: bool = False) -> LeadService:
    """Staff routes read conversations and leads (data table only); the visitor route also
    asks whether anyone can chat (presence reads the connections table)."""
    conversations = ChatRepository(aws.dynamodb(), get_settings().data_table, None)  # no connection is read
    return LeadService(lead_repository(), tenant_repository(), conversations, email_outbox(),
                       availability_service() if for_visitors else None, get_clock())
