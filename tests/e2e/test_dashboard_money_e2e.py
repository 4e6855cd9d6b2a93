"""The dashboard's money path in real headless Chromium, against the local stack.

- A declined first invoice shows the red payment-failed state with the ledger's due date, the
  card by brand and last 4, and Pay now; Pay now with the declining card says it was declined.
- At default the banner says the service is terminated and what is still owed; with the card
  changed, Pay now pays everything owed and the service comes back only if the provider's policy
  reinstates on full payment (both settings of `reinstate_on_full_payment`).
- A card added in the Stripe portal stand-in reaches the dashboard (payment_method.attached /
  customer.updated emitted by localstripe, applied by the webhook).
- Before a plan is chosen, each plan shows its first invoice with the setup fee, as computed by
  the billing engine; billing details saved in the form reach the invoice PDF.

The client and its dashboard user are made in-process (as the integration tests do) and the
browser is handed the Cognito ID token, so these tests depend on the dashboard alone, not on the
sign-up or sign-in forms (tested in test_dashboard_e2e.py). Every wait is an expect()-style
wait; moving the clock is the stack's own `advance` (what `make clock` calls).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from infra.local.stack import LocalStack
from parley import services
from parley.billing.plans import PlanCatalog
from parley.billing.policy import BillingPolicy
from parley.chat.models import Client
from parley.ledger.models import AccountStatus, InvoiceStatus, LedgerInvoice

pytestmark = pytest.mark.e2e

T = 20_000  # ms, for every expect()
PASSWORD = "E2e-money-2026"
DECLINES = "pm_card_chargeCustomerFail"  # Visa 0341: attaches, then every charge declines
TOKEN_KEY = "parley.dashboard.idToken"


@pytest.fixture(scope="module")
def browser(launch_browser: Callable[[tuple[str, ...], str], Browser]) -> Browser:
    built = ("dashboard/dist/index.html", "dashboard/dist/app.js", "dashboard/dist/app.css")
    return launch_browser(built, "node scripts/build_dashboard.mjs")


def make_client(stack: LocalStack, *, card: str | None, paid: bool) -> tuple[str, str]:
    """A client with a billing account (paying from today with `card`, or in its trial) and a
    signed-in dashboard user: (client id, ID token)."""
    client_id = f"cl_m{secrets.token_hex(4)}"
    services.tenant_repository().put_client(Client(client_id=client_id, name=f"Money {client_id}",
                                                   widget_key=f"wk_{client_id}", allowed_origins=[stack.base_url]))
    billing = services.billing_service()
    today = billing.config.today()
    account = billing.accounts.open_account(client_id, f"Money {client_id}", f"{client_id}@money.test",
                                            trial_start=None if paid else today)
    if card and account.stripe_customer_id:
        billing.accounts.set_payment_method(client_id, services.stripe_gateway().attach_test_payment_method(
            account.stripe_customer_id, card))
    if paid:
        billing.accounts.start_paid_service(client_id, "business_starter", today)
    username = f"money-{secrets.token_hex(4)}"
    sub = stack.create_user(username, PASSWORD, "clients", email=f"{username}@money.test")
    services.tenant_repository().put_client_user(sub, client_id)
    auth = stack.sign_in(username, PASSWORD)
    return client_id, str(auth["AuthenticationResult"]["IdToken"])


@pytest.fixture
def open_dashboard(browser: Browser, local_stack: LocalStack) -> Iterator[Callable[[str], Page]]:
    contexts = []
    errors: list[str] = []

    def open_(token: str) -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        context.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r})")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{local_stack.base_url}/dashboard/")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == [], f"uncaught errors on the dashboard: {errors}"


@pytest.fixture(params=[False, True], ids=["reinstatement_off", "reinstatement_on"])
def reinstatement(request: pytest.FixtureRequest, local_stack: LocalStack) -> Iterator[bool]:
    """The provider's policy with `reinstate_on_full_payment` set each way (restored after)."""
    stored = services.billing_service().config.rules()
    flag = bool(request.param)
    policy = BillingPolicy.model_validate({**stored.policy.model_dump(mode="json"), "reinstate_on_full_payment": flag})
    local_stack.configure_billing(policy, PlanCatalog.model_validate(stored.catalog.model_dump(mode="json")))
    try:
        yield flag
    finally:
        local_stack.configure_billing(stored.policy, stored.catalog)


def invoices(client_id: str) -> list[LedgerInvoice]:
    return sorted(services.billing_service().ledger.invoices(client_id), key=lambda i: (i.issue_date, i.invoice_id))


