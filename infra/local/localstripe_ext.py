"""THE one place where localstripe is extended or patched for Parley.

localstripe (1.15) fakes the Stripe API well enough for customers, payment methods,
invoice items, invoices and webhooks, but it predates the API version the official SDK
speaks (``2026-10-28.endive`` in stripe 16) and lacks a few endpoints our gateway calls.
Everything we add or change is here, each with a comment saying what and why; the
summary lives in docs/local-stack.md, section "localstripe extensions".

Nothing here changes ``parley.gateways.stripe_gateway``: the gateway makes the very same
calls against Stripe and against localstripe (ARCHITECTURE principle 2).

How it is wired: ``localstripe.server`` builds one module-level aiohttp ``app`` at import
time and consumes ``resources.extra_apis`` right then, so extending it through that hook
depends on import order. Instead ``build_app()`` makes a fresh ``web.Application`` per
LocalStripe start: our middlewares, then our routes, then a copy of every localstripe
route (localstripe's own handlers, unchanged). Our routes come first, so where we serve a
path localstripe also serves (``POST /v1/invoices/{id}/pay``) ours wins. Class-level
patches (``install_patches``) fix behaviour reached through localstripe's generic
create/list handlers, which look the classmethod up at call time.
"""

from __future__ import annotations

import hashlib
import html
import os
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

from aiohttp import web

with warnings.catch_warnings():
    # localstripe.server registers plain (non-async) handlers at import; aiohttp warns once per
    # route (~60 DeprecationWarnings). Our app re-registers them already wrapped: no warning there.
    warnings.filterwarnings("ignore", "Bare functions are deprecated", DeprecationWarning)
    from localstripe import resources, server, webhooks
    from localstripe.errors import UserError
    from localstripe.resources import (
        Customer,
        Event,
        Invoice,
        InvoiceItem,
        InvoiceLineItem,
        PaymentIntent,
        PaymentMethod,
        StripeObject,
        TaxId,
        store,
    )

from infra.local.tested_versions import require_tested_versions
from parley.billing.calendar import parse_time_zone
from parley.clock import get_clock
from parley.gateways.stripe_models import TAX_ID_TYPES

