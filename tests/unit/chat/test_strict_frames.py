"""Strict frame parsing (issue 11, case 7): no coercion, bounds checked before the JSON is
parsed, lone surrogates refused, and every refusal produced inside the frame guard."""

from __future__ import annotations

import json

import pytest

from parley import strict_json
from parley.chat.frames import MAX_FRAME_BYTES, MAX_FRAME_DEPTH, SendMessage, parse_action, request_id_of
from parley.errors import InvalidJson, InvalidRequest, UnknownAction
from parley.ws import guarded_action

DEEP_ARRAY = "[" * 2000 + "]" * 2000  # 4 KB


@pytest.mark.parametrize(
    ("body", "error", "mentions"),
    [
        ('{"action": "typing", "conversationId": "c1", "isTyping": "yes"}', InvalidRequest, "isTyping"),
        ('{"action": "typing", "conversationId": "c1", "isTyping": 1}', InvalidRequest, "isTyping"),
        ('{"action": "typing", "conversationId": "c1", "isTyping": "true"}', InvalidRequest, "isTyping"),
        ('{"action": "resume", "conversationId": "c1", "sinceSeq": "0"}', InvalidRequest, "sinceSeq"),
        ('{"action": "resume", "conversationId": "c1", "sinceSeq": true}', InvalidRequest, "sinceSeq"),
        ('{"action": "resume", "conversationId": "c1", "sinceSeq": 1.0}', InvalidRequest, "sinceSeq"),
        ('{"action": "sendMessage", "conversationId": 7, "text": "hi"}', InvalidRequest, "conversationId"),
        ('{"action": "setStatus", "status": ["online"]}', InvalidRequest, "status"),
        ('{"action": ["ping"]}', UnknownAction, "['ping']"),
        ('{"action": {"a": 1}}', UnknownAction, "unknown action"),
        ('{"action": null}', UnknownAction, "missing action"),
        (DEEP_ARRAY, InvalidJson, "nested"),
        ('{"action": "ping", "x": ' + DEEP_ARRAY + "}", InvalidJson, "nested"),
        ('{"action": "ping", "x": NaN}', InvalidJson, "JSON"),
        ('{"action": "sendMessage", "conversationId": "c1", "text": "\\ud800"}', InvalidRequest, "surrogate"),
        ('{"action": "sendMessage", "conversationId": "c1", "text": "ok \\udfff ok"}', InvalidRequest, "surrogate"),
        ('{"action": "startConversation", "text": "hi", "preChat": {"\\ud800": "x"}}', InvalidRequest, "surrogate"),
        ('{"action": "sendMessage", "conversationId": "c1", "text": "hi", "clientMessageId": "a b"}',
         InvalidRequest, "clientMessageId"),
        ('{"action": "sendMessage", "conversationId": "c1", "text": "hi", "clientMessageId": ""}',
         InvalidRequest, "clientMessageId"),
        ('{"action": "sendMessage", "conversationId": "c1", "text": "hi", "clientMessageId": 5}',
         InvalidRequest, "clientMessageId"),
        ('{"action": "startConversation", "text": "hi", "clientMessageId": "' + "x" * 65 + '"}',
         InvalidRequest, "clientMessageId"),
    ],
)
def test_bad_frames_are_refused_with_their_documented_error(body: str, error: type[Exception],
                                                           mentions: str) -> None:
    with pytest.raises(error, match=None) as refused:
        parse_action(body)
    assert type(refused.value) is error
    assert mentions in str(refused.value)


def test_the_bounds_are_checked_before_parsing() -> None:
    too_large = json.dumps({"action": "ping", "pad": "x" * MAX_FRAME_BYTES})
    with pytest.raises(InvalidRequest, match="bytes"):
        parse_action(too_large)
    at_depth = '{"action": "ping", "x": ' + "[" * (MAX_FRAME_DEPTH - 1) + "]" * (MAX_FRAME_DEPTH - 1) + "}"
    assert parse_action(at_depth).action == "ping"
    with pytest.raises(InvalidJson, match="nested"):
        parse_action('{"action": "ping", "x": ' + "[" * MAX_FRAME_DEPTH + "]" * MAX_FRAME_DEPTH + "}")


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = "[[[[[[[[ {{{{ \\" + '" ]]]]'
    frame = json.dumps({"action": "sendMessage", "conversationId": "c1", "text": text})
    action = parse_action(frame)
    assert isinstance(action, SendMessage) and action.text == text
    assert strict_json.nesting_depth(frame) == 1


def test_a_surrogate_pair_is_a_valid_character() -> None:
    action = parse_action('{"action": "sendMessage", "conversationId": "c1", "text": "\\ud83d\\ude00"}')
    assert isinstance(action, SendMessage) and action.text == "\N{GRINNING FACE}"


def test_a_client_message_id_is_read() -> None:
    action = parse_action('{"action": "sendMessage", "conversationId": "c1", "text": "hi", '
                          '"clientMessageId": "m-01_AZ"}')
    assert isinstance(action, SendMessage) and action.client_message_id == "m-01_AZ"


@pytest.mark.parametrize("body", [DEEP_ARRAY, '{"requestId": "r1", "x": ' + DEEP_ARRAY + "}", '{"action": ["ping"]}',
                                  '{"action": "resume", "requestId": "r1", "conversationId": "c", "sinceSeq": "0"}',
                                  '{"action": "ping", "requestId": "\\ud800"}', "\ud800", b"\xff".decode("latin-1")])
def test_every_refusal_is_an_error_frame_from_inside_the_guard(body: str) -> None:
    ran: list[object] = []

    def run(action: object) -> dict[str, object]:
        ran.append(action)
        return {}

    reply = guarded_action(body, run)
    frame = json.loads(reply["body"])
    assert (reply["statusCode"], frame["type"]) == (200, "error")
    assert frame["code"] in {"invalid_json", "invalid_request", "unknown_action"}
    assert ran == []
    assert request_id_of(body) == frame["requestId"]


def test_the_request_id_is_echoed_when_the_frame_was_read() -> None:
    reply = guarded_action('{"action": "typing", "requestId": "r7", "conversationId": "c", "isTyping": 1}',
                           lambda action: {})
    assert json.loads(reply["body"])["requestId"] == "r7"
    assert request_id_of('{"requestId": "\\ud800"}') is None
