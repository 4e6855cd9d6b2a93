"""The client's data export is complete and delivered through S3 (issue 11, case 6; LC-3): every
page of every conversation (a 301-message conversation is 1.2 MB, past DynamoDB's 1 MB page),
written encrypted under the client's own prefix in the exports bucket (moto S3 locally), and
downloaded through a short-lived presigned URL; the route stays authenticated and scoped to the
caller's client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.local.stack import EXPORTS_BUCKET_NAME
from parley import services
from parley.chat.models import Conversation, ConversationStatus, Message, Role
from parley.composition.routing import routing_repository
from parley.ids import new_id

pytestmark = pytest.mark.integration

MESSAGES = 301


def call(stack: Any, path: str, token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(stack.base_url + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def login(stack: Any, username: str) -> str:
    request = urllib.request.Request(f"{stack.base_url}/api/auth/login", method="POST", headers={
        "Content-Type": "application/json"}, data=json.dumps(
        {"username": username, "password": stack.demo.agent_password}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["idToken"])


def seed_long_conversation(stack: Any, client_id: str) -> str:
    """A conversation of MESSAGES messages of 4,000 characters, stored as the chat path stores them."""
    now = stack.clock.now() - timedelta(hours=1)
    cid = new_id("cv")
    text = "".join(f"{i:04d} export every page; " for i in range(250))[:4000]
    conversation = Conversation(conversation_id=cid, client_id=client_id, status=ConversationStatus.ACTIVE,
                                visitor_id="v_export", visitor_name="Long Talker", last_seq=MESSAGES, created_at=now)
    first = Message(conversation_id=cid, client_id=client_id, seq=1, role=Role.VISITOR, sender_id="v_export",
                    text=text, sent_at=now)
    services.chat_repository().create_conversation(conversation, first, "no-connection")
    routing = routing_repository()
    for seq in range(2, MESSAGES + 1):
        role = Role.VISITOR if seq % 2 else Role.AGENT
        routing.put_system_message(first.model_copy(update={
            "seq": seq, "role": role, "sender_id": "v_export" if role is Role.VISITOR else "ag_x",
            "text": f"{seq:04d}" + text[4:], "sent_at": now + timedelta(seconds=seq)}))
    return cid


def test_the_export_holds_every_message_of_a_long_conversation_via_a_presigned_url(local_stack: Any) -> None:
    cid = seed_long_conversation(local_stack, "cl_sierra")
    token = login(local_stack, "owner-sierra")
    status, reply = call(local_stack, "/api/client/export", token)
    assert status == 200, reply
    url = urlsplit(reply["downloadUrl"])
    assert url.path.startswith(f"/{EXPORTS_BUCKET_NAME}/cl_sierra/") and "X-Amz-Signature=" in url.query
    assert "X-Amz-Expires=900" in url.query  # 15 minutes

    with urllib.request.urlopen(reply["downloadUrl"], timeout=60) as response:  # no token: the URL is the key
        assert "attachment" in response.headers["Content-Disposition"]
        exported = json.loads(response.read())
    assert exported["format"] == "parley-export/1" and exported["clientId"] == "cl_sierra"
    (long,) = [c for c in exported["conversations"] if c["conversationId"] == cid]
    assert [m["seq"] for m in long["messages"]] == list(range(1, MESSAGES + 1))  # 301 of 301, not 237
    assert all(len(m["text"]) == 4000 for m in long["messages"])
    assert reply["messages"] == sum(len(c["messages"]) for c in exported["conversations"])
    assert reply["conversations"] == len(exported["conversations"]) and reply["bytes"] > 1_200_000
    assert all(c["clientId"] == "cl_sierra" for c in exported["conversations"])

    key = url.path.removeprefix(f"/{EXPORTS_BUCKET_NAME}/")
    stored = local_stack.boto("s3").head_object(Bucket=EXPORTS_BUCKET_NAME, Key=key)
    assert stored["ServerSideEncryption"] == "AES256"
    rules = local_stack.boto("s3").get_bucket_lifecycle_configuration(Bucket=EXPORTS_BUCKET_NAME)["Rules"]
    assert [(r["Status"], r["Expiration"]["Days"]) for r in rules] == [("Enabled", 7)]


def test_the_export_route_is_authenticated_and_for_client_users_only(local_stack: Any) -> None:
    assert call(local_stack, "/api/client/export", None)[0] == 401
    assert call(local_stack, "/api/client/export", login(local_stack, local_stack.demo.agent_username))[0] == 403
