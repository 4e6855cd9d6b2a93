"""Billing scenarios: a dated timeline of contract events, run through the real services on a
fresh local stack, and the resulting ledger as deterministic JSON (`parley billing simulate`).

    scenario = load_scenario(Path("examples/co11_late_charge.json"))   # ScenarioError if invalid
    result = run_scenario(scenario)                                     # a JSON-ready dict

Nothing here decides money. The runner only does what a client, an agent and a provider
would do — starts paid service, chats, pays, changes cards, plans and prices — through
the billing services and `ChatService`, and moves the controlled clock, which fires the real
scheduled functions (billing 00:10, late charges 00:20, defaults 00:30 in the policy's zone)
and delivers the DynamoDB stream to the real `usage_meter`. The result is read back from the
ledger. The file format is documented in docs/billing.md ("Scenario files").
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from parley.billing.errors import ConfigError
from parley.billing.plans import PlanCatalog, PriceChange, load_plan_catalog
from parley.billing.policy import PRESETS, BillingPolicy

if TYPE_CHECKING:
    from infra.local.stack import LocalStack
    from parley.chat.models import Identity
    from parley.ledger.models import BillingAccount, HistoryEvent, LedgerInvoice

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_DAYS = 800  # a scenario spans at most ~2 years (3 scheduled runs per simulated day)
MAX_CHATS_PER_EVENT = 2000
MAX_HANDLE_SECONDS = 4 * 3600
MAX_CONCURRENT_RERUNS = 8
SIM_ORIGIN = "https://client-site.scenario.test"  # the clients' website (allowed widget origin)
CARDS: dict[str, str] = {
    "visa": "pm_card_visa",  # Visa 4242: attaches and pays
    "declining": "pm_card_chargeCustomerFail",  # Visa 4000000000000341: attaches, then every charge declines
}

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


# ------------------------------------------------------------------------------ file model
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioClient(_Strict):
    id: Slug = Field(description="Client id (the chat tenant and the billing account).")
    name: str = Field(default="", description="Company name (default: the id).")
    card: Literal["visa", "declining", "none"] = Field(
        default="visa", description="Card on file from the start: pays, declines (4000000000000341), or none.")


class _Event(_Strict):
    date: dt.date = Field(description="Business day (policy time zone); applied at 12:00 that day.")


class StartPaidEvent(_Event):
    """CO-9: paid service starts this day, the first Billing Date; the first invoice is issued at once."""

    type: Literal["start_paid"]
    client: str
    plan: str
    setup_fee_charged: bool = Field(default=False, description="CO-5: true = the setup fee was already paid.")


class EngagedChatsEvent(_Event):
    """`count` real conversations: the visitor writes, the client's agent accepts and replies."""

    type: Literal["engaged_chats"]
    client: str
    count: Annotated[int, Field(ge=1, le=MAX_CHATS_PER_EVENT)]
    handle_seconds: Annotated[int, Field(ge=1, le=MAX_HANDLE_SECONDS)] | None = Field(
        default=None, description="CO-7: the agent closes each chat this long after accepting it (the clock "
        "moves on meanwhile); without it the chats stay open and no agent time is metered.")
    path: Literal["repository", "chat_service"] = Field(
        default="repository", description="repository: each conversation item is written to DynamoDB as the "
        "chat repository writes it (created waiting, then accepted and answered, then closed), in batches; "
        "chat_service: every chat goes through ChatService (start, accept, reply, close), ~30 times slower.")


class PaymentEvent(_Event):
    """The client pays an open invoice: "latest" (most recent open), "all" (every open one) or a ledger id."""

    type: Literal["payment"]
    client: str
    invoice: str = "latest"
    via: Literal["card", "transfer"] | None = Field(
        default=None, description="card = through Stripe with the card on file; transfer = money received "
        "outside Stripe (recorded). Default: card when one is on file, else transfer.")


class DeclineCardEvent(_Event):
    """From now on the card on file declines (CO-13)."""

    type: Literal["decline_card"]
    client: str


class CardEvent(_Event):
    """The client puts a new card on file."""

    type: Literal["card"]
    client: str
    card: Literal["visa", "declining"]


class PlanChangeEvent(_Event):
    """CH-7: the client asks for another package; it takes effect at the next cycle."""

    type: Literal["plan_change"]
    client: str
    plan: str


class PriceChangeEvent(_Event):
    """CO-12: the provider announces new prices for a plan; they apply from the next cycle."""

    type: Literal["price_change"]
    plan: str
    monthly_fee_cents: Annotated[int, Field(ge=0)] | None = None
    overage_cents_per_unit: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> PriceChangeEvent:
        if self.monthly_fee_cents is None and self.overage_cents_per_unit is None:
            raise ValueError("monthly_fee_cents: give monthly_fee_cents and/or overage_cents_per_unit")
        return self


class SignupTrialEvent(_Event):
    """CO-4 / CO-9: the client signs up (the dashboard's signup): a free trial starts this day and
    the real trial workflow (Step Functions) waits for its end (D+14)."""

    type: Literal["signup_trial"]
    client: str


class ChoosePlanEvent(_Event):
    """The dashboard's plan choice: in the trial, the plan paid service starts with; once paid,
    a change at the next cycle (CH-7)."""

    type: Literal["choose_plan"]
    client: str
    plan: str


class TrialChatsEvent(EngagedChatsEvent):
    """Engaged chats while the client is in its trial (CO-4: counted against the trial limit)."""

    type: Literal["trial_chats"]  # type: ignore[assignment]


class GiveNoticeEvent(_Event):
    """CO-2 / CH-9: the client gives notice (the dashboard's cancellation form); the real notice
    workflow ends the service on the effective date."""

    type: Literal["give_notice"]
    client: str
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class WithdrawNoticeEvent(_Event):
    """The client withdraws its pending notice (allowed until it takes effect)."""

    type: Literal["withdraw_notice"]
    client: str


