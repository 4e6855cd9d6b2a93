"""Stream subscriptions: one event source mapping per wiring entry, filtered, reporting partial
batch failures, bounded retries into an encrypted on-failure queue; stream reads for the
subscriber only."""

from __future__ import annotations

import json

import pytest

from infra import wiring
from infra.constructs.streams import MAX_RETRY_ATTEMPTS
from tests.infra.template import Resource, Synth, as_list, statements_of_role

pytestmark = pytest.mark.infra

STREAM_READ_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
SUBSCRIBERS = {sub.function for sub in wiring.STREAM_SUBSCRIPTIONS}


def _id(sub: wiring.StreamSubscription) -> str:
    return f"{sub.table}->{sub.function}"


def _mapping(synth: Synth, sub: wiring.StreamSubscription) -> Resource:
    (props,) = [
        r["Properties"]
        for r in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": synth.function_id(sub.function)}
        and r["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [wiring.TABLES[sub.table].logical_id, "StreamArn"]}
    ]
    return props


def _role_statements(synth: Synth, name: str) -> list[Resource]:
    role = synth.stack.function_factory.functions[name].role
    return statements_of_role(synth, synth.logical_id(role))


def test_one_mapping_per_subscription(synth: Synth) -> None:
    streams = [r for r in synth.of_type("AWS::Lambda::EventSourceMapping").values()
               if "StreamArn" in json.dumps(r["Properties"]["EventSourceArn"])]
    assert len(streams) == len(wiring.STREAM_SUBSCRIPTIONS)
    assert {"usage_meter", "email_sender"} == SUBSCRIBERS


@pytest.mark.parametrize("sub", wiring.STREAM_SUBSCRIPTIONS, ids=_id)
def test_mapping(synth: Synth, sub: wiring.StreamSubscription) -> None:
    props = _mapping(synth, sub)
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BatchSize"] == sub.batch_size
    assert props["MaximumBatchingWindowInSeconds"] == sub.max_batching_window_seconds
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["MaximumRetryAttempts"] == MAX_RETRY_ATTEMPTS
    assert 0 < MAX_RETRY_ATTEMPTS <= 10
    assert props["BisectBatchOnFunctionError"] is True
    patterns = [json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])]
    assert patterns == [dict(pattern) for pattern in sub.filters]


def test_usage_meter_sees_only_conversation_updates(synth: Synth) -> None:
    (sub,) = [s for s in wiring.STREAM_SUBSCRIPTIONS if s.function == "usage_meter"]
    (pattern,) = [json.loads(f["Pattern"]) for f in _mapping(synth, sub)["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["MODIFY"],
        "dynamodb": {"Keys": {"sk": {"S": ["META"]}, "pk": {"S": [{"prefix": "CONV#"}]}}},
    }


@pytest.mark.parametrize("sub", wiring.STREAM_SUBSCRIPTIONS, ids=_id)
def test_failed_records_queue(synth: Synth, sub: wiring.StreamSubscription) -> None:
    destination = _mapping(synth, sub)["DestinationConfig"]["OnFailure"]["Destination"]
    queue_id = destination["Fn::GetAtt"][0]
    assert destination == {"Fn::GetAtt": [queue_id, "Arn"]}
    queue = synth.resources[queue_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"].get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue["Properties"]
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    (policy,) = [
        p for p in synth.of_type("AWS::SQS::QueuePolicy").values() if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # The subscriber's role may send to it: the mapping delivers failures with that role.
    sends = [s for s in _role_statements(synth, sub.function) if "sqs:SendMessage" in as_list(s["Action"])]
    assert [as_list(s["Resource"]) for s in sends] == [[{"Fn::GetAtt": [queue_id, "Arn"]}]]


@pytest.mark.parametrize("name", sorted(wiring.FUNCTIONS))
def test_stream_read_only_for_subscribers(synth: Synth, name: str) -> None:
    statements = _role_statements(synth, name)
    readers = [s for s in statements if set(as_list(s["Action"])) & STREAM_READ_ACTIONS]
    assert bool(readers) is (name in SUBSCRIBERS), name
    streams = [
        {"Fn::GetAtt": [wiring.TABLES[sub.table].logical_id, "StreamArn"]}
        for sub in wiring.STREAM_SUBSCRIPTIONS
        if sub.function == name
    ]
    for statement in readers:
        assert set(as_list(statement["Action"])) == STREAM_READ_ACTIONS
        assert all(resource in streams for resource in as_list(statement["Resource"]))
    has_sqs = any(a.startswith("sqs:") for s in statements for a in as_list(s["Action"]))
    queue_users = {sub.function for sub in wiring.QUEUE_SUBSCRIPTIONS} | {
        n for n, spec in wiring.FUNCTIONS.items() if spec.sends_to_queues}  # tests/infra/test_infra_queues.py
    assert has_sqs is (name in SUBSCRIBERS | queue_users), name


def test_email_sender_sees_only_new_outbox_items(synth: Synth) -> None:
    (sub,) = [s for s in wiring.STREAM_SUBSCRIPTIONS if s.function == "email_sender"]
    (pattern,) = [json.loads(f["Pattern"]) for f in _mapping(synth, sub)["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"sk": {"S": ["EMAIL"]}, "pk": {"S": [{"prefix": "OUTBOX#"}]}}},
    }


def test_only_subscribers_get_records(synth: Synth) -> None:
    getters = {
        name
        for name in wiring.FUNCTIONS
        if any("dynamodb:GetRecords" in as_list(s["Action"]) for s in _role_statements(synth, name))
    }
    assert getters == {"usage_meter", "email_sender"}
