"""A client's billing, for its dashboard: GET /api/client/billing (plan, usage of the current
cycle vs included, invoices, timeline) and POST /api/client/billing/portal (a Stripe
customer-portal session URL). The caller is a Cognito user of the "clients" group, scoped to
its own client."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from parley.composition import billing as services
from parley.errors import Forbidden
from parley.http import build_resolver, caller_client_id, parse_body
from parley.ledger.overview import billing_overview
from parley.observability import logger, tracer

app = build_resolver()


@app.get("/api/client/billing")
def overview() -> dict[str, Any]:
    return billing_overview(services.billing_service(with_stripe=False), caller_client_id(app))


class PortalRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    return_url: str = Field(alias="returnUrl", min_length=1, max_length=2000, pattern=r"^https?://")


@app.post("/api/client/billing/portal")
def portal() -> dict[str, Any]:
    client_id = caller_client_id(app)
    request = parse_body(app, PortalRequest)
    account = services.ledger_repository().account(client_id)
    if account is None or account.stripe_customer_id is None:
        raise Forbidden("no payment account yet")
    return {"url": services.stripe_gateway().portal_session_url(account.stripe_customer_id, request.return_url)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
