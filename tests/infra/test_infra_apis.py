"""The WebSocket and HTTP APIs carry exactly the wiring's routes, to the wiring's functions."""

from __future__ import annotations

from typing import Any

import pytest

from infra import wiring
from tests.infra.template import Resource, Synth

pytestmark = pytest.mark.infra


def _api_children(synth: Synth, cfn_type: str, api: Any) -> dict[str, Resource]:
    api_id = synth.logical_id(api)
    return {lid: r for lid, r in synth.of_type(cfn_type).items() if r["Properties"]["ApiId"] == {"Ref": api_id}}


def _integration_function(synth: Synth, route: Resource) -> str:
    """Logical id of the Lambda function a route's integration invokes."""
    target = route["Properties"]["Target"]["Fn::Join"][1]
    integration = synth.resources[target[1]["Ref"]]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    uri = integration["IntegrationUri"]
    if "Fn::GetAtt" in uri:  # HTTP API
        return str(uri["Fn::GetAtt"][0])
    parts = uri["Fn::Join"][1]  # WebSocket API: arn:...:apigateway:region:lambda:path/.../functions/<arn>/invocations
    (function_arn,) = [p for p in parts if isinstance(p, dict) and "Fn::GetAtt" in p]
    return str(function_arn["Fn::GetAtt"][0])


def test_websocket_api(synth: Synth) -> None:
    (api,) = [
        r["Properties"]
        for r in synth.of_type("AWS::ApiGatewayV2::Api").values()
        if r["Properties"]["ProtocolType"] == "WEBSOCKET"
    ]
    assert api["RouteSelectionExpression"] == wiring.WEBSOCKET_ROUTE_SELECTION


def test_websocket_routes(synth: Synth) -> None:
    routes = _api_children(synth, "AWS::ApiGatewayV2::Route", synth.stack.chat.api)
    by_key = {r["Properties"]["RouteKey"]: (lid, r) for lid, r in routes.items()}
    assert sorted(by_key) == sorted(route.route_key for route in wiring.WEBSOCKET_ROUTES)
    assert {"$connect", "$disconnect", "$default"} <= by_key.keys()

    responses = _api_children(synth, "AWS::ApiGatewayV2::RouteResponse", synth.stack.chat.api)
    routes_with_response = {r["Properties"]["RouteId"]["Ref"] for r in responses.values()}
    for route in wiring.WEBSOCKET_ROUTES:
        logical_id, resource = by_key[route.route_key]
        assert _integration_function(synth, resource) == synth.function_id(route.function), route
        assert (logical_id in routes_with_response) is route.return_response, route
        if route.return_response:
            assert resource["Properties"]["RouteResponseSelectionExpression"] == "$default"


def test_connect_has_the_lambda_request_authorizer_and_no_other_route_has_one(synth: Synth) -> None:
    (authorizer_id, authorizer), = _api_children(synth, "AWS::ApiGatewayV2::Authorizer", synth.stack.chat.api).items()
    props = authorizer["Properties"]
    assert props["AuthorizerType"] == "REQUEST"
    # No identity sources: one missing source would make API Gateway answer 401 without calling the
    # function, and visitors and agents send different query parameters.
    assert props.get("IdentitySource", []) == list(wiring.WEBSOCKET_AUTHORIZER.identity_sources) == []
    uri_parts = props["AuthorizerUri"]["Fn::Join"][1]
    (function_arn,) = [p for p in uri_parts if isinstance(p, dict) and "Fn::GetAtt" in p]
    assert function_arn["Fn::GetAtt"][0] == synth.function_id(wiring.WEBSOCKET_AUTHORIZER.function)
    routes = _api_children(synth, "AWS::ApiGatewayV2::Route", synth.stack.chat.api)
    for route in routes.values():
        route_props = route["Properties"]
        if route_props["RouteKey"] == "$connect":
            assert route_props["AuthorizationType"] == "CUSTOM"
            assert route_props["AuthorizerId"] == {"Ref": authorizer_id}
        else:
            assert route_props.get("AuthorizationType", "NONE") == "NONE", route_props["RouteKey"]
    # API Gateway may invoke the authorizer function, from this API only.
    invoke = [r["Properties"] for r in synth.of_type("AWS::Lambda::Permission").values()
              if r["Properties"]["FunctionName"] == {"Fn::GetAtt": [synth.function_id("chat_authorizer"), "Arn"]}]
    assert invoke and all(p["Principal"] == "apigateway.amazonaws.com" for p in invoke)
    assert all(synth.logical_id(synth.stack.chat.api) in str(p["SourceArn"]) for p in invoke)


