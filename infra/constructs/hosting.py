"""Static sites (`wiring.STATIC_SITES`): one private S3 bucket behind one CloudFront distribution.

Each site lives under its own prefix (`widget/`, `console/`, `demo/`) and has its own cache
behavior (`/widget/*`, ...). Built files are uploaded only if the site's folder exists at synth
time (front-end builds create widget/dist and console/dist); every site always gets a
`config.json` with the deploy-time endpoints, so the same build runs in any environment.

The same distribution fronts the HTTP API (`/api/*`, never cached), so that the AWS WAF web ACL
attached to it (infra/constructs/waf.py) covers the API too, and the sites' `apiUrl` is their own
origin. Every site page gets a Content-Security-Policy header whose `connect-src` names only that
origin and the WebSocket API's domain.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import wiring
from infra.constructs.function_factory import LOG_RETENTION, construct_name
from infra.constructs.nag import acknowledge, attr_ref

# Sites loaded into the clients' web pages: the loader lazily imports the chat UI and fetches
# config.json cross-origin (so CORS), and the UI may be framed there (so no X-Frame-Options).
EMBEDDABLE_SITES = frozenset({"widget"})

# What each page may load besides its own origin ('self'); connect-src is 'self' (the sites and
# the HTTP API share the distribution) and the WebSocket API, nothing else. The demo site is a
# client's website with the widget: its inline script is allowed by hash, and the widget's
# shadow-DOM <style> needs 'unsafe-inline' for styles there (styles cannot run code).
STRIPE_JS = "https://js.stripe.com"
SITE_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "console": {},
    "dashboard": {"script-src": (STRIPE_JS,), "frame-src": (STRIPE_JS, "https://hooks.stripe.com"),
                  "connect-src": ("https://api.stripe.com",)},
    "demo": {"style-src": ("'unsafe-inline'",)},
}


def inline_script_hashes(folder: Path) -> tuple[str, ...]:
    """CSP 'sha256-…' sources for the inline <script> elements of a site's HTML files."""
    found: set[str] = set()
    for page in sorted(folder.glob("*.html")) if folder.is_dir() else []:
        for body in re.findall(r"<script>(.*?)</script>", page.read_text(encoding="utf-8"), flags=re.S):
            found.add("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'")
    return tuple(sorted(found))


def content_security_policy(site: str, websocket_origin: str, folder: Path | None = None) -> str:
    extra = SITE_SOURCES.get(site, {})
    scripts = inline_script_hashes(folder) if folder is not None else ()
    directives = {
        "default-src": ("'self'",),
        "connect-src": ("'self'", websocket_origin, *extra.get("connect-src", ())),
        "script-src": ("'self'", *scripts, *extra.get("script-src", ())),
        "style-src": ("'self'", *extra.get("style-src", ())),
        "img-src": ("'self'", "data:"),
        "frame-src": extra.get("frame-src", ("'none'",)),
        "object-src": ("'none'",),
        "base-uri": ("'none'",),
        "form-action": ("'none'",),
        "frame-ancestors": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())

# REST-endpoint S3 origins have no index documents: map /console/ and /console/inbox to
# /console/index.html and /console/inbox/index.html. Paths with a file extension pass through.
_INDEX_REWRITE = """
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    request.uri = uri + '/index.html';
  }
  return request;
}
"""


@dataclass(frozen=True)
class Edge:
    """What the distribution fronts and is guarded by (deploy-time values)."""

    web_acl_arn: str  # the CLOUDFRONT web ACL (ParleyEdge stack, us-east-1)
    api_endpoint: str  # https://<id>.execute-api.<region>.amazonaws.com (the HTTP API)
    websocket_url: str  # wss://<id>.execute-api.<region>.amazonaws.com/<stage>


