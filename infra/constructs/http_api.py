"""The HTTP API: one route per `wiring.HTTP_ROUTES` entry, CORS, access logs, throttling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import wiring
from infra.constructs.api_logging import HTTP_FIELDS, access_logs
from infra.constructs.function_factory import construct_name
from infra.constructs.nag import acknowledge

HTTP_RATE_LIMIT = 100
HTTP_BURST_LIMIT = 200
# Tighter per route (requests per second, burst) where one request costs much or guesses a
# secret; shared by every caller (per IP: the CloudFront WAF, infra/constructs/waf.py).
ROUTE_THROTTLES = {
    "POST /api/signup": (2, 5),  # each creates a tenant, a Cognito user, a Stripe customer
    "POST /api/auth/login": (10, 20),  # password guessing
    "POST /api/auth/mfa/setup": (5, 10),  # TOTP code guessing (5 tries per setup besides)
    "POST /api/signup/verify": (5, 10),  # signup code guessing (5 tries per code besides)
    "POST /api/signup/resend": (2, 5),  # each sends an email
    "POST /api/visitor/offline-message": (5, 10),  # each becomes a lead and an email
}


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        cors_allow_origins: Sequence[str],
        routes: Sequence[wiring.HttpRoute] = wiring.HTTP_ROUTES,
    ) -> None:
        super().__init__(scope, construct_id)
        methods = sorted({route.method for route in routes})
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"{Stack.of(self).stack_name}-http",
            description="Parley HTTP API: visitor sessions, login, signup, client account and billing, Stripe webhooks",
            # The stage below replaces the default one so that it has access logs and throttling.
            create_default_stage=False,
            # The widget calls this API from the clients' own websites, so the default is any
            # origin; the real check is per tenant, in the handler (the client's allowed origins).
            # Tokens travel in the body or the Authorization header, never in cookies.
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=list(cors_allow_origins),
                allow_methods=[apigwv2.CorsHttpMethod[method] for method in methods],
                allow_headers=["content-type", "authorization"],
                max_age=Duration.hours(1),
            ),
        )
        self.stage = apigwv2.HttpStage(
            self,
            "Stage",
            http_api=self.api,
            stage_name="$default",
            auto_deploy=True,
            access_log_settings=access_logs(self, "AccessLogs", HTTP_FIELDS),
            throttle=apigwv2.ThrottleSettings(rate_limit=HTTP_RATE_LIMIT, burst_limit=HTTP_BURST_LIMIT),
        )
        route_keys = {f"{route.method} {route.path}" for route in routes}
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.route_settings = {
            key: {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
            for key, (rate, burst) in ROUTE_THROTTLES.items()
            if key in route_keys
        }

        integration_of: dict[str, integrations.HttpLambdaIntegration] = {}
        for route in routes:
            if route.function not in integration_of:
                integration_of[route.function] = integrations.HttpLambdaIntegration(
                    f"{construct_name(route.function)}Integration", functions[route.function]
                )
            added = self.api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod[route.method]],
                integration=integration_of[route.function],
            )
            for http_route in added:  # the stage's route settings name routes that must exist first
                cfn_stage.node.add_dependency(http_route)
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "Decision: no API Gateway authorizer. The routes are either public by nature "
            "(/api/auth/login and /api/auth/mfa/setup; /api/signup and its /verify, /resend and /policy, "
            "which create and confirm the account; /api/visitor/session, checked "
            "against widget key and Origin; /api/stripe/webhook, called by Stripe and verified by its "
            "Stripe-Signature HMAC) or verify the Cognito JWT in the handler (JWKS, iss, aud, "
            "token_use: /api/client/*), the same code that runs in the local stack, where no API "
            "Gateway authorizer exists.",
        )

    @property
    def url(self) -> str:
        url = self.stage.url
        assert url is not None  # an HttpStage always has a URL; the type says Optional for HttpApi's
        return url