class RerunBillingDayEvent(_Event):
    """An operator re-runs the daily billing function for `day` (default: this date), `runs`
    invocations at once: nothing may be billed or charged twice."""

    type: Literal["rerun_billing_day"]
    day: dt.date | None = None
    runs: Annotated[int, Field(ge=1, le=MAX_CONCURRENT_RERUNS)] = 1


class AddOnEvent(_Event):
    """CH-8: the client orders an add-on of the catalog; it is charged on its own invoice that day."""

    type: Literal["addon"]
    client: str
    add_on: str
    quantity: Annotated[int, Field(ge=1, le=1000)] = 1


ClientEvent = (StartPaidEvent | EngagedChatsEvent | PaymentEvent | DeclineCardEvent | CardEvent | PlanChangeEvent
               | SignupTrialEvent | ChoosePlanEvent | TrialChatsEvent | GiveNoticeEvent | WithdrawNoticeEvent
               | AddOnEvent)
ProviderEvent = PriceChangeEvent | RerunBillingDayEvent
Event = Annotated[ClientEvent | ProviderEvent, Field(discriminator="type")]
EVENT_TYPES = ("start_paid", "engaged_chats", "payment", "decline_card", "card", "plan_change", "price_change",
               "signup_trial", "choose_plan", "trial_chats", "give_notice", "withdraw_notice", "rerun_billing_day",
               "addon")


class ScenarioFile(_Strict):
    description: str = ""
    policy: dict[str, Any] = Field(description='{"preset": "call_on_me", ...overrides} or a full policy.')
    plans: str | dict[str, Any] = Field(description="Catalog file (e.g. config/plans/call_on_me.json) or inline.")
    start: dt.date
    end: dt.date
    clients: list[ScenarioClient] = Field(min_length=1)
    events: list[Event] = Field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file, with its policy and catalog built."""

    path: Path
    spec: ScenarioFile
    policy: BillingPolicy
    catalog: PlanCatalog


class ScenarioError(Exception):
    """An invalid scenario file; the message is one line naming the field or event."""


class ScenarioRunError(Exception):
    """The scenario was valid but could not be run to its end (the message says where)."""


# ------------------------------------------------------------------------------ validation
def _path(loc: Sequence[int | str]) -> str:
    text = ""
    parts = list(loc)
    for i, part in enumerate(parts):
        if i >= 2 and parts[0] == "events" and i == 2 and isinstance(parts[1], int) and part in EVENT_TYPES:
            continue  # pydantic puts the union tag in the path: events[2].start_paid.plan -> events[2].plan
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind in _FIXED_DESCRIPTIONS:
        return _FIXED_DESCRIPTIONS[kind]
    describe = _date_description if kind.startswith("date_") else _DESCRIBERS.get(kind)
    if describe is not None:
        return describe(error, error.get("ctx") or {}, error.get("input"))
    msg = str(error["msg"])
    return msg[:1].lower() + msg[1:]


_FIXED_DESCRIPTIONS = {
    "union_tag_not_found": f"is required (one of: {', '.join(EVENT_TYPES)})",
    "extra_forbidden": "unknown field",
    "missing": "is required",
}

_Describer = Callable[[ErrorDetails, dict[str, Any], Any], str]


def _date_description(_error: ErrorDetails, ctx: dict[str, Any], value: Any) -> str:
    detail = ctx.get("error")
    return f"invalid date {value!r}" + (f" ({detail})" if detail else " (use YYYY-MM-DD)")


def _bound_description(error: ErrorDetails, ctx: dict[str, Any], _value: Any) -> str:
    side = "least" if error["type"] == "greater_than_equal" else "most"
    return f"must be at {side} {ctx.get('ge', ctx.get('le'))}"


_DESCRIBERS: dict[str, _Describer] = {
    "union_tag_invalid": lambda _e, ctx, value: (
        f"unknown event type {ctx.get('tag')!r} (known: {', '.join(EVENT_TYPES)})"
        if isinstance(value, dict) else "must be an object"
    ),
    "literal_error": lambda _e, ctx, value: f"must be {ctx.get('expected')} (got {value!r})",
    "string_pattern_mismatch": lambda _e, _ctx, value: (
        f"{value!r} is not a valid id (lowercase letters, digits, _ and -; at most 40)"
    ),
    "value_error": lambda error, _ctx, _value: str(error["msg"]).removeprefix("Value error, "),
    "greater_than_equal": _bound_description,
    "less_than_equal": _bound_description,
}


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    problems = []
    for error in errors:
        path, message = _path(error["loc"]), _describe(error)
        if error["type"].startswith("union_tag_") and isinstance(error.get("input"), dict):
            path += ".type"
        match = re.match(r"^([a-z_]+): (.+)$", message)
        if match and error["type"] == "value_error":  # a model check names its own field
            path, message = (f"{path}.{match.group(1)}" if path else match.group(1)), match.group(2)
        problems.append(f"{path}: {message}" if path else message)
    more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
    return problems[0] + more


def _catalog(plans: str | dict[str, Any], scenario_dir: Path) -> PlanCatalog:
    if isinstance(plans, dict):
        try:
            return PlanCatalog.model_validate(plans)
        except ValidationError as exc:
            raise ScenarioError(f"plans.{_first_problem(exc)}") from None
    candidates = [Path(plans)] if Path(plans).is_absolute() else [scenario_dir / plans, REPO_ROOT / plans]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise ScenarioError(f"plans: no catalog file {plans!r} (looked in {', '.join(str(c) for c in candidates)})")
    try:
        return load_plan_catalog(found)
    except ConfigError as exc:
        raise ScenarioError(f"plans: {exc}") from None


def _policy(data: dict[str, Any]) -> BillingPolicy:
    preset = data.get("preset")
    try:
        return BillingPolicy.from_config(data, source="policy")
    except ConfigError as exc:
        if isinstance(preset, str) and preset not in PRESETS and "time_zone" not in data:
            # from_config treats an unknown preset as a full policy and lists every missing field
            raise ScenarioError(f"policy.preset: unknown preset {preset!r} (known: {', '.join(sorted(PRESETS))})"
                                ) from None
        raise ScenarioError(str(exc).replace("policy: ", "policy.", 1)) from None


def validate_scenario(data: Any, path: Path) -> Scenario:
    """The scenario file's content checked field by field, then event by event."""
    if not isinstance(data, dict):
        raise ScenarioError("the scenario must be a JSON object")
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_first_problem(exc)) from None
    policy = _policy(spec.policy)
    catalog = _catalog(spec.plans, path.parent)
    try:
        catalog.require_unit(policy)
    except ConfigError as exc:
        raise ScenarioError(f"plans: {exc}") from None
    _check_span(spec)
    _check_events(spec, client_ids=_unique_client_ids(spec), plan_ids=[p.id for p in catalog.plans],
                  add_on_ids=[a.id for a in catalog.add_ons])
    return Scenario(path=path, spec=spec, policy=policy, catalog=catalog)


