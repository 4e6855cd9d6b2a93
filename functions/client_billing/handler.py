"""A client's billing, for its dashboard (docs/billing.md, "The client dashboard"). The caller is
a Cognito user of the "clients" group, scoped to its own client; every route reads or acts on
that client only.

- GET  /api/client/billing                            plan, usage, invoices, timeline, card, alert
- GET  /api/client/billing/preview?planId=            the next invoice as the engine would issue it
- POST /api/client/billing/pay-now                     Pay now: everything owed, with the card on file
- POST /api/client/billing/invoices/{id}/pay          Pay now for one invoice
- GET  /api/client/billing/invoices/{id}/pdf          the invoice as a PDF
- GET  /api/client/billing/invoices/{id}/stripe       Stripe's hosted invoice page and PDF links
- GET  /api/client/billing/details                    billing address and tax id (on the Stripe customer)
- PUT  /api/client/billing/details                    set them
- POST /api/client/billing/portal                     a Stripe customer-portal session URL
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from parley.composition import billing as services
from parley.errors import Forbidden, NotFound
from parley.gateways.invoice_pdf import render_invoice_pdf
from parley.gateways.stripe_models import BillingAddress, CustomerTaxId, PaymentProviderError
from parley.http import build_resolver, caller_client_id, parse_body
from parley.ledger import dashboard
from parley.ledger.models import BillingAccount, LedgerInvoice
from parley.ledger.overview import billing_overview
from parley.observability import logger, tracer

app = build_resolver()


@app.get("/api/client/billing")
def overview() -> dict[str, Any]:
    client_id = caller_client_id(app)
    billing = services.billing_service(with_stripe=False)
    view = billing_overview(billing, client_id)
    account = billing.ledger.account(client_id)
    if account is None:
        return view
    invoices, history = billing.ledger.invoices(client_id), billing.ledger.history(client_id)
    view.update(card=_card(account), alert=dashboard.payment_alert(billing, account, invoices, history),
                currentPlan=dashboard.current_plan(billing, account, history),
                usageHistory=dashboard.usage_history(billing, account, invoices))
    return view


def _card(account: BillingAccount) -> dict[str, Any] | None:
    """Brand, last 4 and expiry of the card on file; if Stripe cannot say now, the card is
    shown as on file without its details (the dashboard says so) rather than failing the page."""
    if not account.payment_method:
        return None
    try:
        summary = services.stripe_gateway().card_summary(account.payment_method)
    except PaymentProviderError as exc:
        logger.warning("card details unavailable", error=exc.code)
        return {"known": False}
    if summary is None:
        return {"known": False}
    return {"known": True, "brand": summary.brand, "last4": summary.last4,
            "expMonth": summary.exp_month, "expYear": summary.exp_year}


@app.get("/api/client/billing/preview")
def preview() -> dict[str, Any]:
    client_id = caller_client_id(app)
    plan_id = app.current_event.get_query_string_value("planId") or None
    return dashboard.preview_invoice(services.billing_service(with_stripe=False), client_id, plan_id)


def _invoice(client_id: str, invoice_id: str) -> LedgerInvoice:
    invoice = services.ledger_repository().invoice(client_id, invoice_id) if len(invoice_id) <= 128 else None
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


@app.post("/api/client/billing/invoices/<invoice_id>/pay")
def pay_now(invoice_id: str) -> dict[str, Any]:
    client_id = caller_client_id(app)
    billing = services.billing_service()
    paid = dashboard.pay_now(billing, client_id, _invoice(client_id, invoice_id).invoice_id)
    account = billing.accounts.require(client_id)
    return {"invoice": paid.model_dump(mode="json"), "account": account.model_dump(mode="json", exclude={"version"})}


@app.post("/api/client/billing/pay-now")
def pay_everything() -> dict[str, Any]:
    client_id = caller_client_id(app)
    billing = services.billing_service()
    result = dashboard.pay_everything(billing, client_id)
    account = billing.accounts.require(client_id)
    return {**result, "account": account.model_dump(mode="json", exclude={"version"})}


@app.get("/api/client/billing/invoices/<invoice_id>/pdf")
def invoice_pdf(invoice_id: str) -> Response[bytes]:
    client_id = caller_client_id(app)
    invoice = _invoice(client_id, invoice_id)
    account = services.ledger_repository().account(client_id)
    details = None
    if account is not None and account.stripe_customer_id:
        details = services.stripe_gateway().billing_details(account.stripe_customer_id)
    body = render_invoice_pdf(invoice_id=invoice.invoice_id, kind=invoice.kind, issue_date=invoice.issue_date,
                              due_date=invoice.due_date, lines=invoice.lines, total_cents=invoice.total_cents,
                              amount_paid_cents=invoice.amount_paid_cents, status=invoice.status.value,
                              account_name=account.name if account else client_id, details=details)
    return Response(status_code=200, content_type="application/pdf", body=body,
                    headers={"Content-Disposition": f'attachment; filename="{invoice.invoice_id}.pdf"'})


@app.get("/api/client/billing/invoices/<invoice_id>/stripe")
def stripe_links(invoice_id: str) -> dict[str, Any]:
    client_id = caller_client_id(app)
    invoice = _invoice(client_id, invoice_id)
    if invoice.stripe_invoice_id is None:
        return {"hostedInvoiceUrl": None, "invoicePdf": None}
    links = services.stripe_gateway().invoice_links(invoice.stripe_invoice_id)
    return {"hostedInvoiceUrl": links.hosted_invoice_url, "invoicePdf": links.invoice_pdf}


def _customer(client_id: str) -> str:
    account = services.ledger_repository().account(client_id)
    if account is None or account.stripe_customer_id is None:
        raise Forbidden("no payment account yet")
    return account.stripe_customer_id


@app.get("/api/client/billing/details")
def billing_details() -> dict[str, Any]:
    details = services.stripe_gateway().billing_details(_customer(caller_client_id(app)))
    return details.model_dump(mode="json", include={"address", "tax_id"})


class BillingDetailsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: BillingAddress
    tax_id: CustomerTaxId | None = Field(default=None)


@app.put("/api/client/billing/details")
def set_billing_details() -> dict[str, Any]:
    customer = _customer(caller_client_id(app))
    request = parse_body(app, BillingDetailsRequest)
    gateway = services.stripe_gateway()
    gateway.set_billing_details(customer, request.address, request.tax_id)
    return gateway.billing_details(customer).model_dump(mode="json", include={"address", "tax_id"})


class PortalRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    return_url: str = Field(alias="returnUrl", min_length=1, max_length=2000, pattern=r"^https?://")


@app.post("/api/client/billing/portal")
def portal() -> dict[str, Any]:
    customer = _customer(caller_client_id(app))
    request = parse_body(app, PortalRequest)
    return {"url": services.stripe_gateway().portal_session_url(customer, request.return_url)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