TESTED_VERSIONS = {"localstripe": "1.15.10"}
"""The localstripe release these extensions were written and tested against (docs/local-stack.md)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PORTAL_PREFIX = "/_local/stripe-portal"
"""Where the stand-in customer portal is served (outside /v1: no API key, the session id is the bearer)."""


@dataclass
class ExtState:
    """Per-app state of the extensions (one per LocalStripe start)."""

    public_url: str = ""
    # (api key, Idempotency-Key) -> first response (see idempotency_middleware)
    idempotency: dict[tuple[str, str], _Saved] = field(default_factory=dict)
    # Stripe forgets a key 24 hours after its first use; measured on the business clock (the
    # local stack's, simulated), so a two-day outage is two days here too.
    key_lifetime: timedelta = timedelta(hours=24)
    now: Callable[[], datetime] = field(default_factory=lambda: lambda: get_clock().now())
    in_flight: set[tuple[str, str]] = field(default_factory=set)


@dataclass(frozen=True)
class _Saved:
    fingerprint: tuple[str, str, str]
    status: int
    body: bytes
    content_type: str
    saved_at: datetime


STATE = web.AppKey("parley_localstripe_ext", ExtState)


# ---------------------------------------------------------------------------------------------
# 1. Pickle store: localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle
#    on every write (Store.__setitem__/__delitem__ and after every POST/PUT/DELETE). Parallel
#    runs on one machine overwrite each other's file, and the cost grows with the store. We turn
#    the automatic dump off (an instance attribute shadows Store.dump_to_disk, which is all both
#    call sites use); LocalStripe(persist_path=...) loads at start and saves at stop instead.
# ---------------------------------------------------------------------------------------------
def _disable_automatic_dump() -> None:
    store.dump_to_disk = lambda: None


# ---------------------------------------------------------------------------------------------
# 2. Class patches (new API shapes our typed SDK calls send, and Stripe behaviour we rely on).
# ---------------------------------------------------------------------------------------------
_original_invoice_create = Invoice._api_create
_original_invoiceitem_init = InvoiceItem.__init__
_original_pay_invoice = Invoice._api_pay_invoice
_original_on_payment_success = Invoice._on_payment_success


def _invoice_create(  # noqa: PLR0913 - the parameters of Stripe's POST /v1/invoices, as localstripe passes them
    cls: Any,
    customer: Any = None,
    subscription: Any = None,
    tax_percent: Any = None,
    default_tax_rates: Any = None,
    description: Any = None,
    metadata: Any = None,
    pending_invoice_items_behavior: Any = None,
    collection_method: Any = None,
    due_date: Any = None,
    auto_advance: Any = None,
    currency: Any = None,
) -> Any:
    """POST /v1/invoices as current Stripe does it.

    Adds: ``collection_method``/``due_date``/``auto_advance``/``currency`` (localstripe answered
    400 "Unexpected"), keeps ``metadata`` (localstripe silently dropped it), and honours
    ``pending_invoice_items_behavior``: since API 2022-08-01 the default is ``exclude`` (an empty
    draft; lines are added with ``invoice=``), whereas localstripe always swept the customer's
    pending items and refused (400) when there were none.
    """
    collection_method = collection_method or "charge_automatically"
    due = resources.try_convert_to_int(due_date)
    try:
        assert collection_method in ("charge_automatically", "send_invoice")
        assert due is None or (type(due) is int and collection_method == "send_invoice")
        assert pending_invoice_items_behavior in (None, "include", "exclude")
        assert metadata is None or type(metadata) is dict
    except AssertionError:
        raise UserError(400, "Bad request") from None
    if collection_method == "send_invoice" and due is None:
        raise UserError(400, "Missing due_date (or days_until_due) for collection_method=send_invoice")

    if subscription is not None or pending_invoice_items_behavior == "include":
        obj = _original_invoice_create(
            customer=customer, subscription=subscription, tax_percent=tax_percent,
            default_tax_rates=default_tax_rates, description=description,
        )
    else:
        # simulation=True makes localstripe leave pending items unclaimed and skip its event;
        # we then drop those lines and announce the empty draft ourselves.
        obj = Invoice(customer=customer, description=description, tax_percent=tax_percent,
                      default_tax_rates=default_tax_rates, simulation=True)
        obj.lines._list = []
        obj.currency = currency or "usd"
        resources.schedule_webhook(Event("invoice.created", obj))
    obj.metadata = dict(metadata or {})
    obj.collection_method = collection_method
    obj.due_date = due
    # Created "now" on the stack's clock (simulated in tests and demos), as Stripe stamps an
    # invoice at its real now: the portal then shows the ledger's issue day, not the wall-clock day.
    obj.date = int(get_clock().now().timestamp())
    obj.auto_advance = resources.try_convert_to_bool(auto_advance) if auto_advance is not None else False
    return obj


def _invoiceitem_init(self: Any, *args: Any, period: Any = None, **kwargs: Any) -> None:
    """POST /v1/invoiceitems: accept the current ``period[start]``/``period[end]`` shape
    (localstripe only knew the old top-level ``period_start``/``period_end``)."""
    if period is not None:
        if type(period) is not dict or set(period) != {"start", "end"}:
            raise UserError(400, "Bad request")
        kwargs["period_start"], kwargs["period_end"] = period["start"], period["end"]
    _original_invoiceitem_init(self, *args, **kwargs)


def _invoiceitem_create(cls: Any, /, **data: Any) -> Any:
    """POST /v1/invoiceitems with ``invoice=``: Stripe adds the item to that draft invoice.
    localstripe recorded the invoice id on the item but never added the line (invoices only
    took lines at creation). Items may only be added to drafts, as on Stripe."""
    invoice_id = data.get("invoice")
    if type(invoice_id) is str and Invoice._api_retrieve(invoice_id).status != "draft":
        raise UserError(400, "You can only add invoice items to draft invoices.")
    obj = cls(**data)
    if obj.invoice is not None:
        inv = Invoice._api_retrieve(obj.invoice)
        if not inv.lines._list:
            inv.currency = obj.currency
        inv.lines._list.append(InvoiceLineItem(obj))
    return obj


def _invoiceitem_list(  # noqa: PLR0913 - localstripe's _api_list_all signature plus Stripe's filters
    cls: Any, url: Any, customer: Any = None, invoice: Any = None, pending: Any = None,
    limit: Any = None, starting_after: Any = None,
) -> Any:
    """GET /v1/invoiceitems as on Stripe: every item (``pending=true`` for those not yet on an
    invoice, ``invoice=`` to filter). localstripe listed only pending items, so nobody could
    count a customer's items. Its internal callers re-filter on ``invoice is None`` themselves."""
    pending = resources.try_convert_to_bool(pending)
    try:
        assert customer is None or (type(customer) is str and customer.startswith("cus_"))
        assert invoice is None or (type(invoice) is str and invoice.startswith("in_"))
        assert pending is None or type(pending) is bool
    except AssertionError:
        raise UserError(400, "Bad request") from None
    li = StripeObject._api_list_all.__func__(cls, url, limit=limit, starting_after=starting_after)
    if customer is not None:
        Customer._api_retrieve(customer)  # 404 if unknown
        li._list = [ii for ii in li._list if ii.customer == customer]
    if invoice is not None:
        li._list = [ii for ii in li._list if ii.invoice == invoice]
    if pending is not None:
        li._list = [ii for ii in li._list if (ii.invoice is None) == pending]
    li._list.sort(key=lambda i: i.date, reverse=True)
    return li