def _check_span(spec: ScenarioFile) -> None:
    if spec.end < spec.start:
        raise ScenarioError(f"end: {spec.end} is before start {spec.start}")
    if (spec.end - spec.start).days > MAX_DAYS:
        raise ScenarioError(f"end: a scenario spans at most {MAX_DAYS} days")


def _unique_client_ids(spec: ScenarioFile) -> list[str]:
    ids = [c.id for c in spec.clients]
    for index, client_id in enumerate(ids):
        if client_id in ids[:index]:
            raise ScenarioError(f"clients[{index}].id: duplicate client id {client_id!r}")
    return ids


def _check_events(spec: ScenarioFile, *, client_ids: list[str], plan_ids: list[str],
                  add_on_ids: list[str]) -> None:
    """Every event in date order within the scenario, naming known plans, add-ons and clients,
    and a client's events only after the event that starts its service (start_paid or
    signup_trial). What only the engine can judge (a notice in a trial, a second notice, a
    withdrawal too late) is refused when the event runs, with the API's error."""
    started: dict[str, tuple[str, int]] = {}  # client -> (the event type that started it, its index)
    previous = spec.start
    for index, event in enumerate(spec.events):
        where = f"events[{index}]"
        _check_event_date(where, event.date, spec, previous)
        previous = event.date
        plan = getattr(event, "plan", None)
        if plan is not None and plan not in plan_ids:
            raise ScenarioError(f"{where}.plan: unknown plan {plan!r} (plans: {', '.join(plan_ids)})")
        if isinstance(event, AddOnEvent) and event.add_on not in add_on_ids:
            raise ScenarioError(f"{where}.add_on: unknown add-on {event.add_on!r} "
                                f"(add-ons: {', '.join(add_on_ids) or 'none in this catalog'})")
        if isinstance(event, RerunBillingDayEvent):
            if event.day is not None and not spec.start <= event.day <= event.date:
                raise ScenarioError(f"{where}.day: {event.day} must be between the scenario start {spec.start} "
                                    f"and the event's date {event.date} (a day already run)")
        elif not isinstance(event, PriceChangeEvent):
            _check_client_event(where, index, event, client_ids, started)


def _check_client_event(where: str, index: int, event: Any, client_ids: list[str],
                        started: dict[str, tuple[str, int]]) -> None:
    """A client event names a known client; start_paid or signup_trial comes once and before
    the client's other events; trial_chats only for a client that signed up for a trial."""
    if event.client not in client_ids:
        raise ScenarioError(f"{where}.client: unknown client {event.client!r} (clients: {', '.join(client_ids)})")
    begun = started.get(event.client)
    if isinstance(event, StartPaidEvent | SignupTrialEvent):
        if begun is not None:
            kind, at = begun
            if kind == "start_paid":
                raise ScenarioError(f"{where}: client {event.client!r} already started paid service")
            raise ScenarioError(f"{where}: client {event.client!r} signed up for a trial at events[{at}] "
                                "(paid service follows the trial: choose_plan, then the trial ends)")
        started[event.client] = (event.type, index)
    elif begun is None:
        raise ScenarioError(f"{where}: client {event.client!r} has no paid service yet "
                            "(a start_paid or signup_trial event must come first)")
    elif isinstance(event, TrialChatsEvent) and begun[0] != "signup_trial":
        raise ScenarioError(f"{where}: client {event.client!r} has no trial (trial_chats needs a signup_trial; "
                            "use engaged_chats for a paid client)")


def _check_event_date(where: str, day: dt.date, spec: ScenarioFile, previous: dt.date) -> None:
    if day < spec.start:
        raise ScenarioError(f"{where}.date: {day} is before the scenario start {spec.start}")
    if day > spec.end:
        raise ScenarioError(f"{where}.date: {day} is after the scenario end {spec.end}")
    if day < previous:
        raise ScenarioError(f"{where}.date: {day} is before the previous event's date {previous} "
                            "(events must be in date order)")


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return validate_scenario(data, path)


def estimated_seconds(scenario: Scenario) -> float:
    """Rough run time on the local stack (2 cores), to start the longest first: ~0.05 s per
    simulated day (three scheduled runs), ~0.18 s per chat through ChatService (17 moto
    requests), ~2 ms per chat on the repository path, ~3 s to start and stop the stack."""
    spec = scenario.spec
    per_chat = {"chat_service": 0.18, "repository": 0.002}
    chats = sum(e.count * per_chat[e.path] for e in spec.events if isinstance(e, EngagedChatsEvent))
    return 3 + 0.05 * ((spec.end - spec.start).days + 1) + chats


# ------------------------------------------------------------------------------ local stack speed
# ------------------------------------------------------------------------------ running
class _SilentRelay:
    """The simulated connections are not sockets: frames go nowhere (API Gateway would answer
    410 for them and the chat service would forget the connection). Everything else is real."""

    def post(self, connection_ids: Iterable[str], frame: dict[str, Any]) -> set[str]:
        return set()


@dataclass
class _ChatTally:
    requested: int = 0
    engaged: int = 0
    refused: int = 0

    def add(self, other: _ChatTally) -> None:
        self.requested += other.requested
        self.engaged += other.engaged
        self.refused += other.refused


Wait = Callable[[dt.timedelta], None]


def _agent_id(client_id: str) -> str:
    return f"sim-agent-{client_id}"


