"""The billing Lambda handlers on the fakes: the real handler modules, their event parsing and
their domain calls, with the composition root (`parley.composition.billing`) handing out the
in-memory ports instead of DynamoDB, Stripe and Step Functions."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from parley.billing.payments import default_date, late_charge_date
from parley.composition import billing as composition
from parley.gateways.stripe_models import PaymentProviderUnavailable
from parley.ledger.memory import InMemoryCollectionQueue
from parley.ledger.models import TRIAL_CYCLE, AccountStatus, InvoiceStatus
from parley.ledger.service import build_billing
from parley.repositories.dynamo import to_item
from tests.unit.ledger.world import START, World, days

FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"
WEBHOOK_SECRET = "whsec_unit"


def handler_of(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"unit_handler_{name}", FUNCTIONS / name / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


@dataclass
class Context:
    function_name: str = "unit"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:unit"
    aws_request_id: str = "req-1"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    world = World()
    queue = world.collection_queue = InMemoryCollectionQueue()  # type: ignore[attr-defined]
    fanned_out = build_billing(world.ledger, world.tenants, world.payments, world.clock, queue)
    monkeypatch.setattr(composition, "billing_service",
                        lambda with_stripe=True, fan_out=False: fanned_out if fan_out else world.billing)
    monkeypatch.setattr(composition, "lifecycle", lambda: world.lifecycle)
    monkeypatch.setattr(composition, "ledger_repository", lambda: world.ledger)
    monkeypatch.setattr(composition, "stripe_secret", lambda: {"api_key": "sk_unit", "webhook_secret": WEBHOOK_SECRET})
    return world


def scheduled(day: Any) -> dict[str, Any]:
    return {"schedule": "daily", "scheduledTime": datetime.combine(day, datetime.min.time(), UTC).isoformat(),
            "day": day.isoformat()}


def test_the_daily_jobs_run_their_day_and_report_it(world: World) -> None:
    world.paying("cl_a")
    world.paying("cl_b", card=False)
    day = world.on(world.next_billing_day())
    billed = handler_of("billing_cycle").handler(scheduled(day), Context())
    assert billed["day"] == day.isoformat() and sorted(billed["billed"]) == ["cl_a", "cl_b"]
    cycle = {c: f"in_{day:%Y%m%d}_cycle_{c}" for c in ("cl_a", "cl_b")}
    assert sorted(billed["enqueued"]) == sorted(cycle.values()) and billed["declined"] == []
    orders: list[Any] = world.collection_queue.orders  # type: ignore[attr-defined]
    # The collection worker drains the queue: one SQS record per order, no batch item failures.
    records = [{"messageId": f"m{n}", "receiptHandle": f"r{n}", "body": o.model_dump_json(), "attributes": {},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:collection", "awsRegion": "us-east-1"}
               for n, o in enumerate(orders)]
    assert handler_of("collection_worker").handler({"Records": records}, Context()) == {"batchItemFailures": []}
    assert world.ledger.invoice("cl_a", cycle["cl_a"]).status is InvoiceStatus.PAID  # type: ignore[union-attr]
    assert cycle["cl_b"] in [h.detail["invoice_id"] for h in world.history("cl_b", "payment_failed")]
    first = world.invoices("cl_b")[0]
    late = handler_of("late_charges").handler(scheduled(late_charge_date(world.policy, first.due_date)), Context())
    assert late["late_charges"] == [first.invoice_id]
    cut_off = default_date(world.policy, first.issue_date, first.due_date)
    assert handler_of("defaults").handler(scheduled(cut_off), Context())["defaults"] == ["cl_b"]
    assert world.account("cl_b").status is AccountStatus.TERMINATED


@pytest.mark.filterwarnings("ignore:No application metrics to publish")  # it fails before any metric
def test_a_scheduled_event_without_its_time_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="scheduledTime"):
        handler_of("billing_cycle").handler({"schedule": "daily"}, Context())


def stream_record(old: dict[str, Any], new: dict[str, Any], seq: int) -> dict[str, Any]:
    return {"eventID": f"e{seq}", "eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": to_item({"pk": new["pk"], "sk": new["sk"]}), "OldImage": to_item(old),
                         "NewImage": to_item(new), "SequenceNumber": str(seq), "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def conversation(cid: str, client_id: str, **fields: Any) -> dict[str, Any]:
    created = datetime.combine(START, datetime.min.time(), UTC) + timedelta(hours=18)
    return {"pk": f"CONV#{cid}", "sk": "META", "client_id": client_id, "conversation_id": cid,
            "created_at": created.isoformat(), "first_visitor_message_at": created.isoformat(),
            "visitor_messages": 1, "status": "active", **fields}


def test_usage_meter_counts_the_stream_once_and_converts_a_trial_over_its_limit(world: World) -> None:
    world.billing.config.configure(world.policy.model_copy(update={"trial_unit_limit": 2}),
                                   world.billing.config.rules().catalog)
    client_id = str(world.lifecycle.signup("Trial Co", "t@example.test", "https://t.example", None)["clientId"])
    reply = (datetime.combine(START, datetime.min.time(), UTC) + timedelta(hours=18, seconds=45)).isoformat()
    records = [stream_record(conversation(f"cv_{i}", client_id), conversation(f"cv_{i}", client_id,
                                                                            first_agent_reply_at=reply), i)
               for i in range(3)]
    records.append(stream_record(conversation("cv_x", client_id), conversation("cv_x", client_id, preview="hi"), 9))
    meter = handler_of("usage_meter")
    assert meter.handler({"Records": records}, Context()) == {"batchItemFailures": []}
    assert meter.handler({"Records": records}, Context()) == {"batchItemFailures": []}  # redelivered
    assert world.ledger.usage(client_id, TRIAL_CYCLE).engaged_chats == 3
    assert world.account(client_id).status is AccountStatus.ACTIVE  # CO-4: over the limit, paid at once
    assert f"trial-{client_id}" in world.workflows.stopped


def test_trial_end_and_cancellation_steps_call_the_lifecycle(world: World) -> None:
    world.paying()
    world.on(START + days(3))
    notice = world.lifecycle.give_notice("cl_a", "closing")
    world.on(notice.effective_date + days(1))
    step = {"action": "finalize", "clientId": "cl_a", "noticeId": notice.notice_id}
    done = handler_of("cancellation").handler(step, Context())
    assert done["terminatedOn"] == (notice.effective_date + days(1)).isoformat()
    assert handler_of("trial_end").handler({"clientId": "cl_a"}, Context())["action"] == "none"
    with pytest.raises(ValueError, match="clientId"):
        handler_of("trial_end").handler({}, Context())


def signed(body: bytes) -> str:
    ts = int(time.time())
    return f"t={ts},v1={hmac.new(WEBHOOK_SECRET.encode(), f'{ts}.'.encode() + body, hashlib.sha256).hexdigest()}"


def webhook_request(body: bytes, signature: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json", **({"stripe-signature": signature} if signature else {})}
    return {"version": "2.0", "routeKey": "POST /api/stripe/webhook", "rawPath": "/api/stripe/webhook",
            "rawQueryString": "", "headers": headers, "body": body.decode(), "isBase64Encoded": False,
            "requestContext": {"http": {"method": "POST", "path": "/api/stripe/webhook", "sourceIp": "127.0.0.1"},
                               "requestId": "r1", "routeKey": "POST /api/stripe/webhook", "stage": "$default"}}


def test_a_signed_stripe_webhook_pays_the_invoice_and_a_bad_signature_is_a_400(world: World) -> None:
    world.paying(card=False)
    (invoice,) = world.invoices()
    body = json.dumps({"id": "evt_unit_1", "object": "event", "type": "invoice.paid", "created": 1_773_000_000,
                       "livemode": False, "data": {"object": {
                           "object": "invoice", "id": invoice.stripe_invoice_id, "status": "paid",
                           "metadata": {"parley_invoice_id": invoice.invoice_id}}}}).encode()
    webhook = handler_of("stripe_webhook")
    refused = webhook.handler(webhook_request(body, "t=1,v1=bad"), Context())
    assert refused["statusCode"] == 400
    assert world.invoices()[0].status is InvoiceStatus.OPEN
    accepted = webhook.handler(webhook_request(body, signed(body)), Context())
    assert accepted["statusCode"] == 200 and json.loads(accepted["body"]) == {"received": True, "applied": True}
    assert world.invoices()[0].status is InvoiceStatus.PAID
    replay = webhook.handler(webhook_request(body, signed(body)), Context())
    assert json.loads(replay["body"]) == {"received": True, "applied": False}


def test_the_collection_worker_waits_out_stripes_rate_limit_and_gives_up_on_anything_else() -> None:
    worker = handler_of("collection_worker")
    pauses: list[float] = []
    attempts: list[int] = []

    def limited_twice() -> None:
        attempts.append(1)
        if len(attempts) <= 2:
            raise PaymentProviderUnavailable("Too many requests", http_status=429)

    worker.with_rate_limit_backoff(limited_twice, sleep=pauses.append)
    assert len(attempts) == 3 and len(pauses) == 2 and all(0 < p <= 1.0 for p in pauses)

    def always_limited() -> None:
        raise PaymentProviderUnavailable("Too many requests", http_status=429)

    pauses.clear()
    with pytest.raises(PaymentProviderUnavailable):  # the message fails; SQS redelivers it later
        worker.with_rate_limit_backoff(always_limited, sleep=pauses.append)
    assert len(pauses) == len(worker.RATE_LIMIT_BACKOFF_SECONDS)

    def down() -> None:
        raise PaymentProviderUnavailable("Stripe 503", http_status=503)

    pauses.clear()
    with pytest.raises(PaymentProviderUnavailable):  # an outage is not waited out here
        worker.with_rate_limit_backoff(down, sleep=pauses.append)
    assert pauses == []
