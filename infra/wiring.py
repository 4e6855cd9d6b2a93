"""The one declaration of Parley's wiring, read by the CDK app and by the local stack.

Every Lambda function, its permissions, the WebSocket and HTTP routes, the tables and the
schedules are declared here once (ARCHITECTURE principle 1): `infra/app.py` turns them into
CloudFormation, `infra/local/` runs the very same handlers against moto on 127.0.0.1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from parley import interfaces

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAYER_DIR = REPO_ROOT / "layers" / "parley"


class Access(StrEnum):
    READ = "read"
    WRITE = "write"  # read + write


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: `pk`/`sk` string keys, optional GSIs (string keys), TTL, stream."""

    logical_id: str
    env_var: str
    partition_key: str = "pk"
    sort_key: str = "sk"
    gsis: tuple[tuple[str, str, str], ...] = ()  # (index name, partition key, sort key)
    ttl_attribute: str | None = None
    stream: bool = False


TABLES: dict[str, TableSpec] = {
    # Tenants, agents, conversations, messages (and, later, the billing ledger).
    "data": TableSpec(
        logical_id="DataTable",
        env_var="PARLEY_DATA_TABLE",
        # gsi3: open conversations by last activity (`updated_at`), for the idle-close sweep.
        gsis=(("gsi1", "gsi1pk", "gsi1sk"), ("gsi2", "gsi2pk", "gsi2sk"), ("gsi3", "gsi3pk", "updated_at")),
        # Rate-limit counters and pending signups expire (the stream's filters never see the removals).
        ttl_attribute="expires_at",
        stream=True,
    ),
    # Live WebSocket connections and presence; short-lived, expired by TTL as a safety net.
    "connections": TableSpec(
        logical_id="ConnectionsTable",
        env_var="PARLEY_CONNECTIONS_TABLE",
        ttl_attribute="expires_at",
    ),
}


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function: `functions/<name>/handler.py:handler` plus what it may touch."""

    name: str
    description: str
    tables: dict[str, Access] = field(default_factory=dict)
    manage_connections: bool = False  # may call the WebSocket @connections API
    cognito_actions: tuple[str, ...] = ()  # IAM actions on the user pool
    reads_visitor_token_secret: bool = False
    verifies_jwt: bool = False  # needs the user pool's id/client to verify Cognito JWTs
    # Signs users in (InitiateAuth/RespondToAuthChallenge): reads the app client's secret
    # (Secrets Manager) for SECRET_HASH. Only auth_login: the client id alone signs nobody in.
    reads_cognito_client_secret: bool = False
    uses_stripe: bool = False  # reads the Stripe API key and webhook secret (Secrets Manager)
    starts_workflows: tuple[str, ...] = ()  # may start/stop executions of these state machines
    sends_email: bool = False  # talks SMTP (SES on AWS): EMAIL_ENVIRONMENT + reads the SMTP secret
    sends_to_queues: tuple[str, ...] = ()  # may send messages to these QUEUES (their URL variables)
    writes_exports: bool = False  # writes data exports to EXPORTS_BUCKET and presigns their download
    timeout_seconds: int = 10
    memory_mb: int = 256

    @property
    def handler_file(self) -> Path:
        return FUNCTIONS_DIR / self.name / "handler.py"


# A `sends_email` function's SMTP settings (parley/composition/email.py reads them).
EMAIL_ENVIRONMENT = ("PARLEY_SMTP_HOST", "PARLEY_SMTP_PORT", "PARLEY_SMTP_STARTTLS", "PARLEY_SMTP_SECRET_NAME",
                     "PARLEY_EMAIL_FROM", "PARLEY_SES_CONFIGURATION_SET")


# The variables every function gets (Powertools' service/namespace and the provider's time zone).
BASE_ENVIRONMENT = ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "PARLEY_PROVIDER_TIME_ZONE")
COGNITO_ENVIRONMENT = ("PARLEY_COGNITO_USER_POOL_ID", "PARLEY_COGNITO_CLIENT_ID", "PARLEY_COGNITO_REGION")


def uses_cognito(spec: FunctionSpec) -> bool:
    return spec.verifies_jwt or bool(spec.cognito_actions)


def environment_variables(spec: FunctionSpec) -> frozenset[str]:
    """The names of the environment variables a function is deployed with — exactly what its spec
    grants. The CDK factory sets these (tests/infra checks the template against this list) and
    the local Lambda runtime shows an invocation these and no others."""
    names = set(BASE_ENVIRONMENT)
    names.update(TABLES[key].env_var for key in spec.tables)
    if spec.manage_connections:
        names.add("PARLEY_WEBSOCKET_ENDPOINT")
    if uses_cognito(spec):
        names.update(COGNITO_ENVIRONMENT)
    if spec.reads_cognito_client_secret:
        names.add("PARLEY_COGNITO_CLIENT_SECRET_NAME")
    if spec.reads_visitor_token_secret:
        names.add("PARLEY_VISITOR_TOKEN_SECRET_NAME")
    if spec.uses_stripe:
        names.add("PARLEY_STRIPE_SECRET_NAME")
    if spec.sends_email:
        names.update(EMAIL_ENVIRONMENT)
    names.update(STATE_MACHINES[name].env_var for name in spec.starts_workflows)
    names.update(QUEUES[name].env_var for name in spec.sends_to_queues)
    if spec.writes_exports:
        names.add(EXPORTS_BUCKET.env_var)
    return frozenset(names)


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket: private, encrypted, TLS only; objects expire after `expire_days`."""

    logical_id: str
    env_var: str  # the bucket name, for the functions granted it
    expire_days: int