def _agent_connection(client_id: str) -> str:
    return f"sim-agent-conn-{client_id}"


class _ServiceChats:
    """Real conversations through `ChatService`, called in-process with synthetic connection ids."""

    def __init__(self) -> None:
        from parley import services
        from parley.chat.access import ConnectAccess
        from parley.chat.service import ChatService
        from parley.clock import get_clock

        tenants = services.tenant_repository()
        self._tenants = tenants
        self._clock = get_clock()
        self._service = ChatService(services.chat_repository(), tenants, _SilentRelay(), self._clock)
        self._access = ConnectAccess(tenants, self._clock)  # what the $connect authorizer runs
        self._agents: dict[str, Identity] = {}
        self._tokens = services.visitor_tokens()
        self._serial = 0

    def _agent(self, client_id: str) -> Identity:
        """The client's agent, connected (once) as the $connect authorizer admits it."""
        from parley.auth.cognito import AgentClaims

        if client_id not in self._agents:
            agent_id = _agent_id(client_id)
            identity = self._access.agent(AgentClaims(
                sub=agent_id, username=agent_id, email=f"{agent_id}@scenario.test", groups=("agents",)))
            self._service.connect(_agent_connection(client_id), identity)
            self._agents[client_id] = identity
        return self._agents[client_id]

    def run(self, client_id: str, count: int, tally: _ChatTally, handle_seconds: int | None, wait: Wait) -> None:
        """`count` chats, one after the other; with `handle_seconds`, all are accepted and answered,
        `wait` moves the clock on by that much, then the agent closes each (CO-7 agent time)."""
        from parley.chat.frames import parse_action
        from parley.errors import ServiceUnavailable

        client = self._tenants.get_client(client_id)
        assert client is not None
        agent, agent_identity = _agent_connection(client_id), self._agent(client_id)
        tally.requested += count
        opened: list[str] = []
        for _ in range(count):
            self._serial += 1
            visitor = f"sim-visitor-{self._serial}"
            token, _ = self._tokens.issue(client_id, visitor, self._clock.now())
            who = self._access.visitor(client.widget_key, SIM_ORIGIN, token, self._tokens)
            self._service.connect(visitor, who)
            try:
                started = self._service.handle(visitor, who, parse_action(json.dumps(
                    {"action": "startConversation", "text": f"Hello, question #{self._serial}"})))
            except ServiceUnavailable:  # the client's service is off (default): the offline form
                tally.refused += 1
                continue
            conversation = started["conversation"]["conversationId"]
            self._service.handle(agent, agent_identity, parse_action(json.dumps(
                {"action": "acceptConversation", "conversationId": conversation})))
            self._service.handle(agent, agent_identity, parse_action(json.dumps(
                {"action": "sendMessage", "conversationId": conversation, "text": "Happy to help!"})))
            tally.engaged += 1
            opened.append(conversation)
        if handle_seconds is None or not opened:
            return
        wait(dt.timedelta(seconds=handle_seconds))
        for conversation in opened:
            self._service.handle(agent, agent_identity, parse_action(json.dumps(
                {"action": "closeConversation", "conversationId": conversation})))


class _RepositoryChats:
    """Chats written straight to the data table, item for item as `ChatRepository` writes a
    conversation's META item: created waiting with the visitor's first message
    (`create_conversation`), accepted and answered by the client's agent (`accept` and `append`
    in one write), closed (`close`). 25 items per BatchWriteItem: each write is a stream record,
    so `usage_meter` sees the same INSERT and MODIFY images as from the chat service. Refused,
    as by `ChatService`, while the client's chat service is not active. Messages are not
    written: nothing that bills reads them."""

    BATCH = 25  # BatchWriteItem's limit

    def __init__(self) -> None:
        from parley import aws, services
        from parley.clock import get_clock
        from parley.settings import get_settings

        self._tenants = services.tenant_repository()
        self._db = aws.dynamodb()
        self._table = get_settings().data_table
        self._clock = get_clock()
        self._serial = 0

    def run(self, client_id: str, count: int, tally: _ChatTally, handle_seconds: int | None, wait: Wait) -> None:
        from parley.chat.models import ClientStatus

        client = self._tenants.get_client(client_id)
        assert client is not None
        tally.requested += count
        if client.status is not ClientStatus.ACTIVE:
            tally.refused += count
            return
        created = [self._created(client, self._next_id()) for _ in range(count)]
        self._write_all(created)
        answered = [self._answered(item, client) for item in created]
        self._write_all(answered)  # engaged now: metered before any billing run the wait may pass
        tally.engaged += count
        if handle_seconds is not None:
            wait(dt.timedelta(seconds=handle_seconds))
            self._write_all([self._closed(item) for item in answered])

    def _write_all(self, items: list[dict[str, Any]]) -> None:
        from infra.local import moto_patches

        # moto re-measures an item's whole size on every attribute it sets (quadratic in the
        # attributes: ~40 % of a 10,000-chat year). These conversation items are ~2 KB, far under
        # DynamoDB's 400 KB, and nothing else writes while the runner does (its clock is frozen).
        with moto_patches.unchecked_item_sizes():
            for start in range(0, len(items), self.BATCH):
                self._write(items[start:start + self.BATCH])

    def _next_id(self) -> str:
        self._serial += 1
        return f"cv_scenario_{self._serial:07d}"

    def _created(self, client: Any, conversation_id: str) -> dict[str, Any]:
        """What `ChatService._start` builds and `ChatRepository.create_conversation` puts."""
        from parley.chat.models import Conversation, ConversationStatus
        from parley.repositories.routing import open_shard_key
        from parley.routing.choice import routing_teams

        now = self._clock.now()
        conversation = Conversation(
            conversation_id=conversation_id, client_id=client.client_id, status=ConversationStatus.WAITING,
            visitor_id=f"sim-visitor-{self._serial}", visitor_name="Visitor", last_seq=1, created_at=now,
            preview=f"Hello, question #{self._serial}", visitor_messages=1, first_visitor_message_at=now,
            team_ids=routing_teams(client.team_ids, [client.client_id]),
            no_answer_timeout_seconds=client.no_answer_timeout_seconds,
            idle_timeout_seconds=client.idle_timeout_seconds)
        data = conversation.model_dump(mode="json", exclude_none=True)
        data.update(pk=f"CONV#{conversation_id}", sk="META", connections={f"sim-visitor-{self._serial}": "visitor"},
                    gsi1pk=f"QUEUE#{client.client_id}", gsi1sk=data["created_at"],
                    gsi2pk=f"CLIENTCONV#{client.client_id}", gsi2sk=data["created_at"],
                    gsi3pk=open_shard_key(conversation_id), updated_at=data["created_at"])
        return data

    def _answered(self, created: dict[str, Any], client: Any) -> dict[str, Any]:
        """After `accept` (status, agent, system message seq 2) and the agent's reply (`append`, seq 3)."""
        from parley.clock import iso

        now = iso(self._clock.now())
        agent, client_id = _agent_id(client.client_id), client.client_id
        return {**created, "status": "active", "agent_id": agent, "agent_name": f"{client.name} agent",
                "accepted_at": created["created_at"], "last_seq": 3, "agent_messages": 1,
                "first_agent_reply_at": created["created_at"], "preview": "Happy to help!",
                "gsi1pk": f"AGENTOPEN#{agent}", "gsi1sk": created["created_at"], "updated_at": now,
                "connections": {**created["connections"], _agent_connection(client_id): "agent"}}

    def _closed(self, answered: dict[str, Any]) -> dict[str, Any]:
        """After `close` (status, closed_at, system message seq 4; off the queue and open indexes)."""
        from parley.clock import iso

        now = iso(self._clock.now())
        closed = {k: v for k, v in answered.items() if k not in ("gsi1pk", "gsi1sk", "gsi3pk")}
        return {**closed, "status": "closed", "closed_at": now, "last_seq": 4, "updated_at": now}

    def _write(self, items: list[dict[str, Any]]) -> None:
        from parley.repositories.dynamo import to_item

        pending: dict[str, Any] = {self._table: [{"PutRequest": {"Item": to_item(i)}} for i in items]}
        while pending:
            pending = dict(self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})


