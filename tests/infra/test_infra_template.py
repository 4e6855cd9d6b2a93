"""Whole-template properties: cdk-nag, cfn-lint, no Docker, no literal secret, outputs, auth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import wiring
from tests.infra.template import Synth, statements_of_role

pytestmark = pytest.mark.infra


def test_cdk_nag_reported_nothing(synth: Synth) -> None:
    # The fixture already failed if cdk-nag raised; the report must also hold no violation.
    report = json.loads((synth.outdir / "validation-report.json").read_text())
    assert all(not plugin.get("violations") for plugin in report["pluginReports"]), report


def test_cdk_nag_plugin_fails_synth_on_a_finding(tmp_path: Path) -> None:
    """The mechanism build_app relies on: an unacknowledged finding makes synth raise."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    from infra.app import add_compliance_checks

    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Probe"), "Bucket")  # no access logs, no SSL enforcement
    add_compliance_checks(app)
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    assert "AwsSolutions-S1" in (tmp_path / "validation-report.json").read_text()


def test_every_acknowledgment_has_a_reason(synth: Synth) -> None:
    from aws_cdk import Validations

    acknowledged = [
        (construct.node.path, rule, reason)
        for construct in synth.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
    ]
    assert acknowledged
    for path, rule, reason in acknowledged:
        assert "AwsSolutions-" in rule, (path, rule)
        assert len(str(reason)) >= 40, (path, rule, reason)


def test_cfn_lint(synth: Synth) -> None:
    from cfnlint.api import ManualArgs, lint_file

    # W3005 (redundant DependsOn) is how CDK writes dependencies; nothing else is tolerated.
    matches = lint_file(synth.template_path, ManualArgs(ignore_checks=["W3005"]))
    assert not matches, "\n".join(str(m) for m in matches)


def test_no_docker_assets(synth: Synth) -> None:
    assets = synth.assets()
    assert not assets.get("dockerImages")
    for asset in assets["files"].values():
        # A plain folder or file staged by CDK: not built by a command or a container.
        assert set(asset["source"]) <= {"path", "packaging"}, asset
        assert (synth.outdir / asset["source"]["path"]).exists()
    assert not list(synth.outdir.glob("bundling-temp-*"))


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        for key, child in value.items():
            yield key, child
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def test_visitor_token_secret_is_generated(synth: Synth) -> None:
    secret = synth.resources[synth.logical_id(synth.stack.auth.visitor_token_secret)]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in secret
    # No secret value in the template: the one SecretString is the app client secret's GetAtt.
    client_secret = {"Fn::GetAtt": [synth.logical_id(synth.stack.auth.user_pool_client), "ClientSecret"]}
    assert [v for key, v in _walk(synth.template) if key == "SecretString"] == [client_secret]
    for name, spec in wiring.FUNCTIONS.items():
        if spec.reads_visitor_token_secret:
            env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]
            # A reference to the generated secret's name, never a value.
            assert not isinstance(env["PARLEY_VISITOR_TOKEN_SECRET_NAME"], str)
            assert synth.logical_id(synth.stack.auth.visitor_token_secret) in json.dumps(
                env["PARLEY_VISITOR_TOKEN_SECRET_NAME"]
            )


def test_app_client_secret_only_for_the_functions_that_sign_in(synth: Synth) -> None:
    """The app client's secret is in Secrets Manager (its value Cognito's, by GetAtt), its name in
    the environment of exactly the functions declaring reads_cognito_client_secret, and only their
    roles may read it."""
    secret_id = synth.logical_id(synth.stack.auth.client_secret)
    secret = synth.resources[secret_id]["Properties"]
    assert secret["SecretString"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.auth.user_pool_client),
                                                     "ClientSecret"]}
    signers = {name for name, spec in wiring.FUNCTIONS.items() if spec.reads_cognito_client_secret}
    assert signers == {"auth_login"}
    readers = set()
    for name in wiring.FUNCTIONS:
        env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]
        if "PARLEY_COGNITO_CLIENT_SECRET_NAME" in env:
            assert not isinstance(env["PARLEY_COGNITO_CLIENT_SECRET_NAME"], str)
            assert secret_id in json.dumps(env["PARLEY_COGNITO_CLIENT_SECRET_NAME"])
        role_id = synth.logical_id(synth.stack.function_factory.functions[name].role)
        for statement in statements_of_role(synth, role_id):
            if secret_id in json.dumps(statement.get("Resource")):
                assert "secretsmanager:GetSecretValue" in statement["Action"]
                readers.add(name)
        assert ("PARLEY_COGNITO_CLIENT_SECRET_NAME" in env) is (name in signers)
    assert readers == signers
    # Nothing else in the template refers to it (no output, no site config).
    referring = {lid for lid, r in synth.resources.items() if secret_id in json.dumps(r) and lid != secret_id}
    function_parts = {synth.function_id(n) for n in signers} | {
        lid for lid, r in synth.of_type("AWS::IAM::Policy").items() if secret_id in json.dumps(r)}
    assert referring <= function_parts
    assert secret_id not in json.dumps(synth.template.get("Outputs", {}))


def test_stripe_secret_is_a_generated_placeholder(synth: Synth) -> None:
    secret = synth.resources[synth.logical_id(synth.stack.stripe.secret)]
    props = secret["Properties"]
    assert "SecretString" not in props
    generated = props["GenerateSecretString"]
    # The deploy writes {"api_key": "", "webhook_secret": <random>}: no key in the template.
    assert json.loads(generated["SecretStringTemplate"]) == {"api_key": ""}
    assert generated["GenerateStringKey"] == "webhook_secret"
    assert generated["PasswordLength"] >= 32
    assert secret["DeletionPolicy"] == "Retain"  # holds values the operator pasted by hand
    assert not [v for _, v in _walk(synth.template) if isinstance(v, str) and v.startswith(("sk_", "rk_", "whsec_"))]


def test_outputs(synth: Synth) -> None:
    outputs = synth.template["Outputs"]
    assert {"WebSocketUrl", "HttpApiUrl", "CloudFrontUrl", "UserPoolId", "UserPoolClientId"} <= outputs.keys()
    assert synth.logical_id(synth.stack.stripe.secret) in json.dumps(outputs["StripeSecretName"]["Value"])
    assert outputs["UserPoolId"]["Value"] == {"Ref": synth.logical_id(synth.stack.auth.user_pool)}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": synth.logical_id(synth.stack.auth.user_pool_client)}
    assert outputs["WebSocketUrl"]["Value"]["Fn::Join"][1][0] == "wss://"


def test_user_pool(synth: Synth) -> None:
    pool = synth.resources[synth.logical_id(synth.stack.auth.user_pool)]
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert pool["DeletionPolicy"] == "Retain"
    client = synth.resources[synth.logical_id(synth.stack.auth.user_pool_client)]["Properties"]
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]
    assert "ALLOW_USER_SRP_AUTH" not in client["ExplicitAuthFlows"]
    # Confidential: sign-in needs the secret's SECRET_HASH, so only auth_login can sign anyone in.
    assert client["GenerateSecret"] is True
    groups = {g["Properties"]["GroupName"] for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"admins", "supervisors", "agents", "clients"}