# A client's data export (LC-3): written whole, downloaded through a short-lived presigned URL.
EXPORTS_BUCKET = BucketSpec(logical_id="ExportsBucket", env_var="PARLEY_EXPORTS_BUCKET", expire_days=7)


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue (encrypted, TLS only) with its dead-letter queue."""

    logical_id: str
    env_var: str  # the queue URL, for the functions that send to it
    visibility_timeout_seconds: int  # at least 6 times the consumer's timeout (AWS's advice for Lambda consumers)
    max_receive_count: int  # deliveries before a message moves to the dead-letter queue
    dead_letter_retention_days: int = 14


QUEUES: dict[str, QueueSpec] = {
    # The billing day's invoices, one message each, for collection_worker (parley.ledger.collection).
    "collection": QueueSpec(logical_id="CollectionQueue", env_var="PARLEY_COLLECTION_QUEUE_URL",
                            visibility_timeout_seconds=360, max_receive_count=5),
}


@dataclass(frozen=True)
class QueueSubscription:
    """An SQS → Lambda event source mapping, partial batch failures reported."""

    queue: str
    function: str
    batch_size: int = 10
    max_batching_window_seconds: int = 0
    # Concurrent invocations the mapping may run. A worker makes one Stripe request at a time,
    # each at least Stripe's round trip (~0.3 s from a Lambda): 25 workers send at most ~83
    # requests/s, under Stripe's live limit of 100/s (bench/collection.py, docs/benchmarks.md).
    max_concurrency: int = 25


QUEUE_SUBSCRIPTIONS: tuple[QueueSubscription, ...] = (
    QueueSubscription(queue="collection", function="collection_worker"),
)


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec(
            name="chat_authorizer",
            description="WebSocket $connect authorizer: authenticates visitors and agents, returns the identity",
            tables={"data": Access.READ},
            reads_visitor_token_secret=True,
            verifies_jwt=True,
        ),
        FunctionSpec(
            name="chat_connect",
            description="WebSocket $connect/$disconnect: remembers the connection the authorizer let in",
            tables={"data": Access.WRITE, "connections": Access.WRITE},  # $disconnect detaches conversations
            manage_connections=True,  # $disconnect tells the agent "visitor left" (parley.routing)
        ),
        FunctionSpec(
            name="chat_message",
            description="WebSocket actions: conversations, messages, typing, resume",
            tables={"data": Access.WRITE, "connections": Access.WRITE},
            manage_connections=True,
        ),
        FunctionSpec(
            name="routing_sweep",
            description="Every minute: no-answer reassignment, agents offline after the grace period, idle close",
            tables={"data": Access.WRITE, "connections": Access.READ},
            manage_connections=True,
            timeout_seconds=60,
        ),
        FunctionSpec(
            name="visitor_session",
            description="HTTP: widget key + origin check, issues the signed visitor token",
            tables={"data": Access.READ, "connections": Access.READ},  # connections: is an agent online
            reads_visitor_token_secret=True,
        ),
        FunctionSpec(
            name="visitor_offline",
            description="HTTP: the widget's offline form becomes a lead (rate-limited per visitor) and its email",
            tables={"data": Access.WRITE, "connections": Access.READ},
            reads_visitor_token_secret=True,
        ),
        FunctionSpec(
            name="leads_api",
            description="HTTP: the Leads inbox for staff (list, read, status/assignee, notes; chat to lead)",
            tables={"data": Access.WRITE},
            verifies_jwt=True,
        ),
        FunctionSpec(
            name="usage_meter",
            description="DynamoDB stream: counts engaged chats (and agent time) per client and cycle",
            tables={"data": Access.WRITE},
            uses_stripe=True,  # a trial over its limit converts at once, first invoice included (CO-4)
            starts_workflows=("trial",),
            timeout_seconds=60,
        ),
        FunctionSpec(
            name="billing_cycle",
            description="Daily: bills the clients whose Billing Date is today (CO-9, CH-4, CH-5, CH-7, CO-12)",
            tables={"data": Access.WRITE},
            sends_to_queues=("collection",),  # charging is collection_worker's: no Stripe here
            timeout_seconds=900,
            memory_mb=1024,
        ),
        FunctionSpec(
            name="collection_worker",
            description="Collection queue: carries one invoice per message to Stripe and charges it (CO-13)",
            tables={"data": Access.WRITE},
            uses_stripe=True,
            timeout_seconds=60,
        ),
        FunctionSpec(
            name="late_charges",
            description="Daily: 5 % late charge on invoices unpaid past the deadline (CO-11)",
            tables={"data": Access.WRITE},
            uses_stripe=True,
            timeout_seconds=900,
        ),
        FunctionSpec(
            name="defaults",
            description="Daily: default warnings; terminates clients in default, voiding the cut-off cycle's fee "
                        "(CO-10 / CH-10); deletes their data after retention (LC-3)",
            tables={"data": Access.WRITE},
            uses_stripe=True,  # the cut-off cycle's invoice is voided in Stripe too
            timeout_seconds=900,
        ),
        FunctionSpec(
            name="stripe_webhook",
            description="HTTP: verified Stripe webhooks applied to the ledger (paid, failed, disputes)",
            tables={"data": Access.WRITE},
            uses_stripe=True,
        ),
        FunctionSpec(
            name="client_billing",
            description="HTTP: a client's billing overview and Stripe customer-portal session",
            tables={"data": Access.READ},
            uses_stripe=True,
            verifies_jwt=True,
        ),
        FunctionSpec(
            name="client_account",
            description="HTTP: signup, plan choice, payment method, notice give/withdraw, data export",
            tables={"data": Access.WRITE},
            uses_stripe=True,
            verifies_jwt=True,
            # Signup: create (and, on any failure, delete) the user, look up an email, verify it.
            cognito_actions=("cognito-idp:AdminCreateUser", "cognito-idp:AdminSetUserPassword",
                             "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminDeleteUser",
                             "cognito-idp:ListUsers", "cognito-idp:AdminListGroupsForUser",
                             "cognito-idp:AdminUpdateUserAttributes"),
            starts_workflows=("trial", "notice"),
            timeout_seconds=30,
            writes_exports=True,  # the data export goes to S3 whole (LC-3)
        ),
        FunctionSpec(
            name="trial_end",
            description="Trial workflow task: convert to paid, or stop the service (CO-4, CO-5, CO-9)",
            tables={"data": Access.WRITE},
            uses_stripe=True,
            timeout_seconds=60,
        ),
        FunctionSpec(
            name="cancellation",
            description="Notice workflow tasks: finalize the cancellation, delete data after retention",
            tables={"data": Access.WRITE},
            uses_stripe=True,
            timeout_seconds=300,
        ),
        FunctionSpec(
            name="admin_api",
            description="HTTP: the provider's admin API (clients, agents, teams); admins only",
            tables={"data": Access.WRITE, "connections": Access.READ},
            manage_connections=True,  # disabling an agent closes their connections (@connections DELETE)
            verifies_jwt=True,
            cognito_actions=("cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup",
                             "cognito-idp:AdminRemoveUserFromGroup", "cognito-idp:AdminDisableUser",
                             "cognito-idp:AdminEnableUser", "cognito-idp:AdminUserGlobalSignOut",
                             "cognito-idp:ListUsers", "cognito-idp:AdminDeleteUser"),  # undo a failed invitation
            timeout_seconds=30,
        ),
        FunctionSpec(
            name="email_sender",
            description="DynamoDB stream (new outbox items): first try of each queued email; failures to email_retry",
            tables={"data": Access.WRITE},
            sends_email=True,
            starts_workflows=("email_retry",),
            timeout_seconds=60,
        ),
        FunctionSpec(
            name="email_retry",
            description="Email retry workflow task: one more try of a queued email (backoff in the workflow)",
            tables={"data": Access.WRITE},
            sends_email=True,
            timeout_seconds=30,
        ),
        FunctionSpec(
            name="auth_login",
            description="HTTP: agent/client login against the Cognito user pool (TOTP MFA, brute-force limits)",
            tables={"data": Access.WRITE},  # failed-login counters, TOTP setups in progress
            # ListUsers: staff sign in with their email (their usernames are opaque); the rest: the
            # sign-in challenges (new password, TOTP) and a TOTP setup.
            cognito_actions=("cognito-idp:InitiateAuth", "cognito-idp:ListUsers",
                             "cognito-idp:RespondToAuthChallenge", "cognito-idp:AssociateSoftwareToken",
                             "cognito-idp:VerifySoftwareToken", "cognito-idp:SetUserMFAPreference"),
            reads_cognito_client_secret=True,
        ),
    )
}


@dataclass(frozen=True)
class WebSocketRoute:
    route_key: str
    function: str
    return_response: bool = False  # the handler's body goes back to the caller (ack / error frame)


WEBSOCKET_ROUTE_SELECTION = "$request.body.action"


@dataclass(frozen=True)
class WebSocketAuthorizer:
    """The Lambda REQUEST authorizer of `$connect` (API Gateway allows one on `$connect` only).
    Its policy's `context` reaches every later event of the connection as
    `requestContext.authorizer`. No identity sources: API Gateway answers 401 without calling
    the function when any listed source is missing, and visitors (`widgetKey`, `visitorToken`)
    and agents (`token`) send different query parameters, so any list would lock one of them
    out; the function checks what each needs itself (docs/protocol.md)."""

    function: str
    identity_sources: tuple[str, ...] = ()


WEBSOCKET_AUTHORIZER = WebSocketAuthorizer("chat_authorizer")

WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = (
    WebSocketRoute("$connect", "chat_connect"),
    WebSocketRoute("$disconnect", "chat_connect"),
    WebSocketRoute("$default", "chat_message", return_response=True),
    *(
        WebSocketRoute(action, "chat_message", return_response=True)
        for action in (
            "startConversation",
            "sendMessage",
            "typing",
            "closeConversation",
            "resume",
            "subscribeQueue",
            "acceptConversation",
            "setStatus",
            "transferConversation",
            "ping",
        )
    ),
)


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str  # API Gateway HTTP API syntax: /api/things/{id}
    function: str


HTTP_ROUTES: tuple[HttpRoute, ...] = (
    HttpRoute("POST", "/api/visitor/session", "visitor_session"),
    HttpRoute("POST", "/api/visitor/offline-message", "visitor_offline"),
    HttpRoute("GET", "/api/clients/{client_id}/leads", "leads_api"),
    HttpRoute("GET", "/api/clients/{client_id}/leads/{lead_id}", "leads_api"),
    HttpRoute("PATCH", "/api/clients/{client_id}/leads/{lead_id}", "leads_api"),
    HttpRoute("POST", "/api/clients/{client_id}/leads/{lead_id}/notes", "leads_api"),
    HttpRoute("POST", "/api/conversations/{conversation_id}/lead", "leads_api"),
    HttpRoute("POST", "/api/auth/login", "auth_login"),
    HttpRoute("POST", "/api/auth/mfa/setup", "auth_login"),
    HttpRoute("POST", "/api/stripe/webhook", "stripe_webhook"),
    HttpRoute("GET", "/api/client/billing", "client_billing"),
    HttpRoute("POST", "/api/client/billing/portal", "client_billing"),
    HttpRoute("GET", "/api/client/billing/preview", "client_billing"),
    HttpRoute("POST", "/api/client/billing/pay-now", "client_billing"),
    HttpRoute("POST", "/api/client/billing/invoices/{invoice_id}/pay", "client_billing"),
    HttpRoute("GET", "/api/client/billing/invoices/{invoice_id}/pdf", "client_billing"),
    HttpRoute("GET", "/api/client/billing/invoices/{invoice_id}/stripe", "client_billing"),
    HttpRoute("GET", "/api/client/billing/details", "client_billing"),
    HttpRoute("PUT", "/api/client/billing/details", "client_billing"),
    HttpRoute("POST", "/api/signup", "client_account"),
    HttpRoute("POST", "/api/signup/verify", "client_account"),
    HttpRoute("POST", "/api/signup/resend", "client_account"),
    HttpRoute("GET", "/api/signup/policy", "client_account"),
    HttpRoute("POST", "/api/client/plan", "client_account"),
    HttpRoute("POST", "/api/client/payment-method", "client_account"),
    HttpRoute("POST", "/api/client/notice", "client_account"),
    HttpRoute("DELETE", "/api/client/notice", "client_account"),
    HttpRoute("GET", "/api/client/export", "client_account"),
    # The provider's admin API (docs/admin.md); every route checks the caller is in "admins".
    HttpRoute("GET", "/api/admin/clients", "admin_api"),
    HttpRoute("POST", "/api/admin/clients", "admin_api"),
    HttpRoute("GET", "/api/admin/clients/{client_id}", "admin_api"),
    HttpRoute("PATCH", "/api/admin/clients/{client_id}", "admin_api"),
    HttpRoute("POST", "/api/admin/clients/{client_id}/disable", "admin_api"),
    HttpRoute("POST", "/api/admin/clients/{client_id}/enable", "admin_api"),
    HttpRoute("GET", "/api/admin/agents", "admin_api"),
    HttpRoute("POST", "/api/admin/agents", "admin_api"),
    HttpRoute("PATCH", "/api/admin/agents/{agent_id}", "admin_api"),
    HttpRoute("POST", "/api/admin/agents/{agent_id}/disable", "admin_api"),
    HttpRoute("POST", "/api/admin/agents/{agent_id}/enable", "admin_api"),
    HttpRoute("GET", "/api/admin/teams", "admin_api"),
    HttpRoute("POST", "/api/admin/teams", "admin_api"),
    HttpRoute("PATCH", "/api/admin/teams/{team_id}", "admin_api"),
)


@dataclass(frozen=True)
class StateMachine:
    """A Step Functions workflow: its ASL file (declared once, used by CDK and the local stack),
    the functions its tasks invoke (substituted for ${<Name>FunctionArn}), and the variable that
    tells functions its ARN."""

    name: str
    definition_file: Path
    task_functions: dict[str, str]  # substitution name -> function name
    env_var: str


STATE_MACHINES: dict[str, StateMachine] = {
    "trial": StateMachine("trial", REPO_ROOT / "infra" / "statemachines" / "trial.asl.json",
                          {"TrialEndFunctionArn": "trial_end"}, "PARLEY_TRIAL_STATE_MACHINE_ARN"),
    "notice": StateMachine("notice", REPO_ROOT / "infra" / "statemachines" / "notice.asl.json",
                           {"CancellationFunctionArn": "cancellation"}, "PARLEY_NOTICE_STATE_MACHINE_ARN"),
    "email_retry": StateMachine("email_retry", REPO_ROOT / "infra" / "statemachines" / "email_retry.asl.json",
                                {"EmailRetryFunctionArn": "email_retry"}, "PARLEY_EMAIL_RETRY_STATE_MACHINE_ARN"),
}


@dataclass(frozen=True)
class StreamSubscription:
    """A DynamoDB stream → Lambda event source mapping (partial batch failures reported)."""

    table: str
    function: str
    batch_size: int = 100
    max_batching_window_seconds: int = 5
    # Lambda event filter patterns; a record is delivered when it matches any of them.
    filters: tuple[dict[str, object], ...] = ()


STREAM_SUBSCRIPTIONS: tuple[StreamSubscription, ...] = (
    # Only conversation items: messages and everything else never reach the meter.
    StreamSubscription(
        table="data",
        function="usage_meter",
        filters=({"eventName": ["MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["META"]},
                                                                  "pk": {"S": [{"prefix": "CONV#"}]}}}},),
    ),
    # Only new outbox items: the first try of each email (retries are the email_retry workflow's).
    StreamSubscription(
        table="data",
        function="email_sender",
        batch_size=10,
        max_batching_window_seconds=0,
        filters=({"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": ["EMAIL"]},
                                                                  "pk": {"S": [{"prefix": "OUTBOX#"}]}}}},),
    ),
)


@dataclass(frozen=True)
class Schedule:
    """An EventBridge Scheduler schedule in the provider's time zone."""

    name: str
    function: str
    cron: str  # EventBridge cron: "cron(min hour day month weekday year)"
    timezone: str
    # When the local clock jumps (a month of billing in seconds), does every missed occurrence
    # fire (daily jobs: each day is its own run) or only the latest (sweeps that catch up on
    # everything due at once)? AWS never jumps, so this only matters locally.
    catch_up: bool = True