def test_payment_failed_then_default_then_pay_now(open_dashboard: Callable[[str], Page], local_stack: LocalStack,
                                                  reinstatement: bool) -> None:
    client_id, token = make_client(local_stack, card=DECLINES, paid=True)
    (first,) = invoices(client_id)
    page = open_dashboard(token)
    status = page.get_by_test_id("dash-status")

    # The declined first invoice: red, the ledger's due date, the card by brand and last 4.
    expect(status).to_have_attribute("data-status", "payment_failed", timeout=T)
    expect(status).to_contain_text(f"Payment failed — $445.00 is due by {first.due_date.isoformat()}.")
    expect(status).to_contain_text("We could not charge Visa •••• 0341, expires 12/2030")
    expect(page.get_by_test_id("dash-card-text")).to_contain_text("Visa •••• 0341, expires 12/2030")
    expect(page.get_by_test_id("dash-payment-method")).not_to_contain_text("pm_")
    failed = page.locator('[data-testid="dash-history"] [data-kind="payment_failed"]').first
    expect(failed).to_contain_text(f"due {first.due_date.isoformat()}")

    # Pay now with the card that declines: said so, nothing paid.
    page.get_by_test_id("dash-pay-now").click()
    expect(page.locator("#error-text")).to_contain_text("declined", timeout=T)
    assert invoices(client_id)[0].status is InvoiceStatus.OPEN

    # Default (call_on_me: the day after Billing Date + 31).
    local_stack.advance(timedelta(days=33))
    page.get_by_test_id("dash-refresh").click()
    expect(status).to_have_attribute("data-status", "in_default", timeout=T)
    expect(status).to_contain_text("Service terminated for non-payment")
    owed = sum(i.amount_due_cents for i in invoices(client_id) if i.status is InvoiceStatus.OPEN)
    expect(status).to_contain_text(f"Still owed: ${owed // 100:,}.{owed % 100:02d}")
    if reinstatement:
        expect(status).to_contain_text("Paying everything owed")
        expect(status).to_contain_text("restores the service")
    else:
        expect(status).to_contain_text("Paying settles the debt; it does not restore the service.")

    # A card that pays, then Pay now: everything owed is paid.
    page.get_by_test_id("dash-card-visa").click()
    expect(page.get_by_test_id("dash-card-text")).to_contain_text("Visa •••• 4242", timeout=T)
    page.get_by_test_id("dash-pay-now").click()
    toast = page.get_by_test_id("dash-toast")
    if reinstatement:
        expect(toast).to_have_text("Paid — your service is active.", timeout=T)
        expect(status).to_have_attribute("data-status", "active")
        assert services.billing_service().ledger.account(client_id).status is AccountStatus.ACTIVE  # type: ignore[union-attr]
    else:
        expect(toast).to_contain_text("Paid. The service stays", timeout=T)
        expect(status).to_have_attribute("data-status", "in_default")
        expect(status).to_contain_text("Nothing is owed any more; the service stays terminated.")
        assert services.billing_service().ledger.account(client_id).status is not AccountStatus.ACTIVE  # type: ignore[union-attr]
    assert all(i.status is not InvoiceStatus.OPEN or i.amount_due_cents == 0 for i in invoices(client_id))


def test_a_card_added_in_the_stripe_portal_reaches_the_dashboard(open_dashboard: Callable[[str], Page],
                                                                  local_stack: LocalStack) -> None:
    client_id, token = make_client(local_stack, card=DECLINES, paid=True)
    before = services.billing_service().ledger.account(client_id).payment_method  # type: ignore[union-attr]
    page = open_dashboard(token)
    card = page.get_by_test_id("dash-card-text")
    expect(card).to_contain_text("Visa •••• 0341", timeout=T)
    page.get_by_test_id("dash-portal").click()
    expect(page.get_by_text("Local stand-in for the Stripe customer portal")).to_be_visible(timeout=T)
    page.get_by_role("button", name="Add Visa 4242 (pays)").click()
    expect(page.locator(".notice")).to_contain_text("added as default", timeout=T)
    page.locator("a.return").click()
    # Stripe's events reach the webhook asynchronously: once the ledger has the new card, Refresh.
    deadline = time.monotonic() + 20
    while services.billing_service().ledger.account(client_id).payment_method == before:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the portal's card never reached the ledger"
        time.sleep(0.1)
    page.get_by_test_id("dash-refresh").click()
    expect(card).to_contain_text("Visa •••• 4242, expires 12/2030")


def test_the_first_invoice_is_previewed_and_billing_details_reach_the_pdf(
        open_dashboard: Callable[[str], Page], local_stack: LocalStack) -> None:
    client_id, token = make_client(local_stack, card="pm_card_visa", paid=False)
    page = open_dashboard(token)
    starter = page.locator('[data-testid="dash-plan"][data-plan-id="business_starter"]')
    preview = starter.get_by_test_id("dash-plan-preview")
    expect(preview).to_contain_text(re.compile(r"First invoice on \d{4}-\d{2}-\d{2}: \$445\.00 = \$350\.00 monthly fee "
                                               r"\+ \$95\.00 one-time setup fee \(CO-5\)"), timeout=T)

    page.get_by_test_id("dash-bd-line1").fill("1 Main St")
    page.get_by_test_id("dash-bd-city").fill("Austin")
    page.get_by_test_id("dash-bd-postal").fill("78701")
    page.get_by_test_id("dash-bd-country").fill("U1")
    page.get_by_test_id("dash-bd-save").click()
    expect(page.locator("#error-text")).to_contain_text("country", timeout=T)  # the server's refusal, nothing saved
    page.get_by_test_id("dash-bd-country").fill("US")
    page.get_by_test_id("dash-bd-tax-type").select_option("us_ein")
    page.get_by_test_id("dash-bd-tax-value").fill("12-3456789")
    page.get_by_test_id("dash-bd-save").click()
    expect(page.get_by_test_id("dash-toast")).to_contain_text("Billing details saved", timeout=T)

    billing = services.billing_service()
    billing.accounts.start_paid_service(client_id, "business_starter", billing.config.today())
    page.get_by_test_id("dash-refresh").click()
    invoice = page.get_by_test_id("dash-invoices").get_by_test_id("dash-invoice")
    expect(invoice).to_have_count(1, timeout=T)
    invoice.locator(".inv-row").click()
    with page.expect_download() as download:
        invoice.get_by_test_id("dash-invoice-pdf").click()
    path = download.value.path()
    assert download.value.suggested_filename == f"{invoices(client_id)[0].invoice_id}.pdf"
    assert path is not None and path.read_bytes().startswith(b"%PDF-")