class Hosting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime_config: Mapping[str, str],
        edge: Edge,
        sites: Mapping[str, Path] = wiring.STATIC_SITES,
    ) -> None:
        super().__init__(scope, construct_id)
        web_acl_arn, api_endpoint = edge.web_acl_arn, edge.api_endpoint
        # wss://<id>.execute-api.<region>.amazonaws.com/<stage> -> its origin, for connect-src
        websocket_origin = "wss://" + Fn.select(2, Fn.split("/", edge.websocket_url))

        # Receives S3 server access logs and CloudFront standard logs. CloudFront standard logging
        # writes with ACLs, hence OBJECT_WRITER ownership on this bucket only.
        self.logs_bucket = s3.Bucket(
            self,
            "LogsBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.logs_bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging it into itself would log its own log "
            "deliveries, and a further bucket would only move the question one level down.",
        )

        self.bucket = s3.Bucket(
            self,
            "SiteBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix="s3/sites/",
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

        origin = origins.S3BucketOrigin.with_origin_access_control(self.bucket)
        index_rewrite = cloudfront.Function(
            self,
            "IndexRewrite",
            code=cloudfront.FunctionCode.from_inline(_INDEX_REWRITE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Directory URLs to index.html",
        )
        strict_headers = self._headers_policy(
            "StrictHeaders", embeddable=False, csp=content_security_policy("", websocket_origin))
        embeddable_headers = self._headers_policy("EmbeddableHeaders", embeddable=True)
        site_headers = {
            site: self._headers_policy(f"{construct_name(site)}Headers", embeddable=False,
                                       csp=content_security_policy(site, websocket_origin, folder))
            for site, folder in sites.items() if site in SITE_SOURCES
        }

        def behavior(headers: cloudfront.IResponseHeadersPolicy) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                compress=True,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=index_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            )

        def site_behavior(site: str) -> cloudfront.BehaviorOptions:
            if site in EMBEDDABLE_SITES:
                return behavior(embeddable_headers)
            return behavior(site_headers.get(site, strict_headers))

        # The HTTP API behind the same distribution: every method, nothing cached, every viewer
        # header but Host (API Gateway answers to its own name) — Authorization included, which
        # CloudFront forwards when caching is off.
        api = cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin(Fn.select(2, Fn.split("/", api_endpoint)),
                                      protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Parley static sites and HTTP API",
            default_behavior=behavior(strict_headers),
            additional_behaviors={"/api/*": api, **{f"/{site}/*": site_behavior(site) for site in sites}},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.logs_bucket,
            log_file_prefix="cloudfront/",
            web_acl_id=web_acl_arn,  # from the ParleyEdge stack (us-east-1): infra/constructs/waf.py
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "No geo restriction: the widget serves visitors of the clients' websites worldwide; "
            "which countries may chat is a per-client business decision, not an edge rule.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "Served on the default *.cloudfront.net certificate, for which CloudFront does not "
            "allow choosing the minimum TLS version; a custom domain with an ACM certificate and "
            "TLSv1.2_2021 is the production set-up and needs a domain this repo does not own.",
        )

        self.url = f"https://{self.distribution.distribution_domain_name}"
        # The sites call the API through this distribution (so through its web ACL).
        site_config = {**runtime_config, "apiUrl": self.url}
        self._deployment_role, self._deployment_logs = self._deployment_identity()
        for site, folder in sites.items():
            self._deploy_site(site, folder, site_config)
        self._acknowledge_deployment_handler()

    def _headers_policy(self, construct_id: str, *, embeddable: bool,
                        csp: str | None = None) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            comment="Parley embeddable site (widget)" if embeddable else "Parley site",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=csp, override=True) if csp else None,
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                frame_options=None
                if embeddable
                else cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
            ),
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_credentials=False,
                access_control_allow_headers=["*"],
                access_control_allow_methods=["GET", "HEAD"],
                access_control_allow_origins=["*"],
                origin_override=True,
            )
            if embeddable
            else None,
        )

    def _deployment_identity(self) -> tuple[iam.IRole, logs.LogGroup]:
        """One role and log group for the BucketDeployment handler (a CDK-provided Lambda with the
        AWS CLI layer), holding exactly what it does: read the CDK asset objects, sync the site
        bucket, invalidate this distribution, write its own log group. BucketDeployment gets it
        without policy updates: its own grants (S3 Get*/List*/Delete*, cloudfront:CreateInvalidation
        on '*') would be wider."""
        role = iam.Role(self, "DeploymentRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.deployment_role = role
        log_group = logs.LogGroup(self, "DeploymentLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN)
        log_group.grant_write(role)
        stack = Stack.of(self)
        qualifier = stack.synthesizer.bootstrap_qualifier or "hnb659fds"
        assets = f"arn:{stack.partition}:s3:::cdk-{qualifier}-assets-{stack.account}-{stack.region}"
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{assets}/*"]))
        role.add_to_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            resources=[self.bucket.arn_for_objects("*")]))
        role.add_to_policy(iam.PolicyStatement(
            actions=["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
            resources=[stack.format_arn(service="cloudfront", region="", resource="distribution",
                                        resource_name=self.distribution.distribution_id)]))
        policy = role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{attr_ref(self.bucket)}/*]",
            "Risk accepted: the deployment handler may read, write and delete any object of the site "
            "bucket (it mirrors each site's build under its prefix, deleting what the build no longer has).",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::"
            f"cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*]",
            "Risk accepted: the deployment handler may read any object of the CDK bootstrap asset bucket "
            "(asset keys are content hashes known only at deploy time); read only, no write.",
        )
        return role.without_policy_updates(), log_group

    def _acknowledge_deployment_handler(self) -> None:
        # The handler is a stack-level singleton Lambda that CDK owns; find it to acknowledge L1.
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("Custom::CDKBucketDeployment"):
                acknowledge(
                    child,
                    "AwsSolutions-L1",
                    "CDK's own BucketDeployment handler: its runtime is chosen by aws-cdk-lib (with "
                    "the matching AWS CLI layer) and moves with aws-cdk-lib upgrades.",
                )

    def _deploy_site(self, site: str, folder: Path, runtime_config: Mapping[str, str]) -> None:
        sources = [s3deploy.Source.json_data("config.json", dict(runtime_config))]
        built = folder.is_dir()
        if built:
            sources.insert(0, s3deploy.Source.asset(str(folder)))
        s3deploy.BucketDeployment(
            self,
            f"{construct_name(site)}Deployment",
            destination_bucket=self.bucket,
            destination_key_prefix=f"{site}/",
            sources=sources,
            # With the build present the prefix mirrors it exactly; without it (a config-only
            # deploy from a checkout without front-end builds) nothing already there is deleted.
            prune=built,
            distribution=self.distribution,
            distribution_paths=[f"/{site}/*"],
            memory_limit=512,
            role=self._deployment_role,
            log_group=self._deployment_logs,
        )
