"""The trial and notice workflows, executed for real by moto's Step Functions under the
simulated clock, driven through the client dashboard's HTTP API (CO-2, CO-4, CO-5, CO-9, CH-9)."""

from __future__ import annotations

import json
import secrets
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from infra.local.stack import CONFIG_DIR, LocalStack
from parley import services
from parley.billing.plans import Plan, PlanCatalog
from parley.billing.policy import BillingPolicy
from parley.ledger.models import AccountStatus, InvoiceStatus
from tests.integration.billing_support import account, engaged_chats, login, request
from tests.integration.identity_support import signup_verified

pytestmark = pytest.mark.integration
PASSWORD = "Trial-pass-2026!"


def signup(stack: LocalStack) -> tuple[str, str]:
    email = f"owner-{secrets.token_hex(4)}@example.test"
    body = signup_verified(stack, "Blue Lagoon Spa", email, PASSWORD, "https://lagoon.test")  # with its code
    return body["clientId"], login(stack, email, PASSWORD)


def executions(stack: LocalStack, prefix: str) -> dict[str, str]:
    sfn = stack.boto("stepfunctions")
    return {e["name"]: e["status"] for m in sfn.list_state_machines()["stateMachines"]
            for e in sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]
            if e["name"].startswith(prefix)}


def convert(stack: LocalStack, client_id: str, token: str, plan: str = "business_starter") -> None:
    for path, body in (("/api/client/plan", {"planId": plan}), ("/api/client/payment-method",
                                                                  {"paymentMethod": "pm_card_visa"})):
        status, reply = request(stack, "POST", path, body, token)
        assert status == 200, reply
    stack.advance(timedelta(days=14))
    assert account(client_id).status is AccountStatus.ACTIVE


@pytest.fixture
def tiny_plan(local_stack: LocalStack) -> Iterator[str]:
    """A package with one included chat, so a few chats make overage (restored afterwards)."""
    policy = services.billing_service().config.policy
    original = PlanCatalog.model_validate_json((CONFIG_DIR / "plans" / "call_on_me.json").read_text())
    tiny = Plan(id="tiny", name="Tiny", monthly_fee_cents=1000, included_units=1, overage_cents_per_unit=250)
    local_stack.configure_billing(policy, original.model_copy(update={"plans": (tiny, *original.plans)}))
    yield "tiny"
    local_stack.configure_billing(policy, original)


@pytest.fixture
def policy_overrides(local_stack: LocalStack) -> Iterator[Any]:
    """Swap the provider's policy for a test (restored afterwards)."""
    billing = services.billing_service()
    policy, catalog, _ = billing.config.rules()

    def apply(**overrides: Any) -> BillingPolicy:
        changed = BillingPolicy.from_preset("call_on_me", **overrides)
        local_stack.configure_billing(changed, catalog)
        return changed

    yield apply
    local_stack.configure_billing(policy, catalog)


def test_trial_converts_to_paid_on_day_15_with_the_setup_fee(local_stack: LocalStack) -> None:
    client_id, token = signup(local_stack)
    trial_start = account(client_id).trial_start
    assert trial_start is not None
    assert executions(local_stack, f"trial-{client_id}") == {f"trial-{client_id}": "RUNNING"}
    for path, body in (("/api/client/plan", {"planId": "business_starter"}),
                       ("/api/client/payment-method", {"paymentMethod": "pm_card_visa"})):
        status, reply = request(local_stack, "POST", path, body, token)
        assert status == 200, reply
    local_stack.advance(timedelta(days=13))  # the trial's last day: still a trial
    assert account(client_id).status is AccountStatus.TRIAL
    local_stack.advance(timedelta(days=1, hours=1))
    acc = account(client_id)
    history = services.billing_service().ledger.history(client_id)
    assert acc.status is AccountStatus.ACTIVE, (acc, history)
    assert acc.paid_start == trial_start + timedelta(days=14)  # CO-9: the day after the trial
    assert executions(local_stack, f"trial-{client_id}") == {f"trial-{client_id}": "SUCCEEDED"}
    (invoice,) = services.billing_service().ledger.invoices(client_id)
    assert invoice.issue_date == acc.paid_start
    assert [(line.kind, line.amount_cents, line.rule_id) for line in invoice.lines] == [
        ("monthly_fee_in_advance", 35000, "CO-9"), ("setup_fee", 9500, "CO-5")]
    assert invoice.status is InvoiceStatus.PAID


def test_trial_without_a_plan_stops_the_service(local_stack: LocalStack) -> None:
    client_id, _ = signup(local_stack)
    local_stack.advance(timedelta(days=14, hours=1))
    assert account(client_id).status is AccountStatus.STOPPED
    assert executions(local_stack, f"trial-{client_id}") == {f"trial-{client_id}": "SUCCEEDED"}
    client = services.tenant_repository().get_client(client_id)
    assert client is not None and client.status.value == "deactivated"
    assert services.billing_service().ledger.invoices(client_id) == []  # no usage: nothing to bill (CO-4)


