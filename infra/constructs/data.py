"""DynamoDB tables, one per `wiring.TABLES` entry, and the data exports bucket (`wiring.EXPORTS_BUCKET`)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import wiring
from infra.constructs.nag import acknowledge


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
        self.exports_bucket = self._exports_bucket(wiring.EXPORTS_BUCKET)

    def _exports_bucket(self, spec: wiring.BucketSpec) -> s3.Bucket:
        """Clients' data exports: private, SSE-S3, TLS only, expired after `expire_days`, every
        download (presigned GET) in its own access log."""
        access_logs = s3.Bucket(
            self, f"{spec.logical_id}AccessLogs", block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED, object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))], removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(access_logs, "AwsSolutions-S1",
                    "This is the exports bucket's access-log bucket itself; logging it into itself would log "
                    "its own log deliveries.")
        return s3.Bucket(
            self, spec.logical_id, block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED, server_access_logs_bucket=access_logs,
            server_access_logs_prefix="exports/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(spec.expire_days))],
            removal_policy=RemovalPolicy.RETAIN,  # a deletion must not fail on (or lose) a pending export
        )
