"""The embedded local stack: moto as a real server on 127.0.0.1, the local API gateway, the
tables and user pool of `infra/wiring.py`, demo data, and a controllable clock.

    stack = LocalStack().start()   # everything on 127.0.0.1, random free ports
    ...
    stack.stop()

`make dev` runs `python -m infra.local`, which starts one and prints its URLs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from aiohttp import web
from moto.server import ThreadedMotoServer

from infra.local import lambda_runtime, moto_patches
from infra.local.control import CLOCK_PATH, LocalControl, refuse_browsers_on, refuse_browsers_wsgi
from infra.local.demo_desk import ADMIN_USERNAME, SUPERVISOR_USERNAME, seed_desk
from infra.local.gateway import LocalGateway
from infra.local.localstripe_server import LocalStripe
from infra.local.queues import QueuePoller
from infra.local.scheduler import LocalScheduler
from infra.local.smtp import LocalSmtpServer, add_mail_routes
from infra.local.streams import StreamPoller
from infra.local.tables import create_tables
from infra.wiring import (
    EXPORTS_BUCKET,
    QUEUE_SUBSCRIPTIONS,
    QUEUES,
    SCHEDULES,
    STATE_MACHINES,
    STREAM_SUBSCRIPTIONS,
    TABLES,
    WEBSOCKET_STAGE,
)
from parley import services
from parley.auth.passwords import PASSWORD_POLICY
from parley.auth.roles import Group
from parley.billing.plans import PlanCatalog
from parley.billing.policy import BillingPolicy
from parley.chat.models import Agent, Client
from parley.clock import ControlledClock, iso, set_clock
from parley.gateways.cognito_auth import secret_hash
from parley.interfaces import SiteConfig
from parley.observability import logger

REGION = "us-east-1"
VISITOR_SECRET_NAME = "parley/local/visitor-token-secret"
STRIPE_SECRET_NAME = "parley/local/stripe"
EXPORTS_BUCKET_NAME = "parley-local-exports"
SMTP_SECRET_NAME = "parley/local/smtp"  # no login locally: empty credentials, read like on AWS
COGNITO_CLIENT_SECRET_NAME = "parley/local/cognito-client-secret"  # the app client's, for auth_login
EMAIL_FROM = "no-reply@parley.local"
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
DEMO_PASSWORD = "Parley-demo-2026"
ACCENTS = {"cl_sierra": "#e8772e", "cl_harbor": "#1f6feb"}  # the demo sites' brand colours


@dataclass(frozen=True)
class DemoClient:
    client_id: str
    name: str
    widget_key: str
    origin: str
    agent_username: str
    agent_name: str


@dataclass
class DemoData:
    clients: dict[str, DemoClient]
    agent_password: str
    agent_subs: dict[str, str]  # username -> Cognito sub
    admin_username: str = ADMIN_USERNAME  # the provider's admin (admin area)
    supervisor_username: str = SUPERVISOR_USERNAME
    # Admins and supervisors must sign in with TOTP (parley.auth.login): the demo's are enrolled
    # at start with a fresh secret each run, printed by `make dev` (username -> base32 secret).
    totp_secrets: dict[str, str] = field(default_factory=dict)

    @property
    def sierra(self) -> DemoClient:
        return self.clients["sierra"]

    @property
    def harbor(self) -> DemoClient:
        return self.clients["harbor"]

    # The car dealership of the demo site is the default client of tests and `make dev`.
    @property
    def widget_key(self) -> str:
        return self.sierra.widget_key

    @property
    def agent_username(self) -> str:
        return self.sierra.agent_username



class LocalStack:
    def __init__(self, port: int = 0, start_time: datetime | None = None, *, frozen: bool = False,
                 preset: str = "call_on_me", seed_demo: bool = True, control_file: Path | None = None) -> None:
        self._requested_port = port
        self._control_file = control_file  # where the control server's url and token go (None: a temp dir)
        self.clock = ControlledClock(start_time)
        if frozen:
            self.clock.set(start_time or datetime.now(UTC))
        self._preset = preset
        self._seed_demo = seed_demo
        self.stripe = LocalStripe()
        self.smtp = LocalSmtpServer()  # a real SMTP server; its mail is at /_local/mail
        self.pollers: list[StreamPoller] = []
        self.queue_pollers: list[QueuePoller] = []
        self.scheduler: LocalScheduler | None = None
        self._ticker_stop = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-gateway", daemon=True)
        self.gateway = LocalGateway(config=self._site_config, extra_routes=self._public_local_routes)
        self.control = LocalControl(lambda_runtime.invoke)  # invoke and clock: own port, per-run token
        self._control_routes()
        self.control_file = Path()
        self._moto: ThreadedMotoServer | None = None
        self.moto_url = ""
        self.user_pool_id = ""
        self.user_pool_client_id = ""
        self._user_pool_client_secret = ""  # only auth_login reads it (Secrets Manager), and sign_in here
        self.demo: DemoData

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_patches.install(lambda_endpoint="")  # before moto serves: executions run for real
        lambda_runtime.reset()  # environments of an earlier stack hold its endpoints
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        server: Any = self._moto._server  # moto exposes its WSGI server only here
        server.app = refuse_browsers_wsgi(server.app, server.server_address[1])
        host, port = self._moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.gateway.start(self._requested_port), self._loop).result(10)
        asyncio.run_coroutine_threadsafe(self.control.start(), self._loop).result(10)
        self.stripe.start()
        self.smtp.start()
        moto_patches.install(lambda_endpoint=self.control.url, lambda_token=self.control.token)
        self._configure_environment()
        self._create_resources()
        set_clock(self.clock)
        self._wire_events()
        plans = (CONFIG_DIR / "plans" / f"{self._preset}.json").read_text()
        self.configure_billing(BillingPolicy.from_preset(self._preset), PlanCatalog.model_validate_json(plans))
        self.demo = self._seed()
        # Written last: a control file on disk means the stack is ready for `parley clock`.
        self.control_file = self.control.write_file(
            self._control_file or Path(tempfile.mkdtemp(prefix="parley-control-")) / "local-control.json")
        return self

    def _wire_events(self) -> None:
        """What AWS does between our functions: stream → usage_meter, schedules → daily jobs,
        Stripe → the webhook endpoint."""
        ddb, streams = self.boto("dynamodb"), self.boto("dynamodbstreams")
        for sub in STREAM_SUBSCRIPTIONS:
            arn = ddb.describe_table(TableName=table_name(sub.table))["Table"]["LatestStreamArn"]
            self.pollers.append(StreamPoller(streams, arn, sub, lambda_runtime.invoke))
        sqs = self.boto("sqs")
        for queue_sub in QUEUE_SUBSCRIPTIONS:
            url = os.environ[QUEUES[queue_sub.queue].env_var]
            queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.queue_pollers.append(QueuePoller(sqs, url, queue_arn, queue_sub, lambda_runtime.invoke))
        self.scheduler = LocalScheduler(SCHEDULES, lambda_runtime.invoke, self.clock.now())
        sfn = self.boto("stepfunctions")
        for machine in STATE_MACHINES.values():
            definition = machine.definition_file.read_text()
            for placeholder, function in machine.task_functions.items():
                definition = definition.replace("${" + placeholder + "}", local_function_arn(function))
            arn = sfn.create_state_machine(name=f"parley-{machine.name}", definition=definition,
                                           roleArn="arn:aws:iam::123456789012:role/parley-local-sfn")["stateMachineArn"]
            os.environ[machine.env_var] = arn
        services.reset()
        self.stripe.register_webhook(f"{self.base_url}/api/stripe/webhook", self._webhook_secret)

    def drain_streams(self) -> int:
        """Deliver what the streams and queues hold now (streams first: queues are fed by runs)."""
        return sum(p.drain() for p in self.pollers) + sum(q.drain() for q in self.queue_pollers)

    def _create_exports_bucket(self) -> None:
        """wiring.EXPORTS_BUCKET on moto: encrypted by default, objects expire as on AWS (moto
        stores the rule; nothing here runs long enough for it to bite)."""
        s3 = self.boto("s3")
        s3.create_bucket(Bucket=EXPORTS_BUCKET_NAME)
        s3.put_bucket_encryption(Bucket=EXPORTS_BUCKET_NAME, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_bucket_lifecycle_configuration(Bucket=EXPORTS_BUCKET_NAME, LifecycleConfiguration={"Rules": [
            {"ID": "expire-exports", "Status": "Enabled", "Filter": {"Prefix": ""},
             "Expiration": {"Days": EXPORTS_BUCKET.expire_days}}]})

    def _create_queues(self) -> None:
        """The SQS queues of wiring.QUEUES on moto, each with its dead-letter queue and redrive."""
        sqs = self.boto("sqs")
        for name, spec in QUEUES.items():
            dead = sqs.create_queue(QueueName=f"parley-{name}-dead-letters")["QueueUrl"]
            dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            url = sqs.create_queue(QueueName=f"parley-{name}", Attributes={
                "VisibilityTimeout": str(spec.visibility_timeout_seconds),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn,
                                             "maxReceiveCount": str(spec.max_receive_count)})})["QueueUrl"]
            os.environ[spec.env_var] = url

    def advance(self, delta: timedelta) -> list[tuple[str, datetime]]:
        """Move the clock forward. On the way, time stops at every schedule occurrence and every
        workflow Wait deadline, in order, and each happens at its own moment (the stream is
        drained and workflows settle first) — a month of business in a few seconds."""
        assert self.scheduler is not None
        running = self.clock._frozen is None
        target = self.clock.now() + delta
        before = len(self.scheduler.fired)
        fires = self.scheduler.take_due(target)
        while True:
            now = self.clock.now()
            waits = [d for d in moto_patches.active_wait_deadlines() if now < d <= target]
            moments = [m for m in (fires[0][0] if fires else None, min(waits) if waits else None) if m is not None]
            if not moments:
                break
            moment = min(moments)
            self.clock.set(moment)
            if waits and min(waits) <= moment:
                self.settle()  # a workflow moves on at this moment: let it finish its step
            self.drain_streams()
            while fires and fires[0][0] <= moment:
                self.scheduler.fire(*fires.pop(0))
        self.clock.set(target)
        self.settle()
        self.drain_streams()
        if running:
            self.clock.unfreeze()
        return self.scheduler.fired[before:]

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until no workflow is due to move (a Wait past its deadline, a task running),
        and stays so for a moment (a state transition takes a few milliseconds)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 5 and time.monotonic() < deadline:
            now = self.clock.now()
            busy = self.control.inflight > 0 or any(d <= now for d in moto_patches.active_wait_deadlines())
            quiet = 0 if busy else quiet + 1
            time.sleep(0.02)

    def run_in_background(self) -> None:
        """`make dev`: stream delivery and schedules keep running in real time."""
        for poller in self.pollers:
            poller.start()
        for queue_poller in self.queue_pollers:
            queue_poller.start()

        def tick() -> None:
            while not self._ticker_stop.wait(5):
                if self.scheduler is not None:
                    self.scheduler.run_until(self.clock.now())

        threading.Thread(target=tick, name="local-scheduler", daemon=True).start()

    def configure_billing(self, policy: BillingPolicy, catalog: PlanCatalog) -> None:
        services.billing_service(with_stripe=False).config.configure(policy, catalog)
        if self.scheduler is not None:  # daily jobs run in the provider's business time zone
            self.scheduler.set_zone(policy.zone)

    def stop(self) -> None:
        self._ticker_stop.set()
        for poller in self.pollers:
            poller.stop()
        for queue_poller in self.queue_pollers:
            queue_poller.stop()
        self.stripe.stop()
        try:
            asyncio.run_coroutine_threadsafe(self.control.stop(), self._loop).result(10)
            asyncio.run_coroutine_threadsafe(self.gateway.stop(), self._loop).result(30)
        finally:  # whatever happens, nothing keeps running
            self._stop_rest()

    def _stop_rest(self) -> None:
        lambda_runtime.reset()  # the environments' processes end with the stack
        self.control.remove_file()
        if self._control_file is None and self.control_file.parent.name.startswith("parley-control-"):
            shutil.rmtree(self.control_file.parent, ignore_errors=True)
        self.smtp.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if self._moto is not None:
            self._moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self.gateway.base_url

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.gateway.port}/ws"

    @property
    def demo_url(self) -> str:
        return f"{self.base_url}/demo/"

    @property
    def console_url(self) -> str:
        return f"{self.base_url}/console/"

    def boto(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.moto_url)  # type: ignore[call-overload]

    # --- setup -------------------------------------------------------------------------
    def _configure_environment(self) -> None:
        """The whole stack's configuration, in this process: each Lambda environment is given the
        part its FunctionSpec grants (lambda_runtime.function_environment), as the CDK app deploys it."""
        env = {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
            "POWERTOOLS_SERVICE_NAME": "parley", "POWERTOOLS_METRICS_NAMESPACE": "Parley",
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("PARLEY_LOG_LEVEL", "WARNING"),
            "PARLEY_WEBSOCKET_ENDPOINT": self.gateway.management_endpoint,
            "PARLEY_VISITOR_TOKEN_SECRET_NAME": VISITOR_SECRET_NAME,
            "PARLEY_STRIPE_SECRET_NAME": STRIPE_SECRET_NAME, "PARLEY_STRIPE_API_BASE": self.stripe.url,
            # The provider's zone is its billing policy's (on AWS, cdk.json's parley:providerTimeZone
            # must name the same): due dates, schedules and hours all follow it.
            "PARLEY_PROVIDER_TIME_ZONE": BillingPolicy.from_preset(self._preset).time_zone,
            "PARLEY_SMTP_HOST": self.smtp.host, "PARLEY_SMTP_PORT": str(self.smtp.port),
            "PARLEY_SMTP_STARTTLS": "false", "PARLEY_SMTP_SECRET_NAME": SMTP_SECRET_NAME,
            "PARLEY_EMAIL_FROM": EMAIL_FROM, "PARLEY_SES_CONFIGURATION_SET": "",
            **{spec.env_var: table_name(name) for name, spec in TABLES.items()},
            EXPORTS_BUCKET.env_var: EXPORTS_BUCKET_NAME,
        }
        os.environ.update(env)
        logger.setLevel(env["POWERTOOLS_LOG_LEVEL"])  # built at import, before this environment
        services.reset()

    def _create_resources(self) -> None:
        create_tables(self.boto("dynamodb"), table_name)
        self._create_queues()
        self._create_exports_bucket()
        secrets_manager = self.boto("secretsmanager")
        secrets_manager.create_secret(Name=VISITOR_SECRET_NAME, SecretString=secrets.token_hex(32))
        secrets_manager.create_secret(Name=SMTP_SECRET_NAME, SecretString=json.dumps({"username": "", "password": ""}))
        self._webhook_secret = f"whsec_{secrets.token_hex(16)}"
        secrets_manager.create_secret(Name=STRIPE_SECRET_NAME, SecretString=json.dumps(
            {"api_key": LocalStripe.API_KEY, "webhook_secret": self._webhook_secret}))
        idp = self.boto("cognito-idp")
        # As the CDK pool: the email is a sign-in alias, and the one password policy.
        self.user_pool_id = idp.create_user_pool(
            PoolName="parley-local", AliasAttributes=["email"], UsernameConfiguration={"CaseSensitive": False},
            Policies={"PasswordPolicy": PASSWORD_POLICY.cognito()})["UserPool"]["Id"]
        # Confidential, as the CDK client: sign-in calls need the secret's SECRET_HASH.
        client = idp.create_user_pool_client(
            UserPoolId=self.user_pool_id, ClientName="parley-console", GenerateSecret=True,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]
        self.user_pool_client_id, self._user_pool_client_secret = client["ClientId"], client["ClientSecret"]
        secrets_manager.create_secret(Name=COGNITO_CLIENT_SECRET_NAME, SecretString=self._user_pool_client_secret)
        for group in Group:  # the pool's groups (parley.auth.roles, as in the CDK user pool)
            idp.create_group(GroupName=group.value, UserPoolId=self.user_pool_id)
        os.environ.update({
            "PARLEY_COGNITO_USER_POOL_ID": self.user_pool_id, "PARLEY_COGNITO_CLIENT_ID": self.user_pool_client_id,
            "PARLEY_COGNITO_REGION": REGION, "PARLEY_COGNITO_CLIENT_SECRET_NAME": COGNITO_CLIENT_SECRET_NAME,
            "PARLEY_COGNITO_JWKS_URL": f"{self.moto_url}/{self.user_pool_id}/.well-known/jwks.json",
        })
        services.reset()

    def create_user(self, username: str, password: str, group: str, email: str = "") -> str:
        idp = self.boto("cognito-idp")
        # Verified: only a self-service signup starts unverified (parley.auth.signup).
        attrs = [{"Name": "email", "Value": email or f"{username}@parley.local"},
                 {"Name": "email_verified", "Value": "true"}]
        idp.admin_create_user(UserPoolId=self.user_pool_id, Username=username, UserAttributes=attrs,
                              MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=self.user_pool_id, Username=username, Password=password,
                                    Permanent=True)
        idp.admin_add_user_to_group(UserPoolId=self.user_pool_id, Username=username, GroupName=group)
        user = idp.admin_get_user(UserPoolId=self.user_pool_id, Username=username)
        return str(next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub"))

    def add_client(self, client: Client) -> None:
        services.tenant_repository().put_client(client)

    def add_agent(self, username: str, name: str, client_ids: list[str], password: str = DEMO_PASSWORD) -> str:
        sub = self.create_user(username, password, Group.AGENTS.value)
        services.tenant_repository().put_agent(Agent(agent_id=sub, name=name, client_ids=client_ids,
                                                     email=f"{username}@parley.local"))
        return sub

    def _seed(self) -> DemoData:
        origin = self.base_url
        clients = {
            "sierra": DemoClient("cl_sierra", "Sierra Vista Motors", "wk_demo_sierra", origin, "alex", "Alex Rivera"),
            "harbor": DemoClient("cl_harbor", "Harbor Dental Care", "wk_demo_harbor", "http://harbor-dental.test",
                                 "bianca", "Bianca Moreno"),
        }
        subs: dict[str, str] = {}
        for demo in clients.values():
            self.add_client(Client(client_id=demo.client_id, name=demo.name, widget_key=demo.widget_key,
                                   allowed_origins=[demo.origin], accent_color=ACCENTS[demo.client_id],
                                   # A promise the desk keeps: routed to an online agent, or the offline form.
                                   greeting=f"Hi! Questions about {demo.name}? Ask here, or leave us a message.",
                                   notification_email=f"leads@{demo.client_id.removeprefix('cl_')}.test"))
            subs[demo.agent_username] = self.add_agent(demo.agent_username, demo.agent_name, [demo.client_id])
        seed_desk(services.tenant_repository(), lambda user, group: self.create_user(user, DEMO_PASSWORD, group),
                  {d.agent_username: (subs[d.agent_username], d.client_id) for d in clients.values()})
        if self._seed_demo:
            self._seed_billing(clients)
        totp = {user: self.enrol_totp(user, DEMO_PASSWORD) for user in (ADMIN_USERNAME, SUPERVISOR_USERNAME)}
        return DemoData(clients=clients, agent_password=DEMO_PASSWORD, agent_subs=subs, totp_secrets=totp)

    def sign_in(self, username: str, password: str) -> dict[str, Any]:
        """Sign in at Cognito itself, as auth_login does (with the client secret's SECRET_HASH) but
        without its rules (lockouts, MFA): the reply of InitiateAuth, for setup and tests."""
        reply: dict[str, Any] = dict(self.boto("cognito-idp").initiate_auth(
            ClientId=self.user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password, "SECRET_HASH": secret_hash(
                self._user_pool_client_secret, self.user_pool_client_id, username)}))
        return reply

    def enrol_totp(self, username: str, password: str) -> str:
        """Set up TOTP MFA for a user as the console's setup does (the authenticator's code made
        here); returns the secret an authenticator app needs."""
        idp = self.boto("cognito-idp")
        access = self.sign_in(username, password)["AuthenticationResult"]["AccessToken"]
        secret = idp.associate_software_token(AccessToken=access)["SecretCode"]
        idp.verify_software_token(AccessToken=access, UserCode=totp_code(secret), FriendlyDeviceName="demo")
        idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True,
                                                                                  "PreferredMfa": True})
        return str(secret)

    def _seed_billing(self, clients: dict[str, DemoClient]) -> None:
        """Sierra Vista Motors pays monthly (card on file) from today; Harbor Dental is in its trial."""
        billing = services.billing_service()
        today = billing.config.today()
        sierra, harbor = clients["sierra"], clients["harbor"]
        account = billing.accounts.open_account(sierra.client_id, sierra.name, f"billing@{sierra.client_id}.test")
        if account.stripe_customer_id:
            payment_method = services.stripe_gateway().attach_test_payment_method(account.stripe_customer_id)
            billing.accounts.set_payment_method(sierra.client_id, payment_method)
        billing.accounts.start_paid_service(sierra.client_id, billing.config.rules().catalog.plans[0].id, today)
        billing.accounts.open_account(harbor.client_id, harbor.name, f"billing@{harbor.client_id}.test",
                                      trial_start=today)
        owner = self.create_user("owner-sierra", DEMO_PASSWORD, Group.CLIENTS.value)
        services.tenant_repository().put_client_user(owner, sierra.client_id)

    # --- local controls ----------------------------------------------------------------
    def _site_config(self) -> dict[str, Any]:
        return SiteConfig(api_url=self.base_url, ws_url=self.ws_url, region=REGION,
                          # No publishable key: Stripe.js cannot load offline; the dashboard offers
                          # labelled test cards instead.
                          cognito_client_id=self.user_pool_client_id, local=True).to_json()

    def _public_local_routes(self, app: web.Application) -> None:
        """On the public gateway only what changes nothing: the clock's time (the dashboard
        shows it) and the local mail page. Moving the clock is the control server's."""
        async def get_clock(request: web.Request) -> web.Response:
            return web.json_response({"now": iso(self.clock.now())})

        async def moved(request: web.Request) -> web.Response:
            return web.json_response({"code": "not_found", "message": "not found"}, status=404)

        app.router.add_get(CLOCK_PATH, get_clock)
        app.router.add_post(CLOCK_PATH, moved)
        add_mail_routes(app, self.smtp)
        app.middlewares.append(refuse_browsers_on((f"/{WEBSOCKET_STAGE}/@connections/",)))

    def _control_routes(self) -> None:
        async def get_clock(request: web.Request) -> web.Response:
            return web.json_response({"now": iso(self.clock.now())})

        async def move_clock(request: web.Request) -> web.Response:
            try:
                body = await request.json()
                delta = timedelta(days=int(body.get("days", 0)), hours=int(body.get("hours", 0)))
            except (ValueError, TypeError, AttributeError):
                return web.json_response({"code": "invalid_request", "message": "give {days, hours}"}, status=400)
            if delta <= timedelta(0) or delta > timedelta(days=400):
                return web.json_response({"code": "invalid_request",
                                          "message": "move forward by 1 hour to 400 days"}, status=400)
            fired = await asyncio.get_running_loop().run_in_executor(None, self.advance, delta)
            return web.json_response({"now": iso(self.clock.now()),
                                      "fired": [{"schedule": n, "at": iso(w)} for n, w in fired]})

        self.control.add_route("GET", CLOCK_PATH, get_clock)
        self.control.add_route("POST", CLOCK_PATH, move_clock)


def totp_code(secret: str, at: float | None = None) -> str:
    """The 6-digit TOTP code of a base32 secret now (RFC 6238, as authenticator apps compute it)."""
    from moto.cognitoidp.utils import cognito_totp

    return str(cognito_totp(secret).generate(int(time.time() if at is None else at)).decode())


def local_function_arn(function: str) -> str:
    return f"arn:aws:lambda:{REGION}:123456789012:function:{function}"


def table_name(name: str) -> str:
    return f"parley-local-{name}"


def utc(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)

