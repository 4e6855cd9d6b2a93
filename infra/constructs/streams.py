"""DynamoDB stream subscriptions from `wiring.STREAM_SUBSCRIPTIONS`: one event source mapping
each, with the declared event filters, partial batch failures and an on-failure queue.

A failing record is retried (the batch is bisected to isolate it, and the handler reports the
records it could not process) at most MAX_RETRY_ATTEMPTS times; then the mapping sends the
record's stream coordinates (shard, sequence numbers, not the data) to the subscription's
failed-records queue and moves on, so one poison record cannot stall its shard until the
stream's 24-hour retention drops everything behind it.

Least privilege: the stream read grant (DynamoEventSource's) goes to the subscribed function
only; no other function's table grant includes stream actions (function_factory.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import wiring
from infra.constructs.function_factory import ParleyFunction, construct_name
from infra.constructs.nag import acknowledge

MAX_RETRY_ATTEMPTS = 5
FAILED_RECORDS_RETENTION = Duration.days(14)  # SQS's maximum: time to look and replay


class StreamSubscriptions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, ParleyFunction],
        tables: Mapping[str, dynamodb.Table],
        subscriptions: Sequence[wiring.StreamSubscription] = wiring.STREAM_SUBSCRIPTIONS,
    ) -> None:
        super().__init__(scope, construct_id)
        self.failed_records: dict[tuple[str, str], sqs.Queue] = {}
        self.mappings: dict[tuple[str, str], event_sources.DynamoEventSource] = {}
        for sub in subscriptions:
            key = (sub.table, sub.function)
            if key in self.mappings:
                raise ValueError(f"stream subscription {sub.table} -> {sub.function} declared twice")
            if not wiring.TABLES[sub.table].stream:
                raise ValueError(f"stream subscription {sub.table} -> {sub.function}: table has no stream")
            target = functions[sub.function]
            name = f"{construct_name(sub.function)}{construct_name(sub.table)}"

            queue = sqs.Queue(
                self,
                f"{name}FailedRecords",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=FAILED_RECORDS_RETENTION,
            )
            acknowledge(
                queue,
                "AwsSolutions-SQS3",
                f"This queue is itself a dead-letter queue: the on-failure destination of the "
                f"{sub.table} stream -> {sub.function} event source mapping. cdk-nag recognizes only "
                "queue redrive policies and function DeadLetterConfigs as DLQ uses, not an event "
                "source mapping's DestinationConfig, and a DLQ of a DLQ would only move the records.",
            )

            source = event_sources.DynamoEventSource(
                tables[sub.table],
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=sub.batch_size,
                max_batching_window=Duration.seconds(sub.max_batching_window_seconds),
                report_batch_item_failures=True,
                retry_attempts=MAX_RETRY_ATTEMPTS,
                bisect_batch_on_error=True,
                on_failure=event_sources.SqsDlq(queue),
                filters=[lambda_.FilterCriteria.filter(dict(pattern)) for pattern in sub.filters],
            )
            target.function.add_event_source(source)  # also grants the stream read, to this role only
            acknowledge(
                target.policy,
                "AwsSolutions-IAM5[Resource::*]",
                "Risk accepted: besides X-Ray's trace writes, dynamodb:ListStreams is on '*' as CDK's "
                "stream grant gives it: the function may list the account's stream ARNs (names only, "
                f"never records). Reading records (DescribeStream, GetShardIterator, GetRecords) is on "
                f"the {sub.table} table's stream ARN only.",
            )
            self.failed_records[key] = queue
            self.mappings[key] = source
