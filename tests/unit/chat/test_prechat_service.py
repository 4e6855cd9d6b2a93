"""startConversation with a pre-chat form, against in-process moto DynamoDB: refused answers
store nothing; good ones are on the conversation item (in the write that creates it) and on
every conversation an agent receives."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from parley.chat.models import PreChatField
from parley.errors import InvalidPreChat
from parley.ws import guarded_frame
from tests.unit.chat.test_chat_service import World

FORM = [PreChatField(key="name", label="Nombre", required=True),
        PreChatField(key="email", label="Correo", type="email", required=True),
        PreChatField(key="gdpr", label="Consentimiento", type="consent", consent_text="Acepto")]


@pytest.fixture
def world() -> Iterator[World]:
    with mock_aws():
        yield World()


def with_form(world: World) -> None:
    client = world.tenants.get_client("cl_a")
    assert client is not None
    world.tenants.put_client(client.model_copy(update={"pre_chat_fields": FORM}))


def start_frame(pre_chat: object) -> str:
    return json.dumps({"action": "startConversation", "text": "Is the F-150 still there?", "requestId": "r1",
                       "preChat": pre_chat})


def test_a_refused_form_is_an_error_frame_with_the_field_and_nothing_is_stored(world: World) -> None:
    with_form(world)
    visitor, agent = world.visitor("V1"), world.agent("A1")
    world.relay.posts.clear()
    world.requests.clear()
    reply = guarded_frame("r1", lambda: world.do(visitor, start_frame({"name": "Ana", "email": "ana@", "gdpr": True})))
    assert json.loads(reply["body"]) == {"type": "error", "code": "invalid_prechat", "requestId": "r1",
                                         "field": "email", "reason": "invalid_email",
                                         "message": "email: not an email address"}
    assert "TransactWriteItems" not in world.requests and "PutItem" not in world.requests
    assert world.chat.conversations_of_client("cl_a") == []
    assert world.relay.to(agent) == []


def test_without_the_required_answers_the_chat_does_not_start(world: World) -> None:
    with_form(world)
    visitor = world.visitor("V1")
    with pytest.raises(InvalidPreChat) as info:
        world.do(visitor, '{"action":"startConversation","text":"hi"}')
    assert (info.value.field, info.value.reason) == ("name", "required")
    assert world.chat.conversations_of_client("cl_a") == []


def test_good_answers_are_stored_in_the_creating_write_and_reach_the_agent(world: World) -> None:
    plain = world.visitor("V0", client_id="cl_b")  # a client without a form: the same requests
    world.agent("B1", client_id="cl_b")
    world.requests.clear()
    world.do(plain, '{"action":"startConversation","text":"hi"}')
    without_form = dict(world.requests)
    with_form(world)
    visitor, agent = world.visitor("V1"), world.agent("A1")
    world.relay.posts.clear()
    world.requests.clear()
    reply = world.do(visitor, start_frame({"name": " Ana ", "email": "ana@example.com", "gdpr": True}))
    assert dict(world.requests) == without_form  # the answers ride in the write that creates the chat
    answers = {"name": "Ana", "email": "ana@example.com", "gdpr": "accepted"}
    assert reply["conversation"]["preChat"] == answers
    cid = reply["conversation"]["conversationId"]
    stored = world.chat.get_conversation(cid)
    assert stored is not None and stored.pre_chat == answers
    assert (stored.visitor_name, stored.visitor_email) == ("Ana", "ana@example.com")
    [waiting] = [f for f in world.relay.to(agent) if f["type"] == "conversation.waiting"]
    assert waiting["conversation"]["preChat"] == answers
    queue = world.do(agent, '{"action":"subscribeQueue"}')
    assert [c["preChat"] for c in queue["waiting"]] == [answers]
    accepted = world.do(agent, f'{{"action":"acceptConversation","conversationId":"{cid}"}}')
    assert accepted["conversation"]["preChat"] == answers
    resumed = world.do(agent, f'{{"action":"resume","conversationId":"{cid}","sinceSeq":0}}')
    assert resumed["conversation"]["preChat"] == answers


def test_a_client_without_a_form_starts_chats_as_before_and_refuses_answers(world: World) -> None:
    visitor = world.visitor("V1")
    with pytest.raises(InvalidPreChat):
        world.do(visitor, start_frame({"name": "Ana"}))
    reply = world.do(visitor, '{"action":"startConversation","text":"hi"}')
    assert reply["conversation"]["preChat"] == {}
