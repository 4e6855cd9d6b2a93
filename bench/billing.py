"""Billing benchmarks against the embedded local stack (moto + localstripe + our handlers).

Three measurements, one stack (a `LocalStack` with a frozen clock and no demo billing data):

* **billing day** — `BillingDay.run` (parley.ledger.billing_day) for D due clients among N clients:
  DynamoDB requests per billed client (per operation), the items each read returned (by
  whose they are: a due client's, a non-due client's, the day's agenda), wall time. Four
  runs on one growing table: D = scale/10 with N = D, the same D with N = 10 x D, the scale
  run (default 10,000 due among 100,000, ledger only) and a smaller run with Stripe
  collection through localstripe (default 200 due among the same 100,000), which also
  counts the Stripe requests (method + path) per billed client and the DynamoDB requests of
  the `invoice.paid` webhooks that follow.
* **linearity** — the D/10 and D runs (both with N = 10 x D): requests per billed client,
  and the wall-time and CPU-time ratios (the machine is shared: CPU time is the steadier).
* **usage_meter** — 1,000 engaged chats of 20 clients as DynamoDB-stream MODIFY records,
  delivered to the real handler in batches of 100, then redelivered: the writes per
  1,000 engaged chats and proof that a redelivery changes no counter.

DynamoDB requests are counted like `bench/counting.py` does (botocore hooks on the client
object every handler uses, `parley.aws.dynamodb()`), split by thread: the billing run and
the meter run on the main thread; the Stripe webhooks arrive on the local gateway's threads.
Stripe requests are counted by the gateway's own `StripeRequestCounter`.

Two local-only adaptations of moto, in this process only (they change nothing our code
sends, and the request counts do not depend on them):

* seeding stores the raw items (built from the ledger's own models and key helpers) straight
  in moto's in-memory table, as moto's put_item would store them but without its per-item
  validation, its quadratic size check and a stream record: through BatchWriteItem moto
  stores ~670 items/s on this machine, i.e. ~7.5 minutes for the 300,000 items of the scale
  run. Seeding is not measured.
* two of moto's DynamoDB operations cost time proportional to the whole table, where DynamoDB's
  cost depends only on what the request names: TransactWriteItems deep-copies the whole table
  before every transaction (for its rollback; ~1.3 s per transaction at 5,000 items), and a
  Query on the base table sorts and scans every item of the table (over botocore's 10 s read
  timeout at 300,000 items). Both would make the local time grow with N (a moto artefact that
  would hide what we measure) and make the scale run take hours. The local stack's
  `infra.local.moto_patches` already keeps an undo log of the items a transaction names instead
  (restored, with their stream records dropped, when the transaction is cancelled); here a
  Query also looks at its own partition only (`moto_patches.install_partition_query`). moto's
  own checks, results and errors are otherwise unchanged. Every moto patch lives in
  `infra.local.moto_patches`.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

# Targets (docs/benchmarks.md, "Billing benchmarks").
TRANSACTIONS_PER_BILLED_CLIENT = 1  # ledger only: one TransactWriteItems per billed client
TRANSACTION_ITEM_LIMIT = 100  # DynamoDB's TransactWriteItems limit (actions per transaction)

START = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)  # the stack's frozen clock (08:00 in Etc/GMT+7)
PLAN = "business_starter"
PROGRESS_PREFIX = "  [billing]"

# Stripe events the production webhook endpoint subscribes to (README, "After the first deploy").
PRODUCTION_WEBHOOK_EVENTS = ("invoice.paid", "invoice.payment_failed", "charge.dispute.created",
                             "charge.dispute.updated", "charge.dispute.closed", "charge.dispute.funds_withdrawn",
                             "charge.dispute.funds_reinstated")


class BenchError(RuntimeError):
    """The benchmark could not run as designed."""


def progress(message: str) -> None:
    print(f"{PROGRESS_PREFIX} {message}", flush=True)


# --- moto adaptations (this process only) ----------------------------------------------
def install_moto_adaptations() -> None:
    """The benchmark's moto adaptations of the module docstring, for this process (they live
    with every other moto patch in `infra.local.moto_patches`). The stack has already installed
    the transaction undo log; the partition query is the benchmark's own. Both run inside moto's
    request lock (DynamoDB requests are applied one at a time), so nothing else touches the
    table meanwhile."""
    from infra.local import moto_patches

    moto_patches.install_partition_query()


class Seeder:
    """Writes raw ledger items straight into moto's in-memory data table (see the module
    docstring). The items are built exactly as `parley.repositories.ledger` builds them."""

    def __init__(self, table_name: str) -> None:
        from moto.dynamodb.models import dynamodb_backends

        account = next(iter(dynamodb_backends.keys()))
        self._backend = dynamodb_backends[account]["us-east-1"]
        self._table_name = table_name
        self.items_written = 0

    def exists(self, pk: str, sk: str) -> bool:
        """Whether an item is stored (read from moto's memory: not a DynamoDB request)."""
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = self._backend.get_table(self._table_name)
        return table.get_item(DynamoType({"S": pk}), DynamoType({"S": sk})) is not None

    def write(self, items: Sequence[dict[str, Any]]) -> None:
        """Store the items as moto's put_item would (an `Item` under its keys), without moto's
        per-item validation, quadratic size check and stream record. Nothing else runs meanwhile."""
        from moto.dynamodb.models.dynamo_type import DynamoType, Item

        from infra.local import moto_patches

        table = self._backend.get_table(self._table_name)
        hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
        if range_attr is None:
            raise BenchError("the data table has a sort key (pk, sk)")
        with moto_patches.unchecked_item_sizes():
            for attrs in items:
                hash_key, range_key = DynamoType(attrs[hash_attr]), DynamoType(attrs[range_attr])
                table.items[hash_key][range_key] = Item(hash_key, range_key, attrs)
        self.items_written += len(items)


def account_item(client_id: str, anchor: date, paid_start: date, next_billing: date, *,
                 customer: str | None = None, payment_method: str | None = None) -> dict[str, Any]:
    from parley.ledger.models import AccountStatus, BillingAccount
    from parley.repositories.ledger import account_record

    return account_record(BillingAccount(
        client_id=client_id, name=f"Bench {client_id}", email=f"{client_id}@bench.test", status=AccountStatus.ACTIVE,
        plan_id=PLAN, current_plan_id=PLAN, anchor_day=anchor.day, paid_start=paid_start,
        next_billing_date=next_billing, setup_fee_charged=True, stripe_customer_id=customer,
        payment_method=payment_method, version=2))


def usage_item(client_id: str, cycle: str, engaged: int) -> dict[str, Any]:
    from parley.ledger.models import UsageCounter
    from parley.repositories.ledger import usage_record

    return usage_record(UsageCounter(client_id=client_id, cycle=cycle, engaged_chats=engaged,
                                     first_response_seconds=45 * engaged), START)


def agenda_entry(day: date, client_id: str) -> dict[str, Any]:
    from parley.ledger.models import AgendaEntry, AgendaKind
    from parley.repositories.ledger import agenda_record

    return agenda_record(AgendaEntry(day=day, kind=AgendaKind.BILL, client_id=client_id))


# --- counting ---------------------------------------------------------------------------
RUN, OTHER = "run", "other"  # the main thread (billing run, meter) / other threads (webhooks)


@dataclass
class Counts:
    """What one scope (RUN or OTHER) sent to DynamoDB and got back."""

    calls: Counter[str] = field(default_factory=Counter)  # per operation
    attempts: int = 0  # HTTP attempts (retries would show as attempts > calls)
    errors: Counter[str] = field(default_factory=Counter)  # "Operation: Code"
    transaction_items: list[int] = field(default_factory=list)  # actions per TransactWriteItems
    keys_requested: Counter[str] = field(default_factory=Counter)  # keys asked for by BatchGetItem
    items_returned: Counter[str] = field(default_factory=Counter)  # per operation
    pages: Counter[str] = field(default_factory=Counter)  # Query responses carrying LastEvaluatedKey
    returned_pks: Counter[str] = field(default_factory=Counter)  # pk of every item read
    seconds: dict[str, float] = field(default_factory=dict)  # time inside the calls, per operation

    def total(self) -> int:
        return sum(self.calls.values())


class DynamoProbe:
    """botocore hooks on one client (the cached `parley.aws.dynamodb()`), like `bench/counting.py`:
    `before-call` counts calls per operation, `before-send` HTTP attempts; `before-parameter-build`
    sees the request parameters (actions per transaction, keys per BatchGetItem) and `after-call`
    the parsed response (the items read, their pk; error codes). Counts go to RUN when made on
    the thread that created the probe, else to OTHER."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._main = threading.get_ident()
        self._lock = threading.Lock()
        self._counts = {RUN: Counts(), OTHER: Counts()}
        self._last_other = time.monotonic()
        self._uid = f"bench-billing-{id(self)}"
        self._events: list[str] = []
        self._progress: tuple[int, Callable[[int], None]] | None = None
        self._run_transactions = 0
        self._started = threading.local()
        for event, hook in (("before-call.dynamodb", self._on_call), ("before-send.dynamodb", self._on_send),
                            ("before-parameter-build.dynamodb", self._on_params),
                            ("after-call.dynamodb", self._on_response)):
            client.meta.events.register(event, hook, unique_id=f"{self._uid}-{event}")
            self._events.append(event)

    def close(self) -> None:
        for event in self._events:
            self.client.meta.events.unregister(event, unique_id=f"{self._uid}-{event}")
        self._events.clear()

    def _scope(self) -> Counts:
        if threading.get_ident() == self._main:
            return self._counts[RUN]
        self._last_other = time.monotonic()
        return self._counts[OTHER]

    def _on_call(self, model: Any, **_: Any) -> None:
        report = 0
        with self._lock:
            counts = self._scope()
            counts.calls[str(model.name)] += 1
            if model.name == "TransactWriteItems" and counts is self._counts[RUN]:
                self._run_transactions += 1
                if self._progress is not None and self._run_transactions % self._progress[0] == 0:
                    report = self._run_transactions
        if report and self._progress is not None:
            self._progress[1](report)
        self._started.at = time.perf_counter()

    def report_transactions(self, every: int, callback: Callable[[int], None] | None) -> None:
        """Call `callback(n)` at every `every`-th TransactWriteItems of the run (progress)."""
        with self._lock:
            self._progress = (every, callback) if callback is not None else None
            self._run_transactions = 0

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self._scope().attempts += 1

    def _on_params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        with self._lock:
            counts = self._scope()
            if model.name == "TransactWriteItems":
                counts.transaction_items.append(len(params.get("TransactItems", [])))
            elif model.name == "BatchGetItem":
                counts.keys_requested["BatchGetItem"] += sum(len(r.get("Keys", []))
                                                             for r in params.get("RequestItems", {}).values())

    def _on_response(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        op = str(model.name)
        started = getattr(self._started, "at", None)
        self._started.at = None
        elapsed = time.perf_counter() - started if started is not None else 0.0
        items: list[dict[str, Any]] = []
        if op == "GetItem" and parsed.get("Item"):
            items = [parsed["Item"]]
        elif op == "BatchGetItem":
            items = [i for rows in (parsed.get("Responses") or {}).values() for i in rows]
        elif op in ("Query", "Scan"):
            items = list(parsed.get("Items") or [])
        with self._lock:
            counts = self._scope()
            if getattr(http_response, "status_code", 200) >= 300:
                counts.errors[f"{op}: {parsed.get('Error', {}).get('Code', '?')}"] += 1
            counts.items_returned[op] += len(items)
            counts.seconds[op] = counts.seconds.get(op, 0.0) + elapsed
            if op in ("Query", "Scan") and parsed.get("LastEvaluatedKey"):
                counts.pages[op] += 1
            for item in items:
                counts.returned_pks[str(item.get("pk", {}).get("S", "?"))] += 1

    def take(self) -> dict[str, Counts]:
        """The counts since the last take (and start afresh)."""
        with self._lock:
            taken, self._counts = self._counts, {RUN: Counts(), OTHER: Counts()}
        return taken

    def other_idle_for(self) -> float:
        with self._lock:
            return time.monotonic() - self._last_other


# --- 1 and 2. the billing day -------------------------------------------------------------
@dataclass(frozen=True)
class DayPlan:
    label: str
    day: date
    due: int
    clients: int  # billing accounts in the table when the day runs (N)
    stripe: bool = False


@dataclass
class Population:
    """The clients seeded so far; each run adds its due clients and enough others to reach N."""

    seeder: Seeder
    rng: random.Random
    count: int = 0
    seconds: float = 0.0
    stripe_customers: dict[str, tuple[str, str]] = field(default_factory=dict)  # client -> (customer, pm)
    _templates: dict[date, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = field(default_factory=dict)

    def client_id(self, n: int) -> str:
        return f"cl_bench{n:06d}"

    def add(self, due_day: date | None, due: int, others: int, other_days: Sequence[date],
            reserved: dict[date, list[str]] | None = None) -> list[str]:
        """Seed `due` clients whose Billing Date is `due_day` and `others` whose Billing Date is
        one of `other_days`; every client gets its account, the counter of the cycle that ends
        the day before its Billing Date, and its BILL agenda entry. Returns the due client ids."""
        t0 = time.perf_counter()
        items: list[dict[str, Any]] = []
        due_ids: list[str] = []
        plan: list[tuple[date, str]] = []
        for _ in range(due):
            assert due_day is not None
            plan.append((due_day, self.client_id(self.count)))
            due_ids.append(self.client_id(self.count))
            self.count += 1
        for k in range(others):
            plan.append((other_days[k % len(other_days)], self.client_id(self.count)))
            self.count += 1
        for day, client_id in [*plan, *((d, c) for d, ids in (reserved or {}).items() for c in ids)]:
            items += self._client_items(client_id, day)
            if len(items) >= 30_000:
                self.seeder.write(items)
                items = []
        self.seeder.write(items)
        self.seconds += time.perf_counter() - t0
        return due_ids

    def _client_items(self, client_id: str, billing_day: date) -> list[dict[str, Any]]:
        """A client paid since two Billing Dates ago (so `billing_day` bills a full ended cycle
        in arrears), with 0-320 engaged chats in that cycle (the plan includes 200)."""
        from parley.billing.calendar import previous_billing_date

        engaged = self.rng.randint(0, 320)
        anchor = billing_day
        paid_start = previous_billing_date(anchor.day, previous_billing_date(anchor.day, billing_day))
        cycle = max(previous_billing_date(anchor.day, billing_day), paid_start).isoformat()
        verify = billing_day not in self._templates
        if verify:  # the items of a template client, built by the ledger's models and key helpers
            template = "cl_template"
            self._templates[billing_day] = (account_item(template, anchor, paid_start, billing_day),
                                            usage_item(template, cycle, 0), agenda_entry(billing_day, template))
        account, usage, agenda = self._templates[billing_day]
        ident = {"S": client_id}
        items = [{**account, "pk": {"S": f"CLIENT#{client_id}"}, "client_id": ident,
                  "name": {"S": f"Bench {client_id}"}, "email": {"S": f"{client_id}@bench.test"}},
                 {**usage, "pk": {"S": f"CLIENT#{client_id}"}, "client_id": ident, "engaged_chats": {"N": str(engaged)},
                  "first_response_seconds": {"N": str(45 * engaged)}},
                 {**agenda, "sk": {"S": f"BILL#{client_id}"}, "client_id": ident}]
        customer, method = self.stripe_customers.get(client_id, (None, None))
        if customer is not None and method is not None:
            items[0] = {**items[0], "stripe_customer_id": {"S": customer}, "payment_method": {"S": method}}
        if verify:  # the first client of each day: the template gives what the models give
            built = [account_item(client_id, anchor, paid_start, billing_day, customer=customer, payment_method=method),
                     usage_item(client_id, cycle, engaged), agenda_entry(billing_day, client_id)]
            if items != built:
                raise BenchError(f"seed items of {client_id} differ from the ledger models' items")
        return items


@dataclass
class DayResult:
    plan: DayPlan
    billed: int
    skipped: int
    collected: int
    declined: int
    stripe_pending: int
    run_s: float
    cpu_s: float  # CPU time of the whole process (run, moto, localstripe, gateway threads)
    run: Counts
    webhooks: Counts | None
    stripe: dict[str, int]
    invoice_lines: Counter[int]
    due_ids: set[str]
    day_pk: str

    def items_read(self) -> dict[str, int]:
        """Every item the run read, by whose it is (from the pk of each returned item)."""
        kinds: Counter[str] = Counter()
        for pk, n in self.run.returned_pks.items():
            if pk == self.day_pk:
                kinds["agenda of the day"] += n
            elif pk.startswith("CLIENT#"):
                kinds["due clients" if pk.removeprefix("CLIENT#") in self.due_ids else "non-due clients"] += n
            elif pk == "PROVIDER":
                kinds["provider config"] += n
            else:
                kinds[f"other ({pk.split('#')[0]})"] += n
        kinds.setdefault("non-due clients", 0)
        return dict(kinds)

    def per_client(self, counts: Counts) -> dict[str, float]:
        return {op: n / self.billed for op, n in sorted(counts.calls.items())} if self.billed else {}

    def summary(self) -> dict[str, Any]:
        ti = self.run.transaction_items
        out: dict[str, Any] = {
            "label": self.plan.label, "day": self.plan.day.isoformat(), "due": self.plan.due,
            "clients": self.plan.clients, "stripe": self.plan.stripe,
            "billed": self.billed, "skipped": self.skipped, "collected": self.collected,
            "declined": self.declined, "stripe_pending": self.stripe_pending,
            "run_s": round(self.run_s, 2), "ms_per_billed_client": round(1000 * self.run_s / max(self.billed, 1), 2),
            "cpu_s": round(self.cpu_s, 2),
            "cpu_ms_per_billed_client": round(1000 * self.cpu_s / max(self.billed, 1), 2),
            "ms_per_call": {op: round(1000 * t / self.run.calls[op], 2) for op, t in sorted(self.run.seconds.items())
                            if self.run.calls.get(op)},
            "seconds_in_calls": {op: round(t, 2) for op, t in sorted(self.run.seconds.items())},
            "dynamodb_calls": dict(sorted(self.run.calls.items())), "dynamodb_total": self.run.total(),
            "dynamodb_http_attempts": self.run.attempts, "dynamodb_errors": dict(self.run.errors),
            "dynamodb_per_billed_client": {op: round(v, 4) for op, v in self.per_client(self.run).items()},
            "dynamodb_total_per_billed_client": round(self.run.total() / max(self.billed, 1), 4),
            "transaction_items": ({"count": len(ti), "min": min(ti), "max": max(ti),
                                   "mean": round(sum(ti) / len(ti), 2)} if ti else {"count": 0}),
            "batch_get_keys_requested": self.run.keys_requested.get("BatchGetItem", 0),
            "items_returned": dict(sorted(self.run.items_returned.items())),
            "query_pages_with_more": dict(self.run.pages),
            "items_read": self.items_read(),
        }
        if self.plan.stripe:
            out["stripe_requests"] = dict(sorted(self.stripe.items()))
            out["stripe_total"] = sum(self.stripe.values())
            out["stripe_per_billed_client"] = {k: round(v / max(self.billed, 1), 4) for k, v in
                                               sorted(self.stripe.items())}
            out["stripe_total_per_billed_client"] = round(sum(self.stripe.values()) / max(self.billed, 1), 4)
            out["invoice_lines"] = {str(k): v for k, v in sorted(self.invoice_lines.items())}
            if self.webhooks is not None:
                out["webhook_dynamodb_calls"] = dict(sorted(self.webhooks.calls.items()))
                out["webhook_dynamodb_per_billed_client"] = {op: round(v, 4) for op, v in
                                                             self.per_client(self.webhooks).items()}
                out["webhook_dynamodb_errors"] = dict(self.webhooks.errors)
        return out


def _run_day(stack: Any, probe: DynamoProbe, plan: DayPlan, due_ids: list[str]) -> DayResult:
    from parley import services
    from parley.ledger.service import build_billing

    stack.clock.set(datetime.combine(plan.day, datetime.min.time(), UTC) + timedelta(hours=7, minutes=10))
    payments = services.stripe_gateway() if plan.stripe else None
    billing = build_billing(services.ledger_repository(), services.tenant_repository(), payments, stack.clock)
    stripe_before = payments.requests.snapshot() if payments is not None else {}
    probe.take()
    t0, c0 = time.perf_counter(), time.process_time()
    if plan.due >= 2000:
        probe.report_transactions(plan.due // 5, lambda n: progress(
            f"    ... {n:,} transactions in {time.perf_counter() - t0:.0f} s"))
    try:
        report = billing.billing_day.run(plan.day)
    finally:
        probe.report_transactions(0, None)
    run_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    taken = probe.take()
    stripe: dict[str, int] = {}
    webhooks: Counts | None = None
    lines: Counter[int] = Counter()
    if payments is not None:
        after = payments.requests.snapshot()
        stripe = {k: v - stripe_before.get(k, 0) for k, v in after.items() if v - stripe_before.get(k, 0)}
        webhooks = _await_webhooks(probe, len(report.collected), taken[OTHER])
        ledger = services.ledger_repository()
        for client_id in sorted(report.billed):
            invoice = ledger.invoice(client_id, f"in_{plan.day:%Y%m%d}_cycle_{client_id}")
            lines[len(invoice.lines) if invoice else 0] += 1
        probe.take()  # the invoice reads above are the benchmark's, not the run's
    elif taken[OTHER].total():
        raise BenchError(f"unexpected DynamoDB requests from other threads during {plan.label}: "
                         f"{dict(taken[OTHER].calls)}")
    return DayResult(plan, len(report.billed), len(report.skipped), len(report.collected), len(report.declined),
                     len(report.stripe_pending), run_s, cpu_s, taken[RUN], webhooks, stripe, lines, set(due_ids),
                     f"AGENDA#{plan.day.isoformat()}")


def _await_webhooks(probe: DynamoProbe, expected: int, so_far: Counts, limit: float = 90.0) -> Counts:
    """localstripe posts each event 1 s after it happened; wait until the expected number of
    `invoice.paid` deliveries reached the ledger (one WEBHOOK#…/SEEN PutItem each) and the
    gateway threads have been quiet for 2 s. Bounded."""
    total = so_far
    deadline = time.monotonic() + limit
    while True:
        time.sleep(0.5)
        more = probe.take()
        if more[RUN].total():
            raise BenchError(f"unexpected main-thread DynamoDB requests while waiting: {dict(more[RUN].calls)}")
        total = _merge(total, more[OTHER])
        if total.calls.get("PutItem", 0) >= expected and probe.other_idle_for() > 2.0:
            return total
        if time.monotonic() > deadline:
            raise BenchError(f"only {total.calls.get('PutItem', 0)} of {expected} invoice.paid webhooks reached "
                             f"the ledger within {limit:.0f} s")


def _merge(a: Counts, b: Counts) -> Counts:
    return Counts(a.calls + b.calls, a.attempts + b.attempts, a.errors + b.errors,
                  a.transaction_items + b.transaction_items, a.keys_requested + b.keys_requested,
                  a.items_returned + b.items_returned, a.pages + b.pages, a.returned_pks + b.returned_pks,
                  {k: a.seconds.get(k, 0.0) + b.seconds.get(k, 0.0) for k in a.seconds.keys() | b.seconds.keys()})


def _stripe_customers(client_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """A Stripe customer with a card on file (`pm_card_visa`) for each client, via the gateway."""
    from parley import services

    gateway = services.stripe_gateway()
    out: dict[str, tuple[str, str]] = {}
    for client_id in client_ids:
        customer = gateway.ensure_customer(client_id, f"Bench {client_id}", f"{client_id}@bench.test")
        out[client_id] = (customer, gateway.attach_test_payment_method(customer))
    return out


def run_billing_days(stack: Any, probe: DynamoProbe, cfg: BillingConfig) -> dict[str, Any]:
    from parley import services
    from parley.settings import get_settings

    scale_d, scale_n = cfg.scale_due, cfg.scale_clients
    small_d = max(scale_d // 10, 1)
    days = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4)]
    other_days = [date(2026, 12, d) for d in range(5, 29)]  # everybody else's Billing Dates
    population = Population(Seeder(get_settings().data_table), random.Random(cfg.seed))

    stripe_ids: list[str] = []
    if cfg.stripe_due:
        # Reserve the Stripe run's clients now (they are among the N of the scale run).
        stripe_ids = [f"cl_bstripe{k:05d}" for k in range(cfg.stripe_due)]
        t0 = time.perf_counter()
        progress(f"creating {cfg.stripe_due} Stripe customers with a card on file (localstripe) ...")
        population.stripe_customers = _stripe_customers(stripe_ids)
        services.stripe_gateway().requests.reset()
        secret = services.stripe_secret()["webhook_secret"]
        stack.stripe.register_webhook(f"{stack.base_url}/api/stripe/webhook", secret,
                                      events=list(PRODUCTION_WEBHOOK_EVENTS))
        progress(f"  done in {time.perf_counter() - t0:.1f} s; webhook endpoint subscribed to the production "
                 "event list")

    plans = [DayPlan("N = D", days[0], small_d, small_d),
             DayPlan("N = 10 x D", days[1], small_d, 10 * small_d),
             DayPlan("scale", days[2], scale_d, scale_n)]
    # Keep N exact: the table grows to each plan's N (the Stripe clients are part of the scale N).
    results: list[DayResult] = []
    for plan in plans:
        existing = population.count + (len(stripe_ids) if plan.label == "scale" else 0)
        others = plan.clients - existing - plan.due
        if others < 0:
            raise BenchError(f"{plan.label}: {plan.clients} clients cannot hold {existing} existing + {plan.due} due")
        progress(f"{plan.label}: seeding {plan.due:,} due on {plan.day} and {others:,} others "
                 f"(table: {plan.clients:,} billing accounts) ...")
        t0 = time.perf_counter()
        due_ids = population.add(plan.day, plan.due, others, other_days,
                                 reserved={days[3]: stripe_ids} if plan.label == "scale" else None)
        if plan.label == "scale":
            population.count += len(stripe_ids)
        progress(f"  seeded in {time.perf_counter() - t0:.1f} s; running the billing day (ledger only) ...")
        result = _run_day(stack, probe, plan, due_ids)
        progress(f"  {result.billed:,} billed in {result.run_s:.1f} s ({result.cpu_s:.1f} s CPU), "
                 f"{result.run.total():,} DynamoDB requests")
        results.append(result)

    if cfg.stripe_due:
        plan = DayPlan("Stripe", days[3], cfg.stripe_due, population.count, stripe=True)
        progress(f"Stripe: running the billing day of {plan.due} due among {plan.clients:,} with collection "
                 "through localstripe ...")
        result = _run_day(stack, probe, plan, stripe_ids)
        progress(f"  {result.billed} billed, {result.collected} collected in {result.run_s:.1f} s; "
                 f"{sum(result.stripe.values())} Stripe requests")
        results.append(result)
    return _judge_days(results, population)


def _judge_days(results: list[DayResult], population: Population) -> dict[str, Any]:
    checks: list[tuple[str, bool]] = []
    for r in results:
        where = f"{r.plan.label} ({r.plan.due:,} due among {r.plan.clients:,})"
        read = r.items_read()
        checks.append((f"{where}: billed {r.billed:,} of {r.plan.due:,} due, {r.skipped} skipped",
                       r.billed == r.plan.due and r.skipped == 0))
        checks.append((f"{where}: items of non-due clients read: {read['non-due clients']} (0 expected)",
                       read["non-due clients"] == 0))
        agenda_rows = read.get("agenda of the day", 0)
        due_rows = read.get("due clients", 0)
        # Ledger only: the due clients' agenda entries, accounts and counters (3 per due client);
        # with Stripe also the COLLECT entries, the invoices and the accounts again, and one
        # invoice re-read per payment.
        expected_agenda = r.plan.due * (2 if r.plan.stripe else 1)
        checks.append((f"{where}: agenda items read {agenda_rows:,} (= {expected_agenda:,})",
                       agenda_rows == expected_agenda))
        if not r.plan.stripe:
            checks.append((f"{where}: due clients' items read {due_rows:,} (accounts + usage counters = "
                           f"{2 * r.plan.due:,})", due_rows == 2 * r.plan.due))
            checks.append((f"{where}: TransactWriteItems per billed client "
                           f"{r.run.calls.get('TransactWriteItems', 0) / max(r.billed, 1):g} "
                           f"(= {TRANSACTIONS_PER_BILLED_CLIENT})",
                           r.run.calls.get("TransactWriteItems", 0) == TRANSACTIONS_PER_BILLED_CLIENT * r.billed))
            pages = r.run.calls.get("Query", 0)
            expected_calls = {"TransactWriteItems": r.plan.due, "BatchGetItem": 2 * -(-r.plan.due // 100),
                              "GetItem": 1, "Query": pages}
            checks.append((f"{where}: requests = 1 TransactWriteItems per due client + 2 BatchGetItem per 100 due "
                           f"clients + 1 GetItem (provider config) + {pages} Query page(s) of the day's agenda; got "
                           f"{dict(sorted(r.run.calls.items()))}",
                           dict(r.run.calls) == expected_calls and pages == 1 + r.run.pages.get("Query", 0)))
        else:
            checks.append((f"{where}: collected {r.collected} of {r.billed} ({r.declined} declined, "
                           f"{r.stripe_pending} pending)", r.collected == r.billed))
            lines = sum(k * v for k, v in r.invoice_lines.items())
            expected = 3 * r.billed + lines
            checks.append((f"{where}: Stripe requests {sum(r.stripe.values())} = 3 per invoice + 1 per line "
                           f"({expected}): no customer lookups, no retries",
                           sum(r.stripe.values()) == expected))
        checks.append((f"{where}: no DynamoDB errors or retries ({dict(r.run.errors)}, "
                       f"{r.run.attempts} attempts for {r.run.total()} calls)",
                       not r.run.errors and r.run.attempts == r.run.total()))
    by_label = {r.plan.label: r for r in results}
    comparisons: dict[str, Any] = {}
    if "N = D" in by_label and "N = 10 x D" in by_label:
        a, b = by_label["N = D"], by_label["N = 10 x D"]
        checks.append((f"same D = {a.plan.due:,}: identical DynamoDB requests with N = {a.plan.clients:,} and "
                       f"N = {b.plan.clients:,} ({a.run.total()} and {b.run.total()})",
                       a.run.calls == b.run.calls and a.run.items_returned == b.run.items_returned))
        comparisons["non_due_independence"] = {
            "due": a.plan.due, "clients": [a.plan.clients, b.plan.clients],
            "dynamodb_total": [a.run.total(), b.run.total()], "run_s": [round(a.run_s, 2), round(b.run_s, 2)],
            "time_ratio": round(b.run_s / a.run_s, 2), "cpu_s": [round(a.cpu_s, 2), round(b.cpu_s, 2)],
            "cpu_ratio": round(b.cpu_s / a.cpu_s, 2)}
    if "N = 10 x D" in by_label and "scale" in by_label:
        a, b = by_label["N = 10 x D"], by_label["scale"]
        per_a = round(a.run.total() / a.billed, 4)
        per_b = round(b.run.total() / b.billed, 4)
        # Per billed client, without the per-run constants (the provider config, the agenda pages).
        var_a, var_b = (round((r.run.total() - r.run.calls.get("GetItem", 0) - r.run.calls.get("Query", 0))
                              / r.billed, 4) for r in (a, b))
        checks.append((f"linearity: DynamoDB requests per billed client {per_a} at D = {a.billed:,} and {per_b} at "
                       f"D = {b.billed:,}; {var_a} and {var_b} without the per-run GetItem and Query",
                       var_a == var_b))
        comparisons["linearity"] = {
            "due": [a.billed, b.billed], "dynamodb_total": [a.run.total(), b.run.total()],
            "dynamodb_per_billed_client": [per_a, per_b],
            "dynamodb_per_billed_client_without_per_run_constants": [var_a, var_b],
            "run_s": [round(a.run_s, 2), round(b.run_s, 2)], "cpu_s": [round(a.cpu_s, 2), round(b.cpu_s, 2)],
            "due_ratio": round(b.billed / a.billed, 2), "time_ratio": round(b.run_s / a.run_s, 2),
            "cpu_ratio": round(b.cpu_s / a.cpu_s, 2)}
    return {"runs": [r.summary() for r in results], "comparisons": comparisons,
            "seeded": {"clients": population.count, "items": population.seeder.items_written,
                       "seconds": round(population.seconds, 2)},
            "checks": [{"check": c, "pass": ok} for c, ok in checks], "pass": all(ok for _, ok in checks)}


# --- 3. usage_meter -------------------------------------------------------------------------
def _engaged_record(n: int, client_id: str, conversation_id: str, created: datetime) -> dict[str, Any]:
    """A DynamoDB-stream MODIFY record (Lambda event format) of a conversation's META item in
    which the first agent reply appears: what `usage_meter` counts as one engaged chat."""
    from parley.clock import iso
    from parley.repositories.dynamo import to_item

    replied = created + timedelta(seconds=20 + n % 40)
    old = {"pk": f"CONV#{conversation_id}", "sk": "META", "conversation_id": conversation_id,
           "client_id": client_id, "status": "active", "visitor_id": f"v_{n:06d}", "last_seq": 3,
           "visitor_messages": 1, "agent_id": "ag_bench", "created_at": iso(created),
           "accepted_at": iso(created + timedelta(seconds=10)), "first_visitor_message_at": iso(created),
           "updated_at": iso(created + timedelta(seconds=10))}
    new = {**old, "last_seq": 4, "agent_messages": 1, "first_agent_reply_at": iso(replied),
           "updated_at": iso(replied), "preview": "Hello! How can I help?"}
    return {"eventID": f"bench{n:08d}", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": int(replied.timestamp()),
                         "Keys": to_item({"pk": old["pk"], "sk": "META"}), "NewImage": to_item(new),
                         "OldImage": to_item(old), "SequenceNumber": f"{9_000_000_000 + n}", "SizeBytes": 512,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/parley-local-data/stream/bench"}


@dataclass
class MeterPass:
    label: str
    batches: int
    records: int
    counts: Counts
    failed_records: int
    seconds: float
    per_batch_transactions: list[int]

    def summary(self, chats: int) -> dict[str, Any]:
        ti = self.counts.transaction_items
        scale = 1000 / chats
        return {"label": self.label, "batches": self.batches, "records": self.records,
                "dynamodb_calls": dict(sorted(self.counts.calls.items())), "dynamodb_total": self.counts.total(),
                "dynamodb_errors": dict(self.counts.errors),
                "per_1000_engaged_chats": {op: round(n * scale, 1) for op, n in sorted(self.counts.calls.items())},
                "transaction_items_total": sum(ti),
                "transaction_items_per_1000_engaged_chats": round(sum(ti) * scale, 1),
                "transaction_items": ({"min": min(ti), "max": max(ti), "mean": round(sum(ti) / len(ti), 2)}
                                      if ti else {}),
                "transactions_per_batch": sorted(set(self.per_batch_transactions)),
                "batch_item_failures": self.failed_records, "seconds": round(self.seconds, 2)}


def run_meter(stack: Any, probe: DynamoProbe, cfg: BillingConfig) -> dict[str, Any]:
    from infra.local import lambda_runtime
    from parley import services
    from parley.settings import get_settings

    stack.clock.set(START)
    anchor = date(2026, 11, 5)  # paid since 2026-10-05: the chats fall in the cycle from 2026-11-05
    client_ids = [f"cl_bmeter{k:02d}" for k in range(cfg.meter_clients)]
    seeder = Seeder(get_settings().data_table)
    seeder.write([account_item(c, anchor, date(2026, 10, 5), date(2026, 12, 5)) for c in client_ids])
    created = START - timedelta(hours=2)
    records = [_engaged_record(n, client_ids[n % len(client_ids)], f"cbench{n:06d}",
                               created + timedelta(seconds=3 * n)) for n in range(cfg.meter_chats)]
    batches = [records[i:i + cfg.meter_batch] for i in range(0, len(records), cfg.meter_batch)]
    ledger = services.ledger_repository()

    def counters() -> dict[str, tuple[int, int]]:
        out = {}
        for c in client_ids:
            usage = ledger.usage(c, anchor.isoformat())
            out[c] = (usage.engaged_chats, usage.first_response_seconds)
        return out

    def deliver(label: str) -> MeterPass:
        probe.take()
        per_batch: list[int] = []
        failed = 0
        total = Counts()
        t0 = time.perf_counter()
        for batch in batches:
            result = lambda_runtime.invoke("usage_meter", {"Records": batch}) or {}
            failed += len(result.get("batchItemFailures", []))
            taken = probe.take()
            per_batch.append(taken[RUN].calls.get("TransactWriteItems", 0))
            total = _merge(total, taken[RUN])
        seconds = time.perf_counter() - t0
        return MeterPass(label, len(batches), sum(len(b) for b in batches), total, failed, seconds, per_batch)

    progress(f"usage_meter: {cfg.meter_chats:,} engaged chats of {cfg.meter_clients} clients, "
             f"batches of {cfg.meter_batch} ...")
    first = deliver("first delivery")
    after_first = counters()
    markers = _count_markers(seeder, [f"cbench{n:06d}" for n in range(cfg.meter_chats)])
    progress(f"  delivered in {first.seconds:.1f} s; redelivering the same batches ...")
    again = deliver("redelivery")
    after_again = counters()
    probe.take()
    expected_per_client = Counter(client_ids[n % len(client_ids)] for n in range(cfg.meter_chats))
    clients_per_batch = [len({r["dynamodb"]["NewImage"]["client_id"]["S"] for r in b}) for b in batches]

    probe_result = _meter_limit_probe(probe, cfg, created)
    checks = [
        (f"first delivery: counters = the chats sent ({sum(v[0] for v in after_first.values())} of "
         f"{cfg.meter_chats}), {markers} METERED markers",
         all(after_first[c][0] == expected_per_client[c] for c in client_ids) and markers == cfg.meter_chats),
        (f"one counter transaction per client per batch ({sum(first.per_batch_transactions)} for "
         f"{sum(clients_per_batch)} client-batches)", first.per_batch_transactions == clients_per_batch),
        ("redelivery changes no counter", after_again == after_first),
        (f"no failed records ({first.failed_records} + {again.failed_records})",
         first.failed_records == 0 and again.failed_records == 0),
    ]
    return {"clients": cfg.meter_clients, "engaged_chats": cfg.meter_chats, "batch_size": cfg.meter_batch,
            "batches": len(batches), "clients_per_batch": sorted(set(clients_per_batch)),
            "first": first.summary(cfg.meter_chats), "redelivery": again.summary(cfg.meter_chats),
            "counters_after_first": sum(v[0] for v in after_first.values()),
            "counters_after_redelivery": sum(v[0] for v in after_again.values()),
            "metered_markers": markers, "limit_probe": probe_result,
            "checks": [{"check": c, "pass": ok} for c, ok in checks], "pass": all(ok for _, ok in checks)}


def _count_markers(seeder: Seeder, conversation_ids: Sequence[str]) -> int:
    """CONV#…/METERED items present."""
    return sum(1 for c in conversation_ids if seeder.exists(f"CONV#{c}", "METERED"))


def _meter_limit_probe(probe: DynamoProbe, cfg: BillingConfig, created: datetime) -> dict[str, Any]:
    """Informational (not a target): one batch whose records are all first replies of ONE
    client. `count_usage` puts the counter update and one marker per chat in one transaction,
    so a batch of `batch_size` such records asks for batch_size + 1 actions (DynamoDB allows
    100)."""
    from infra.local import lambda_runtime
    from parley import services
    from parley.settings import get_settings

    client_id = "cl_bmeterbusy"
    seeder = Seeder(get_settings().data_table)
    seeder.write([account_item(client_id, date(2026, 11, 5), date(2026, 10, 5), date(2026, 12, 5))])
    records = [_engaged_record(100_000 + n, client_id, f"cbusy{n:06d}", created + timedelta(seconds=n))
               for n in range(cfg.meter_batch)]
    probe.take()
    outcome: dict[str, Any] = {"records": len(records), "client": client_id}
    try:
        lambda_runtime.invoke("usage_meter", {"Records": records})
        outcome["result"] = "accepted"
    except Exception as exc:
        outcome["result"] = f"rejected: {type(exc).__name__}: {str(exc)[:160]}"
    taken = probe.take()[RUN]
    outcome["transaction_items"] = taken.transaction_items
    outcome["dynamodb_errors"] = dict(taken.errors)
    outcome["counted"] = services.ledger_repository().usage(client_id, "2026-11-05").engaged_chats
    probe.take()
    return outcome


# --- entry point ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BillingConfig:
    scale_due: int = 10_000
    scale_clients: int = 100_000
    stripe_due: int = 200
    meter_chats: int = 1_000
    meter_clients: int = 20
    meter_batch: int = 100
    seed: int = 2026


def run(cfg: BillingConfig = BillingConfig()) -> dict[str, Any]:
    """Start a LocalStack, run the billing benchmarks, stop it. Returns the results."""
    from infra.local.stack import LocalStack
    from parley import aws

    if cfg.scale_due < 1000 or cfg.scale_due % 1000:
        raise BenchError("--billing-scale: DUE must be a multiple of 1,000 (the smaller runs bill DUE/10, and "
                         "the per-client comparison assumes whole BatchGetItem requests of 100 keys)")
    small_d = max(cfg.scale_due // 10, 1)
    if cfg.scale_clients < 10 * small_d + cfg.scale_due + cfg.stripe_due:
        raise BenchError(f"--billing-scale: N must be at least {10 * small_d + cfg.scale_due + cfg.stripe_due:,} "
                         "(the earlier runs' clients, D, and the Stripe run's clients)")
    t0 = time.perf_counter()
    progress("starting the local stack (moto, localstripe, gateway) ...")
    stack = LocalStack(start_time=START, frozen=True, seed_demo=False).start()
    started = time.perf_counter() - t0
    install_moto_adaptations()
    probe = DynamoProbe(aws.dynamodb())
    try:
        days = run_billing_days(stack, probe, cfg)
        meter = run_meter(stack, probe, cfg)
        if aws.dynamodb() is not probe.client:
            raise BenchError("parley.aws.dynamodb() was rebuilt during the run; the counts are incomplete")
    finally:
        probe.close()
        t1 = time.perf_counter()
        stack.stop()
        stopped = time.perf_counter() - t1
    return {"stack_start_s": round(started, 2), "stack_stop_s": round(stopped, 2), "days": days, "meter": meter,
            "counted_at": "botocore hooks on parley.aws.dynamodb() (main thread = the run; other threads = "
                          "webhooks); Stripe: StripeGateway.requests",
            "pass": bool(days["pass"] and meter["pass"])}


# --- printing ------------------------------------------------------------------------------
def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])])


