"""HTTP bodies and signed Stripe webhooks parsed strictly (issue 11, part 5): bounded before
parsing, no coercion, lone surrogates refused, the wrong shape a 400 — never a 500."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from parley.gateways.stripe_gateway import WebhookEvent, WebhookPayloadInvalid, WebhookSignatureInvalid, parse_webhook
from parley.http import MAX_BODY_BYTES, build_resolver, parse_body
from tests.unit.ledger.test_billing_handlers import (  # noqa: F401  (world: a fixture used here)
    WEBHOOK_SECRET,
    Context,
    handler_of,
    signed,
    webhook_request,
    world,
)

DEEP = "[" * 2000 + "]" * 2000


class Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str
    count: int = 0
    enabled: bool = False
    tags: list[str] = Field(default_factory=list)


app = build_resolver(billing_errors=False)


@app.post("/echo")
def echo() -> dict[str, Any]:
    return parse_body(app, Body).model_dump()


def post(body: str) -> tuple[int, dict[str, Any]]:
    event = {"version": "2.0", "routeKey": "POST /echo", "rawPath": "/echo", "rawQueryString": "",
             "headers": {"content-type": "application/json"}, "body": body, "isBase64Encoded": False,
             "requestContext": {"http": {"method": "POST", "path": "/echo", "sourceIp": "127.0.0.1"},
                                "requestId": "r1", "routeKey": "POST /echo", "stage": "$default"}}
    reply = app.resolve(event, Context())  # type: ignore[arg-type]
    return int(reply["statusCode"]), json.loads(reply["body"])


@pytest.mark.parametrize(
    ("body", "mentions"),
    [
        ('{"name": "a", "enabled": "yes"}', "enabled"),
        ('{"name": "a", "enabled": 1}', "enabled"),
        ('{"name": "a", "count": "3"}', "count"),
        ('{"name": "a", "count": true}', "count"),
        ('{"name": 5}', "name"),
        ('{"name": "\\ud800"}', "surrogate"),
        ('{"name": "a", "tags": ["\\udc00"]}', "surrogate"),
        ('{"name": "a", "x": ' + DEEP + "}", "nested"),
        (DEEP, "nested"),
        ('["name"]', "object"),
        ('{"name": "a", "count": NaN}', "JSON"),
        ("{not json", "JSON"),
        (json.dumps({"name": "x" * MAX_BODY_BYTES}), "bytes"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_problem(body: str, mentions: str) -> None:
    status, reply = post(body)
    assert (status, reply["code"]) == (400, "invalid_request")
    assert mentions in reply["message"]


def test_a_good_body_parses() -> None:
    assert post('{"name": "\\ud83d\\ude00", "count": 3, "enabled": true, "tags": ["a"]}') == (
        200, {"name": "\N{GRINNING FACE}", "count": 3, "enabled": True, "tags": ["a"]})


class TestSignedWebhookShape:
    @pytest.mark.parametrize("body", [b"[1, 2, 3]", b'"event"', b"17", DEEP.encode(), b'{"id": 1}',
                                      b'{"id": "evt_1", "type": "x", "created": "\\ud800"}', b"\xff\xfe"])
    def test_a_signed_body_of_the_wrong_shape_is_refused_as_a_payload(self, body: bytes) -> None:
        with pytest.raises(WebhookPayloadInvalid):
            parse_webhook(body, signed(body), WEBHOOK_SECRET)

    def test_the_signature_is_checked_first(self) -> None:
        with pytest.raises(WebhookSignatureInvalid):
            parse_webhook(b"[1, 2, 3]", "t=1,v1=bad", WEBHOOK_SECRET)

    @pytest.mark.usefixtures("world")  # the billing functions' settings and tables
    def test_the_handler_answers_400_for_a_signed_array(self) -> None:
        body = b"[1, 2, 3]"
        reply = handler_of("stripe_webhook").handler(webhook_request(body, signed(body)), Context())
        assert reply["statusCode"] == 400
        assert json.loads(reply["body"])["code"] == "invalid_webhook_payload"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=15,
)
fields = st.sampled_from(["name", "count", "enabled", "tags", "other"])
bodies = st.text(max_size=100) | json_values.map(json.dumps) | st.dictionaries(fields, json_values).map(json.dumps)


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_fuzzed_bodies_are_accepted_or_a_documented_400(body: str) -> None:
    status, reply = post(body)
    assert status in (200, 400), reply
    if status == 400:
        assert reply["code"] == "invalid_request" and reply["message"]


@settings(max_examples=200, deadline=None)
@given(value=json_values | st.fixed_dictionaries({"id": st.text(max_size=8), "type": st.text(max_size=8),
                                                  "created": json_values, "data": json_values}))
def test_fuzzed_signed_webhooks_are_an_event_or_a_payload_refusal(value: Any) -> None:
    body = json.dumps(value).encode()
    with contextlib.suppress(WebhookPayloadInvalid):  # a 400 invalid_webhook_payload
        assert isinstance(parse_webhook(body, signed(body), WEBHOOK_SECRET), WebhookEvent)
