"""The client dashboard's account actions: signup (starts the trial workflow), plan choice,
payment method, cancellation notice (give / withdraw, starts / stops the notice workflow),
data export. Every route but signup acts on the caller's own client only."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from parley.composition import billing as services
from parley.composition.leads import lead_repository
from parley.errors import InvalidRequest
from parley.gateways.users import CognitoUsers
from parley.http import build_resolver, caller_client_id, parse_body
from parley.observability import logger, tracer

app = build_resolver()


class SignupRequest(BaseModel):
    company: str = Field(min_length=2, max_length=100)
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    password: str = Field(min_length=8, max_length=128)
    website: str = Field(min_length=8, max_length=200, pattern=r"^https?://[^/\s]+/?$")


@app.post("/api/signup")
def signup() -> dict[str, Any]:
    request = parse_body(app, SignupRequest)
    sub = CognitoUsers().create_client_user(request.email, request.password)
    return services.lifecycle().signup(request.company, request.email, request.website, sub)


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
def export() -> Response[Any]:
    client_id = caller_client_id(app)
    body = services.lifecycle().export(client_id)
    body["leads"] = [lead.public() for lead in lead_repository().all_of_client(client_id)]  # the client's too (LC-3)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body=body,
                    headers={"Content-Disposition": f'attachment; filename="parley-export-{client_id}.json"'})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
