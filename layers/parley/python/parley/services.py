"""Every composition root in one namespace, for the local stack, the CLI and tests. Handlers
import the root of their own concern (`parley.composition.chat` / `.billing`) instead, so
their cold start loads only what they use."""

from __future__ import annotations

from parley import aws
from parley.clock import get_clock
from parley.composition import billing as _billing
from parley.composition import chat as _chat
from parley.composition.billing import (
    billing_service,
    ledger_repository,
    lifecycle,
    stripe_gateway,
    stripe_secret,
)
from parley.composition.chat import (
    chat_repository,
    chat_service,
    cognito_verifier,
    tenant_repository,
    visitor_tokens,
)
from parley.settings import get_settings

__all__ = [
    "billing_service", "chat_repository", "chat_service", "cognito_verifier", "get_clock", "ledger_repository",
    "lifecycle",
    "reset", "stripe_gateway", "stripe_secret", "tenant_repository", "visitor_tokens",
]


def reset() -> None:
    """Forget cached configuration and clients (tests that rebuild the environment)."""
    get_settings.cache_clear()
    _chat.reset()
    _billing.reset()
    aws.reset_clients()
