"""Every wiring function: ARM64, tracing, JSON logs with retention, layers, environment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra import wiring
from infra.constructs.function_factory import LAMBDA_PYTHON_VERSION, RUNTIME, uses_cognito
from infra.constructs.layers import MissingLambdaDependencies, deps_stamp
from tests.infra.template import Synth

pytestmark = pytest.mark.infra

FUNCTION_NAMES = sorted(wiring.FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_shape(synth: Synth, name: str) -> None:
    spec = wiring.FUNCTIONS[name]
    props = synth.resources[synth.function_id(name)]["Properties"]

    assert props["Runtime"] == f"python{LAMBDA_PYTHON_VERSION}"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.handler"
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_seconds
    assert props["Description"] == spec.description

    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert synth.resources[log_group_id]["Properties"]["RetentionInDays"] > 0

    layers = {layer["Ref"] for layer in props["Layers"]}
    assert layers == {synth.logical_id(synth.stack.layers.parley), synth.logical_id(synth.stack.layers.deps)}


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_own_role(synth: Synth, name: str) -> None:
    role_ids = {synth.resources[synth.function_id(n)]["Properties"]["Role"]["Fn::GetAtt"][0] for n in FUNCTION_NAMES}
    assert len(role_ids) == len(FUNCTION_NAMES), "functions share a role"
    role_id = synth.resources[synth.function_id(name)]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = synth.resources[role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, "no managed policies (AWSLambdaBasicExecutionRole allows any log group)"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_environment(synth: Synth, name: str) -> None:
    spec = wiring.FUNCTIONS[name]
    env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]

    assert env["POWERTOOLS_SERVICE_NAME"] == "parley"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Parley"
    table_vars = {t.env_var for t in wiring.TABLES.values()}
    assert {var for var in env if var in table_vars} == {wiring.TABLES[key].env_var for key in spec.tables}
    for key in spec.tables:
        assert env[wiring.TABLES[key].env_var] == {"Ref": wiring.TABLES[key].logical_id}

    cognito_vars = {"PARLEY_COGNITO_USER_POOL_ID", "PARLEY_COGNITO_CLIENT_ID", "PARLEY_COGNITO_REGION"}
    assert (cognito_vars <= env.keys()) is uses_cognito(spec)
    assert ("PARLEY_VISITOR_TOKEN_SECRET_NAME" in env) is spec.reads_visitor_token_secret
    assert ("PARLEY_WEBSOCKET_ENDPOINT" in env) is spec.manage_connections
    assert ("PARLEY_STRIPE_SECRET_NAME" in env) is spec.uses_stripe
    assert env["PARLEY_PROVIDER_TIME_ZONE"] == synth.stack.settings.provider_time_zone


def test_stripe_secret_env_is_a_reference(synth: Synth) -> None:
    secret_id = synth.logical_id(synth.stack.stripe.secret)
    for name, spec in wiring.FUNCTIONS.items():
        if spec.uses_stripe:
            env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]
            assert not isinstance(env["PARLEY_STRIPE_SECRET_NAME"], str)
            assert secret_id in json.dumps(env["PARLEY_STRIPE_SECRET_NAME"])


def test_cognito_env_for_jwt_verifiers_and_cognito_callers() -> None:
    assert uses_cognito(wiring.FUNCTIONS["chat_authorizer"])
    assert not uses_cognito(wiring.FUNCTIONS["chat_connect"])
    assert uses_cognito(wiring.FUNCTIONS["auth_login"])


def test_websocket_endpoint_env(synth: Synth) -> None:
    for name, spec in wiring.FUNCTIONS.items():
        if not spec.manage_connections:
            continue
        env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]
        parts = env["PARLEY_WEBSOCKET_ENDPOINT"]["Fn::Join"][1]
        assert parts[0] == "https://"
        assert parts[1] == {"Ref": synth.logical_id(synth.stack.chat.api)}
        assert parts[-1] == f"/{wiring.WEBSOCKET_STAGE}"


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_code_is_its_folder(synth: Synth, name: str) -> None:
    props = synth.resources[synth.function_id(name)]["Properties"]
    staged = synth.staged_asset(props["Code"]["S3Key"])
    source = wiring.FUNCTIONS[name].handler_file
    assert (staged / "handler.py").read_bytes() == source.read_bytes()
    assert not list(staged.rglob("__pycache__"))


def test_parley_layer_layout(synth: Synth) -> None:
    layer = synth.resources[synth.logical_id(synth.stack.layers.parley)]["Properties"]
    staged = synth.staged_asset(layer["Content"]["S3Key"])
    assert (staged / "python" / "parley" / "__init__.py").is_file()
    assert not list(staged.rglob("__pycache__"))
    assert not list(staged.rglob("*.egg-info"))
    assert layer["CompatibleArchitectures"] == ["arm64"]
    assert layer["CompatibleRuntimes"] == [RUNTIME.name]


def test_deps_layer_layout(synth: Synth) -> None:
    layer = synth.resources[synth.logical_id(synth.stack.layers.deps)]["Properties"]
    python = synth.staged_asset(layer["Content"]["S3Key"]) / "python"
    for package in ("pydantic", "pydantic_core", "aws_lambda_powertools", "stripe", "jwt", "cryptography"):
        assert (python / package).is_dir(), package
    # The runtime provides boto3/botocore; a second copy in /opt/python would shadow it.
    assert not (python / "boto3").exists()
    assert not (python / "botocore").exists()
    # Compiled for the Lambda runtime's ABI and architecture.
    abi = LAMBDA_PYTHON_VERSION.replace(".", "")
    assert list((python / "pydantic_core").glob(f"*.cpython-{abi}-aarch64-linux-gnu.so"))


def test_deps_script_targets_the_runtime_python() -> None:
    script = (wiring.REPO_ROOT / "infra" / "build_lambda_deps.sh").read_text()
    match = re.search(r"^PYTHON_VERSION=(\S+)", script, re.MULTILINE)
    assert match and match.group(1) == LAMBDA_PYTHON_VERSION
    assert "manylinux2014_aarch64" in script


def test_missing_deps_layer_names_the_build_command(tmp_path: Path) -> None:
    with pytest.raises(MissingLambdaDependencies, match=r"infra/build_lambda_deps\.sh"):
        deps_stamp(tmp_path / "lambda-deps")


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_function_environment_is_exactly_what_wiring_declares(synth: Synth, name: str) -> None:
    """The local runtime shows each invocation `wiring.environment_variables(spec)` and nothing else:
    the deployed function must have exactly those, or a handler could pass locally and fail on AWS."""
    env = synth.resources[synth.function_id(name)]["Properties"]["Environment"]["Variables"]
    assert set(env) == wiring.environment_variables(wiring.FUNCTIONS[name])
