"""Composition root: builds the domain services from configuration, once per process."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from aws_lambda_powertools.utilities import parameters

from parley import aws
from parley.auth.cognito import CognitoVerifier
from parley.auth.visitor_token import VisitorTokens
from parley.billing.calendar import parse_time_zone
from parley.chat.service import ChatService
from parley.clock import get_clock
from parley.gateways.connections import ApiGatewayConnections
from parley.gateways.stripe_gateway import StripeGateway
from parley.gateways.workflows import StepFunctionsWorkflows
from parley.ledger.lifecycle import AccountLifecycle
from parley.ledger.service import BillingService
from parley.repositories.chat import ChatRepository
from parley.repositories.ledger import LedgerRepository
from parley.repositories.tenants import TenantRepository
from parley.settings import get_settings


def chat_repository() -> ChatRepository:
    s = get_settings()
    return ChatRepository(aws.dynamodb(), s.data_table, s.connections_table)


def tenant_repository() -> TenantRepository:
    return TenantRepository(aws.dynamodb(), get_settings().data_table)


def chat_service(websocket_endpoint: str | None = None) -> ChatService:
    endpoint = get_settings().websocket_endpoint or websocket_endpoint or ""
    return ChatService(chat_repository(), tenant_repository(), ApiGatewayConnections(endpoint), get_clock())


def visitor_tokens() -> VisitorTokens:
    s = get_settings()
    secret = parameters.get_secret(s.visitor_token_secret_name, max_age=300)
    raw = secret if isinstance(secret, bytes) else str(secret).encode()
    return VisitorTokens(raw, timedelta(seconds=s.visitor_token_ttl_seconds))


def stripe_secret() -> dict[str, str]:
    value = parameters.get_secret(get_settings().stripe_secret_name, transform="json", max_age=300)
    return {str(k): str(v) for k, v in dict(value).items()}


@lru_cache(maxsize=1)
def stripe_gateway() -> StripeGateway:
    """One per process: it holds an HTTP session (and counts its requests)."""
    s = get_settings()
    return StripeGateway(stripe_secret()["api_key"], api_base=s.stripe_api_base or None,
                         business_tz=parse_time_zone(s.provider_time_zone))


def ledger_repository() -> LedgerRepository:
    return LedgerRepository(aws.dynamodb(), get_settings().data_table)


def billing_service(with_stripe: bool = True) -> BillingService:
    return BillingService(ledger_repository(), tenant_repository(), stripe_gateway() if with_stripe else None,
                          get_clock())


def lifecycle() -> AccountLifecycle:
    return AccountLifecycle(billing_service(), tenant_repository(), chat_repository(), StepFunctionsWorkflows())


@lru_cache(maxsize=1)
def cognito_verifier() -> CognitoVerifier:
    s = get_settings()
    return CognitoVerifier(s.jwks_url, s.cognito_issuer, s.cognito_client_id)


def reset() -> None:
    """Forget cached configuration and clients (tests that rebuild the environment)."""
    get_settings.cache_clear()
    cognito_verifier.cache_clear()
    stripe_gateway.cache_clear()
    aws.reset_clients()