def test_websocket_stage(synth: Synth) -> None:
    (stage,) = _api_children(synth, "AWS::ApiGatewayV2::Stage", synth.stack.chat.api).values()
    props = stage["Properties"]
    assert props["StageName"] == wiring.WEBSOCKET_STAGE
    assert props["AutoDeploy"] is True
    assert "$context.connectionId" in props["AccessLogSettings"]["Format"]
    assert props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][1] == "Arn"
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert props["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0


def test_http_routes(synth: Synth) -> None:
    routes = _api_children(synth, "AWS::ApiGatewayV2::Route", synth.stack.http_api.api)
    by_key = {r["Properties"]["RouteKey"]: r for r in routes.values()}
    assert sorted(by_key) == sorted(f"{route.method} {route.path}" for route in wiring.HTTP_ROUTES)
    for route in wiring.HTTP_ROUTES:
        resource = by_key[f"{route.method} {route.path}"]
        assert resource["Properties"].get("AuthorizationType", "NONE") == "NONE"  # handlers verify JWTs
        assert _integration_function(synth, resource) == synth.function_id(route.function), route


def test_billing_routes(synth: Synth) -> None:
    routes = _api_children(synth, "AWS::ApiGatewayV2::Route", synth.stack.http_api.api)
    by_key = {r["Properties"]["RouteKey"]: r for r in routes.values()}
    for key, function in {
        "POST /api/stripe/webhook": "stripe_webhook",
        "GET /api/client/billing": "client_billing",
        "POST /api/client/billing/portal": "client_billing",
    }.items():
        assert _integration_function(synth, by_key[key]) == synth.function_id(function), key


def test_client_account_routes(synth: Synth) -> None:
    routes = _api_children(synth, "AWS::ApiGatewayV2::Route", synth.stack.http_api.api)
    by_key = {r["Properties"]["RouteKey"]: r for r in routes.values()}
    for key in (
        "POST /api/signup",
        "POST /api/client/plan",
        "POST /api/client/payment-method",
        "POST /api/client/notice",
        "DELETE /api/client/notice",
        "GET /api/client/export",
    ):
        assert _integration_function(synth, by_key[key]) == synth.function_id("client_account"), key


def test_http_api_cors_and_stage(synth: Synth) -> None:
    api = synth.resources[synth.logical_id(synth.stack.http_api.api)]["Properties"]
    cors = api["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["*"]  # cdk.json parley:corsAllowOrigins
    assert set(cors["AllowMethods"]) == {route.method for route in wiring.HTTP_ROUTES}
    assert "AllowCredentials" not in cors
    (stage,) = _api_children(synth, "AWS::ApiGatewayV2::Stage", synth.stack.http_api.api).values()
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert "$context.requestId" in props["AccessLogSettings"]["Format"]
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_lambda_permissions_scoped_to_apis(synth: Synth) -> None:
    api_ids = {synth.logical_id(synth.stack.chat.api), synth.logical_id(synth.stack.http_api.api)}
    permissions = synth.of_type("AWS::Lambda::Permission").values()
    assert permissions
    for permission in permissions:
        props = permission["Properties"]
        assert props["Principal"] == "apigateway.amazonaws.com"
        source = str(props["SourceArn"])
        assert any(api_id in source for api_id in api_ids)
