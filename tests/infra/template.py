"""The synthesized app as the infra tests see it, and small template helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Resource = dict[str, Any]


@dataclass(frozen=True)
class Synth:
    outdir: Path
    stack: Any  # infra.stacks.parley_stack.ParleyStack
    template: Resource  # the CloudFormation template as JSON

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack.artifact_id}.template.json"

    @property
    def resources(self) -> dict[str, Resource]:
        resources: dict[str, Resource] = self.template["Resources"]
        return resources

    def of_type(self, cfn_type: str) -> dict[str, Resource]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == cfn_type}

    def logical_id(self, construct: Any) -> str:
        from infra.constructs.nag import logical_id

        return logical_id(construct)

    def function_id(self, name: str) -> str:
        """Logical id of the Lambda function of wiring.FUNCTIONS[name]."""
        return self.logical_id(self.stack.function_factory.functions[name].function)

    def assets(self) -> dict[str, Any]:
        manifest: dict[str, Any] = json.loads((self.outdir / f"{self.stack.artifact_id}.assets.json").read_text())
        return manifest

    def staged_asset(self, s3_key: str) -> Path:
        """The staged folder (or file) of an asset, from the S3 key the template uses for it:
        `<hash>.zip` for a folder, `<hash>.<ext>` for a single file."""
        asset = self.assets()["files"][s3_key.split(".", 1)[0]]
        return self.outdir / str(asset["source"]["path"])


def statements_of_role(synth: Synth, role_id: str) -> list[Resource]:
    """Every IAM statement attached to a role: its inline policies and the AWS::IAM::Policy
    resources naming it."""
    role = synth.resources[role_id]
    statements: list[Resource] = []
    for policy in role["Properties"].get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def rendered(value: Any) -> str:
    """A template string value as text: an `Fn::Join` joined, any other intrinsic as `<token>`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(rendered(part) for part in parts)
    return "<token>"