class ScenarioContradiction(ScenarioError):
    """An event the engine refuses at the moment it runs (a notice in a trial, a second pending
    notice, a withdrawal after the effective date…): the API's own status, code and message."""


def _api_error(exc: Exception) -> tuple[int, str, str] | None:
    """The HTTP status, code and message the dashboard API answers for this refusal (the same
    mapping as `parley.http.build_resolver`), or None for an error that is not a refusal."""
    from parley.billing.errors import BillingError, InvalidBillingInput, NoticeNotAllowed
    from parley.errors import ParleyError

    if isinstance(exc, ParleyError) and exc.status < 500:
        return exc.status, exc.code, exc.message
    if isinstance(exc, BillingError) and not isinstance(exc, InvalidBillingInput):
        return (409 if isinstance(exc, NoticeNotAllowed) else 400), exc.code, str(exc)
    return None


@dataclass
class _Run:
    scenario: Scenario
    stack: LocalStack
    chats: dict[str, _ServiceChats | _RepositoryChats] = field(default_factory=dict)
    fired: list[tuple[str, dt.datetime]] = field(default_factory=list)
    tallies: dict[str, _ChatTally] = field(default_factory=dict)
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def zone(self) -> dt.tzinfo:
        return self.scenario.policy.zone

    def moment(self, day: dt.date, at: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, at, self.zone).astimezone(dt.UTC)

    def move_to(self, target: dt.datetime) -> None:
        now = self.stack.clock.now()
        if target <= now:
            return
        try:
            self.fired += self.stack.advance(target - now)
        except Exception as exc:
            raise ScenarioRunError(
                f"a scheduled run failed while the clock moved from {now.astimezone(self.zone).isoformat()} to "
                f"{target.astimezone(self.zone).isoformat()}: {type(exc).__name__}: {exc}") from exc

    def wait(self, delta: dt.timedelta) -> None:
        self.move_to(self.stack.clock.now() + delta)


def run_scenario(scenario: Scenario, *, stripe_ids: bool = False, verbose: bool = False) -> dict[str, Any]:
    """Run a validated scenario on a fresh local stack; the result is deterministic JSON data
    (Stripe's ids are left out unless `stripe_ids`). Raises ScenarioContradiction when the
    engine refuses an event, ScenarioRunError when something else stops the run. `verbose`:
    the services' INFO logs and the functions' metrics (EMF lines) go to stderr too."""
    from infra.local import moto_patches
    from infra.local.stack import LocalStack

    if verbose:
        os.environ["PARLEY_LOG_LEVEL"] = "INFO"  # read by the stack when it configures the functions
    # moto_patches (installed by the local stack) keeps moto's transactions O(items touched).
    policy, spec = scenario.policy, scenario.spec
    start = dt.datetime.combine(spec.start, dt.time(0), policy.zone).astimezone(dt.UTC)
    preset = policy.preset if policy.preset in ("call_on_me", "chat_outsource") else "call_on_me"
    stack = LocalStack(start_time=start, frozen=True, preset=preset, seed_demo=False).start()
    # moto answers every Query by sorting and scanning the whole table: each scheduled run's agenda
    # Query grew with the chats written, and made a year-long scenario minutes long. Same results,
    # one partition read (moto_patches.install_partition_query; DynamoDB requests run one at a time).
    moto_patches.install_partition_query()
    _install_index_partition_query()
    for poller in stack.pollers:  # the stream's records straight from moto's shard (see read_in_process)
        poller.read_in_process()
    try:
        # Stripe's webhooks arrive ~1 s of WALL-clock time after a charge, when the simulated clock
        # may be weeks further on: the ledger would record them on a day that depends on the
        # machine's speed. The ledger records every payment the runner makes itself; the webhook
        # path (idempotent duplicates) is covered by tests/integration/test_billing_ledger.py.
        stack.stripe.unregister_webhook("parley")
        if verbose:  # environments start at their first invocation, with the environment as it is then
            os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
        stack.configure_billing(policy, scenario.catalog)
        run = _Run(scenario, stack, chats={"chat_service": _ServiceChats(), "repository": _RepositoryChats()})
        _execute(run)
        return _result(run, stripe_ids=stripe_ids)
    finally:
        stack.stop()


