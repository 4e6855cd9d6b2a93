"""HTTP API (payload v2) resolvers with typed errors mapped to 4xx JSON bodies in one place."""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from pydantic import BaseModel, ValidationError

from parley import strict_json
from parley.auth.roles import Group
from parley.composition import chat as services
from parley.errors import Forbidden, InvalidRequest, ParleyError, Unauthorized
from parley.observability import logger

M = TypeVar("M", bound=BaseModel)


def _error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response[Any]:
    body = {"code": code, "message": message, **(details or {})}
    # A 429 says when to come back in the header too (docs/protocol.md: rate limits).
    headers = {"Retry-After": str(body["retryAfter"])} if status == 429 and "retryAfter" in body else None
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def build_resolver(*, billing_errors: bool = True) -> APIGatewayHttpResolver:
    """A resolver with the typed errors mapped. `billing_errors=False` leaves out the billing
    rules' errors, and with them the import of `parley.billing` (its package loads every rule
    module): the visitor's HTTP function never raises them and must not pay for them."""
    app = APIGatewayHttpResolver()

    @app.exception_handler(ParleyError)
    def domain_error(exc: ParleyError) -> Response[Any]:
        logger.info("request refused", code=exc.code, detail=exc.message)
        return _error(exc.status, exc.code, exc.message, exc.details())

    if billing_errors:
        from parley.billing.errors import BillingError, NoticeNotAllowed

        @app.exception_handler(BillingError)
        def billing_error(exc: BillingError) -> Response[Any]:
            # A rule refused the request (a notice without its reason, before paid service…).
            status = 409 if isinstance(exc, NoticeNotAllowed) else 400
            return _error(status, exc.code, str(exc))

    @app.exception_handler(ValidationError)
    def invalid_body(exc: ValidationError) -> Response[Any]:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        return _error(400, "invalid_request", f"{field}: {first['msg']}")

    @app.not_found
    def not_found(exc: Exception) -> Response[Any]:
        return _error(404, "not_found", "no such route")

    return app


# Bounds checked on the raw body before it is parsed (docs/protocol.md, "HTTP bodies"): far above
# the largest body a front end sends (a client's settings with hours and a pre-chat form).
MAX_BODY_BYTES = 256 * 1024
MAX_BODY_DEPTH = 16


def parse_body(app: APIGatewayHttpResolver, model: type[M]) -> M:
    """The body as `model`, strictly: bounded in size and depth before it is parsed, no lone
    surrogates, a JSON object, and no coercion ("3" is not a number, 1 not a boolean)."""
    text = app.current_event.decoded_body or ""
    try:
        data = strict_json.load(text, max_bytes=MAX_BODY_BYTES, max_depth=MAX_BODY_DEPTH)
    except strict_json.JsonRefused as exc:
        if exc.reason is strict_json.Refusal.NOT_JSON:
            raise InvalidRequest("the body is not valid JSON") from exc
        raise InvalidRequest(f"body: {exc.message}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object")
    return model.model_validate_json(text, strict=True)  # JSON mode: dates and enums from their text


def bearer_token(app: APIGatewayHttpResolver) -> str:
    header = app.current_event.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an Authorization: Bearer <token> header is required")
    return token


def caller_client_id(app: APIGatewayHttpResolver) -> str:
    """The client of the dashboard user calling (Cognito group "clients"): every /api/client
    route acts on it and on nothing else."""
    claims = services.cognito_verifier().verify(bearer_token(app))
    client_id = services.tenant_repository().client_of_user(claims.sub)
    if Group.CLIENTS.value not in claims.groups or client_id is None:
        raise Forbidden("this account is not a client's dashboard user")
    return client_id
