"""The client dashboard's billing endpoints on the local stack (real moto, real localstripe via
the official SDK): the card shown by brand and last 4, the payment-failed alert with the ledger's
due date, Pay now (declined, paid, and every refusal), the invoice preview computed by the engine,
billing address and tax id reaching Stripe and the PDF, the portal stand-in's due date, and a
card changed in the portal reaching the ledger through Stripe's events."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import urllib.request
import zlib
from collections.abc import Callable

import pytest
import stripe

from infra.local.stack import LocalStack
from parley import services
from parley.clock import get_clock
from parley.gateways.stripe_gateway import PaymentProviderUnavailable, StripeGateway
from parley.ledger import dashboard
from parley.ledger.models import InvoiceStatus, LedgerInvoice
from parley.ledger.service import build_billing
from tests.integration.billing_support import account, new_client, post_raw, request
from tests.integration.stripe_faults import StripeFaultProxy

pytestmark = pytest.mark.integration

PASSWORD = "Billing-dash-2026"
DECLINES = "pm_card_chargeCustomerFail"  # Visa 0341: attaches, then every charge declines


def dashboard_user(stack: LocalStack, client_id: str) -> str:
    """A dashboard user of `client_id`, signed in: its ID token."""
    username = f"owner-{secrets.token_hex(4)}"
    sub = stack.create_user(username, PASSWORD, "clients", email=f"{username}@billing.test")
    services.tenant_repository().put_client_user(sub, client_id)
    # Signed in at Cognito itself (what the login function does), so these tests do not depend
    # on the login function's own rules (lockouts, MFA).
    auth = stack.sign_in(username, PASSWORD)
    return str(auth["AuthenticationResult"]["IdToken"])


def only_invoice(client_id: str) -> LedgerInvoice:
    (invoice,) = services.billing_service().ledger.invoices(client_id)
    return invoice


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Stripe's events reach the webhook asynchronously: wait for their effect (not a timing test)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


@pytest.fixture
def declined(local_stack: LocalStack) -> tuple[str, str]:
    """A paying client whose first invoice was declined (card 0341), and its dashboard token."""
    client_id, billing = new_client(local_stack, card=DECLINES, paid_start=None)
    billing.accounts.start_paid_service(client_id, "business_starter", billing.config.today())
    assert only_invoice(client_id).status is InvoiceStatus.OPEN
    return client_id, dashboard_user(local_stack, client_id)


def test_the_dashboard_shows_the_card_and_the_failed_payment_with_the_ledgers_due_date(
        local_stack: LocalStack, declined: tuple[str, str]) -> None:
    client_id, token = declined
    status, view = request(local_stack, "GET", "/api/client/billing", token=token)
    assert status == 200, view
    assert view["card"] == {"known": True, "brand": "visa", "last4": "0341", "expMonth": 12, "expYear": 2030}
    invoice = only_invoice(client_id)
    alert = view["alert"]
    assert alert["state"] == "payment_failed"
    assert alert["owedCents"] == invoice.total_cents == 44_500
    (item,) = alert["invoices"]
    assert item["invoiceId"] == invoice.invoice_id
    assert item["dueDate"] == invoice.due_date.isoformat()
    assert item["failedOn"] == invoice.issue_date.isoformat()
    assert view["currentPlan"]["id"] == "business_starter"
    assert view["usageHistory"][-1]["current"] is True


def test_the_portal_stand_in_shows_the_ledgers_due_date(local_stack: LocalStack, declined: tuple[str, str]) -> None:
    client_id, token = declined
    invoice = only_invoice(client_id)
    status, reply = request(local_stack, "POST", "/api/client/billing/portal",
                            {"returnUrl": local_stack.base_url + "/dashboard/"}, token=token)
    assert status == 200, reply
    with urllib.request.urlopen(reply["url"], timeout=10) as page:
        html = page.read().decode()
    row = re.search(rf"<tr data-invoice='{invoice.stripe_invoice_id}'>(.*?)</tr>", html, re.S)
    assert row is not None
    dates = re.findall(r"<td>(\d{4}-\d{2}-\d{2})</td>", row.group(1))
    assert dates == [invoice.issue_date.isoformat(), invoice.due_date.isoformat()]


def test_pay_now_declined_then_paid_with_a_new_card_then_409(local_stack: LocalStack,
                                                              declined: tuple[str, str]) -> None:
    client_id, token = declined
    invoice = only_invoice(client_id)
    path = f"/api/client/billing/invoices/{invoice.invoice_id}/pay"
    status, reply = request(local_stack, "POST", path, token=token)
    assert (status, reply["code"]) == (402, "payment_declined"), reply
    assert only_invoice(client_id).status is InvoiceStatus.OPEN

    status, reply = request(local_stack, "POST", "/api/client/payment-method", {"paymentMethod": "pm_card_visa"},
                            token=token)
    assert status == 200, reply
    status, reply = request(local_stack, "POST", path, token=token)
    assert status == 200, reply
    assert reply["invoice"]["status"] == "paid"
    assert only_invoice(client_id).status is InvoiceStatus.PAID
    status, view = request(local_stack, "GET", "/api/client/billing", token=token)
    assert view["alert"] is None and view["card"]["last4"] == "4242"

    status, reply = request(local_stack, "POST", path, token=token)
    assert (status, reply["code"]) == (409, "invoice_not_payable"), reply
    payments = [h for h in services.billing_service().ledger.history(client_id) if h.kind == "payment_received"]
    assert len(payments) == 1


def test_pay_now_refuses_what_is_not_the_callers_or_not_payable(local_stack: LocalStack,
                                                                 declined: tuple[str, str]) -> None:
    client_id, token = declined
    other_id, _ = new_client(local_stack, card=DECLINES, paid_start=services.billing_service().config.today())
    other_invoice = only_invoice(other_id)
    status, reply = request(local_stack, "POST", f"/api/client/billing/invoices/{other_invoice.invoice_id}/pay",
                            token=token)
    assert (status, reply["code"]) == (404, "not_found")
    status, reply = request(local_stack, "POST", "/api/client/billing/invoices/in_nope/pay", token=token)
    assert (status, reply["code"]) == (404, "not_found")
    status, reply = request(local_stack, "POST", f"/api/client/billing/invoices/{only_invoice(client_id).invoice_id}"
                            "/pay")
    assert status == 401
    assert only_invoice(other_id).status is InvoiceStatus.OPEN
    assert only_invoice(client_id).status is InvoiceStatus.OPEN


def test_pay_now_when_stripe_is_down_is_a_clear_error_and_changes_nothing(local_stack: LocalStack) -> None:
    client_id, _ = new_client(local_stack, card=DECLINES, paid_start=services.billing_service().config.today())
    ledger = services.billing_service().ledger
    before_history = len(ledger.history(client_id))
    proxy = StripeFaultProxy(local_stack.stripe.url).start()
    try:
        gateway = StripeGateway("sk_test_local", api_base=proxy.url, timeout_seconds=1.0, max_network_retries=0)
        faulty = build_billing(services.ledger_repository(), services.tenant_repository(), gateway, get_clock())
        proxy.inject("error_500", path=r"^/v1/invoices/[^/]+/pay$", times=5)
        with pytest.raises(PaymentProviderUnavailable) as raised:
            dashboard.pay_now(faulty, client_id, only_invoice(client_id).invoice_id)
        assert (raised.value.status, raised.value.code) == (503, "payment_provider_unavailable")
    finally:
        proxy.stop()
    assert only_invoice(client_id).status is InvoiceStatus.OPEN
    assert len(ledger.history(client_id)) == before_history


def test_the_preview_is_the_invoice_the_engine_then_issues(local_stack: LocalStack) -> None:
    client_id, billing = new_client(local_stack, card="pm_card_visa")
    token = dashboard_user(local_stack, client_id)
    status, reply = request(local_stack, "GET", "/api/client/billing/preview", token=token)
    assert (status, reply["code"]) == (400, "invalid_request")  # no plan chosen, none named
    status, reply = request(local_stack, "GET", "/api/client/billing/preview?planId=nope", token=token)
    assert (status, reply["code"]) == (400, "invalid_request")
    status, preview = request(local_stack, "GET", "/api/client/billing/preview?planId=business_starter", token=token)
    assert status == 200, preview
    assert [(line["kind"], line["amount_cents"]) for line in preview["lines"]] == [
        ("monthly_fee_in_advance", 35_000), ("setup_fee", 9_500)]
    assert preview["totalCents"] == 44_500
    billing.accounts.start_paid_service(client_id, "business_starter", billing.config.today())
    issued = only_invoice(client_id)
    assert preview["totalCents"] == issued.total_cents
    assert preview["dueDate"] == issued.due_date.isoformat()
    assert preview["lines"] == [line.model_dump(mode="json") for line in issued.lines]
    status, upcoming = request(local_stack, "GET", "/api/client/billing/preview", token=token)
    assert status == 200 and upcoming["kind"] == "upcoming", upcoming
    assert upcoming["issueDate"] == account(client_id).next_billing_date.isoformat()  # type: ignore[union-attr]
    assert [line["kind"] for line in upcoming["lines"]] == ["monthly_fee_in_advance"]  # no setup fee again


def pdf_text(body: bytes) -> str:
    """The text shown by an fpdf2 PDF (its content streams are zlib-compressed)."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", body, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return " ".join(re.findall(r"\((.*?)\)\s*Tj", " ".join(chunks)))


