"""Helpers for the billing and workflow integration tests (against the session's local stack)."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable
from datetime import date
from typing import Any

from infra.local.stack import LocalStack
from parley import services
from parley.auth.cognito import AgentClaims
from parley.chat.access import ConnectAccess
from parley.chat.frames import parse_action
from parley.chat.models import Agent, Client
from parley.chat.service import ChatService
from parley.clock import get_clock
from parley.ledger.models import BillingAccount
from parley.ledger.service import Billing


class SilentRelay:
    def post(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> set[str]:
        return set()


def new_client(stack: LocalStack, *, card: str | None = "pm_card_visa", plan: str = "business_starter",
               paid_start: date | None = None) -> tuple[str, Billing]:
    """A client with a chat profile, an agent, and a billing account (paid from `paid_start`)."""
    client_id = f"cl_t{secrets.token_hex(4)}"
    tenants = services.tenant_repository()
    tenants.put_client(Client(client_id=client_id, name=f"Test {client_id}", widget_key=f"wk_{client_id}",
                              allowed_origins=[stack.base_url]))
    tenants.put_agent(Agent(agent_id=f"ag_{client_id}", name="Agent", client_ids=[client_id]))
    billing = services.billing_service()
    account = billing.accounts.open_account(client_id, f"Test {client_id}", f"{client_id}@example.test")
    if card and account.stripe_customer_id:
        billing.accounts.set_payment_method(client_id, services.stripe_gateway().attach_test_payment_method(
            account.stripe_customer_id, card))
    if paid_start is not None:
        billing.accounts.start_paid_service(client_id, plan, paid_start)
    return client_id, billing


def account(client_id: str) -> BillingAccount:
    found = services.billing_service().ledger.account(client_id)
    assert found is not None
    return found


def request(stack: LocalStack, method: str, path: str, body: Any = None, token: str | None = None, *,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """A JSON request (the body, if any, sent as JSON), with the bearer token when given."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    return _send(urllib.request.Request(stack.base_url + path, data=data, method=method, headers=all_headers))


def post_raw(stack: LocalStack, path: str, *, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """A POST of exact bytes (a signed webhook: the signature covers the body as sent)."""
    all_headers = {"Content-Type": "application/json", **headers}
    return _send(urllib.request.Request(stack.base_url + path, data=raw, method="POST", headers=all_headers))


def _send(req: urllib.request.Request) -> tuple[int, Any]:
    """Status and JSON reply, for error statuses too."""
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def login(stack: LocalStack, username: str, password: str) -> str:
    status, body = request(stack, "POST", "/api/auth/login", {"username": username, "password": password})
    assert status == 200, body
    return str(body["idToken"])


def engaged_chats(client_id: str, count: int, *, reply: bool = True) -> list[str]:
    """Real conversations through the chat service (in-process): the visitor writes, an agent
    accepts and (if `reply`) answers."""
    # Connections here are not sockets: a relay that delivers nowhere keeps them (the real one
    # would be answered 410 and forget them). The chat service, repositories and stream are real.
    chat = ChatService(services.chat_repository(), services.tenant_repository(), SilentRelay(), get_clock())
    tokens = services.visitor_tokens()
    client = services.tenant_repository().get_client(client_id)
    assert client is not None
    if services.tenant_repository().get_agent(f"ag_{client_id}") is None:
        services.tenant_repository().put_agent(Agent(agent_id=f"ag_{client_id}", name="Agent", client_ids=[client_id]))
    access = ConnectAccess(services.tenant_repository(), get_clock())  # what the $connect authorizer runs
    agent_conn = f"agent-{secrets.token_hex(4)}"
    agent = access.agent(AgentClaims(sub=f"ag_{client_id}", username="a", email="", groups=()))
    chat.connect(agent_conn, agent)
    ids = []
    for _ in range(count):
        visitor_conn = f"visitor-{secrets.token_hex(4)}"
        token, _ = tokens.issue(client_id, f"v_{secrets.token_hex(4)}", get_clock().now())
        visitor = access.visitor(client.widget_key, client.allowed_origins[0], token, tokens)
        chat.connect(visitor_conn, visitor)
        started = chat.handle(visitor_conn, visitor, parse_action('{"action":"startConversation","text":"hi"}'))
        cid = started["conversation"]["conversationId"]
        chat.handle(agent_conn, agent, parse_action(f'{{"action":"acceptConversation","conversationId":"{cid}"}}'))
        if reply:
            chat.handle(agent_conn, agent, parse_action(
                f'{{"action":"sendMessage","conversationId":"{cid}","text":"hello!"}}'))
        ids.append(cid)
    return ids
