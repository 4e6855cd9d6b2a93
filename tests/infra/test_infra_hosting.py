"""Static sites: private encrypted bucket, CloudFront with OAC and security headers, uploads."""

from __future__ import annotations

import json
import re

import pytest

from infra import wiring
from infra.constructs.hosting import EMBEDDABLE_SITES
from tests.infra.template import Synth

pytestmark = pytest.mark.infra


def test_buckets_private_encrypted_ssl_only(synth: Synth) -> None:
    buckets = synth.of_type("AWS::S3::Bucket")
    assert len(buckets) == 4  # sites, data exports, and an access-log bucket for each
    for props in (b["Properties"] for b in buckets.values()):
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policies = [p["Properties"]["PolicyDocument"]["Statement"] for p in synth.of_type("AWS::S3::BucketPolicy").values()]
    assert len(policies) == 4
    for statements in policies:
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
        )
    site_bucket = synth.resources[synth.logical_id(synth.stack.hosting.bucket)]["Properties"]
    assert site_bucket["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": synth.logical_id(synth.stack.hosting.logs_bucket)
    }


def test_distribution(synth: Synth) -> None:
    (distribution,) = synth.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    s3_origins = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert len(s3_origins) == 1 and "OriginAccessControlId" in s3_origins[0]
    assert config["Logging"]["Bucket"]["Fn::GetAtt"][0] == synth.logical_id(synth.stack.hosting.logs_bucket)
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert behaviors.pop("/api/*")["ViewerProtocolPolicy"] == "https-only"  # test_infra_hardening.py
    assert set(behaviors) == {f"/{site}/*" for site in wiring.STATIC_SITES}
    for behavior in [*behaviors.values(), config["DefaultCacheBehavior"]]:
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        policy = synth.resources[behavior["ResponseHeadersPolicyId"]["Ref"]]["Properties"]
        headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
        assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
        assert headers["ContentTypeOptions"]["Override"] is True
    for site in wiring.STATIC_SITES:
        policy = synth.resources[behaviors[f"/{site}/*"]["ResponseHeadersPolicyId"]["Ref"]]["Properties"]
        config_headers = policy["ResponseHeadersPolicyConfig"]
        assert ("FrameOptions" in config_headers["SecurityHeadersConfig"]) is (site not in EMBEDDABLE_SITES)
        assert ("CorsConfig" in config_headers) is (site in EMBEDDABLE_SITES)


def test_site_deployments(synth: Synth) -> None:
    deployments = {
        d["Properties"]["DestinationBucketKeyPrefix"]: d["Properties"]
        for d in synth.of_type("Custom::CDKBucketDeployment").values()
    }
    assert set(deployments) == {f"{site}/" for site in wiring.STATIC_SITES}
    for site, folder in wiring.STATIC_SITES.items():
        props = deployments[f"{site}/"]
        # The built site only when its folder exists at synth time; config.json always (last: wins).
        assert len(props["SourceObjectKeys"]) == (2 if folder.is_dir() else 1)
        assert props["Prune"] is folder.is_dir()
        assert props["DistributionPaths"] == [f"/{site}/*"]
        config_asset = synth.staged_asset(props["SourceObjectKeys"][-1])
        # Deploy-time values are markers the deployment handler substitutes: "apiUrl":<<marker:0xbaba:0>>
        raw = (config_asset / "config.json").read_text()
        config = json.loads(re.sub(r"<<marker:0xbaba:\d+>>", '"deploy-time"', raw))
        # The keys of parley.interfaces.SiteConfig (the publishable key only when configured).
        assert set(config) == {"apiUrl", "wsUrl", "cognitoClientId", "region"}
        markers = json.dumps(props["SourceMarkers"][-1])
        # apiUrl is the distribution's own domain: the sites reach the API through it (and its web ACL)
        assert synth.logical_id(synth.stack.hosting.distribution) in markers
        assert synth.logical_id(synth.stack.chat.api) in markers
        assert synth.logical_id(synth.stack.auth.user_pool_client) in markers