def test_billing_address_and_tax_id_reach_stripe_and_the_pdf(local_stack: LocalStack,
                                                             declined: tuple[str, str]) -> None:
    client_id, token = declined
    bad = {"address": {"line1": "1 Main St", "city": "Austin", "postal_code": "78701", "country": "usa"}}
    status, reply = request(local_stack, "PUT", "/api/client/billing/details", bad, token=token)
    assert (status, reply["code"]) == (400, "invalid_request") and "country" in reply["message"]
    status, reply = request(local_stack, "PUT", "/api/client/billing/details",
                            {**bad, "address": {**bad["address"], "country": "US"},
                             "tax_id": {"type": "us_vat", "value": "12-3456789"}}, token=token)
    assert (status, reply["code"]) == (400, "invalid_request")
    customer = account(client_id).stripe_customer_id or ""
    sdk = stripe.StripeClient("sk_test_local", base_addresses={"api": local_stack.stripe.url})
    assert not sdk.v1.customers.retrieve(customer).to_dict().get("address")  # nothing changed

    good = {"address": {"line1": "1 Main St", "city": "Austin", "postal_code": "78701", "state": "TX",
                        "country": "US"}, "tax_id": {"type": "us_ein", "value": "12-3456789"}}
    status, reply = request(local_stack, "PUT", "/api/client/billing/details", good, token=token)
    assert status == 200, reply
    assert reply["address"]["city"] == "Austin" and reply["tax_id"] == good["tax_id"]
    assert sdk.v1.customers.retrieve(customer).to_dict()["address"]["line1"] == "1 Main St"
    assert [(t.type, t.value) for t in sdk.v1.customers.tax_ids.list(customer).data] == [("us_ein", "12-3456789")]
    status, _ = request(local_stack, "PUT", "/api/client/billing/details", good, token=token)
    assert status == 200 and len(sdk.v1.customers.tax_ids.list(customer).data) == 1

    invoice = only_invoice(client_id)
    req = urllib.request.Request(f"{local_stack.base_url}/api/client/billing/invoices/{invoice.invoice_id}/pdf",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        body = response.read()
    assert body.startswith(b"%PDF-")
    text = pdf_text(body)
    for expected in (invoice.invoice_id, "1 Main St", "78701 Austin TX", "12-3456789", "$445.00",
                     invoice.due_date.isoformat(), "CO-5"):
        assert expected in text, (expected, text)


def test_a_card_added_in_the_portal_becomes_the_card_on_file(local_stack: LocalStack,
                                                             declined: tuple[str, str]) -> None:
    client_id, token = declined
    before = account(client_id).payment_method
    status, reply = request(local_stack, "POST", "/api/client/billing/portal",
                            {"returnUrl": local_stack.base_url + "/dashboard/"}, token=token)
    assert status == 200, reply
    form = urllib.request.Request(reply["url"] + "/payment-methods", data=b"card=visa", method="POST",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(form, timeout=10) as page:
        assert "added as default" in page.read().decode()
    eventually(lambda: account(client_id).payment_method not in (None, before), "the portal card reached the ledger")
    status, view = request(local_stack, "GET", "/api/client/billing", token=token)
    assert view["card"]["last4"] == "4242"


def test_stripe_links_are_none_locally(local_stack: LocalStack, declined: tuple[str, str]) -> None:
    """localstripe has no hosted invoice page: the route answers, with nothing to link to."""
    client_id, token = declined
    status, reply = request(local_stack, "GET",
                            f"/api/client/billing/invoices/{only_invoice(client_id).invoice_id}/stripe", token=token)
    assert status == 200 and reply == {"hostedInvoiceUrl": None, "invoicePdf": None}


def test_pay_now_of_everything_owed_declined_paid_then_nothing_owed(local_stack: LocalStack,
                                                                    declined: tuple[str, str]) -> None:
    client_id, token = declined
    status, reply = request(local_stack, "POST", "/api/client/billing/pay-now", token=token)
    assert (status, reply["code"]) == (402, "payment_declined"), reply
    assert only_invoice(client_id).invoice_id in reply["message"]
    status, reply = request(local_stack, "POST", "/api/client/payment-method", {"paymentMethod": "pm_card_visa"},
                            token=token)
    assert status == 200, reply
    status, reply = request(local_stack, "POST", "/api/client/billing/pay-now", token=token)
    assert status == 200, reply
    assert (reply["paid"], reply["settled"], reply["owedAfterCents"]) == (True, [only_invoice(client_id).invoice_id], 0)
    assert reply["reinstated"] is False and reply["account"]["status"] == "active"
    status, reply = request(local_stack, "POST", "/api/client/billing/pay-now", token=token)
    assert (status, reply["code"]) == (409, "nothing_owed"), reply


def test_a_stale_customer_updated_does_not_put_an_older_card_back(local_stack: LocalStack,
                                                                  declined: tuple[str, str]) -> None:
    """Stripe does not promise event order: a `customer.updated` naming the card of an earlier
    change, delivered after a newer one, leaves the card Stripe has now on file."""
    client_id, token = declined
    old_card = account(client_id).payment_method
    status, reply = request(local_stack, "POST", "/api/client/payment-method", {"paymentMethod": "pm_card_visa"},
                            token=token)
    assert status == 200, reply
    new_card = reply["paymentMethod"]
    customer = account(client_id).stripe_customer_id
    stale = {"id": f"evt_stale_{secrets.token_hex(4)}", "object": "event", "type": "customer.updated",
             "created": int(time.time()) - 60, "livemode": False,
             "data": {"object": {"id": customer, "object": "customer",
                                 "invoice_settings": {"default_payment_method": old_card}}}}
    body = json.dumps(stale).encode()
    stamp = int(time.time())
    key = services.stripe_secret()["webhook_secret"]
    signature = hmac.new(key.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    status, reply = post_raw(local_stack, "/api/stripe/webhook", raw=body,
                             headers={"Stripe-Signature": f"t={stamp},v1={signature}"})
    assert status == 200, reply
    assert account(client_id).payment_method == new_card != old_card
