"""Static sites (`wiring.STATIC_SITES`): one private S3 bucket behind one CloudFront distribution.

Each site lives under its own prefix (`widget/`, `console/`, `demo/`) and has its own cache
behavior (`/widget/*`, ...). Built files are uploaded only if the site's folder exists at synth
time (front-end builds create widget/dist and console/dist); every site always gets a
`config.json` with the deploy-time endpoints, so the same build runs in any environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
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


class Hosting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime_config: Mapping[str, str],
        sites: Mapping[str, Path] = wiring.STATIC_SITES,
    ) -> None:
        super().__init__(scope, construct_id)

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
        strict_headers = self._headers_policy("StrictHeaders", embeddable=False)
        embeddable_headers = self._headers_policy("EmbeddableHeaders", embeddable=True)

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

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Parley static sites",
            default_behavior=behavior(strict_headers),
            additional_behaviors={
                f"/{site}/*": behavior(embeddable_headers if site in EMBEDDABLE_SITES else strict_headers)
                for site in sites
            },
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self.logs_bucket,
            log_file_prefix="cloudfront/",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "No geo restriction: the widget serves visitors of the clients' websites worldwide; "
            "which countries may chat is a per-client business decision, not an edge rule.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "Static, public, read-only files (GET/HEAD, cached); no forms or APIs behind this "
            "distribution. A CloudFront WAF web ACL must live in us-east-1 and is left to the "
            "deployment account's central WAF set-up when one exists.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "Served on the default *.cloudfront.net certificate, for which CloudFront does not "
            "allow choosing the minimum TLS version; a custom domain with an ACM certificate and "
            "TLSv1.2_2021 is the production set-up and needs a domain this repo does not own.",
        )

        self.url = f"https://{self.distribution.distribution_domain_name}"
        self._deployment_role, self._deployment_logs = self._deployment_identity()
        for site, folder in sites.items():
            self._deploy_site(site, folder, runtime_config)
        self._acknowledge_deployment_handler()

    def _headers_policy(self, construct_id: str, *, embeddable: bool) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            comment="Parley embeddable site (widget)" if embeddable else "Parley site",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
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

    def _deployment_identity(self) -> tuple[iam.Role, logs.LogGroup]:
        """One role and log group for the BucketDeployment handler (a CDK-provided Lambda with the
        AWS CLI layer), instead of its default role with the AWSLambdaBasicExecutionRole managed
        policy: this one writes to its own log group only."""
        role = iam.Role(self, "DeploymentRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group = logs.LogGroup(self, "DeploymentLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        log_group.grant_write(role)
        stack = Stack.of(self)
        reason_s3 = (
            "BucketDeployment's grants (CDK-generated): read of the CDK asset bucket objects, "
            "read/write/delete under the site bucket (sync with prune); S3 grant actions come as "
            "prefixes (Get*/List*/Abort*/DeleteObject*) in CDK's grant helpers."
        )
        for finding in (
            "Action::s3:GetBucket*",
            "Action::s3:GetObject*",
            "Action::s3:List*",
            "Action::s3:Abort*",
            "Action::s3:DeleteObject*",
            f"Resource::{attr_ref(self.bucket)}/*",
            "Resource::arn:<AWS::Partition>:s3:::"
            f"cdk-{stack.synthesizer.bootstrap_qualifier or 'hnb659fds'}-assets-<AWS::AccountId>-<AWS::Region>/*",
        ):
            acknowledge(role, f"AwsSolutions-IAM5[{finding}]", reason_s3)
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudfront:CreateInvalidation/GetInvalidation after each upload, as granted by "
            "BucketDeployment (distribution + distribution_paths); CDK grants them on '*'.",
        )
        return role, log_group

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
