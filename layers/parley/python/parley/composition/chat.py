"""Composition root of the chat path: repositories, the @connections gateway, visitor tokens
and the Cognito verifier, built lazily from configuration.

Powertools' parameters utility (in `visitor_tokens()`) and the JWT library (in
`CognitoVerifier`) are imported when first used: only the `$connect` authorizer,
`visitor_session` and the dashboard's HTTP functions use them, and `chat_connect` /
`chat_message`, which import this module too, must not pay for them at cold start
(docs/benchmarks.md, import CPU). Only third-party packages are imported late: a `parley`
module imported inside a function would, in the local stack, resolve to the process's copy of
the layer instead of the invocation environment's (infra/local/lambda_runtime.py).
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from parley import aws
from parley.auth.cognito import CognitoVerifier
from parley.auth.visitor_token import VisitorTokens
from parley.chat.access import ConnectAccess
from parley.chat.service import ChatService
from parley.clock import get_clock
from parley.composition import routing
from parley.gateways.connections import ApiGatewayConnections
from parley.repositories.chat import ChatRepository
from parley.repositories.tenants import TenantRepository
from parley.settings import get_settings


def chat_repository() -> ChatRepository:
    s = get_settings()
    # Conversations are in the data table; only the chat functions are granted the connections one.
    return ChatRepository(aws.dynamodb(), s.data_table, s.granted("connections_table"))


def tenant_repository() -> TenantRepository:
    return TenantRepository(aws.dynamodb(), get_settings().data_table)


def chat_service(websocket_endpoint: str | None = None) -> ChatService:
    endpoint = get_settings().websocket_endpoint or websocket_endpoint or ""
    relay = ApiGatewayConnections(endpoint)
    chat = ChatService(chat_repository(), tenant_repository(), relay, get_clock())
    return chat.with_routing(routing.router(relay))


def connect_access() -> ConnectAccess:
    return ConnectAccess(tenant_repository(), get_clock())


def visitor_tokens() -> VisitorTokens:
    from aws_lambda_powertools.utilities import parameters

    s = get_settings()
    secret = parameters.get_secret(s.visitor_token_secret_name, max_age=300)
    raw = secret if isinstance(secret, bytes) else str(secret).encode()
    return VisitorTokens(raw, timedelta(seconds=s.visitor_token_ttl_seconds))


@lru_cache(maxsize=1)
def cognito_verifier() -> CognitoVerifier:
    s = get_settings()
    return CognitoVerifier(s.jwks_url, s.cognito_issuer, s.cognito_client_id)


def reset() -> None:
    cognito_verifier.cache_clear()
