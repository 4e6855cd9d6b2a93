"""The template's hardening (issue 11, part 8): no table scans, reserved concurrency for the money
path, CSP response headers with a narrow connect-src, retained log groups, per-route throttles,
the CloudFront web ACL (its own us-east-1 stack) in front of the sites and the HTTP API, MFA and
enforced threat protection, and acknowledgments scoped to exact resources."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra import wiring
from infra.constructs import http_api
from infra.constructs.chat import ROUTE_THROTTLES as WEBSOCKET_ROUTE_THROTTLES
from infra.constructs.chat import WEBSOCKET_RATE_LIMIT
from infra.constructs.function_factory import RESERVED_CONCURRENCY
from infra.constructs.waf import (
    ALL_PER_IP,
    API_PER_IP,
    EXPENSIVE_PATHS,
    EXPENSIVE_PER_IP,
    SESSION_PATH,
    SESSIONS_PER_IP,
)
from tests.infra.template import Resource, Synth, as_list, rendered, statements_of_role

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CloudFront's managed policies
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _statements(synth: Synth) -> list[Resource]:
    found: list[Resource] = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        found += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in synth.of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            found += policy["PolicyDocument"]["Statement"]
    return found


def test_no_role_may_scan_a_table(synth: Synth) -> None:
    """No code path scans (tests/unit/test_no_table_scans.py), so no grant allows it."""
    for statement in _statements(synth):
        for action in as_list(statement["Action"]):
            assert not re.fullmatch(action.replace("*", ".*"), "dynamodb:Scan"), statement


def test_the_money_path_has_reserved_concurrency_and_chat_does_not(synth: Synth) -> None:
    deployed = {name for name in RESERVED_CONCURRENCY if name in wiring.FUNCTIONS}
    assert {"billing_cycle", "late_charges", "defaults", "trial_end", "cancellation", "usage_meter",
            "stripe_webhook"} <= deployed
    for name in wiring.FUNCTIONS:
        props = synth.resources[synth.function_id(name)]["Properties"]
        assert props.get("ReservedConcurrentExecutions") == RESERVED_CONCURRENCY.get(name), name
    # What an account must allow (AWS keeps 100 unreserved): documented in docs/security.md.
    assert sum(RESERVED_CONCURRENCY.values()) == 66


def test_reserved_concurrency_can_be_turned_off_for_a_small_account() -> None:
    from aws_cdk import aws_lambda as lambda_

    from infra.app import build_app

    _, stack = build_app(context={"parley:reserveBillingConcurrency": "false"})
    cfn = stack.function_factory.functions["billing_cycle"].function.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction) and cfn.reserved_concurrent_executions is None


def test_every_log_group_is_retained_with_a_retention(synth: Synth) -> None:
    groups = synth.of_type("AWS::Logs::LogGroup")
    assert len(groups) > len(wiring.FUNCTIONS)  # functions, API access logs, workflows, deployments
    for logical_id, group in groups.items():
        assert group["DeletionPolicy"] == "Retain" and group["UpdateReplacePolicy"] == "Retain", logical_id
        assert group["Properties"]["RetentionInDays"] > 0, logical_id


def _csp_of(synth: Synth, behavior: Resource) -> dict[str, list[str]]:
    policy = synth.resources[behavior["ResponseHeadersPolicyId"]["Ref"]]["Properties"]
    csp = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    assert csp["Override"] is True
    return {d.split()[0]: d.split()[1:] for d in rendered(csp["ContentSecurityPolicy"]).split("; ")}


def _distribution(synth: Synth) -> Resource:
    (distribution,) = synth.of_type("AWS::CloudFront::Distribution").values()
    config: Resource = distribution["Properties"]["DistributionConfig"]
    return config


@pytest.mark.parametrize("site", ["console", "dashboard", "demo"])
def test_site_pages_carry_a_csp_whose_connect_src_is_the_site_and_the_websocket_api(synth: Synth, site: str) -> None:
    behaviors = {b["PathPattern"]: b for b in _distribution(synth)["CacheBehaviors"]}
    csp = _csp_of(synth, behaviors[f"/{site}/*"])
    stripe = ["https://api.stripe.com"] if site == "dashboard" else []
    assert csp["connect-src"] == ["'self'", "wss://<token>", *stripe]  # the stage's own domain
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in csp["script-src"] and "'unsafe-inline'" not in csp["script-src"]


def test_the_demo_pages_inline_script_is_allowed_by_its_hash_only(synth: Synth) -> None:
    behaviors = {b["PathPattern"]: b for b in _distribution(synth)["CacheBehaviors"]}
    scripts = _csp_of(synth, behaviors["/demo/*"])["script-src"]
    hashes = [s for s in scripts if s.startswith("'sha256-")]
    inline = sum(len(re.findall(r"<script>", p.read_text())) for p in wiring.STATIC_SITES["demo"].glob("*.html"))
    assert 1 <= len(hashes) <= inline


def test_the_http_api_is_reached_through_the_distribution_and_its_web_acl(synth: Synth) -> None:
    config = _distribution(synth)
    assert config["WebACLId"] == {"Ref": "CloudFrontWebAclArn"}
    parameter = synth.template["Parameters"]["CloudFrontWebAclArn"]
    assert re.fullmatch(parameter["AllowedPattern"], "arn:aws:wafv2:us-east-1:123456789012:global/webacl/parley/abc")
    assert not re.fullmatch(parameter["AllowedPattern"],
                            "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/parley/abc")
    api = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/*")
    assert api["CachePolicyId"] == CACHING_DISABLED  # so Authorization reaches the API, never a cache
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert {"POST", "DELETE", "PATCH", "OPTIONS"} <= set(api["AllowedMethods"])
    origin = next(o for o in config["Origins"] if o["Id"] == api["TargetOriginId"])
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert synth.logical_id(synth.stack.http_api.api) in json.dumps(origin["DomainName"])


def _edge(synth: Synth) -> Resource:
    template: Resource = json.loads((synth.outdir / "ParleyEdge.template.json").read_text())
    return template


def test_the_web_acl_is_cloudfront_scoped_in_us_east_1_with_per_ip_rate_rules(synth: Synth) -> None:
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    assert manifest["artifacts"]["ParleyEdge"]["environment"].endswith("/us-east-1")
    (acl,) = [r for r in _edge(synth)["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    props = acl["Properties"]
    assert props["Scope"] == "CLOUDFRONT" and props["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in props["Rules"]}
    assert len({rule["Priority"] for rule in props["Rules"]}) == len(rules)
    rates = {name: rule["Statement"]["RateBasedStatement"] for name, rule in rules.items()
             if "RateBasedStatement" in rule["Statement"]}
    assert {name: r["Limit"] for name, r in rates.items()} == {
        "ExpensivePerIp": EXPENSIVE_PER_IP, "SessionsPerIp": SESSIONS_PER_IP, "ApiPerIp": API_PER_IP,
        "AllPerIp": ALL_PER_IP}
    assert all(r["AggregateKeyType"] == "IP" for r in rates.values())
    assert all(rules[name]["Action"] == {"Block": {}} for name in rates)
    expensive = rates["ExpensivePerIp"]["ScopeDownStatement"]["OrStatement"]["Statements"]
    assert {s["ByteMatchStatement"]["SearchString"] for s in expensive} == set(EXPENSIVE_PATHS)
    sessions = rates["SessionsPerIp"]["ScopeDownStatement"]["ByteMatchStatement"]
    assert (sessions["SearchString"], sessions["PositionalConstraint"]) == (SESSION_PATH, "STARTS_WITH")
    api_scope = rates["ApiPerIp"]["ScopeDownStatement"]["ByteMatchStatement"]
    assert (api_scope["SearchString"], api_scope["PositionalConstraint"]) == ("/api/", "STARTS_WITH")
    managed = {rule["Statement"]["ManagedRuleGroupStatement"]["Name"] for rule in rules.values()
               if "ManagedRuleGroupStatement" in rule["Statement"]}
    assert managed == {"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                       "AWSManagedRulesKnownBadInputsRuleSet"}
    assert rules["AWSManagedRulesAmazonIpReputationList"]["Priority"] < rules["ExpensivePerIp"]["Priority"]


def _stage(synth: Synth, stage: Any) -> Resource:
    resource: Resource = synth.resources[synth.logical_id(stage)]
    return resource


def test_http_routes_that_cost_much_have_tighter_throttles(synth: Synth) -> None:
    stage = _stage(synth, synth.stack.http_api.stage)
    settings = stage["Properties"]["RouteSettings"]
    assert set(settings) == {"POST /api/signup", "POST /api/signup/verify", "POST /api/signup/resend",
                             "POST /api/auth/login", "POST /api/auth/mfa/setup", "POST /api/visitor/offline-message"}
    default = stage["Properties"]["DefaultRouteSettings"]
    for key, (rate, burst) in http_api.ROUTE_THROTTLES.items():
        assert settings[key] == {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
        assert rate < default["ThrottlingRateLimit"] and burst < default["ThrottlingBurstLimit"]
    routes = {lid for lid, r in synth.of_type("AWS::ApiGatewayV2::Route").items()
              if r["Properties"]["RouteKey"] in settings}
    assert len(routes) == len(settings) and routes <= set(as_list(stage["DependsOn"]))  # routes exist first


def test_websocket_connect_and_start_have_tighter_throttles(synth: Synth) -> None:
    stage = _stage(synth, synth.stack.chat.stage)
    settings = stage["Properties"]["RouteSettings"]
    assert set(settings) == {"$connect", "startConversation"}
    for key, (rate, burst) in WEBSOCKET_ROUTE_THROTTLES.items():
        assert settings[key] == {"ThrottlingRateLimit": rate, "ThrottlingBurstLimit": burst}
        assert rate < WEBSOCKET_RATE_LIMIT
    routes = {lid for lid, r in synth.of_type("AWS::ApiGatewayV2::Route").items()
              if r["Properties"]["RouteKey"] in settings}
    assert len(routes) == 2 and routes <= set(as_list(stage["DependsOn"]))


def test_user_pool_offers_totp_and_enforces_threat_protection(synth: Synth) -> None:
    pool = synth.resources[synth.logical_id(synth.stack.auth.user_pool)]["Properties"]
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # no SMS
    assert pool["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"


def test_the_site_deployment_invalidates_only_this_distribution(synth: Synth) -> None:
    role_id = synth.logical_id(synth.stack.hosting.deployment_role)
    statements = statements_of_role(synth, role_id)
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not any("*" in a for a in actions)  # no Get*/List*/Delete* prefixes
    assert "*" not in {str(r) for s in statements for r in as_list(s["Resource"])}
    invalidation = next(s for s in statements if "cloudfront:CreateInvalidation" in as_list(s["Action"]))
    assert synth.logical_id(synth.stack.hosting.distribution) in json.dumps(invalidation["Resource"])
