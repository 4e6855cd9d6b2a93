"""DynamoDB tables, one per `wiring.TABLES` entry."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra import wiring


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    """Tables: on-demand, point-in-time recovery, encrypted, retained when the stack goes away."""

    def __init__(
        self, scope: Construct, construct_id: str, *, tables: Mapping[str, wiring.TableSpec] = wiring.TABLES
    ) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {}
        for key, spec in tables.items():
            table = dynamodb.Table(
                self,
                spec.logical_id,
                partition_key=_string_key(spec.partition_key),
                sort_key=_string_key(spec.sort_key),
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl_attribute,
                # usage_meter consumes the data stream and needs both images to detect transitions.
                stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
                # Chats and the billing ledger must survive a stack deletion or a bad deploy.
                removal_policy=RemovalPolicy.RETAIN,
                deletion_protection=True,
            )
            for index_name, index_pk, index_sk in spec.gsis:
                table.add_global_secondary_index(
                    index_name=index_name,
                    partition_key=_string_key(index_pk),
                    sort_key=_string_key(index_sk),
                    projection_type=dynamodb.ProjectionType.ALL,
                )
            # Pin the logical id to the wiring's: the local stack finds tables by it, and moving the
            # construct in the tree must never replace a retained table with a new, empty one.
            cfn_table = table.node.default_child
            assert isinstance(cfn_table, dynamodb.CfnTable)
            cfn_table.override_logical_id(spec.logical_id)
            self.tables[key] = table
