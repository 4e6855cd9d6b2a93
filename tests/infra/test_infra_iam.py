"""Least privilege: each function's role allows exactly what its FunctionSpec declares."""

from __future__ import annotations

from typing import Any

import pytest

from infra import wiring
from tests.infra.template import Resource, Synth, as_list, statements_of_role

pytestmark = pytest.mark.infra

DYNAMODB_WRITE = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}
# Stream actions: only the stream subscribers have them (test_infra_streams.py), never with items.
DYNAMODB_STREAM = {
    "dynamodb:ListStreams",
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
}
SUBSCRIBERS = {sub.function for sub in wiring.STREAM_SUBSCRIPTIONS}


def _role_id(synth: Synth, name: str) -> str:
    return synth.logical_id(synth.stack.function_factory.functions[name].role)


def _statements(synth: Synth, name: str) -> list[Resource]:
    return statements_of_role(synth, _role_id(synth, name))


def _actions(statements: list[Resource]) -> set[str]:
    return {action for s in statements for action in as_list(s["Action"])}


def _mentions(resource: Any, logical_id: str) -> bool:
    """Whether a (possibly intrinsic) IAM resource expression refers to a logical id."""
    if isinstance(resource, dict):
        if resource.get("Ref") == logical_id:
            return True
        if "Fn::GetAtt" in resource and resource["Fn::GetAtt"][0] == logical_id:
            return True
        return any(_mentions(v, logical_id) for v in resource.values())
    if isinstance(resource, list):
        return any(_mentions(v, logical_id) for v in resource)
    return False


def test_all_statements_allow(synth: Synth) -> None:
    for name in wiring.FUNCTIONS:
        for statement in _statements(synth, name):
            assert statement["Effect"] == "Allow"


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_dynamodb_grants_match_spec(synth: Synth, name: str) -> None:
    spec = wiring.FUNCTIONS[name]
    statements = [
        s
        for s in _statements(synth, name)
        if any(a.startswith("dynamodb:") and a not in DYNAMODB_STREAM for a in as_list(s["Action"]))
    ]
    for statement in statements:
        assert all(a.startswith("dynamodb:") for a in as_list(statement["Action"])), "mixed statement"
        assert not set(as_list(statement["Action"])) & DYNAMODB_STREAM, "stream actions on items"
        for key, table in wiring.TABLES.items():
            if _mentions(statement["Resource"], table.logical_id):
                assert key in spec.tables, f"{name} may touch undeclared table {key}"
                if spec.tables[key] is wiring.Access.READ:
                    assert not set(as_list(statement["Action"])) & DYNAMODB_WRITE, f"{name} may write {key}"
        resources = as_list(statement["Resource"])
        assert all(any(_mentions(r, wiring.TABLES[key].logical_id) for key in spec.tables) for r in resources), (
            f"{name}: a DynamoDB resource that is not one of its tables"
        )
    for key, access in spec.tables.items():
        on_table = [s for s in statements if _mentions(s["Resource"], wiring.TABLES[key].logical_id)]
        granted = _actions(on_table)
        assert {"dynamodb:GetItem", "dynamodb:Query"} <= granted, f"{name} cannot read {key}"
        assert (granted >= DYNAMODB_WRITE) is (access is wiring.Access.WRITE)


def test_visitor_session_cannot_write(synth: Synth) -> None:
    assert not _actions(_statements(synth, "visitor_session")) & DYNAMODB_WRITE


