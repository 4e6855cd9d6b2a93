"""Email on AWS: an SES identity with its configuration set, an SMTP user allowed to send from
that identity only, the SMTP secret readable by the `sends_email` functions only, and those
functions configured for SES's SMTP endpoint."""

from __future__ import annotations

import pytest

from infra import wiring
from tests.infra.template import Synth, as_list

pytestmark = pytest.mark.infra


def test_identity_uses_the_configuration_set(synth: Synth) -> None:
    (identity,) = synth.of_type("AWS::SES::EmailIdentity").values()
    (config_id,) = synth.of_type("AWS::SES::ConfigurationSet")
    assert identity["Properties"]["EmailIdentity"] == "parley.example.com"
    assert identity["Properties"]["ConfigurationSetAttributes"]["ConfigurationSetName"] == {"Ref": config_id}
    config = synth.resources[config_id]["Properties"]
    assert config["SuppressionOptions"]["SuppressedReasons"] == ["BOUNCE", "COMPLAINT"]


def test_smtp_user_may_only_send_raw_email_from_the_identity(synth: Synth) -> None:
    user_id = synth.logical_id(synth.stack.email.smtp_user)
    policies = [p["Properties"] for p in synth.of_type("AWS::IAM::ManagedPolicy").values()
                if {"Ref": user_id} in p["Properties"].get("Users", [])]
    (policy,) = policies
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and as_list(statement["Action"]) == ["ses:SendRawEmail"]
    assert len(as_list(statement["Resource"])) == 2  # the identity and the configuration set
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": "no-reply@parley.example.com"}}
    assert "LoginProfile" not in synth.resources[user_id].get("Properties", {})


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_email_settings_only_for_senders(synth: Synth, name: str) -> None:
    env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]
    if wiring.FUNCTIONS[name].sends_email:
        assert set(wiring.EMAIL_ENVIRONMENT) <= set(env)
        assert env["PARLEY_SMTP_PORT"] == "587" and env["PARLEY_SMTP_STARTTLS"] == "true"
        assert env["PARLEY_EMAIL_FROM"] == "no-reply@parley.example.com"
    else:
        assert not set(wiring.EMAIL_ENVIRONMENT) & set(env)


def test_senders_are_the_email_functions() -> None:
    assert {n for n, s in wiring.FUNCTIONS.items() if s.sends_email} == {"email_sender", "email_retry"}
