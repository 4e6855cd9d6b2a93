"""POST /api/stripe/webhook: a verified Stripe event applied to the ledger, idempotently and
in any order. A bad or missing signature is a 400 and changes nothing."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.composition import billing as services
from parley.gateways.stripe_gateway import parse_webhook
from parley.http import build_resolver
from parley.ledger.webhooks import apply_webhook
from parley.observability import logger, tracer

app = build_resolver()


@app.post("/api/stripe/webhook")
def receive() -> dict[str, Any]:
    event = app.current_event
    payload = event.decoded_body.encode() if isinstance(event.decoded_body, str) else event.decoded_body
    webhook = parse_webhook(payload or b"", event.headers.get("stripe-signature"),
                            services.stripe_secret()["webhook_secret"])
    if webhook.type == "customer.updated":  # its card may be stale: take the one Stripe has now
        webhook = services.stripe_gateway().as_stripe_has_it_now(webhook)
    return {"received": True, "applied": apply_webhook(services.billing_service(with_stripe=False), webhook)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