def _install_index_partition_query() -> None:
    """Performance, in the runner's process only: moto answers a Query on a GSI by sorting every
    item of the table and testing each; the routing sweep's open-conversation Query (gsi3) ran
    at every clock stop over a table growing with every chat. Here moto's own query code gets
    only the items whose index hash key is the one asked for (same results, no sort of the
    table). Idempotent; DynamoDB requests run one at a time (moto_patches.install)."""
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_parley_index_partition_query", False):
        return
    inner = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        index = next((i for i in self.all_indexes() if i.name == index_name), None) if index_name else None
        hash_attrs = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"] if index else []
        if hash_key is None or len(hash_attrs) != 1:
            return inner(self, hash_key, *args, **kwargs)
        every = (item for held in self.items.values()
                 for item in (held.values() if self.range_key_attr else [held]))
        items = [item for item in every if (value := item.attrs.get(hash_attrs[0])) is not None
                 and value.type == hash_key.type and value.value == hash_key.value]
        self.all_items = lambda: items  # an instance attribute shadows the method for this call
        try:
            return inner(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]
    Table._parley_index_partition_query = True  # type: ignore[attr-defined]


def _setup_clients(run: _Run) -> None:
    """Each client is a chat client with one agent; a client that starts paid service directly
    has its billing account (and card) from the start, a trial client gets both at its signup."""
    from parley import services
    from parley.chat.models import Agent, Client

    spec = run.scenario.spec
    tenants = services.tenant_repository()
    trial_clients = {e.client for e in spec.events if isinstance(e, SignupTrialEvent)}
    for client in spec.clients:
        name = client.name or client.id
        run.tallies[client.id] = _ChatTally()
        tenants.put_agent(Agent(agent_id=_agent_id(client.id), name=f"{name} agent", client_ids=[client.id]))
        if client.id in trial_clients:
            continue
        tenants.put_client(Client(client_id=client.id, name=name, widget_key=f"wk_scenario_{client.id}",
                                  allowed_origins=[SIM_ORIGIN]))
        services.billing_service().accounts.open_account(client.id, name, f"billing@{client.id}.scenario.test")
        _put_card(client.id, client.card)


def _put_card(client_id: str, card: str) -> None:
    from parley import services

    if card == "none":
        return
    billing = services.billing_service()
    account = billing.ledger.account(client_id)
    assert account is not None and account.stripe_customer_id is not None
    billing.accounts.set_payment_method(client_id, services.stripe_gateway().attach_test_payment_method(
        account.stripe_customer_id, CARDS[card]))


def _execute(run: _Run) -> None:
    spec = run.scenario.spec
    _setup_clients(run)
    for index, event in enumerate(spec.events):
        run.move_to(run.moment(event.date, dt.time(12)))
        try:
            outcome = _APPLY[type(event)](run, event)
        except (ScenarioError, ScenarioRunError):
            raise
        except Exception as exc:
            refusal = _api_error(exc)
            where = f"events[{index}] ({event.type} on {event.date})"
            if refusal is not None:
                status, code, message = refusal
                raise ScenarioContradiction(f"{where}: refused as the API refuses it: {status} {code}: {message}"
                                            ) from exc
            raise ScenarioRunError(f"{where}: {type(exc).__name__}: {exc}") from exc
        run.stack.drain_streams()  # usage_meter counts the chats now (CH-5 upgrades "at once")
        client = getattr(event, "client", None)
        run.outcomes.append({"index": index, "date": event.date.isoformat(), "type": event.type,
                             **({"client": client} if client is not None else {}), **outcome})
    run.move_to(run.moment(spec.end, dt.time(23, 59)))


# ------------------------------------------------------------------------------ events
def _price_change(run: _Run, event: PriceChangeEvent) -> dict[str, Any]:
    from parley import services

    services.billing_service().config.announce_price_change(PriceChange(
        plan_id=event.plan, announced_on=event.date, monthly_fee_cents=event.monthly_fee_cents,
        overage_cents_per_unit=event.overage_cents_per_unit))
    return {"plan": event.plan}


def _start_paid(run: _Run, event: StartPaidEvent) -> dict[str, Any]:
    from parley import services

    account = services.billing_service().accounts.start_paid_service(
        event.client, event.plan, event.date, setup_fee_charged=event.setup_fee_charged)
    return {"plan": event.plan, "status": account.status.value}


def _chats(run: _Run, event: EngagedChatsEvent) -> dict[str, Any]:
    from parley import services

    if isinstance(event, TrialChatsEvent):
        account = services.ledger_repository().account(event.client)
        if account is None or account.status.value != "trial":
            raise ScenarioContradiction(
                f"events[{len(run.outcomes)}] (trial_chats on {event.date}): client {event.client!r} is not in its "
                f"trial (status {account.status.value if account else 'none'}); use engaged_chats")
    tally = _ChatTally()
    run.chats[event.path].run(event.client, event.count, tally, event.handle_seconds, run.wait)
    run.tallies[event.client].add(tally)
    return {"engaged": tally.engaged, "refused": tally.refused}


def _card(run: _Run, event: DeclineCardEvent | CardEvent) -> dict[str, Any]:
    card = "declining" if isinstance(event, DeclineCardEvent) else event.card
    _put_card(event.client, card)
    return {"card": card}


def _plan_change(run: _Run, event: PlanChangeEvent) -> dict[str, Any]:
    from parley import services

    account = services.billing_service().accounts.request_plan_change(event.client, event.plan, event.date)
    return {"plan": event.plan, "pending": account.pending_change is not None}


