"""Creates the tables of `infra/wiring.py` on moto (local stack and tests) — the same keys,
indexes, TTL and stream the CDK app declares."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from infra.wiring import TABLES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def create_tables(ddb: DynamoDBClient, table_name: Callable[[str], str]) -> None:
    for name, spec in TABLES.items():
        keys = {spec.partition_key, spec.sort_key} | {k for g in spec.gsis for k in g[1:]}
        kwargs: dict[str, Any] = {
            "TableName": table_name(name), "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k in sorted(keys)],
            "KeySchema": [{"AttributeName": spec.partition_key, "KeyType": "HASH"},
                          {"AttributeName": spec.sort_key, "KeyType": "RANGE"}],
        }
        if spec.gsis:
            kwargs["GlobalSecondaryIndexes"] = [
                {"IndexName": index, "Projection": {"ProjectionType": "ALL"},
                 "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}]}
                for index, pk, sk in spec.gsis
            ]
        if spec.stream:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        ddb.create_table(**kwargs)
        if spec.ttl_attribute:
            ddb.update_time_to_live(TableName=kwargs["TableName"], TimeToLiveSpecification={
                "Enabled": True, "AttributeName": spec.ttl_attribute})
