"""Access logging shared by the WebSocket and HTTP APIs."""

from __future__ import annotations

import json

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.function_factory import LOG_RETENTION

# One JSON object per request/frame. $context variables differ per API type; the extra keys are
# the ones meaningful for each (connection and event for WebSocket, method/path for HTTP).
_COMMON_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
}
WEBSOCKET_FIELDS = {
    **_COMMON_FIELDS,
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "integrationLatency": "$context.integrationLatency",
}
HTTP_FIELDS = {
    **_COMMON_FIELDS,
    "method": "$context.httpMethod",
    "path": "$context.path",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogSettings:
    """apigatewayv2's IAccessLogSettings has no concrete class; this is the typed equivalent."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, format: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = format

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def access_logs(scope: Construct, construct_id: str, fields: dict[str, str]) -> AccessLogSettings:
    # Retained: access logs are the record of who called the API; they outlive the stack.
    log_group = logs.LogGroup(scope, construct_id, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN)
    return AccessLogSettings(
        apigwv2.LogGroupLogDestination(log_group),
        apigw.AccessLogFormat.custom(json.dumps(fields, separators=(",", ":"))),
    )