def _invoice_payments(self: Any) -> dict[str, Any]:
    """``invoice.payments``: since API 2025-03-31 the payment intent of an invoice is reached
    through its InvoicePayments (``invoice.payment_intent`` was removed). localstripe only has
    the old field; this exposes it in the new shape (one payment: the latest attempt)."""
    data: list[dict[str, Any]] = []
    if self.payment_intent:
        pi = PaymentIntent._api_retrieve(self.payment_intent)
        status = {"succeeded": "paid", "canceled": "canceled"}.get(pi.status, "open")
        data.append({
            "id": "inpay_" + pi.id.removeprefix("pi_"), "object": "invoice_payment", "invoice": self.id,
            "amount_paid": pi.amount if status == "paid" else 0, "amount_requested": pi.amount,
            "currency": pi.currency, "is_default": True, "livemode": False, "created": pi.created,
            "status": status, "payment": {"type": "payment_intent", "payment_intent": pi.id},
            "status_transitions": {"paid_at": self.status_transitions.get("paid_at"), "canceled_at": None},
        })
    return {"object": "list", "data": data, "has_more": False, "url": f"/v1/invoice_payments?invoice={self.id}"}


def _finalize_invoice(id: Any, auto_advance: Any = None, **kwargs: Any) -> Any:
    """POST /v1/invoices/{id}/finalize — missing in localstripe. Draft -> open (or paid when
    nothing is due), emits ``invoice.finalized`` like Stripe."""
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs))
    obj = Invoice._api_retrieve(id)
    if obj.status != "draft":
        raise UserError(400, "This invoice is already finalized, you can't re-finalize a non-draft invoice.")
    obj._finalize()
    if auto_advance is not None:
        obj.auto_advance = resources.try_convert_to_bool(auto_advance)
    resources.schedule_webhook(Event("invoice.finalized", obj))
    if obj.status == "paid":
        obj._on_payment_success()
    return obj


