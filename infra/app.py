"""The Parley CDK app: `.venv/bin/python -m infra.app` (what cdk.json runs) synthesizes offline,
without Docker, with cdk-nag's AwsSolutionsChecks as a validation plugin (a finding that is
not acknowledged with a reason fails synth).

Two stacks: `Parley` (any region) and `ParleyEdge` (us-east-1: the CloudFront web ACL, whose ARN
`Parley` takes as its parameter CloudFrontWebAclArn; docs/security.md)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script (`python infra/app.py`): sys.path[0] is infra/, where our `constructs`
    # package would shadow the `constructs` library. Put the repository root there instead.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra import wiring
from infra.stacks.edge_stack import EDGE_REGION, ParleyEdgeStack
from infra.stacks.parley_stack import ParleyStack

STACK_NAME = "Parley"
EDGE_STACK_NAME = "ParleyEdge"
CDK_JSON = wiring.REPO_ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context: the CLI passes it itself; a direct run (tests, `make synth`) must too."""
    if not CDK_JSON.is_file():
        return {}
    context = json.loads(CDK_JSON.read_text()).get("context", {})
    assert isinstance(context, dict)
    return context


def add_compliance_checks(app: App) -> None:
    """cdk-nag AwsSolutions as a validation plugin: `app.synth()` raises on any finding that is
    not acknowledged (infra/constructs/nag.py) and writes validation-report.json."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def build_app(
    outdir: str | os.PathLike[str] | None = None,
    *,
    context: dict[str, Any] | None = None,
    schedules: Sequence[wiring.Schedule] = wiring.SCHEDULES,
) -> tuple[App, ParleyStack]:
    """The app and its one stack, not yet synthesized; `app.synth()` runs cdk-nag."""
    app = App(
        outdir=None if outdir is None else str(outdir),
        context={**cdk_json_context(), **(context or {})},
    )
    stack = ParleyStack(
        app,
        STACK_NAME,
        description="Parley: serverless live chat and contract billing (APIs, DynamoDB, Cognito, Stripe, sites)",
        schedules=schedules,
    )
    ParleyEdgeStack(
        app,
        EDGE_STACK_NAME,
        description="Parley edge: the CloudFront web ACL (AWS WAF, scope CLOUDFRONT, us-east-1 only)",
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=EDGE_REGION),
    )
    add_compliance_checks(app)
    return app, stack


def main() -> None:
    # Under the CDK CLI, CDK_OUTDIR is set and App() picks it up; run directly, write ./cdk.out.
    outdir = None if "CDK_OUTDIR" in os.environ else wiring.REPO_ROOT / "cdk.out"
    app, _ = build_app(outdir)
    app.synth()


if __name__ == "__main__":
    main()
