"""ParleyEdge: what CloudFront needs from us-east-1 — the web ACL (AWS WAF scope CLOUDFRONT).

Deploy it first (`cdk deploy ParleyEdge`), then the Parley stack in any region with its output
`WebAclArn` as the parameter `CloudFrontWebAclArn` (or the context parley:cloudFrontWebAclArn),
docs/security.md.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.constructs.waf import CloudFrontWebAcl

EDGE_REGION = "us-east-1"  # CloudFront's global resources (WAF scope CLOUDFRONT) live here only


class ParleyEdgeStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if self.region != EDGE_REGION:
            raise ValueError(f"{construct_id} must deploy to {EDGE_REGION} (WAF scope CLOUDFRONT), not {self.region}")
        self.web_acl = CloudFrontWebAcl(self, "Waf")
        CfnOutput(self, "WebAclArn", value=self.web_acl.arn,
                  description="Pass to the Parley stack as its CloudFrontWebAclArn parameter")