def pay_invoice(id: Any, off_session: Any = None, **kwargs: Any) -> Any:
    """POST /v1/invoices/{id}/pay with Stripe's answer to a declined card.

    localstripe confirmed the payment with a no-op failure callback: a declined card left the
    invoice open, answered 200 and emitted no ``invoice.payment_failed``. Stripe answers 402
    (``card_error``, ``card_declined``) and emits ``invoice.payment_failed``; so do we now.
    Also used by the stand-in portal's "Pay" button.
    """
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs))
    obj = _original_pay_invoice(id)
    if obj.status == "paid" or not obj.payment_intent:
        return obj
    pi = PaymentIntent._api_retrieve(obj.payment_intent)
    charge = pi.latest_charge
    if charge is None or charge.status != "failed":
        return obj  # processing (async methods) or requires action: not a decline
    resources.schedule_webhook(Event("charge.failed", charge))
    resources.schedule_webhook(Event("payment_intent.payment_failed", pi))
    obj._on_payment_failure_now()  # -> invoice.payment_failed (localstripe's own hook, never called on pay)
    error = UserError(402, charge.failure_message, {
        "code": charge.failure_code, "decline_code": "generic_decline", "charge": charge.id,
        "payment_intent": pi._export(), "doc_url": "https://stripe.com/docs/error-codes/card-declined",
    })
    error.body["error"]["type"] = "card_error"
    raise error


def _void_invoice(id: Any, **kwargs: Any) -> Any:
    """POST /v1/invoices/{id}/void. localstripe cancels the invoice's payment intent first and
    answered 400 for an invoice never charged (no payment intent); Stripe voids any draft or
    open invoice and emits ``invoice.voided``. The ledger voids the cut-off cycle's invoice at
    default (parley.ledger.dunning), charged or not."""
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs))
    obj = Invoice._api_retrieve(id)
    if obj.status not in ("draft", "open"):
        raise UserError(400, f"You can only void draft or open invoices (this one is {obj.status}).")
    if obj.payment_intent:
        PaymentIntent._api_cancel(obj.payment_intent)
    obj._draft = False
    obj._voided = True
    obj.status_transitions["voided_at"] = int(get_clock().now().timestamp())
    resources.schedule_webhook(Event("invoice.voided", obj))
    return obj


def _on_payment_success(self: Any) -> None:
    """Stripe emits ``invoice.paid`` (and ``invoice.payment_succeeded``) when an invoice is paid;
    localstripe only the latter. The ledger listens to ``invoice.paid`` (parley.ledger.webhooks)."""
    _original_on_payment_success(self)
    resources.schedule_webhook(Event("invoice.paid", self))


_original_attach = PaymentMethod._api_attach


def _attach_payment_method(cls: Any, /, id: Any, customer: Any = None, **kwargs: Any) -> Any:
    """POST /v1/payment_methods/{id}/attach emits ``payment_method.attached`` as Stripe does
    (localstripe emitted nothing): a card saved in the portal must reach the ledger."""
    obj = _original_attach(id, customer=customer, **kwargs)
    resources.schedule_webhook(Event("payment_method.attached", obj))
    return obj


def _tax_id_init(self: Any, country: Any = None, customer: Any = None, type: Any = None,
                 value: Any = None, **kwargs: Any) -> None:
    """Customer tax ids of the types the dashboard offers (``TAX_ID_TYPES``: us_ein, gb_vat…);
    localstripe knew four EU/AU/NZ types only and 400'd the rest."""
    if kwargs:
        raise UserError(400, "Unexpected " + ", ".join(kwargs))
    if type not in TAX_ID_TYPES or not isinstance(value, str) or not value or not isinstance(customer, str):
        raise UserError(400, "Invalid value for tax_id: type or value")
    Customer._api_retrieve(customer)  # 404 if unknown
    StripeObject.__init__(self)
    self.country = country or (value[:2] if type == "eu_vat" else type[:2].upper())
    self.customer, self.type, self.value = customer, type, value
    self.verification = {"status": "verified", "verified_name": "", "verified_address": ""}


