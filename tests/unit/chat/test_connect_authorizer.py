"""The `$connect` authorizer's reply, as API Gateway reads it: Allow with the identity as a flat
context, a 401 ("Unauthorized" error) for missing or bad credentials, a Deny (403) otherwise."""

from __future__ import annotations

import pytest

from parley import ws
from parley.chat.identity import from_context
from parley.chat.models import Identity, Role
from parley.errors import ClientDisabled, Forbidden, OriginNotAllowed, ParleyError, Unauthorized, UnknownWidgetKey

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/live/$connect"
VISITOR = Identity(role=Role.VISITOR, user_id="v_1", client_ids=("cl_a",), name="Visitor")


def refuse(error: ParleyError) -> Identity:
    raise error


def test_an_allowed_connection_carries_its_identity_in_the_context() -> None:
    reply = ws.authorize_connect({"methodArn": ARN}, lambda: VISITOR)
    assert reply["principalId"] == "v_1"
    assert reply["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}]
    assert from_context(reply["context"]) == VISITOR


@pytest.mark.parametrize("error", [Unauthorized("visitorToken is required"), Unauthorized("the token has expired")])
def test_missing_or_bad_credentials_raise_unauthorized_for_a_401(error: ParleyError) -> None:
    with pytest.raises(ws.AuthorizerRefusal) as refused:
        ws.authorize_connect({"methodArn": ARN}, lambda: refuse(error))
    assert str(refused.value) == "Unauthorized"  # the exact message API Gateway maps to 401


@pytest.mark.parametrize("error", [OriginNotAllowed("x"), ClientDisabled("x"), UnknownWidgetKey("x"), Forbidden("x")])
def test_other_refusals_are_a_deny_policy_for_a_403(error: ParleyError) -> None:
    reply = ws.authorize_connect({"methodArn": ARN}, lambda: refuse(error))
    assert reply["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in reply


def test_an_unexpected_error_is_not_turned_into_an_allow() -> None:
    def broken() -> Identity:
        raise RuntimeError("DynamoDB is down")

    with pytest.raises(RuntimeError):  # API Gateway answers 500; the connection is not opened
        ws.authorize_connect({"methodArn": ARN}, broken)
