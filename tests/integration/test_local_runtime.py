"""The local Lambda runtime behaves like Lambda where it matters: one execution environment per
concurrent invocation (handler module and `parley` layer included), each seeing only the
environment variables its FunctionSpec declares."""

from __future__ import annotations

import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.local import lambda_runtime
from infra.local.stack import LocalStack
from infra.wiring import FUNCTIONS, environment_variables
from parley import services
from tests.integration.billing_support import account, login, post_raw, request
from tests.integration.identity_support import signup_verified
from tests.integration.test_billing_ledger import signed

pytestmark = pytest.mark.integration
PASSWORD = "Runtime-pass-2026!"
PLANS = ("business_starter", "business_development", "advanced_business")


def signup(stack: LocalStack, n: int) -> tuple[str, str]:
    email = f"runtime-{n}-{secrets.token_hex(3)}@example.test"
    body = signup_verified(stack, f"Runtime Co {n}", email, PASSWORD, f"https://rt{n}.test")  # with its code
    return body["clientId"], login(stack, email, PASSWORD)


def card_saved_event(customer: str, payment_method: str) -> dict[str, Any]:
    return {"id": f"evt_{secrets.token_hex(6)}", "object": "event", "type": "payment_method.attached",
            "created": int(time.time()), "livemode": False,
            "data": {"object": {"id": payment_method, "object": "payment_method", "customer": customer}}}


def test_concurrent_plan_changes_and_webhooks_each_land_on_their_own_account(local_stack: LocalStack) -> None:
    """Six clients change plans at once (three requests each) while Stripe webhooks for each of
    them arrive at the same moment: every reply and every account carries its own caller's data
    (on a runtime that shared the resolver's module state, requests read each other's bodies)."""
    clients = [signup(local_stack, n) for n in range(6)]
    wanted = {client_id: PLANS[n % len(PLANS)] for n, (client_id, _) in enumerate(clients)}
    # Real cards at Stripe (these clients go on being billed by later tests of the session).
    gateway = services.stripe_gateway()
    cards = {client_id: gateway.attach_test_payment_method(str(account(client_id).stripe_customer_id))
             for client_id, _ in clients}
    start = threading.Barrier(6 * 3 + 6)

    def change_plan(client_id: str, token: str) -> tuple[str, int, Any]:
        start.wait()
        status, reply = request(local_stack, "POST", "/api/client/plan", {"planId": wanted[client_id]}, token)
        return client_id, status, reply

    def webhook(client_id: str) -> tuple[str, int, Any]:
        customer = account(client_id).stripe_customer_id
        assert customer is not None
        body, signature = signed(card_saved_event(customer, cards[client_id]))
        start.wait()
        for _ in range(5):  # a 409 (the account changed meanwhile) is redelivered, as Stripe does
            status, reply = post_raw(local_stack, "/api/stripe/webhook", raw=body,
                                    headers={"Stripe-Signature": signature})
            if status != 409:
                break
        return client_id, status, reply

    with ThreadPoolExecutor(max_workers=24) as pool:
        plan_calls = [pool.submit(change_plan, c, t) for c, t in clients for _ in range(3)]
        hook_calls = [pool.submit(webhook, c) for c, _ in clients]
        plan_results = [f.result(timeout=120) for f in plan_calls]
        hook_results = [f.result(timeout=120) for f in hook_calls]

    for client_id, status, reply in plan_results:
        # 409 is the documented answer to a concurrent update of the same account; never another's data.
        assert status in (200, 409), reply
        if status == 200:
            assert reply["account"]["client_id"] == client_id
            assert reply["account"]["plan_id"] == wanted[client_id]
    assert all(status == 200 for _, status, _ in hook_results), hook_results
    for client_id, _ in clients:
        stored = account(client_id)
        assert stored.plan_id == wanted[client_id]
        assert stored.payment_method == cards[client_id]


def test_each_environment_sees_only_its_declared_variables(local_stack: LocalStack) -> None:
    """The stack's process holds every function's settings; an environment holds its own only."""
    assert "PARLEY_STRIPE_SECRET_NAME" in os.environ  # the stack has it (for the billing functions)
    chat_names = set(lambda_runtime.environment_variable_names("chat_message"))
    assert environment_variables(FUNCTIONS["chat_message"]) <= chat_names
    assert "PARLEY_STRIPE_SECRET_NAME" not in chat_names and "PARLEY_STRIPE_API_BASE" not in chat_names
    assert "PARLEY_VISITOR_TOKEN_SECRET_NAME" not in chat_names
    webhook_names = set(lambda_runtime.environment_variable_names("stripe_webhook"))
    assert "PARLEY_STRIPE_SECRET_NAME" in webhook_names and "PARLEY_CONNECTIONS_TABLE" not in webhook_names
    undeclared = set(os.environ) - chat_names
    assert undeclared, "the process has variables no chat environment should see"
    assert not (undeclared - set(os.environ)) and not any(n.startswith("PYTEST") for n in chat_names)


def test_concurrent_invocations_run_in_environments_of_their_own(local_stack: LocalStack) -> None:
    """Requests at the same moment run in separate environments (processes), as on Lambda."""
    lambda_runtime.reset()
    start = threading.Barrier(4)

    def login_attempt() -> int:
        start.wait()
        status, _ = request(local_stack, "POST", "/api/auth/login", {"username": "nobody", "password": "x" * 12})
        return status

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda _: login_attempt(), range(4)))
    assert all(s in (400, 401) for s in statuses), statuses
    pids = lambda_runtime.environment_pids("auth_login")
    assert len(pids) >= 2, "concurrent invocations shared one environment"
    assert len(set(pids)) == len(pids) and os.getpid() not in pids