def _add_tax_id(id: Any, type: Any = None, value: Any = None, **kwargs: Any) -> Any:
    """POST /v1/customers/{id}/tax_ids for the same types (localstripe's route checked its own
    four types before building the TaxId)."""
    tax_id = TaxId(customer=id, type=type, value=value, **kwargs)
    Customer._api_retrieve(id).tax_ids._list.append(tax_id)
    return tax_id


class _WebhookRegistry(dict[str, Any]):
    """localstripe's `_send_webhook` iterates the registered webhooks across an `await` (one POST
    per webhook): a webhook registered or removed meanwhile raised "dictionary changed size during
    iteration" and the event reached nobody. Iterating a snapshot delivers it to those registered."""

    def values(self) -> Any:
        return list(super().values())


def _snapshot_webhook_registry() -> None:
    from localstripe import webhooks

    if not isinstance(webhooks._webhooks, _WebhookRegistry):
        webhooks._webhooks = _WebhookRegistry(webhooks._webhooks)


def install_patches() -> None:
    """Apply the class patches once per process (idempotent)."""
    require_tested_versions(TESTED_VERSIONS, patched_by=__name__)
    if getattr(Invoice, "_parley_patched", False):
        return
    _disable_automatic_dump()
    _snapshot_webhook_registry()
    Invoice._api_create = classmethod(_invoice_create)
    Invoice.payments = property(_invoice_payments)
    Invoice._on_payment_success = _on_payment_success
    InvoiceItem.__init__ = _invoiceitem_init
    InvoiceItem._api_create = classmethod(_invoiceitem_create)
    InvoiceItem._api_list_all = classmethod(_invoiceitem_list)
    PaymentMethod._api_attach = classmethod(_attach_payment_method)
    TaxId.__init__ = _tax_id_init
    Invoice._parley_patched = True


# ---------------------------------------------------------------------------------------------
# 3. Billing portal sessions (missing in localstripe): POST /v1/billing_portal/sessions returns
#    a session whose url opens the local stand-in portal page below.
# ---------------------------------------------------------------------------------------------
class BillingPortalSession(StripeObject):  # type: ignore[misc]  # localstripe is untyped
    object = "billing_portal.session"
    _id_prefix = "bps_"

    def __init__(  # noqa: PLR0913 - Stripe's billing_portal.sessions parameters, as localstripe passes them
                 self, customer: Any = None, return_url: Any = None, configuration: Any = None,
                 locale: Any = None, on_behalf_of: Any = None, flow_data: Any = None, *,
                 base_url: str = "", **kwargs: Any) -> None:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs))
        if type(customer) is not str or not customer.startswith("cus_"):
            raise UserError(400, "Missing required param: customer.")
        if return_url is not None and (type(return_url) is not str or not return_url.startswith("http")):
            raise UserError(400, "Invalid URL: return_url")
        Customer._api_retrieve(customer)  # 404 if unknown
        super().__init__()  # stores the session: DELETE /_config/data clears it with the rest
        self.customer = customer
        self.return_url = return_url
        self.configuration = configuration or "bpc_local_default"
        self.locale = locale
        self.on_behalf_of = on_behalf_of
        self.flow = None
        self.url = f"{base_url}{PORTAL_PREFIX}/{self.id}"


async def create_portal_session(request: web.Request) -> web.Response:
    data = await server.get_post_data(request) or {}
    data.pop("expand", None)
    base = request.app[STATE].public_url or f"{request.scheme}://{request.host}"
    session = BillingPortalSession(**data, base_url=base)
    response: web.Response = server.json_response(session._export())
    return response


