"""Tables: keys, GSIs, TTL and stream per TableSpec; on-demand, PITR, encryption, retained. The
data exports bucket: private, encrypted, TLS only, logged, objects expired."""

from __future__ import annotations

import pytest

from infra import wiring
from tests.infra.template import Synth

pytestmark = pytest.mark.infra


def test_one_table_per_spec(synth: Synth) -> None:
    assert set(synth.of_type("AWS::DynamoDB::Table")) == {spec.logical_id for spec in wiring.TABLES.values()}


@pytest.mark.parametrize("key", sorted(wiring.TABLES))
def test_table(synth: Synth, key: str) -> None:
    spec = wiring.TABLES[key]
    table = synth.resources[spec.logical_id]
    props = table["Properties"]

    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["KeySchema"] == [
        {"AttributeName": spec.partition_key, "KeyType": "HASH"},
        {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
    ]
    gsis = {
        g["IndexName"]: [k["AttributeName"] for k in g["KeySchema"]] for g in props.get("GlobalSecondaryIndexes", [])
    }
    assert gsis == {name: [pk, sk] for name, pk, sk in spec.gsis}
    attribute_types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert set(attribute_types.values()) == {"S"}
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props
    if spec.stream:
        assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    else:
        assert "StreamSpecification" not in props


def test_the_exports_bucket_expires_its_objects_and_logs_every_access(synth: Synth) -> None:
    data = synth.stack.data
    bucket = synth.resources[synth.logical_id(data.exports_bucket)]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    assert [(r["Status"], r["ExpirationInDays"]) for r in props["LifecycleConfiguration"]["Rules"]] == [
        ("Enabled", wiring.EXPORTS_BUCKET.expire_days)]
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"] != synth.logical_id(data.exports_bucket)
    env = synth.resources[synth.function_id("client_account")]["Properties"]["Environment"]["Variables"]
    assert env[wiring.EXPORTS_BUCKET.env_var] == {"Ref": synth.logical_id(data.exports_bucket)}
