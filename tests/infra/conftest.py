"""Synthesizes the CDK app once per test session (cdk-nag runs inside that synthesis, so any
unacknowledged finding fails every infra test) and offers the template in handy shapes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.infra.template import Resource, Synth

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
# Any Docker bundling would run this and fail synth: assets must be built locally.
os.environ.setdefault("CDK_DOCKER", "/bin/false")


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir)
    try:
        assembly = app.synth()
    except Exception as error:  # jsii surfaces cdk-nag's ValidationFailed as a RuntimeError
        report = outdir / "validation-report.json"
        details = report.read_text() if report.is_file() else "(no validation report)"
        pytest.fail(f"synth failed: {error}\n{details}", pytrace=False)
    template: Resource = assembly.get_stack_artifact(stack.artifact_id).template
    yield Synth(outdir=outdir, stack=stack, template=template)
