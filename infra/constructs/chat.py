"""The chat WebSocket API: stage, access logs, throttling, and one route per wiring entry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import wiring
from infra.constructs.api_logging import WEBSOCKET_FIELDS, access_logs
from infra.constructs.function_factory import construct_name
from infra.constructs.nag import acknowledge

# Per stage, across all connections. Chat traffic is small frames; the burst absorbs reconnect
# storms (every widget reconnects after a network blip). Raise with the account quota.
WEBSOCKET_RATE_LIMIT = 500
WEBSOCKET_BURST_LIMIT = 1000
# Tighter per route (requests per second, burst), still shared by every caller: a flood of new
# connections or new conversations cannot use the whole stage's share. Per visitor and per
# client limits are the chat service's (docs/security.md); per IP, nothing on API Gateway.
ROUTE_THROTTLES = {
    "$connect": (100, 200),  # each runs the authorizer and a connection write
    "startConversation": (50, 100),  # each pushes the new chat to every available agent
}


class Chat(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, manage_account_log_role: bool) -> None:
        super().__init__(scope, construct_id)
        self.api = apigwv2.WebSocketApi(
            self,
            "WebSocketApi",
            api_name=f"{Stack.of(self).stack_name}-chat",
            description="Parley chat: visitors (widget) and agents (console)",
            route_selection_expression=wiring.WEBSOCKET_ROUTE_SELECTION,
        )
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=wiring.WEBSOCKET_STAGE,
            auto_deploy=True,
            access_log_settings=access_logs(self, "AccessLogs", WEBSOCKET_FIELDS),
            throttle=apigwv2.ThrottleSettings(rate_limit=WEBSOCKET_RATE_LIMIT, burst_limit=WEBSOCKET_BURST_LIMIT),
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigwv2.CfnStage)
        cfn_stage.route_settings = {
            route: {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
            for route, (rate, burst) in ROUTE_THROTTLES.items()
        }
        if manage_account_log_role:
            self._account_log_role()

    def _account_log_role(self) -> None:
        """WebSocket (unlike HTTP) APIs log through the account-wide API Gateway CloudWatch role;
        without it the stage's access logging fails to deploy in a fresh account. Turn off with the
        context `parley:manageApiGatewayAccountRole: false` where the account already has one."""
        role = iam.Role(
            self,
            "ApiGatewayLogRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        # Account-wide setting: other APIs of the account may rely on the role after this stack goes.
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        account = apigw.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        self.stage.node.add_dependency(account)
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-level API Gateway logging role: API Gateway itself names the log groups it "
            "writes to, and AWS maintains this managed policy for exactly this role.",
        )

    def add_routes(
        self,
        functions: Mapping[str, lambda_.IFunction],
        routes: Sequence[wiring.WebSocketRoute] = wiring.WEBSOCKET_ROUTES,
        authorizer: wiring.WebSocketAuthorizer = wiring.WEBSOCKET_AUTHORIZER,
    ) -> None:
        # The $connect authorizer: its policy's context (the connection's identity) reaches every
        # later event as requestContext.authorizer. Identity sources: none (wiring explains why).
        self.authorizer = authorizers.WebSocketLambdaAuthorizer(
            "ConnectAuthorizer", functions[authorizer.function], identity_source=list(authorizer.identity_sources)
        )
        integration_of: dict[str, integrations.WebSocketLambdaIntegration] = {}
        for route in routes:
            if route.function not in integration_of:
                integration_of[route.function] = integrations.WebSocketLambdaIntegration(
                    f"{construct_name(route.function)}Integration", functions[route.function]
                )
            added = self.api.add_route(
                route.route_key,
                integration=integration_of[route.function],
                return_response=route.return_response,
                authorizer=self.authorizer if route.route_key == "$connect" else None,
            )
            if route.route_key in ROUTE_THROTTLES:  # the stage's route settings name it: it comes first
                self.stage.node.default_child.node.add_dependency(added)  # type: ignore[union-attr]
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "API Gateway allows an authorizer on $connect only: $connect has the Lambda REQUEST "
            "authorizer (chat_authorizer: widget key, Origin and signed visitor token for visitors; "
            "Cognito JWT via JWKS for agents), and every other route runs on a connection it let in, "
            "with the identity it returned (docs/protocol.md).",
        )