# The provider's business time zone — it must be its billing policy's `time_zone` (call_on_me:
# Etc/GMT+7, UTC-7 without daylight saving; chat_outsource: America/Los_Angeles). Set it per
# deployment with PARLEY_PROVIDER_TIME_ZONE; the local stack takes it from the policy. Daily
# jobs run just after local midnight, in this order: bill, then late charges, then defaults.
PROVIDER_TIME_ZONE = os.environ.get("PARLEY_PROVIDER_TIME_ZONE", "Etc/GMT+7")

SCHEDULES: tuple[Schedule, ...] = (
    Schedule("daily-billing", "billing_cycle", "cron(10 0 * * ? *)", PROVIDER_TIME_ZONE),
    Schedule("daily-late-charges", "late_charges", "cron(20 0 * * ? *)", PROVIDER_TIME_ZONE),
    Schedule("daily-defaults", "defaults", "cron(30 0 * * ? *)", PROVIDER_TIME_ZONE),
    # No-answer deadlines, presence grace periods and idle conversations (parley.routing).
    Schedule("routing-sweep", "routing_sweep", "cron(* * * * ? *)", PROVIDER_TIME_ZONE, catch_up=False),
)

# Static sites served by CloudFront on AWS and by the local gateway on 127.0.0.1.
STATIC_SITES: dict[str, Path] = {
    "widget": REPO_ROOT / "widget" / "dist",
    "console": REPO_ROOT / "console" / "dist",
    "demo": REPO_ROOT / "widget" / "demo",
    "dashboard": REPO_ROOT / "dashboard" / "dist",
}

WEBSOCKET_STAGE = "live"
MAX_MESSAGE_CHARS = interfaces.MAX_MESSAGE_CHARS  # docs/protocol.md; well under API Gateway's 32 KB frame
