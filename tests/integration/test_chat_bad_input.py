"""Bad input gets a clear, documented error, stores nothing, and the connection stays usable."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import moto.cognitoidp
import pytest
from jwt.algorithms import RSAAlgorithm
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from infra.local.stack import LocalStack
from parley.chat.models import Client, ClientStatus
from tests.integration.chat_client import ChatClient, Harness, http_post

pytestmark = pytest.mark.integration


def moto_signing_key() -> Any:
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    return RSAAlgorithm.from_jwk(json.dumps(json.loads(gzip.decompress(path.read_bytes()))))


def connection_items(stack: LocalStack) -> int:
    # A test-only scan: counts every stored connection row.
    return int(stack.boto("dynamodb").scan(TableName="parley-local-connections", Select="COUNT")["Count"])


def refused_status(url: str, origin: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=origin, open_timeout=10)  # type: ignore[arg-type]
    return int(refused.value.response.status_code)


@pytest.fixture
def conversation(chat: Harness) -> Iterator[tuple[ChatClient, ChatClient, str]]:
    agent = chat.agent()
    agent.ok("subscribeQueue")
    visitor, _ = chat.visitor()
    cid = visitor.ok("startConversation", text="hello")["conversation"]["conversationId"]
    agent.ok("acceptConversation", conversationId=cid)
    visitor.next_event("conversation.accepted")
    yield visitor, agent, cid


def stored_seqs(client: ChatClient, cid: str) -> list[int]:
    return [m["seq"] for m in client.ok("resume", conversationId=cid, sinceSeq=0)["messages"]]


@pytest.mark.parametrize(
    ("frame", "code", "mentions"),
    [
        ("this is not json", "invalid_json", "JSON"),
        ("[1, 2, 3]", "invalid_json", "object"),
        ('{"text": "no action"}', "unknown_action", "missing action"),
        ('{"action": "deleteEverything"}', "unknown_action", "deleteEverything"),
        ('{"action": "sendMessage", "text": "hi"}', "invalid_request", "conversationId"),
        ('{"action": "sendMessage", "conversationId": "CID"}', "invalid_request", "text"),
        ('{"action": "sendMessage", "conversationId": "CID", "text": 42}', "invalid_request", "text"),
        ('{"action": "typing", "conversationId": "CID", "isTyping": "maybe"}', "invalid_request", "isTyping"),
        ('{"action": "resume", "conversationId": "CID", "sinceSeq": -1}', "invalid_request", "sinceSeq"),
        ('{"action": "sendMessage", "conversationId": "CID", "text": "   "}', "empty_message", "empty"),
        ('{"action": "sendMessage", "conversationId": "CID", "text": "' + "x" * 4001 + '"}', "message_too_long",
         "4000"),
        ('{"action": "sendMessage", "conversationId": "../../etc", "text": "hi"}', "invalid_request",
         "conversationId"),
    ],
)
def test_bad_frames_get_an_error_frame_and_change_nothing(
    conversation: tuple[ChatClient, ChatClient, str], frame: str, code: str, mentions: str
) -> None:
    visitor, agent, cid = conversation
    before = stored_seqs(visitor, cid)
    reply = visitor.send_raw(frame.replace("CID", cid))
    assert reply["type"] == "error"
    assert reply["code"] == code
    assert mentions in reply["message"]
    assert stored_seqs(visitor, cid) == before
    agent.no_event(0.3)
    assert visitor.ok("ping") == {}  # still usable


def test_a_message_of_exactly_the_limit_is_accepted(conversation: tuple[ChatClient, ChatClient, str]) -> None:
    visitor, agent, cid = conversation
    visitor.ok("sendMessage", conversationId=cid, text="y" * 4000)
    assert len(agent.next_event("message")["message"]["text"]) == 4000


def test_the_request_id_is_echoed_on_errors(conversation: tuple[ChatClient, ChatClient, str]) -> None:
    visitor, _, _ = conversation
    reply = visitor.send_raw(json.dumps({"action": "nope", "requestId": "abc"}), request_id="abc")
    assert (reply["code"], reply["requestId"]) == ("unknown_action", "abc")


def test_roles_are_enforced(chat: Harness, conversation: tuple[ChatClient, ChatClient, str]) -> None:
    visitor, agent, cid = conversation
    assert visitor.request("acceptConversation", conversationId=cid)["code"] == "forbidden"
    assert visitor.request("subscribeQueue")["code"] == "forbidden"
    assert agent.request("startConversation", text="hi")["code"] == "forbidden"
    # An agent of the same client who did not accept the chat may not write in it.
    other = chat.agent(chat.ensure_agent("dmitri", "Dmitri Ivanov", chat.stack.demo.sierra.client_id))
    assert other.request("sendMessage", conversationId=cid, text="hi")["code"] in ("not_found", "not_accepted")


def test_a_waiting_chat_must_be_accepted_before_an_agent_writes(chat: Harness) -> None:
    agent = chat.agent()
    visitor, _ = chat.visitor()
    cid = visitor.ok("startConversation", text="hello?")["conversation"]["conversationId"]
    assert agent.request("sendMessage", conversationId=cid, text="hi")["code"] == "not_accepted"
    assert stored_seqs(visitor, cid) == [1]


def test_unknown_conversation_is_not_found(chat: Harness) -> None:
    visitor, _ = chat.visitor()
    assert visitor.request("sendMessage", conversationId="cv_doesnotexist", text="hi")["code"] == "not_found"


class TestConnectRefusals:
    def test_unknown_widget_key(self, local_stack: LocalStack) -> None:
        before = connection_items(local_stack)
        url = f"{local_stack.ws_url}?widgetKey=wk_nope&visitorToken=x"
        # A $connect authorizer can answer 401 or 403 only (API Gateway): an unknown key is refused.
        assert refused_status(url, local_stack.base_url) == 403
        assert connection_items(local_stack) <= before  # nothing stored (earlier tests may still be disconnecting)

    def test_origin_not_allowed(self, chat: Harness, local_stack: LocalStack) -> None:
        demo = local_stack.demo.sierra
        token = chat.visitor_session(demo.widget_key, demo.origin)["visitorToken"]
        url = f"{local_stack.ws_url}?widgetKey={demo.widget_key}&visitorToken={quote(token)}"
        before = connection_items(local_stack)
        assert refused_status(url, "https://evil.example") == 403
        assert refused_status(url, None) == 403
        assert connection_items(local_stack) <= before  # nothing stored (earlier tests may still be disconnecting)

    def test_missing_forged_or_foreign_visitor_token(self, chat: Harness, local_stack: LocalStack) -> None:
        sierra, harbor = local_stack.demo.sierra, local_stack.demo.harbor
        good = chat.visitor_session(sierra.widget_key, sierra.origin)["visitorToken"]
        foreign = chat.visitor_session(harbor.widget_key, harbor.origin)["visitorToken"]
        payload, signature = good.split(".")
        forged = f"{payload}.{signature[::-1]}"
        base = f"{local_stack.ws_url}?widgetKey={sierra.widget_key}"
        before = connection_items(local_stack)
        assert refused_status(base, sierra.origin) == 401
        assert refused_status(f"{base}&visitorToken={quote(forged)}", sierra.origin) == 401
        assert refused_status(f"{base}&visitorToken={quote(foreign)}", sierra.origin) == 401
        assert connection_items(local_stack) <= before  # nothing stored (earlier tests may still be disconnecting)

    def test_disabled_client(self, chat: Harness, local_stack: LocalStack) -> None:
        local_stack.add_client(Client(client_id="cl_gone", name="Gone Inc", widget_key="wk_gone",
                                      allowed_origins=[local_stack.base_url], status=ClientStatus.DISABLED))
        status, body = http_post(f"{local_stack.base_url}/api/visitor/session", {"widgetKey": "wk_gone"},
                                 local_stack.base_url)
        assert (status, body["code"]) == (403, "client_disabled")
        assert refused_status(f"{local_stack.ws_url}?widgetKey=wk_gone&visitorToken=x", local_stack.base_url) == 403

    def test_forged_agent_token(self, chat: Harness, local_stack: LocalStack) -> None:
        token = chat.agent_token(local_stack.demo.agent_username)
        header, claims, signature = token.split(".")
        before = connection_items(local_stack)
        assert refused_status(f"{local_stack.ws_url}?token={header}.{claims}.{signature[:-6]}AAAAAA") == 401
        assert refused_status(f"{local_stack.ws_url}?token=not-a-jwt") == 401
        assert connection_items(local_stack) <= before  # nothing stored (earlier tests may still be disconnecting)

    def test_expired_agent_token(self, chat: Harness, local_stack: LocalStack) -> None:
        # The same claims and key id, signed with moto's (published, test-only) pool key, but
        # expired a minute ago: the signature is valid, the expiry is not.
        token = chat.agent_token(local_stack.demo.agent_username)
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
        now = int(time.time())
        claims.update(iat=now - 3660, exp=now - 60, auth_time=now - 3660)
        expired = jwt.encode(claims, moto_signing_key(), algorithm="RS256", headers={"kid": header["kid"]})
        assert refused_status(f"{local_stack.ws_url}?token={expired}") == 401
        with connect(f"{local_stack.ws_url}?token={token}", open_timeout=10) as ws:  # the fresh one works
            ws.send(json.dumps({"action": "ping", "requestId": "p"}))
            assert json.loads(ws.recv(timeout=10))["type"] == "ack"

    def test_token_of_another_app_client(self, local_stack: LocalStack) -> None:
        idp = local_stack.boto("cognito-idp")
        other = idp.create_user_pool_client(UserPoolId=local_stack.user_pool_id, ClientName="someone-else",
                                            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])["UserPoolClient"]
        auth = idp.initiate_auth(ClientId=other["ClientId"], AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": local_stack.demo.agent_username,
                                                 "PASSWORD": local_stack.demo.agent_password})
        assert refused_status(f"{local_stack.ws_url}?token={auth['AuthenticationResult']['IdToken']}") == 401

    def test_a_user_who_is_not_an_agent(self, local_stack: LocalStack, chat: Harness) -> None:
        local_stack.create_user("not-an-agent", local_stack.demo.agent_password, "clients")
        token = chat.agent_token("not-an-agent")
        assert refused_status(f"{local_stack.ws_url}?token={token}") == 403


class TestHttpBadInput:
    @pytest.mark.parametrize(
        ("path", "body", "origin", "status", "code"),
        [
            ("/api/visitor/session", b"{not json", "ORIGIN", 400, "invalid_request"),
            ("/api/visitor/session", {}, "ORIGIN", 400, "invalid_request"),
            ("/api/visitor/session", {"widgetKey": "wk_nope"}, "ORIGIN", 404, "unknown_widget_key"),
            ("/api/visitor/session", {"widgetKey": "wk_demo_sierra"}, "https://evil.example", 403,
             "origin_not_allowed"),
            ("/api/auth/login", {"username": "alex"}, None, 400, "invalid_request"),
            ("/api/auth/login", {"username": "alex", "password": "wrong-password-1"}, None, 401,
             "invalid_credentials"),
            ("/api/auth/login", {"username": "nobody", "password": "whatever-1A"}, None, 401, "invalid_credentials"),
        ],
    )
    def test_http_errors_are_4xx_json(self, local_stack: LocalStack, path: str, body: Any, origin: str | None,
                                      status: int, code: str) -> None:
        origin = local_stack.base_url if origin == "ORIGIN" else origin
        got_status, got = http_post(local_stack.base_url + path, body, origin)
        assert (got_status, got["code"]) == (status, code)
        assert got["message"]

    def test_an_invalid_previous_visitor_token_is_replaced(self, local_stack: LocalStack, chat: Harness) -> None:
        demo = local_stack.demo.sierra
        fresh = chat.visitor_session(demo.widget_key, demo.origin, token="garbage.token")
        assert fresh["visitorId"].startswith("v_")
        assert fresh["visitorToken"] != "garbage.token"
