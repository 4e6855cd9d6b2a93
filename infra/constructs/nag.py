"""Helpers for cdk-nag 3.x acknowledgments: every one names an exact finding and gives a reason.

cdk-nag 3 matches an acknowledgment on the flagged resource or any ancestor construct, and
multi-finding rules (IAM4, IAM5) need the exact finding id, e.g.
`AwsSolutions-IAM5[Resource::<DataTable1A2B3C.Arn>/index/*]`, where `<LogicalId.Arn>` is how
cdk-nag renders a `Fn::GetAtt` and `<LogicalId>` a `Ref`.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `scope` and everything below it."""
    if len(reason) < 20:
        raise ValueError(f"acknowledgment of {rule_id} needs a real reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def logical_id(element: IConstruct) -> str:
    """The logical id cdk-nag shows for a resource (`element` is an L2 or its CfnResource)."""
    cfn = element if isinstance(element, CfnElement) else element.node.default_child
    if not isinstance(cfn, CfnElement):
        raise TypeError(f"{element.node.path} has no CloudFormation element")
    # Resolve rather than Stack.get_logical_id: it honors override_logical_id (see data.py).
    resolved = Stack.of(cfn).resolve(cfn.logical_id)
    assert isinstance(resolved, str)
    return resolved


def attr_ref(element: IConstruct, attribute: str = "Arn") -> str:
    """cdk-nag's rendering of `Fn::GetAtt [element, attribute]` inside a finding id."""
    return f"<{logical_id(element)}.{attribute}>"


def ref(element: IConstruct) -> str:
    """cdk-nag's rendering of `Ref element` inside a finding id."""
    return f"<{logical_id(element)}>"