# ---------------------------------------------------------------------------------------------
# 4. The local portal page: clearly labelled stand-in for the Stripe-hosted customer portal.
#    Lists the customer's payment methods and invoices; "Pay" pays an open invoice through
#    localstripe (same path as POST /v1/invoices/{id}/pay); test cards can be added.
# ---------------------------------------------------------------------------------------------
_TEST_CARDS = {
    "visa": ("pm_card_visa", "Visa 4242 (pays)"),
    "decline": ("pm_card_chargeCustomerFail", "Visa 0341 (attaches, then declines)"),
}


def _portal_session(request: web.Request) -> Any:
    session = store.get("billing_portal.session:" + request.match_info["session"])
    if session is None:
        raise web.HTTPNotFound(text="Unknown or expired portal session.")
    return session


def _money(cents: int, currency: str) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d} {currency.upper()}"


def _business_zone() -> tzinfo:
    """The provider's business time zone, the one the gateway uses for Stripe's dates: a due
    date is the end of the ledger's Due Date there, so shown in that zone it is the ledger's day
    (in UTC a zone west of Greenwich showed the day after)."""
    name = os.environ.get("PARLEY_PROVIDER_TIME_ZONE", "")
    return parse_time_zone(name) if name else UTC


def _day(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, _business_zone()).strftime("%Y-%m-%d") if ts else "—"


async def portal_page(request: web.Request) -> web.Response:
    session = _portal_session(request)
    cus = Customer._api_retrieve(session.customer)
    default_pm = (cus.invoice_settings or {}).get("default_payment_method")
    pms = PaymentMethod._api_list_all(None, customer=cus.id, type="card", limit=100)._list
    invoices = Invoice._api_list_all(None, customer=cus.id, limit=100)._list
    e = html.escape
    base = f"{PORTAL_PREFIX}/{e(session.id)}"
    rows_pm = "".join(
        f"<li data-payment-method='{e(pm.id)}'>{e(pm.card['brand'])} •••• {e(pm.card['last4'])} "
        f"exp {pm.card['exp_month']:02d}/{pm.card['exp_year']}"
        + (" <strong>(default)</strong>" if pm.id == default_pm else
           f" <form method='post' action='{base}/payment-methods/{e(pm.id)}/default' style='display:inline'>"
           "<button type='submit'>Make default</button></form>")
        + "</li>"
        for pm in pms
    ) or "<li>No payment method yet.</li>"
    rows_inv = "".join(
        f"<tr data-invoice='{e(inv.id)}'><td>{e(inv.id)}</td><td>{e(inv.metadata.get('parley_invoice_id', ''))}</td>"
        f"<td>{_day(inv.date)}</td><td>{_day(getattr(inv, 'due_date', None))}</td>"
        f"<td>{e(_money(inv.amount_due, inv.currency))}</td><td class='status'>{e(inv.status)}</td><td>"
        + (f"<form method='post' action='{base}/invoices/{e(inv.id)}/pay'><button type='submit'>Pay</button></form>"
           if inv.status == "open" else "")
        + "</td></tr>"
        for inv in invoices if inv.status != "draft"
    ) or "<tr><td colspan='7'>No invoices.</td></tr>"
    cards = "".join(
        f"<form method='post' action='{base}/payment-methods' style='display:inline'>"
        f"<input type='hidden' name='card' value='{key}'><button type='submit'>Add {e(label)}</button></form> "
        for key, (_, label) in _TEST_CARDS.items()
    )
    notice = request.query.get("notice", "")
    back = (f"<p><a class='return' href='{e(session.return_url)}'>Return to Parley</a></p>"
            if session.return_url else "")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local stand-in for the Stripe customer portal</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}
