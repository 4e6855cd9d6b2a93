"""The CloudFront web ACL (AWS WAF, scope CLOUDFRONT) in front of the sites and the HTTP API.

A CLOUDFRONT-scope web ACL can only be created in us-east-1, while the Parley stack deploys to
any region; so it lives in its own stack (`ParleyEdge`, infra/stacks/edge_stack.py, pinned to
us-east-1) and the Parley stack attaches it by ARN (its CloudFormation parameter
`CloudFrontWebAclArn`, docs/security.md). The HTTP API is reached through the same CloudFront
distribution (`/api/*`), so these rules apply to it too: API Gateway HTTP APIs cannot carry a
web ACL themselves.

Rules, in order: Amazon's IP reputation list; per-IP rate limits (tight on the paths that create
accounts, guess passwords or send email; looser on the API; loosest on everything); then AWS's
common and known-bad-inputs rule groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Requests per client IP per 5-minute window (WAF's rate-based rules; the smallest limit is 10).
EXPENSIVE_PATHS = ("/api/signup", "/api/auth/login", "/api/visitor/offline-message")
EXPENSIVE_PER_IP = 100  # signup, login, offline message: a person needs a handful
# Page views: every page with the widget asks for a visitor session (a read: the function
# cannot write, so this limit is the edge's); 600 per 5 minutes is 2 a second from one address.
SESSION_PATH = "/api/visitor/session"
SESSIONS_PER_IP = 600
API_PER_IP = 3000  # every /api/ request: a dashboard or a visitor session, ~10 a second at most
ALL_PER_IP = 6000  # the sites' files too (cached at the edge, but counted)
# Managed rules that would refuse real traffic: chat text and offline messages may carry markup
# (the apps render them as text), and an export or a portal reply is not a request body. Counted.
COMMON_RULES_COUNTED = ("CrossSiteScripting_BODY", "SizeRestrictions_BODY")


@dataclass(frozen=True)
class RateRule:
    name: str
    limit: int
    path_prefixes: tuple[str, ...] = ()  # empty: every request


RATE_RULES = (
    RateRule("ExpensivePerIp", EXPENSIVE_PER_IP, EXPENSIVE_PATHS),
    RateRule("SessionsPerIp", SESSIONS_PER_IP, (SESSION_PATH,)),
    RateRule("ApiPerIp", API_PER_IP, ("/api/",)),
    RateRule("AllPerIp", ALL_PER_IP),
)


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=f"Parley{name}", sampled_requests_enabled=True
    )


def _starts_with(prefix: str) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH",
            search_string=prefix,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _rate_rule(rule: RateRule, priority: int) -> wafv2.CfnWebACL.RuleProperty:
    scope_down = None
    if len(rule.path_prefixes) == 1:
        scope_down = _starts_with(rule.path_prefixes[0])
    elif rule.path_prefixes:
        scope_down = wafv2.CfnWebACL.StatementProperty(
            or_statement=wafv2.CfnWebACL.OrStatementProperty(
                statements=[_starts_with(prefix) for prefix in rule.path_prefixes]
            )
        )
    return wafv2.CfnWebACL.RuleProperty(
        name=rule.name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="IP", limit=rule.limit, evaluation_window_sec=300, scope_down_statement=scope_down
            )
        ),
        visibility_config=_visibility(rule.name),
    )


def _managed(name: str, priority: int, counted: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                    )
                    for rule in counted
                ]
                or None,
            )
        ),
        visibility_config=_visibility(name),
    )


class CloudFrontWebAcl(Construct):
    """The web ACL; its stack must be in us-east-1 (CloudFormation refuses CLOUDFRONT elsewhere)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        rules = [_managed("AWSManagedRulesAmazonIpReputationList", 0)]
        rules += [_rate_rule(rule, priority) for priority, rule in enumerate(RATE_RULES, start=1)]
        rules += [
            _managed("AWSManagedRulesCommonRuleSet", 10, COMMON_RULES_COUNTED),
            _managed("AWSManagedRulesKnownBadInputsRuleSet", 11),
        ]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            description="Parley: per-IP rate limits and AWS managed rules in front of the sites and the HTTP API",
            visibility_config=_visibility("WebAcl"),
            rules=rules,
        )
        self.arn = self.web_acl.attr_arn
