"""Composition root of the money path: Stripe, the ledger, billing and the account lifecycle."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools.utilities import parameters

from parley import aws
from parley.billing.calendar import parse_time_zone
from parley.clock import get_clock
from parley.composition.chat import chat_repository, tenant_repository
from parley.gateways.collection_queue import SqsCollectionQueue
from parley.gateways.stripe_gateway import StripeGateway
from parley.gateways.workflows import StepFunctionsWorkflows
from parley.ledger.lifecycle import AccountLifecycle
from parley.ledger.service import Billing, build_billing
from parley.repositories.ledger import LedgerRepository
from parley.settings import get_settings


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


def billing_service(with_stripe: bool = True, *, fan_out: bool = False) -> Billing:
    """The billing services over DynamoDB, and Stripe unless a job never calls it. With
    `fan_out` (the scheduled billing day) collection goes through the collection queue."""
    queue = SqsCollectionQueue(aws.sqs(), get_settings().collection_queue_url) if fan_out else None
    return build_billing(ledger_repository(), tenant_repository(), stripe_gateway() if with_stripe else None,
                         get_clock(), queue)


def lifecycle() -> AccountLifecycle:
    billing = billing_service()
    return AccountLifecycle(billing.ledger, billing, tenant_repository(), chat_repository(), StepFunctionsWorkflows())


def reset() -> None:
    stripe_gateway.cache_clear()
