"""SQS queues and their consumers (the collection fan-out): encrypted, TLS only, a dead-letter
queue each; one mapping per subscription reporting partial batch failures with a bounded
concurrency; send rights only for the declared senders, consume rights only for the consumer."""

from __future__ import annotations

import pytest

from infra import wiring
from infra.constructs.function_factory import RESERVED_CONCURRENCY
from tests.infra.template import Resource, Synth, as_list, statements_of_role

pytestmark = pytest.mark.infra


def _queue_id(synth: Synth, name: str) -> str:
    return synth.logical_id(synth.stack.queues.queues[name])


def _role_statements(synth: Synth, function: str) -> list[Resource]:
    return statements_of_role(synth, synth.logical_id(synth.stack.function_factory.functions[function].role))


@pytest.mark.parametrize("name", sorted(wiring.QUEUES))
def test_queue_is_encrypted_with_its_dead_letter_queue(synth: Synth, name: str) -> None:
    spec = wiring.QUEUES[name]
    props = synth.resources[_queue_id(synth, name)]["Properties"]
    assert props["SqsManagedSseEnabled"] is True
    assert props["VisibilityTimeout"] == spec.visibility_timeout_seconds
    redrive = props["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == spec.max_receive_count
    dead_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert synth.resources[dead_id]["Properties"]["MessageRetentionPeriod"] == spec.dead_letter_retention_days * 86400
    consumers = [s.function for s in wiring.QUEUE_SUBSCRIPTIONS if s.queue == name]
    for function in consumers:  # the consumer needs at least its timeout x 6 of visibility (AWS's advice)
        assert spec.visibility_timeout_seconds >= 6 * wiring.FUNCTIONS[function].timeout_seconds


@pytest.mark.parametrize("sub", wiring.QUEUE_SUBSCRIPTIONS, ids=lambda s: f"{s.queue}->{s.function}")
def test_consumer_mapping(synth: Synth, sub: wiring.QueueSubscription) -> None:
    (props,) = [r["Properties"] for r in synth.of_type("AWS::Lambda::EventSourceMapping").values()
                if r["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [_queue_id(synth, sub.queue), "Arn"]}]
    assert props["FunctionName"] == {"Ref": synth.function_id(sub.function)}
    assert props["BatchSize"] == sub.batch_size
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"] == {"MaximumConcurrency": sub.max_concurrency}
    # The consumer's reserved concurrency covers the mapping's (else SQS deliveries are throttled).
    assert RESERVED_CONCURRENCY[sub.function] >= sub.max_concurrency


@pytest.mark.parametrize("function", sorted(wiring.FUNCTIONS))
def test_only_declared_senders_send_and_only_the_consumer_receives(synth: Synth, function: str) -> None:
    actions = {a for s in _role_statements(synth, function) for a in as_list(s["Action"])
               if isinstance(a, str) and a.startswith("sqs:")}
    sends = "sqs:SendMessage" in actions
    receives = "sqs:ReceiveMessage" in actions
    spec = wiring.FUNCTIONS[function]
    stream_subscriber = function in {s.function for s in wiring.STREAM_SUBSCRIPTIONS}  # its on-failure queue
    assert sends is (bool(spec.sends_to_queues) or stream_subscriber), function
    assert receives is (function in {s.function for s in wiring.QUEUE_SUBSCRIPTIONS}), function
    for name in spec.sends_to_queues:
        assert wiring.QUEUES[name].env_var in wiring.environment_variables(spec)