def _signup_trial(run: _Run, event: SignupTrialEvent) -> dict[str, Any]:
    """The dashboard's signup (`AccountLifecycle.signup`: chat client, billing account, the trial
    workflow started on moto's Step Functions), then the client's card on file."""
    from parley import services

    client = next(c for c in run.scenario.spec.clients if c.id == event.client)
    signed = services.lifecycle().signup(client.name or client.id, f"billing@{client.id}.scenario.test",
                                         SIM_ORIGIN, None, client_id=client.id)
    _put_card(client.id, client.card)
    trial = signed["trial"]
    return {"trial_start": trial.get("trial_start"), "paid_start": trial.get("paid_start")}


def _choose_plan(run: _Run, event: ChoosePlanEvent) -> dict[str, Any]:
    from parley import services

    account = services.lifecycle().choose_plan(event.client, event.plan)
    return {"plan": event.plan, "status": account.status.value,
            "pending": account.pending_change is not None}


def _give_notice(run: _Run, event: GiveNoticeEvent) -> dict[str, Any]:
    from parley import services

    notice = services.lifecycle().give_notice(event.client, event.reason)
    run.stack.settle()  # the notice workflow reaches its Wait
    return {"effective_date": notice.effective_date.isoformat(), "withdraw_until": notice.withdraw_until.isoformat(),
            "rule": notice.rule_id}


def _withdraw_notice(run: _Run, event: WithdrawNoticeEvent) -> dict[str, Any]:
    from parley import services

    account = services.lifecycle().withdraw_notice(event.client)
    run.stack.settle()  # the notice workflow is stopped
    return {"status": account.status.value}


def _rerun_billing_day(run: _Run, event: RerunBillingDayEvent) -> dict[str, Any]:
    """The scheduled billing function invoked again for a past (or today's) day, `runs` at once,
    each in its own Lambda environment, as an operator's re-run would."""
    from concurrent.futures import ThreadPoolExecutor

    from infra.local import lambda_runtime
    from parley.clock import iso
    from parley.interfaces import SchedulePayload

    day = event.day or event.date
    payload = {**SchedulePayload.template("daily-billing", iso(run.moment(day, dt.time(0, 10)))),
               "day": day.isoformat()}
    with ThreadPoolExecutor(max_workers=event.runs) as pool:
        reports = list(pool.map(lambda _: lambda_runtime.invoke("billing_cycle", payload), range(event.runs)))
    run.stack.settle()
    billed = Counter(client for report in reports for client in report.get("billed", []))
    return {"day": day.isoformat(), "runs": event.runs, "billed": sorted(billed),
            "billed_more_than_once": sorted(c for c, n in billed.items() if n > 1)}


def _addon(run: _Run, event: AddOnEvent) -> dict[str, Any]:
    from parley import services

    stored = services.billing_service().accounts.order_add_on(event.client, event.add_on, event.quantity, event.date)
    return {"add_on": event.add_on, "quantity": event.quantity, "invoiced": stored}


_APPLY: dict[type, Callable[[_Run, Any], dict[str, Any]]] = {
    PriceChangeEvent: _price_change, StartPaidEvent: _start_paid, EngagedChatsEvent: _chats,
    TrialChatsEvent: _chats, PaymentEvent: lambda run, event: _pay(event), DeclineCardEvent: _card,
    CardEvent: _card, PlanChangeEvent: _plan_change, SignupTrialEvent: _signup_trial,
    ChoosePlanEvent: _choose_plan, GiveNoticeEvent: _give_notice, WithdrawNoticeEvent: _withdraw_notice,
    RerunBillingDayEvent: _rerun_billing_day, AddOnEvent: _addon,
}


def _pay(event: PaymentEvent) -> dict[str, Any]:
    from parley import services
    from parley.ledger.models import InvoiceStatus

    billing = services.billing_service()
    account = billing.ledger.account(event.client)
    assert account is not None
    open_invoices = sorted((i for i in billing.ledger.invoices(event.client) if i.status is InvoiceStatus.OPEN),
                           key=lambda i: (i.issue_date, i.invoice_id))
    if event.invoice == "latest":
        targets = [i.invoice_id for i in open_invoices[-1:]]
    elif event.invoice == "all":
        targets = [i.invoice_id for i in open_invoices]
    else:
        invoice = billing.ledger.invoice(event.client, event.invoice)
        if invoice is None:
            raise ScenarioRunError(f"invoice: client {event.client!r} has no invoice {event.invoice!r} "
                                   f"(open: {', '.join(i.invoice_id for i in open_invoices) or 'none'})")
        targets = [invoice.invoice_id]
    via = event.via or ("card" if account.payment_method else "transfer")
    results = []
    for invoice_id in targets:
        current = billing.ledger.invoice(event.client, invoice_id)
        if current is None or current.status is not InvoiceStatus.OPEN:
            outcome = "not_open"
        elif via == "card":
            outcome = "paid" if billing.collection.pay_now(event.client, invoice_id, event.date) else "declined"
        else:
            billing.collection.record_payment(event.client, invoice_id, event.date, source="transfer")
            outcome = "paid"
        results.append({"invoice_id": invoice_id, "result": outcome})
    return {"via": via, "invoices": results}


# ------------------------------------------------------------------------------ result
_HISTORY_ORDER = {kind: rank for rank, kind in enumerate((
    "account_opened", "plan_chosen", "paid_service_started", "plan_change_requested", "package_upgraded",
    "invoice_issued", "final_invoice", "late_charge", "payment_failed", "payment_received",
    "service_deactivated", "notice_given", "notice_withdrawn", "service_terminated", "service_stopped"))}
_MONEY_KINDS = {"invoice_issued", "late_charge", "payment_received"}


def _quantity(value: Any) -> int | float:
    """A number as the API gives it (`parley.billing.lines.json_quantity`): an integer when whole."""
    from decimal import Decimal

    from parley.billing.lines import json_quantity

    return json_quantity(Decimal(str(value)))


