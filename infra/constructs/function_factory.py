"""The single factory for every Lambda function of `wiring.FUNCTIONS`.

Each function gets its own role holding exactly what its FunctionSpec declares (tables with
read or read/write, the WebSocket @connections API, Cognito actions, the visitor-token secret,
the Stripe secret), its own log group with retention (kept when the stack goes), ARM64, JSON
logs and active X-Ray tracing; the money path's functions get reserved concurrency.
Stream reads are granted by infra/constructs/streams.py, to the subscribed function only; starting
and stopping workflow executions by infra/constructs/workflows.py, to the declared starters only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import wiring
from infra.constructs.email import SMTP_PORT, Email
from infra.constructs.nag import acknowledge, attr_ref, ref
from infra.wiring import uses_cognito

# One Python for the runtime and for the wheels of the deps layer (infra/build_lambda_deps.sh
# installs cp312 manylinux aarch64 wheels): pydantic-core and cryptography are compiled per ABI.
LAMBDA_PYTHON_VERSION = "3.12"
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# Every function: Powertools' service/namespace, and PARLEY_PROVIDER_TIME_ZONE, the provider's
# business time zone (billing dates, schedules and notices are all in that zone; parley.settings
# reads it), which the stack takes from CDK context (ParleyStack's Settings).
BASE_ENV = {
    "POWERTOOLS_SERVICE_NAME": "parley",
    "POWERTOOLS_METRICS_NAMESPACE": "Parley",
}
TIME_ZONE_ENV = "PARLEY_PROVIDER_TIME_ZONE"

# Item-level table actions, spelled out: `grant_read_data`/`grant_read_write_data` would also
# allow dynamodb:GetRecords/GetShardIterator (stream actions) to every reader of a table; stream
# reads belong to the stream subscriber alone (infra/constructs/streams.py).
# No dynamodb:Scan: no code path scans (every access is a key or index Query; checked by
# tests/unit/test_no_table_scans.py), so no role may read a whole table in one call.
TABLE_READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)

CODE_EXCLUDES = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "tests"]

# The money path's functions: concurrency reserved for each, so that a chat flood (which scales
# chat_message and friends up to the account's limit) cannot starve billing, and capped by it,
# so that they cannot starve chat either. Sum 66: the account needs a concurrency quota of at
# least 166 (AWS keeps 100 unreserved); new accounts start lower, so a deployment to such an
# account turns this off with the context parley:reserveBillingConcurrency=false (docs/security.md).
RESERVED_CONCURRENCY = {
    "billing_cycle": 2,  # daily; hands invoices to the collection queue
    "late_charges": 2,  # daily
    "defaults": 2,  # daily
    "trial_end": 5,  # workflow steps: many trials may end the same day
    "cancellation": 5,  # workflow steps
    "usage_meter": 5,  # the stream's consumer: one batch per shard at a time
    "collection_worker": 25,  # the collection queue's consumer: its mapping's MaximumConcurrency
    "stripe_webhook": 20,  # Stripe retries a throttled delivery
}


def construct_name(snake: str) -> str:
    """chat_connect -> ChatConnect (construct ids, hence readable logical ids)."""
    return "".join(part.capitalize() for part in snake.split("_"))


@dataclass(frozen=True)
class FunctionResources:
    """What functions may be granted; the factory grants each only what its spec declares."""

    tables: Mapping[str, dynamodb.Table]
    user_pool: cognito.UserPool
    user_pool_client: cognito.UserPoolClient
    visitor_token_secret: secretsmanager.Secret
    cognito_client_secret: secretsmanager.Secret  # the app client's secret (reads_cognito_client_secret)
    stripe_secret: secretsmanager.Secret
    websocket_stage: apigwv2.WebSocketStage
    layers: Sequence[lambda_.ILayerVersion]
    email: Email | None = None  # SES and the SMTP secret: needed once a function `sends_email`
    queues: Mapping[str, sqs.IQueue] = field(default_factory=dict)  # wiring.QUEUES, for `sends_to_queues`
    exports_bucket: s3.IBucket | None = None  # wiring.EXPORTS_BUCKET, for `writes_exports`


class ParleyFunction(Construct):
    """One function with its role and log group: acknowledgments made here cover all three."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: wiring.FunctionSpec,
        resources: FunctionResources,
        provider_time_zone: str,
        reserve_concurrency: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        if not spec.handler_file.is_file():
            raise FileNotFoundError(f"function {spec.name!r}: {spec.handler_file} does not exist")

        # Own role without the AWSLambdaBasicExecutionRole managed policy (which allows writing to
        # any log group): this one may write to its own log group only.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Parley {spec.name}",
        )
        # Retained: the logs of what a function did outlive a stack that is deleted or replaced.
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN)
        self.log_group.grant_write(self.role)

        self.function = lambda_.Function(
            self,
            "Function",
            description=spec.description,
            code=lambda_.Code.from_asset(str(spec.handler_file.parent), exclude=CODE_EXCLUDES),
            handler="handler.handler",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            role=self.role,
            layers=list(resources.layers),
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            environment={**BASE_ENV, TIME_ZONE_ENV: provider_time_zone},
            reserved_concurrent_executions=RESERVED_CONCURRENCY.get(spec.name) if reserve_concurrency else None,
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"Pinned to Python {LAMBDA_PYTHON_VERSION}: the deps layer holds compiled wheels "
            "(pydantic-core, cryptography) built for exactly this ABI by infra/build_lambda_deps.sh; "
            "move both together (one constant each, checked equal by tests/infra).",
        )
        self._grant(resources)
        # Acknowledged on the role's policy alone (not the function or the construct), once every
        # grant is in it; tests/infra checks that '*' there holds the X-Ray actions only.
        self.policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            self.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Risk accepted: X-Ray's xray:PutTraceSegments/PutTelemetryRecords support no resource-level "
            "permissions, so they are on '*'; they only write trace data (no read, no other service), and "
            "no other action of this role is on '*' (tests/infra).",
        )
        for finding, reason in self._findings:
            acknowledge(self.policy, finding, reason)

    _findings: list[tuple[str, str]]

    def _grant(self, resources: FunctionResources) -> None:
        spec, fn = self.spec, self.function
        self._findings = []

        for key, access in spec.tables.items():
            table = resources.tables[key]
            fn.add_environment(wiring.TABLES[key].env_var, table.table_name)
            actions = TABLE_READ_ACTIONS + (TABLE_WRITE_ACTIONS if access is wiring.Access.WRITE else ())
            table.grant(fn, *actions)  # the table and, if it has any, its indexes
            if wiring.TABLES[key].gsis:
                self._findings.append((
                    f"AwsSolutions-IAM5[Resource::{attr_ref(table)}/index/*]",
                    f"Risk accepted: the same item actions on every index of the {key} table (not of any "
                    "other); a function may query an index it does not use today.",
                ))

        if spec.manage_connections:
            stage = resources.websocket_stage
            stage.grant_management_api_access(fn)
            fn.add_environment("PARLEY_WEBSOCKET_ENDPOINT", stage.callback_url)
            self._findings.append((
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:"
                f"<AWS::AccountId>:{ref(stage.api)}/{stage.stage_name}/*/@connections/*]",
                "Risk accepted: this function may post to or close any connection of this API's "
                f"'{stage.stage_name}' stage (connection ids exist only at runtime); which connection "
                "gets a frame is the domain's tenant-scoped decision.",
            ))

        if uses_cognito(spec):
            fn.add_environment("PARLEY_COGNITO_USER_POOL_ID", resources.user_pool.user_pool_id)
            fn.add_environment("PARLEY_COGNITO_CLIENT_ID", resources.user_pool_client.user_pool_client_id)
            fn.add_environment("PARLEY_COGNITO_REGION", Stack.of(self).region)
        if spec.cognito_actions:
            fn.add_to_role_policy(
                iam.PolicyStatement(actions=list(spec.cognito_actions), resources=[resources.user_pool.user_pool_arn])
            )

        self._grant_secrets(resources)

        if spec.sends_email:
            self._grant_email(resources.email)

        for name in spec.sends_to_queues:
            queue = resources.queues[name]
            queue.grant_send_messages(fn)
            fn.add_environment(wiring.QUEUES[name].env_var, queue.queue_url)

        self._grant_exports(resources.exports_bucket)

    def _grant_secrets(self, resources: FunctionResources) -> None:
        """Read access to each Secrets Manager secret the spec declares, its NAME in the environment."""
        granted = ((self.spec.reads_cognito_client_secret, resources.cognito_client_secret,
                    "PARLEY_COGNITO_CLIENT_SECRET_NAME"),
                   (self.spec.reads_visitor_token_secret, resources.visitor_token_secret,
                    "PARLEY_VISITOR_TOKEN_SECRET_NAME"),
                   (self.spec.uses_stripe, resources.stripe_secret, "PARLEY_STRIPE_SECRET_NAME"))
        for declared, secret, variable in granted:
            if declared:
                secret.grant_read(self.function)
                self.function.add_environment(variable, secret.secret_name)

    def _grant_exports(self, bucket: s3.IBucket | None) -> None:
        """`writes_exports`: put an export and get it (the presigned GET is signed with this role)."""
        if not self.spec.writes_exports:
            return
        if bucket is None:
            raise ValueError(f"{self.spec.name} writes exports: FunctionResources needs the exports bucket")
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"],
                                                             resources=[bucket.arn_for_objects("*")]))
        self.function.add_environment(wiring.EXPORTS_BUCKET.env_var, bucket.bucket_name)
        self._findings.append((
            f"AwsSolutions-IAM5[Resource::{attr_ref(bucket)}/*]",
            "Risk accepted: put and get of any object in the exports bucket (keys are per client and "
            "per export, known only at runtime); which client's prefix is written is the route's "
            "tenant-scoped decision, and the bucket holds nothing but exports.",
        ))

    def _grant_email(self, email: Email | None) -> None:
        # SMTP to SES: the function's role needs only the credentials secret (SES authorizes
        # the SmtpSender user behind those credentials, infra/constructs/email.py).
        if email is None:
            raise ValueError(f"function {self.spec.name!r} sends email but the stack has no Email construct")
        fn = self.function
        email.secret.grant_read(fn)
        for name, value in (("PARLEY_SMTP_HOST", email.smtp_host), ("PARLEY_SMTP_PORT", str(SMTP_PORT)),
                            ("PARLEY_SMTP_STARTTLS", "true"), ("PARLEY_SMTP_SECRET_NAME", email.secret.secret_name),
                            ("PARLEY_EMAIL_FROM", email.from_address),
                            ("PARLEY_SES_CONFIGURATION_SET", email.configuration_set.configuration_set_name)):
            fn.add_environment(name, value)


class FunctionFactory(Construct):
    """Creates every function; new wiring entries need no change here."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        resources: FunctionResources,
        provider_time_zone: str = wiring.PROVIDER_TIME_ZONE,
        reserve_concurrency: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self._resources = resources
        self._provider_time_zone = provider_time_zone
        self._reserve_concurrency = reserve_concurrency
        self.functions: dict[str, ParleyFunction] = {}

    def create(self, spec: wiring.FunctionSpec) -> ParleyFunction:
        if spec.name in self.functions:
            raise ValueError(f"function {spec.name!r} declared twice")
        created = ParleyFunction(
            self,
            construct_name(spec.name),
            spec=spec,
            resources=self._resources,
            provider_time_zone=self._provider_time_zone,
            reserve_concurrency=self._reserve_concurrency,
        )
        self.functions[spec.name] = created
        return created

    def create_all(self, specs: Iterable[wiring.FunctionSpec]) -> dict[str, lambda_.Function]:
        return {spec.name: self.create(spec).function for spec in specs}