.banner{{background:#fff3cd;border:1px solid #e0c36c;padding:.6rem 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style>
</head><body>
<p class="banner"><strong>Local stand-in for the Stripe customer portal</strong> — served by localstripe
(infra/local/localstripe_ext.py). On Stripe this page is hosted by Stripe.</p>
<h1>{e(cus.name or cus.id)}</h1><p>{e(cus.email or "")}</p>
{f'<p class="notice" role="status">{e(notice)}</p>' if notice else ""}
<h2>Payment methods</h2><ul class="payment-methods">{rows_pm}</ul><p>{cards}</p>
<h2>Invoices</h2>
<table class="invoices"><tr><th>Invoice</th><th>Parley invoice</th><th>Date</th><th>Due</th><th>Amount</th>
<th>Status</th><th></th></tr>{rows_inv}</table>
{back}
</body></html>"""
    return web.Response(text=page, content_type="text/html")


def _back(session: Any, notice: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PORTAL_PREFIX}/{session.id}?notice={quote(notice)}")


async def portal_pay(request: web.Request) -> web.StreamResponse:
    session = _portal_session(request)
    invoice = Invoice._api_retrieve(request.match_info["invoice"])
    if invoice.customer != session.customer:
        raise web.HTTPNotFound(text="No such invoice for this customer.")
    try:
        pay_invoice(invoice.id)
    except UserError as exc:
        raise _back(session, f"Payment failed: {exc.body['error'].get('message', 'error')}") from None
    raise _back(session, f"Invoice {invoice.id} paid.")


async def portal_make_default(request: web.Request) -> web.StreamResponse:
    """"Make default": the customer's invoice default (emits ``customer.updated``, as Stripe's portal)."""
    session = _portal_session(request)
    pm = PaymentMethod._api_retrieve(request.match_info["payment_method"])
    if pm.customer != session.customer:
        raise web.HTTPNotFound(text="No such payment method for this customer.")
    Customer._api_update(session.customer, invoice_settings={"default_payment_method": pm.id})
    raise _back(session, f"Card •••• {pm.card['last4']} is now the default.")


async def portal_add_card(request: web.Request) -> web.StreamResponse:
    session = _portal_session(request)
    form = await request.post()
    card = _TEST_CARDS.get(str(form.get("card", "")))
    if card is None:
        raise web.HTTPBadRequest(text="Unknown test card.")
    try:
        pm = PaymentMethod._api_attach(card[0], customer=session.customer)
    except UserError as exc:
        raise _back(session, f"Card refused: {exc.body['error'].get('message', 'error')}") from None
    Customer._api_update(session.customer, invoice_settings={"default_payment_method": pm.id})
    raise _back(session, f"Card •••• {pm.card['last4']} added as default.")


# ---------------------------------------------------------------------------------------------
# 5. Idempotency-Key (localstripe ignores the header: a retried POST created a second object).
#    Stripe saves the first response of a key and replays it (header Idempotent-Replayed: true);
#    the same key with another path or other parameters is a 400 idempotency_error; a request
#    while the first is still running is a 409. Like Stripe, only requests that executed are
#    saved: 2xx and 402 (a declined payment); 400/404 validation errors and 5xx are not.
#    Keys are scoped by API key, as Stripe scopes them by account; DELETE /_config/data forgets
#    them. Keys expire 24 h after their first use, as on Stripe (on the business clock).
# ---------------------------------------------------------------------------------------------
def _error(status: int, type_: str, message: str) -> web.Response:
    response: web.Response = server.json_response({"error": {"type": type_, "message": message}}, status=status)
    return response


@web.middleware
async def idempotency_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    key = request.headers.get("Idempotency-Key")
    if request.method == "DELETE" and request.path == "/_config/data":
        state.idempotency.clear()
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    body = await request.read()  # cached by aiohttp: the handlers read it again
    scope = (server.get_api_key(request) or "", key)
    fingerprint = (request.method, request.path, hashlib.sha256(body).hexdigest())
    saved = state.idempotency.get(scope)
    if saved is not None and state.now() - saved.saved_at >= state.key_lifetime:
        del state.idempotency[scope]  # expired: the key is new again, as on Stripe after 24 h
        saved = None
    if saved is not None:
        if saved.fingerprint != fingerprint:
            return _error(400, "idempotency_error",
                          "Keys for idempotent requests can only be used with the same parameters they were "
                          f"first used with. Try using a key other than '{key}' if you meant to execute a "
                          "different request.")
        replay = web.Response(body=saved.body, status=saved.status, content_type=saved.content_type)
        replay.headers["Idempotent-Replayed"] = "true"
        replay.headers["Idempotency-Key"] = key
        return replay
    if scope in state.in_flight:
        return _error(409, "idempotency_error",
                      "There is currently another in-progress request using this Idempotent Key.")
    state.in_flight.add(scope)
    try:
        response = await handler(request)
    finally:
        state.in_flight.discard(scope)
    if isinstance(response, web.Response) and (200 <= response.status < 300 or response.status == 402):
        raw = response.body
        if isinstance(raw, bytes):
            state.idempotency[scope] = _Saved(fingerprint, response.status, raw, response.content_type,
                                              state.now())
            response.headers["Idempotency-Key"] = key
    return response


@web.middleware
async def auth_unless_local_page(request: web.Request, handler: Handler) -> web.StreamResponse:
    """localstripe's auth middleware, except for the stand-in portal pages (a browser has no API
    key; on Stripe the portal URL itself is the credential)."""
    if request.path.startswith(PORTAL_PREFIX + "/"):
        return await handler(request)
    response: web.StreamResponse = await server.auth_middleware(request, handler)
    return response


# ---------------------------------------------------------------------------------------------
# The application.
# ---------------------------------------------------------------------------------------------
def _api_route(func: Callable[..., Any]) -> Handler:
    """Our JSON endpoints through localstripe's own request parsing (what ``extra_apis`` does)."""
    handler: Handler = server.api_extra(func, None)
    return handler