def _invoice(invoice: LedgerInvoice, stripe_ids: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": invoice.invoice_id, "kind": invoice.kind, "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(), "total_cents": invoice.total_cents,
        "amount_paid_cents": invoice.amount_paid_cents, "status": invoice.status.value,
        "lines": [{
            "kind": line.kind, "description": line.description, "quantity": _quantity(line.quantity),
            "unit_amount_cents": line.unit_amount_cents, "amount_cents": line.amount_cents, "rule_id": line.rule_id,
            "period_start": line.period_start.isoformat() if line.period_start else None,
            "period_end": line.period_end.isoformat() if line.period_end else None,
            "plan_id": line.plan_id,
        } for line in invoice.lines],
        "payments": [{"received_on": p.received_on.isoformat(), "amount_cents": p.amount_cents}
                     for p in invoice.payments],
    }
    if invoice.for_invoice_id:
        data["for_invoice_id"] = invoice.for_invoice_id
    if invoice.late_charge_invoice_id:
        data["late_charge_invoice_id"] = invoice.late_charge_invoice_id
    if invoice.report is not None:
        data["report"] = invoice.report.model_dump(mode="json", exclude_defaults=True)
    if stripe_ids:
        data["stripe_invoice_id"] = invoice.stripe_invoice_id
    return data


def _plain(value: Any) -> Any:
    """History details come back from DynamoDB with Decimal numbers and sets: plain JSON."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return _quantity(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_plain(v) for v in value)
    return value


def _history_entry(event: HistoryEvent) -> dict[str, Any]:
    detail = {k: v for k, v in event.detail.items() if k != "notice_id"}  # notice ids are random
    return {"date": event.day.isoformat(), "at": event.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "kind": event.kind, **_plain(detail)}


def _sorted_history(events: list[HistoryEvent]) -> list[HistoryEvent]:
    # HISTORY sort keys end in a random suffix: order same-instant events by their causal rank
    return sorted(events, key=lambda e: (e.at, _HISTORY_ORDER.get(e.kind, 99), e.kind,
                                         json.dumps(e.detail, sort_keys=True, default=str)))


def _workflows(run: _Run, client_id: str) -> list[dict[str, str]]:
    """The client's trial and notice executions on moto's Step Functions, in start order."""
    sfn = run.stack.boto("stepfunctions")
    name = re.compile(rf"(trial)-{re.escape(client_id)}$|(notice)-{re.escape(client_id)}-n\d{{8}}[0-9a-f]{{4}}$")
    found = []
    for machine in sfn.list_state_machines()["stateMachines"]:
        for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            if (match := name.match(execution["name"])) is not None:
                found.append((execution["startDate"], match.group(1) or match.group(2), execution["status"]))
    return [{"kind": kind, "status": status} for _, kind, status in sorted(found)]


def _client_result(run: _Run, client: ScenarioClient, stripe_ids: bool) -> dict[str, Any]:
    from parley import services
    from parley.ledger.models import TRIAL_CYCLE

    ledger = services.ledger_repository()
    account: BillingAccount | None = ledger.account(client.id)
    assert account is not None
    invoices = sorted(ledger.invoices(client.id), key=lambda i: (i.issue_date, i.invoice_id))
    history = _sorted_history(ledger.history(client.id))
    cycles = sorted({i.issue_date.isoformat() for i in invoices if i.kind == "cycle"})
    counters = [ledger.usage(client.id, c) for c in (TRIAL_CYCLE, *cycles)]  # the trial's counter first
    usage = [{"cycle_start": u.cycle, "engaged_chats": u.engaged_chats, "agent_seconds": u.agent_seconds}
             for u in counters if u.engaged_chats or u.agent_seconds]
    tally = run.tallies[client.id]
    result: dict[str, Any] = {
        "name": client.name or client.id,
        "final_status": account.status.value,
        "account": {
            "plan_id": account.plan_id, "current_plan_id": account.current_plan_id,
            "upgraded_plan_id": account.upgraded_plan_id,
            "pending_plan_id": account.pending_change.plan_id if account.pending_change else None,
            "anchor_day": account.anchor_day, "paid_start": account.paid_start.isoformat() if account.paid_start
            else None, "next_billing_date": account.next_billing_date.isoformat() if account.next_billing_date
            else None, "in_default_since": account.in_default_since.isoformat() if account.in_default_since
            else None, "setup_fee_charged": account.setup_fee_charged,
        },
        "invoices": [_invoice(i, stripe_ids) for i in invoices],
        "late_charges": [{"invoice_id": i.invoice_id, "for_invoice_id": i.for_invoice_id,
                          "date": i.issue_date.isoformat(), "amount_cents": i.total_cents,
                          "rule_id": i.lines[0].rule_id if i.lines else "CO-11",
                          "description": i.lines[0].description if i.lines else "", "status": i.status.value}
                         for i in invoices if i.kind == "late_charge"],
        "payments": [_history_entry(e) for e in history if e.kind == "payment_received"],
        "failed_payments": [_history_entry(e) for e in history if e.kind == "payment_failed"],
        "status_changes": [_history_entry(e) for e in history
                           if e.kind not in _MONEY_KINDS and e.kind != "payment_failed"],
        "usage": usage,
        "chats": {"requested": tally.requested, "engaged": tally.engaged, "refused": tally.refused},
        "workflows": _workflows(run, client.id),
    }
    if stripe_ids:
        result["stripe_customer_id"] = account.stripe_customer_id
    return result


def _result(run: _Run, *, stripe_ids: bool) -> dict[str, Any]:
    scenario = run.scenario
    policy = scenario.policy.model_dump(mode="json")
    calendar = policy.pop("business_calendar", None)
    policy["business_calendar"] = calendar.get("name") if isinstance(calendar, dict) else calendar
    by_name = Counter(name for name, _ in run.fired)
    return {
        "scenario": {"file": scenario.path.name, "description": scenario.spec.description,
                     "start": scenario.spec.start.isoformat(), "end": scenario.spec.end.isoformat()},
        "policy": policy,
        "plans": [p.model_dump(mode="json") for p in scenario.catalog.plans],
        "clients": {c.id: _client_result(run, c, stripe_ids) for c in scenario.spec.clients},
        "events": run.outcomes,
        "schedules_fired": len(run.fired),
        "schedules_fired_by_name": dict(sorted(by_name.items())),
    }


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While the stack runs, whatever writes to stdout (Powertools logs and metrics, werkzeug)
    goes to stderr, so that stdout carries the JSON result only."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
