"""`python -m bench collection`: the billing day's collection fanned out (issue 12, part 9) with
Stripe 300 ms away, and the projected wall time of a 10,000-client day on AWS.

One local stack (frozen clock, no demo data). N clients (default 50) with a card start paid
service (not measured); on their Billing Date the billing day queues one order per invoice on
the collection queue (moto SQS) and the local queue poller delivers batches of 10 to the real
`collection_worker` Lambda, up to the mapping's MaximumConcurrency (10) at once — as the SQS
event source mapping does on AWS. The workers reach localstripe through a proxy that adds 0.3 s
to every request (tests/integration/stripe_faults.py), Stripe's round trip from a Lambda.

Measured: the drain's wall time, the Stripe requests per invoice (counted at the proxy), each
client charged exactly once. Projected for 10,000 due clients on AWS, with the mapping's
MaximumConcurrency (25) workers: the invoices one worker handles one after another (400) times
the time per invoice, twice — as measured here (the Stripe round trips plus this shared 2-core
machine's local work: an upper bound) and as the round trips alone (requests x latency: the
floor) — and the Stripe request rate that makes, which must stay under Stripe's live limit of
100 requests/s at the floor (the fastest the workers can go). Target: the day's collection
done within an hour at the measured speed (one Lambda could not pass 15 minutes at all).
"""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, datetime
from typing import Any

START = datetime(2027, 1, 5, 17, 0, tzinfo=UTC)
CLIENTS = 100
LATENCY_S = 0.3
PROJECTED_CLIENTS = 10_000
STRIPE_LIVE_LIMIT_RPS = 100
TARGET_PROJECTED_S = 60 * 60


def run(clients: int = CLIENTS, latency: float = LATENCY_S) -> dict[str, Any]:
    from infra.local import lambda_runtime
    from infra.local.stack import LocalStack
    from infra.wiring import QUEUE_SUBSCRIPTIONS, QUEUES
    from parley import aws, services
    from parley.clock import get_clock
    from parley.gateways.collection_queue import SqsCollectionQueue
    from parley.ledger.models import InvoiceStatus
    from parley.ledger.service import build_billing
    from tests.integration.billing_support import account, new_client
    from tests.integration.stripe_faults import StripeFaultProxy

    t0 = time.perf_counter()
    stack = LocalStack(start_time=START, frozen=True, seed_demo=False).start()
    started = time.perf_counter() - t0
    proxy = StripeFaultProxy(stack.stripe.url).start()
    direct = os.environ["PARLEY_STRIPE_API_BASE"]
    try:
        today = services.billing_service().config.today()
        ids = [new_client(stack, paid_start=today)[0] for _ in range(clients)]
        day = account(ids[0]).next_billing_date
        assert day is not None
        os.environ["PARLEY_STRIPE_API_BASE"] = proxy.url  # the workers' environments start now
        lambda_runtime.reset()
        proxy.latency = latency
        queue = SqsCollectionQueue(aws.sqs(), os.environ[QUEUES["collection"].env_var])
        billing = build_billing(services.ledger_repository(), services.tenant_repository(), None, get_clock(), queue)
        t1 = time.perf_counter()
        report = billing.billing_day.run(day)
        queued_s = time.perf_counter() - t1
        proxy.log.clear()
        t2 = time.perf_counter()
        stack.drain_streams()
        drain_s = time.perf_counter() - t2
        requests = len(proxy.log)
        invoices = [i for c in ids for i in billing.ledger.invoices(c) if i.issue_date == day]
        paid = sum(i.status is InvoiceStatus.PAID for i in invoices)
        charged_once = all(len([i for i in billing.ledger.invoices(c) if i.issue_date == day]) == 1 for c in ids)
    finally:
        os.environ["PARLEY_STRIPE_API_BASE"] = direct
        proxy.stop()
        stack.stop()
    measured = {"clients": clients, "stripe_latency_s": latency, "stack_start_s": round(started, 2),
                "queued_s": round(queued_s, 2), "drain_s": round(drain_s, 2), "paid": paid,
                "charged_once": charged_once, "enqueued": len(report.enqueued), "stripe_requests": requests}
    return {**measured, **project(measured, next(s for s in QUEUE_SUBSCRIPTIONS if s.queue == "collection"))}


def project(m: dict[str, Any], sub: Any) -> dict[str, Any]:
    """The 10,000-client day from the measured drain (see the module's docstring)."""
    clients, latency = m["clients"], m["stripe_latency_s"]
    workers = min(sub.max_concurrency, math.ceil(clients / sub.batch_size))
    per_worker = math.ceil(clients / workers)
    per_invoice_s = m["drain_s"] / per_worker
    per_invoice_requests = m["stripe_requests"] / max(clients, 1)
    sequential = math.ceil(PROJECTED_CLIENTS / sub.max_concurrency)
    projected_s = sequential * per_invoice_s
    ceiling_rps = sub.max_concurrency / latency  # one request at a time per worker, none faster than the round trip
    ok = (m["paid"] == clients and m["charged_once"] and m["enqueued"] >= clients
          and projected_s < TARGET_PROJECTED_S and ceiling_rps < STRIPE_LIVE_LIMIT_RPS)
    return {"workers": workers, "invoices_per_worker": per_worker,
            "stripe_requests_per_invoice": round(per_invoice_requests, 2),
            "seconds_per_invoice": round(per_invoice_s, 3), "max_concurrency": sub.max_concurrency,
            "projected_clients": PROJECTED_CLIENTS, "projected_wall_s": round(projected_s),
            "projected_wall_s_at_latency_floor": round(sequential * per_invoice_requests * latency),
            "projected_stripe_rps": round(sub.max_concurrency * per_invoice_requests / per_invoice_s, 1),
            "stripe_rps_ceiling": round(ceiling_rps, 1), "pass": ok}


def entry(args: Any) -> tuple[dict[str, Any], bool | None]:
    """`python -m bench collection` (bench/__main__.py)."""
    print(f"\n== collection fan-out: {CLIENTS} due clients, Stripe {LATENCY_S * 1000:.0f} ms away ==")
    r = run()
    print(f"queued in {r['queued_s']} s; drained in {r['drain_s']} s by {r['workers']} workers "
          f"({r['invoices_per_worker']} invoices each); {r['paid']}/{r['clients']} paid, each once: "
          f"{r['charged_once']}; {r['stripe_requests_per_invoice']} Stripe requests and "
          f"{r['seconds_per_invoice']} s per invoice")
    print(f"projected {r['projected_clients']:,} due clients at MaximumConcurrency {r['max_concurrency']}: "
          f"{r['projected_wall_s']} s ({r['projected_wall_s'] / 60:.1f} min) at this machine's speed, "
          f"{r['projected_wall_s_at_latency_floor']} s at the round trips alone (target < "
          f"{TARGET_PROJECTED_S // 60} min); Stripe {r['projected_stripe_rps']} requests/s measured, at most "
          f"{r['stripe_rps_ceiling']} (limit {STRIPE_LIVE_LIMIT_RPS}); {'PASS' if r['pass'] else 'FAIL'}")
    return r, bool(r["pass"])
