"""The client dashboard's account actions: signup (verified by an emailed code, then the trial
workflow starts), plan choice, payment method, cancellation notice (give / withdraw, starts /
stops the notice workflow), data export. Every route but signup acts on the caller's own client only."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from parley.auth.passwords import PASSWORD_POLICY
from parley.auth.signup import SignupForm, normalize_email
from parley.clock import get_clock, iso
from parley.composition import auth as auth_services
from parley.composition import billing as services
from parley.composition.leads import lead_repository
from parley.errors import InvalidRequest
from parley.gateways.exports import S3Exports
from parley.http import build_resolver, caller_client_id, parse_body
from parley.observability import logger, tracer
from parley.settings import get_settings

app = build_resolver()


def _email(value: object) -> object:
    return normalize_email(value) if isinstance(value, str) else value  # trimmed and lower-cased first


Email = Annotated[str, BeforeValidator(_email), Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class SignupRequest(BaseModel):
    company: str = Field(min_length=2, max_length=100)
    email: Email
    # The policy (parley.auth.passwords) explains what a password lacks; this only bounds the size.
    password: str = Field(min_length=1, max_length=PASSWORD_POLICY.max_length)
    website: str = Field(min_length=8, max_length=200, pattern=r"^https?://[^/\s]+/?$")


class VerifyRequest(BaseModel):
    email: Email
    code: str = Field(pattern=r"^[0-9]{6}$")


class ResendRequest(BaseModel):
    email: Email


def _source_ip() -> str:
    """The caller's address as API Gateway saw it (the local gateway fills it from the socket)."""
    return app.current_event.request_context.http.source_ip or "unknown"


def _accepted(body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


@app.post("/api/signup")
def signup() -> Response[Any]:
    """Step 1: the user and a mailed code (202); the client exists only after step 2."""
    request = parse_body(app, SignupRequest)
    form = SignupForm(company=request.company, email=request.email, password=request.password,
                      website=request.website)
    return _accepted(auth_services.signup_service().start(form, _source_ip()))


@app.post("/api/signup/verify")
def verify_signup() -> dict[str, Any]:
    """Step 2: the code from the email → the client, its billing account and trial workflow."""
    request = parse_body(app, VerifyRequest)
    return auth_services.signup_service().verify(request.email, request.code)


@app.post("/api/signup/resend")
def resend_code() -> Response[Any]:
    return _accepted(auth_services.signup_service().resend(parse_body(app, ResendRequest).email))


@app.get("/api/signup/policy")
def signup_policy() -> dict[str, Any]:
    """What the signup form checks before sending (the same policy the user pool enforces)."""
    return {"password": PASSWORD_POLICY.public()}


class PlanRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    plan_id: str = Field(alias="planId", min_length=1, max_length=64)


@app.post("/api/client/plan")
def choose_plan() -> dict[str, Any]:
    client_id = caller_client_id(app)
    account = services.lifecycle().choose_plan(client_id, parse_body(app, PlanRequest).plan_id)
    return {"account": account.model_dump(mode="json", exclude={"version"})}


class PaymentMethodRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    # A PaymentMethod the browser confirmed with the SetupIntent (Stripe.js); absent: start one.
    payment_method: str | None = Field(default=None, alias="paymentMethod", pattern=r"^pm_[A-Za-z0-9_]+$")


@app.post("/api/client/payment-method")
def payment_method() -> dict[str, Any]:
    client_id = caller_client_id(app)
    request = parse_body(app, PaymentMethodRequest)
    billing = services.billing_service()
    account = billing.ledger.account(client_id)
    if account is None or account.stripe_customer_id is None:
        raise InvalidRequest("no payment account yet")
    stripe = services.stripe_gateway()
    if request.payment_method is None:
        return {"setupIntentClientSecret": stripe.create_setup_intent(account.stripe_customer_id)}
    attached = stripe.attach_test_payment_method(account.stripe_customer_id, request.payment_method)
    billing.accounts.set_payment_method(client_id, attached)
    return {"paymentMethod": attached}


class NoticeRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


@app.post("/api/client/notice")
def give_notice() -> dict[str, Any]:
    client_id = caller_client_id(app)
    notice = services.lifecycle().give_notice(client_id, parse_body(app, NoticeRequest).reason)
    return {"notice": notice.model_dump(mode="json")}


@app.delete("/api/client/notice")
def withdraw_notice() -> dict[str, Any]:
    account = services.lifecycle().withdraw_notice(caller_client_id(app))
    return {"notice": account.notice.model_dump(mode="json") if account.notice else None}


@app.get("/api/client/export")
def export() -> dict[str, Any]:
    """All of the caller's client's data (LC-3), every page of it, written to S3; the reply is a
    presigned download URL valid for a few minutes (a whole export does not fit an API reply)."""
    client_id = caller_client_id(app)
    body = services.lifecycle().export(client_id)
    body["leads"] = [lead.public() for lead in lead_repository().all_of_client(client_id)]  # the client's too (LC-3)
    stored = S3Exports(get_settings().exports_bucket).save(client_id, body, get_clock().now())
    return {"downloadUrl": stored.download_url, "expiresAt": iso(stored.expires_at), "bytes": stored.bytes,
            "conversations": len(body["conversations"]),
            "messages": sum(len(c["messages"]) for c in body["conversations"]), "leads": len(body["leads"])}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
