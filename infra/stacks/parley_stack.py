"""The Parley stack, generated from `infra/wiring.py`: new functions, routes, tables, schedules
and sites declared there appear here without CDK edits."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aws_cdk import CfnOutput, CfnParameter, Stack
from constructs import Construct

from infra import wiring
from infra.constructs.auth import Auth
from infra.constructs.chat import Chat
from infra.constructs.data import Data
from infra.constructs.email import DEFAULT_DOMAIN, Email
from infra.constructs.function_factory import FunctionFactory, FunctionResources
from infra.constructs.hosting import Edge, Hosting
from infra.constructs.http_api import HttpApi
from infra.constructs.layers import Layers
from infra.constructs.queues import Queues
from infra.constructs.schedules import Schedules
from infra.constructs.streams import StreamSubscriptions
from infra.constructs.stripe import Stripe
from infra.constructs.workflows import Workflows
from parley.interfaces import SiteConfig


def _as_list(value: Any) -> list[str]:
    # cdk.json gives a JSON list; `cdk synth -c key=a,b` gives a string.
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return [str(item) for item in value]


def _as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes"}


def _as_time_zone(value: Any) -> str:
    """An IANA zone name EventBridge Scheduler and the functions both accept, checked at synth."""
    name = str(value).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"parley:providerTimeZone: {name!r} is not an IANA time zone name") from error
    return name


@dataclass(frozen=True)
class Settings:
    """Deployment choices, from CDK context (cdk.json or `-c`), with safe defaults."""

    cors_allow_origins: Sequence[str] = ("*",)
    manage_api_gateway_account_role: bool = True
    # The provider's business time zone: the daily schedules run in it and every function gets it
    # as PARLEY_PROVIDER_TIME_ZONE. cdk.json sets it, so a deploy does not depend on the shell that
    # synthesizes it; it must be the provider's billing policy `time_zone` (infra/wiring.py).
    provider_time_zone: str = wiring.PROVIDER_TIME_ZONE
    # Stripe.js needs it to collect a card in the dashboard (public by design; not a secret).
    stripe_publishable_key: str | None = None
    # Email: the SES identity (a domain the provider controls) and the From address of every
    # email (leads, invitations); context parley:emailDomain / parley:emailFrom.
    email_domain: str = DEFAULT_DOMAIN
    email_from: str = ""
    # Reserved concurrency for the money path (function_factory.RESERVED_CONCURRENCY); an account
    # whose Lambda concurrency quota is under 166 cannot reserve it: parley:reserveBillingConcurrency.
    reserve_billing_concurrency: bool = True
    # The CloudFront web ACL's ARN (ParleyEdge's output WebAclArn): the default of the stack's
    # CloudFrontWebAclArn parameter; context parley:cloudFrontWebAclArn.
    cloudfront_web_acl_arn: str | None = None

    @property
    def from_address(self) -> str:
        return self.email_from or f"no-reply@{self.email_domain}"

    @classmethod
    def from_context(cls, scope: Construct) -> Settings:
        node = scope.node
        origins = node.try_get_context("parley:corsAllowOrigins")
        account_role = node.try_get_context("parley:manageApiGatewayAccountRole")
        time_zone = node.try_get_context("parley:providerTimeZone")
        email_domain = str(node.try_get_context("parley:emailDomain") or cls.email_domain)
        email_from = str(node.try_get_context("parley:emailFrom") or "")
        if email_from and not email_from.endswith("@" + email_domain):
            raise ValueError(f"parley:emailFrom {email_from!r} is not an address of parley:emailDomain "
                             f"{email_domain!r}")
        publishable_key = node.try_get_context("parley:stripePublishableKey")
        reserve = node.try_get_context("parley:reserveBillingConcurrency")
        web_acl_arn = node.try_get_context("parley:cloudFrontWebAclArn")
        return cls(
            reserve_billing_concurrency=_as_bool(reserve) if reserve is not None else cls.reserve_billing_concurrency,
            cloudfront_web_acl_arn=str(web_acl_arn) if web_acl_arn else None,
            stripe_publishable_key=str(publishable_key) if publishable_key else None,
            email_domain=email_domain,
            email_from=email_from,
            cors_allow_origins=_as_list(origins) if origins is not None else cls.cors_allow_origins,
            manage_api_gateway_account_role=_as_bool(account_role)
            if account_role is not None
            else cls.manage_api_gateway_account_role,
            provider_time_zone=_as_time_zone(time_zone if time_zone is not None else cls.provider_time_zone),
        )

    def in_provider_time_zone(self, schedules: Sequence[wiring.Schedule]) -> list[wiring.Schedule]:
        """The schedules declared in the provider's zone (wiring.PROVIDER_TIME_ZONE), moved to the
        configured one; a schedule declared in another zone keeps it."""
        return [
            dataclasses.replace(s, timezone=self.provider_time_zone) if s.timezone == wiring.PROVIDER_TIME_ZONE else s
            for s in schedules
        ]


class ParleyStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedules: Sequence[wiring.Schedule] = wiring.SCHEDULES,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings = Settings.from_context(self)

        self.data = Data(self, "Data")
        self.auth = Auth(self, "Auth")
        self.chat = Chat(self, "Chat", manage_account_log_role=settings.manage_api_gateway_account_role)
        self.layers = Layers(self, "Layers")
        self.stripe = Stripe(self, "Stripe")
        self.email = Email(self, "Email", domain=settings.email_domain, from_address=settings.from_address)
        self.queues = Queues(self, "Queues")

        self.function_factory = FunctionFactory(
            self,
            "Functions",
            resources=FunctionResources(
                tables=self.data.tables,
                user_pool=self.auth.user_pool,
                user_pool_client=self.auth.user_pool_client,
                visitor_token_secret=self.auth.visitor_token_secret,
                cognito_client_secret=self.auth.client_secret,
                stripe_secret=self.stripe.secret,
                websocket_stage=self.chat.stage,
                layers=self.layers.all,
                email=self.email,
                queues=self.queues.queues,
                exports_bucket=self.data.exports_bucket,
            ),
            provider_time_zone=settings.provider_time_zone,
            reserve_concurrency=settings.reserve_billing_concurrency,
        )
        self.functions = self.function_factory.create_all(wiring.FUNCTIONS.values())

        self.streams = StreamSubscriptions(
            self, "Streams", functions=self.function_factory.functions, tables=self.data.tables
        )
        self.queues.subscribe(self.function_factory.functions)
        self.workflows = Workflows(self, "Workflows", functions=self.function_factory.functions)
        self.chat.add_routes(self.functions)
        self.http_api = HttpApi(self, "Http", functions=self.functions, cors_allow_origins=settings.cors_allow_origins)
        self.schedules = Schedules(
            self, "Schedules", functions=self.functions, schedules=settings.in_provider_time_zone(schedules)
        )
        # CloudFront's web ACL must be created in us-east-1: the ParleyEdge stack makes it, this
        # parameter brings its ARN here (docs/security.md, "Deploying the WAF").
        self.web_acl_arn = CfnParameter(
            self,
            "CloudFrontWebAclArn",
            type="String",
            description="ARN of the CLOUDFRONT-scope web ACL (output WebAclArn of the ParleyEdge stack, us-east-1)",
            allowed_pattern=r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/.+$",
            constraint_description="a CLOUDFRONT-scope (global, us-east-1) AWS WAF web ACL ARN",
            default=settings.cloudfront_web_acl_arn,  # None: no default, the deploy must pass it
        )
        self.hosting = Hosting(
            self,
            "Hosting",
            edge=Edge(web_acl_arn=self.web_acl_arn.value_as_string, api_endpoint=self.http_api.api.api_endpoint,
                      websocket_url=self.chat.stage.url),
            runtime_config=SiteConfig(
                api_url=str(self.http_api.url),
                ws_url=self.chat.stage.url,
                cognito_client_id=self.auth.user_pool_client.user_pool_client_id,
                region=self.region,
                stripe_publishable_key=settings.stripe_publishable_key,
            ).to_json(),
        )

        outputs = {
            "WebSocketUrl": (self.chat.stage.url, "WebSocket endpoint (wss://...)"),
            "HttpApiUrl": (self.http_api.url, "HTTP API base URL"),
            "CloudFrontUrl": (self.hosting.url, "Static sites (/widget/, /console/, /demo/, /dashboard/) and /api/"),
            "UserPoolId": (self.auth.user_pool.user_pool_id, "Cognito user pool id"),
            "UserPoolClientId": (self.auth.user_pool_client.user_pool_client_id, "Cognito app client id"),
            "StripeSecretName": (
                self.stripe.secret.secret_name,
                "Secrets Manager secret to fill with the Stripe api_key and webhook_secret after deploy",
            ),
            "SmtpSecretName": (
                self.email.secret.secret_name,
                "Secrets Manager secret to fill with the SES SMTP credentials of SmtpUserName (docs/email.md)",
            ),
            "SmtpUserName": (self.email.smtp_user.user_name, "IAM user whose access key becomes the SMTP credentials"),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)