def test_usage_over_the_trial_limit_converts_at_once(local_stack: LocalStack, policy_overrides: Any) -> None:
    policy_overrides(trial_unit_limit=2)
    client_id, token = signup(local_stack)
    assert request(local_stack, "POST", "/api/client/plan", {"planId": "business_starter"}, token)[0] == 200
    engaged_chats(client_id, 2)
    local_stack.drain_streams()
    assert account(client_id).status is AccountStatus.TRIAL  # at the limit: still free
    engaged_chats(client_id, 1)
    local_stack.drain_streams()
    acc = account(client_id)
    assert acc.status is AccountStatus.ACTIVE
    assert acc.paid_start == services.billing_service().config.today()
    local_stack.settle()
    assert executions(local_stack, f"trial-{client_id}") == {f"trial-{client_id}": "ABORTED"}
    assert "trial_converted_early" in [h.kind for h in services.billing_service().ledger.history(client_id)]


def test_notice_ends_the_service_with_a_final_overage_only_invoice(local_stack: LocalStack, tiny_plan: str) -> None:
    client_id, token = signup(local_stack)
    convert(local_stack, client_id, token, plan=tiny_plan)
    engaged_chats(client_id, 4)  # 1 included, 3 over at $2.50
    local_stack.drain_streams()
    status, body = request(local_stack, "POST", "/api/client/notice", {"reason": "closing the shop"}, token)
    assert status == 200, body
    notice = body["notice"]
    acc = account(client_id)
    assert notice["rule_id"] == "CO-2" and notice["effective_date"] == acc.cancellation_effective_date.isoformat()  # type: ignore[union-attr]
    assert "end of the current billing cycle" in notice["explanation"]
    name = f"notice-{client_id}-{notice['noticeId'] if 'noticeId' in notice else notice['notice_id']}"
    assert executions(local_stack, f"notice-{client_id}") == {name: "RUNNING"}

    local_stack.advance(timedelta(days=32))
    acc = account(client_id)
    assert acc.status is AccountStatus.TERMINATED
    invoices = sorted(services.billing_service().ledger.invoices(client_id), key=lambda i: i.issue_date)
    final = invoices[-1]
    assert final.kind == "final"
    assert [line.kind for line in final.lines] == ["overage_in_arrears"]
    assert final.total_cents == 3 * 250
    client = services.tenant_repository().get_client(client_id)
    assert client is not None and client.status.value == "deactivated"


def test_withdrawing_the_notice_aborts_the_workflow_and_billing_goes_on(local_stack: LocalStack) -> None:
    client_id, token = signup(local_stack)
    convert(local_stack, client_id, token)
    assert request(local_stack, "POST", "/api/client/notice", {"reason": "too expensive"}, token)[0] == 200
    assert request(local_stack, "POST", "/api/client/notice", {"reason": "again"}, token)[0] == 409  # pending
    status, _ = request(local_stack, "DELETE", "/api/client/notice", None, token)
    assert status == 200
    local_stack.settle()
    assert set(executions(local_stack, f"notice-{client_id}").values()) == {"ABORTED"}
    acc = account(client_id)
    assert acc.cancellation_effective_date is None and acc.status is AccountStatus.ACTIVE
    local_stack.advance(timedelta(days=32))
    kinds = [i.kind for i in services.billing_service().ledger.invoices(client_id)]
    assert kinds == ["cycle", "cycle"]  # the next month was billed as usual
    assert request(local_stack, "DELETE", "/api/client/notice", None, token)[0] == 404  # nothing pending


def test_dashboard_bad_input_is_a_clear_4xx_that_changes_nothing(local_stack: LocalStack,
                                                                 policy_overrides: Any) -> None:
    client_id, token = signup(local_stack)
    before = account(client_id)
    status, body = request(local_stack, "POST", "/api/client/plan", {"planId": "platinum"}, token)
    assert (status, body["code"]) == (400, "invalid_request") and "platinum" in body["message"]
    status, body = request(local_stack, "POST", "/api/client/notice", {"reason": "x"}, token)
    assert status == 409  # a trial simply ends (CO-4)
    assert request(local_stack, "GET", "/api/client/export", None, None)[0] == 401
    agent_token = login(local_stack, local_stack.demo.agent_username, local_stack.demo.agent_password)
    assert request(local_stack, "GET", "/api/client/export", None, agent_token)[0] == 403
    assert account(client_id) == before

    policy_overrides(notice_requires_reason=True)
    convert(local_stack, client_id, token)
    status, body = request(local_stack, "POST", "/api/client/notice", {}, token)
    assert (status, body["code"]) == (400, "cancellation_reason_required")
    assert account(client_id).notice is None


def test_the_data_export_holds_conversations_visitors_and_invoices(local_stack: LocalStack) -> None:
    client_id, token = signup(local_stack)
    engaged_chats(client_id, 2)
    status, reply = request(local_stack, "GET", "/api/client/export", None, token)
    assert status == 200
    with urllib.request.urlopen(reply["downloadUrl"], timeout=30) as response:  # the export is in S3
        export = json.loads(response.read())
    assert export["clientId"] == client_id and len(export["conversations"]) == 2
    assert [m["text"] for m in export["conversations"][0]["messages"] if m["kind"] == "text"] == ["hi", "hello!"]
    assert len(export["visitors"]) == 2
    assert export["invoices"] == []