def _n(x: float) -> str:
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _failed(checks: list[dict[str, Any]], out: Callable[[str], None]) -> None:
    for c in checks:
        if not c["pass"]:
            out(f"  FAIL  {c['check']}")


def print_results(r: dict[str, Any], out: Callable[[str], None] = print) -> None:
    days, meter = r["days"], r["meter"]
    runs = days["runs"]
    out("\n== billing: DynamoDB requests per billed client (run_billing_day) ==")
    out(f"counted with {r['counted_at']}")
    ops = sorted({op for d in runs for op in d["dynamodb_calls"]})
    rows = []
    for d in runs:
        read = d["items_read"]
        rows.append([d["label"], d["day"], f"{d['due']:,}", f"{d['clients']:,}", "Stripe" if d["stripe"] else "ledger",
                     f"{d['billed']:,}", *(_n(d["dynamodb_per_billed_client"].get(op, 0)) for op in ops),
                     _n(d["dynamodb_total_per_billed_client"]), f"{d['dynamodb_total']:,}",
                     f"{read.get('due clients', 0):,}", f"{read.get('agenda of the day', 0):,}",
                     read.get("non-due clients", 0), d["run_s"], d["ms_per_billed_client"], d["cpu_s"]])
    out(_table(["run", "day", "due", "clients", "mode", "billed", *ops, "total/client", "requests",
                "due items read", "agenda read", "non-due read", "run s", "ms/client", "CPU s"], rows))
    for d in runs:
        ti = d["transaction_items"]
        if ti.get("count"):
            out(f"  {d['label']}: {ti['count']:,} TransactWriteItems, {ti['min']}-{ti['max']} actions each "
                f"(mean {ti['mean']}); BatchGetItem keys {d['batch_get_keys_requested']:,}; items returned "
                + ", ".join(f"{op} {n:,}" for op, n in d["items_returned"].items()))
            out("    mean ms per call: " + ", ".join(f"{op} {ms}" for op, ms in d["ms_per_call"].items()))
    comp = days["comparisons"]
    if "non_due_independence" in comp:
        c = comp["non_due_independence"]
        out(f"non-due clients: D = {c['due']:,} with N = {c['clients'][0]:,} and N = {c['clients'][1]:,}: "
            f"{c['dynamodb_total'][0]:,} and {c['dynamodb_total'][1]:,} requests; {c['run_s'][0]} s and "
            f"{c['run_s'][1]} s (ratio {c['time_ratio']}), CPU {c['cpu_s'][0]} s and {c['cpu_s'][1]} s "
            f"(ratio {c['cpu_ratio']})")
    if "linearity" in comp:
        c = comp["linearity"]
        out(f"linearity: D = {c['due'][0]:,} -> {c['due'][1]:,} (x{c['due_ratio']}): "
            f"{c['dynamodb_per_billed_client'][0]} and {c['dynamodb_per_billed_client'][1]} requests per billed "
            f"client; wall time {c['run_s'][0]} s -> {c['run_s'][1]} s (ratio {c['time_ratio']}), CPU "
            f"{c['cpu_s'][0]} s -> {c['cpu_s'][1]} s (ratio {c['cpu_ratio']})")
    stripe_runs = [d for d in runs if d["stripe"]]
    for d in stripe_runs:
        out(f"\n== billing: Stripe requests per billed client ({d['due']} due among {d['clients']:,}, localstripe) ==")
        out(_table(["request", "total", "per billed client"],
                   [[k, v, _n(d["stripe_per_billed_client"][k])] for k, v in d["stripe_requests"].items()]
                   + [["total", d["stripe_total"], _n(d["stripe_total_per_billed_client"])]]))
        out("invoice lines: " + ", ".join(f"{n} invoices with {k} line(s)" for k, n in d["invoice_lines"].items()))
        if "webhook_dynamodb_calls" in d:
            out("then the invoice.paid webhooks (gateway threads), DynamoDB per billed client: "
                + ", ".join(f"{op} {_n(v)}" for op, v in d["webhook_dynamodb_per_billed_client"].items()))
    out(f"{'PASS' if days['pass'] else 'FAIL'}  targets: every due client billed once; no item of a non-due "
        f"client read; {TRANSACTIONS_PER_BILLED_CLIENT} TransactWriteItems per billed client (ledger only); "
        "the same requests with N = D and N = 10 x D; requests per billed client independent of D")
    _failed(days["checks"], out)
    s = days["seeded"]
    out(f"(seeded {s['clients']:,} clients, {s['items']:,} items, in {s['seconds']} s; not measured)")

    out("\n== billing: usage_meter, DynamoDB requests per 1,000 engaged chats ==")
    out(f"{meter['engaged_chats']:,} engaged chats of {meter['clients']} clients, {meter['batches']} batches of "
        f"{meter['batch_size']} stream records ({', '.join(map(str, meter['clients_per_batch']))} clients per batch)")
    mops = sorted({op for p in (meter["first"], meter["redelivery"]) for op in p["dynamodb_calls"]})
    mrows = []
    for p in (meter["first"], meter["redelivery"]):
        ti = p["transaction_items"]
        mrows.append([p["label"], *(_n(p["per_1000_engaged_chats"].get(op, 0)) for op in mops),
                      _n(p["transaction_items_per_1000_engaged_chats"]),
                      f"{ti.get('min', '-')}-{ti.get('max', '-')}", ", ".join(f"{k} {v}" for k, v in
                                                                            p["dynamodb_errors"].items()) or "-",
                      p["seconds"]])
    out(_table(["delivery", *mops, "tx items", "items/tx", "errors", "s"], mrows))
    out(f"counters: {meter['counters_after_first']:,} after the first delivery, {meter['counters_after_redelivery']:,} "
        f"after the redelivery; {meter['metered_markers']:,} METERED markers")
    lp = meter["limit_probe"]
    out(f"probe (informational): one batch of {lp['records']} first replies of one client -> transaction of "
        f"{max(lp['transaction_items'], default=0)} actions (limit {TRANSACTION_ITEM_LIMIT}): {lp['result']}; "
        f"counted {lp['counted']}")
    out(f"{'PASS' if meter['pass'] else 'FAIL'}  targets: one counter transaction per client per batch; a "
        "redelivered batch changes no counter")
    _failed(meter["checks"], out)
