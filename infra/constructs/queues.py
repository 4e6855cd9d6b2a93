"""SQS queues from `wiring.QUEUES` (each with its dead-letter queue) and their Lambda consumers
from `wiring.QUEUE_SUBSCRIPTIONS`: partial batch responses, a bounded concurrency per mapping.

The queues exist before the functions (a sender's environment names the queue URL, granted by
the function factory); the consumers are attached once the functions exist (`subscribe`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import wiring
from infra.constructs.function_factory import ParleyFunction
from infra.constructs.nag import acknowledge


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id: str,
                 queues: Mapping[str, wiring.QueueSpec] = wiring.QUEUES) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letters: dict[str, sqs.Queue] = {}
        for name, spec in queues.items():
            dead = sqs.Queue(self, f"{spec.logical_id}DeadLetters", encryption=sqs.QueueEncryption.SQS_MANAGED,
                             enforce_ssl=True, retention_period=Duration.days(spec.dead_letter_retention_days))
            acknowledge(dead, "AwsSolutions-SQS3",
                        f"This queue is the dead-letter queue of the {name} queue (its redrive target); a "
                        "dead-letter queue of its own would only move the messages again.")
            self.dead_letters[name] = dead
            self.queues[name] = sqs.Queue(
                self, spec.logical_id, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
                dead_letter_queue=sqs.DeadLetterQueue(queue=dead, max_receive_count=spec.max_receive_count),
            )

    def subscribe(self, functions: Mapping[str, ParleyFunction],
                  subscriptions: Sequence[wiring.QueueSubscription] = wiring.QUEUE_SUBSCRIPTIONS) -> None:
        """The event source mappings (the consume grant goes to the subscribed function only)."""
        for sub in subscriptions:
            functions[sub.function].function.add_event_source(event_sources.SqsEventSource(
                self.queues[sub.queue], batch_size=sub.batch_size,
                max_batching_window=Duration.seconds(sub.max_batching_window_seconds) if sub.max_batching_window_seconds
                else None,
                report_batch_item_failures=True, max_concurrency=sub.max_concurrency,
            ))