def build_app(state: ExtState | None = None) -> web.Application:
    """A fresh aiohttp app: our middlewares and routes, then every localstripe route."""
    install_patches()
    app = web.Application(middlewares=[
        idempotency_middleware,      # outermost: sees the final response, errors included
        server.error_middleware,     # localstripe: UserError -> JSON error response
        auth_unless_local_page,      # localstripe's API-key check, minus the portal pages
        server.save_store_middleware,  # localstripe: dumps the store (a no-op now, see 1.)
    ])
    app[STATE] = state or ExtState()
    app.on_response_prepare.append(server.add_cors_headers)
    r = app.router
    r.add_post("/v1/billing_portal/sessions", create_portal_session)
    r.add_post("/v1/invoices/{id}/finalize", _api_route(_finalize_invoice))
    r.add_post("/v1/invoices/{id}/pay", _api_route(pay_invoice))  # before localstripe's own route
    r.add_post("/v1/invoices/{id}/void", _api_route(_void_invoice))  # likewise
    r.add_post("/v1/customers/{id}/tax_ids", _api_route(_add_tax_id))  # likewise
    r.add_get(PORTAL_PREFIX + "/{session}", portal_page)
    r.add_post(PORTAL_PREFIX + "/{session}/invoices/{invoice}/pay", portal_pay)
    r.add_post(PORTAL_PREFIX + "/{session}/payment-methods", portal_add_card)
    r.add_post(PORTAL_PREFIX + "/{session}/payment-methods/{payment_method}/default", portal_make_default)
    for route in server.app.router.routes():
        r.add_route(route.method, route.resource.canonical, route.handler)
    return app


def unregister_webhook(webhook_id: str) -> None:
    """Forget one webhook endpoint (localstripe has no route for that)."""
    webhooks._webhooks.pop(webhook_id, None)


def clear_webhooks() -> None:
    """Forget every registered webhook endpoint (localstripe keeps them in a module global)."""
    webhooks._webhooks.clear()
