"""Composition root of leads and of the visitor-facing availability answer."""

from __future__ import annotations

from parley import aws
from parley.availability import AvailabilityService, BusinessHours, ClientServiceState
from parley.clock import get_clock
from parley.composition.chat import chat_repository, tenant_repository
from parley.composition.email import email_outbox
from parley.leads.service import LeadService
from parley.repositories.leads import LeadRepository
from parley.repositories.presence import RoutingPresence
from parley.settings import get_settings


def availability_service() -> AvailabilityService:
    s = get_settings()
    return AvailabilityService(BusinessHours(), RoutingPresence(aws.dynamodb(), s.data_table, s.connections_table),
                               ClientServiceState())


def lead_repository() -> LeadRepository:
    return LeadRepository(aws.dynamodb(), get_settings().data_table)


def lead_service() -> LeadService:
    return LeadService(lead_repository(), tenant_repository(), chat_repository(), email_outbox(),
                       availability_service(), get_clock())