def test_auth_login_reaches_the_data_table_only(synth: Synth) -> None:
    """Failed-sign-in counters and TOTP setups in progress (parley.auth.login); no other table."""
    table = wiring.TABLES["data"].logical_id
    on_tables = [s for s in _statements(synth, "auth_login")
                 if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert on_tables and all(_mentions(s["Resource"], table) for s in on_tables)


def test_manage_connections_only_where_declared(synth: Synth) -> None:
    api_id = synth.logical_id(synth.stack.chat.api)
    for name, spec in wiring.FUNCTIONS.items():
        statements = [s for s in _statements(synth, name) if "execute-api:ManageConnections" in as_list(s["Action"])]
        assert bool(statements) is spec.manage_connections, name
        for statement in statements:
            assert as_list(statement["Action"]) == ["execute-api:ManageConnections"]
            (resource,) = as_list(statement["Resource"])
            assert _mentions(resource, api_id)
            assert resource["Fn::Join"][1][-1] == f"/{wiring.WEBSOCKET_STAGE}/*/@connections/*"
    # the relay, and the admin API (disabling an agent closes their connections)
    assert {"chat_message", "admin_api"} <= {n for n, s in wiring.FUNCTIONS.items() if s.manage_connections}


def test_cognito_actions_exact_on_user_pool(synth: Synth) -> None:
    pool_id = synth.logical_id(synth.stack.auth.user_pool)
    for name, spec in wiring.FUNCTIONS.items():
        statements = [
            s for s in _statements(synth, name) if any(a.startswith("cognito-idp:") for a in as_list(s["Action"]))
        ]
        assert _actions(statements) == set(spec.cognito_actions), name
        for statement in statements:
            assert as_list(statement["Resource"]) == [{"Fn::GetAtt": [pool_id, "Arn"]}]


def test_secret_read_only_where_declared(synth: Synth) -> None:
    visitor_token = {"Ref": synth.logical_id(synth.stack.auth.visitor_token_secret)}
    stripe = {"Ref": synth.logical_id(synth.stack.stripe.secret)}
    smtp = {"Ref": synth.logical_id(synth.stack.email.secret)}
    client_secret = {"Ref": synth.logical_id(synth.stack.auth.client_secret)}
    for name, spec in wiring.FUNCTIONS.items():
        statements = [
            s for s in _statements(synth, name) if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
        ]
        readable = [r for s in statements for r in as_list(s["Resource"])]
        assert (visitor_token in readable) is spec.reads_visitor_token_secret, name
        assert (stripe in readable) is spec.uses_stripe, name
        assert (smtp in readable) is spec.sends_email, name
        assert (client_secret in readable) is spec.reads_cognito_client_secret, name
        assert all(r in (visitor_token, stripe, smtp, client_secret) for r in readable), name
        for statement in statements:
            assert _actions([statement]) <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


def test_stripe_readers() -> None:
    assert {n for n, s in wiring.FUNCTIONS.items() if s.uses_stripe} == {
        "collection_worker",  # the billing day's collection (billing_cycle only queues it)
        "late_charges",
        "defaults",  # voids the cut-off cycle's invoice in Stripe at default (CO-10)
        "stripe_webhook",
        "client_billing",
        "usage_meter",
        "client_account",
        "trial_end",
        "cancellation",
    }


def test_client_account_cognito_actions(synth: Synth) -> None:
    """Signup creates the client's user and sets its password (deleting it if anything fails),
    looks an email up, and at the code's check marks the email verified and puts the user in the
    clients group: exactly these actions, on the Parley user pool only."""
    pool_arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.auth.user_pool), "Arn"]}
    grants = {
        (action, str(resource))
        for s in _statements(synth, "client_account")
        for action in as_list(s["Action"])
        if action.startswith("cognito-idp:")
        for resource in as_list(s["Resource"])
    }
    assert grants == {
        (f"cognito-idp:{action}", str(pool_arn))
        for action in ("AdminCreateUser", "AdminSetUserPassword", "AdminAddUserToGroup", "AdminDeleteUser",
                       "ListUsers", "AdminListGroupsForUser", "AdminUpdateUserAttributes")
    }


def test_exports_writers_put_and_get_export_objects_only(synth: Synth) -> None:
    bucket_arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.data.exports_bucket), "Arn"]}
    for name, spec in wiring.FUNCTIONS.items():
        grants = [(action, resource) for s in _statements(synth, name) for action in as_list(s["Action"])
                  if action.startswith("s3:") for resource in as_list(s["Resource"])]
        if not spec.writes_exports:
            assert grants == [], name
            continue
        assert sorted(a for a, _ in grants) == ["s3:GetObject", "s3:PutObject"], name
        assert all(r == {"Fn::Join": ["", [bucket_arn, "/*"]]} for _, r in grants), grants
    assert [n for n, spec in wiring.FUNCTIONS.items() if spec.writes_exports] == ["client_account"]


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_nothing_else(synth: Synth, name: str) -> None:
    """Logs to its own group, X-Ray, and the services above (SQS: a stream subscriber's
    failed-records queue; Step Functions: a workflow starter, test_infra_workflows.py): no other
    service appears."""
    allowed_prefixes = ("logs:", "xray:", "dynamodb:", "execute-api:", "cognito-idp:", "secretsmanager:", "sqs:")
    if wiring.FUNCTIONS[name].starts_workflows:
        allowed_prefixes += ("states:",)
    if wiring.FUNCTIONS[name].writes_exports:
        allowed_prefixes += ("s3:",)
    assert all(a.startswith(allowed_prefixes) for a in _actions(_statements(synth, name)))
    # What may have Resource '*': X-Ray (no resource-level permissions) and, for a stream
    # subscriber, dynamodb:ListStreams (CDK's stream grant; it lists stream ARNs, reads nothing).
    wildcard_allowed = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    if name in SUBSCRIBERS:
        wildcard_allowed.add("dynamodb:ListStreams")
    log_group_id = synth.logical_id(synth.stack.function_factory.functions[name].log_group)
    for statement in _statements(synth, name):
        if any(a.startswith("logs:") for a in as_list(statement["Action"])):
            assert as_list(statement["Resource"]) == [{"Fn::GetAtt": [log_group_id, "Arn"]}]
        if "*" in as_list(statement["Resource"]):
            assert _actions([statement]) <= wildcard_allowed
