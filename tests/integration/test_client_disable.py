"""Revocation for clients (issue 11, part 2): disabling a client through the admin API closes its
visitors' open sockets at once, refuses their reconnect, and refuses the actions of any visitor
connection that slipped through (within the 30 s status cache); other clients are untouched;
enabling brings the widget back."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from infra.local.stack import REGION, DemoClient, table_name
from parley.auth.revocation import TTL
from parley.chat.models import Client
from tests.integration.chat_client import ChatClient, Harness, http_post

pytestmark = pytest.mark.integration


def admin_post(stack: Any, path: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{stack.base_url}{path}", data=b"{}", method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_disabling_a_client_closes_its_visitors_sockets_and_refuses_them_after(chat: Harness) -> None:
    stack = chat.stack
    client_id = f"cl_cutoff{time.time_ns() % 10**9}"
    demo = DemoClient(client_id, "Cut Off Co", f"wk_{client_id}", stack.base_url, "", "")
    stack.add_client(Client(client_id=client_id, name=demo.name, widget_key=demo.widget_key,
                            allowed_origins=[demo.origin]))
    chatting, _ = chat.visitor(demo)
    chatting.ok("startConversation", text="hello")
    browsing, _ = chat.visitor(demo)
    browsing.ok("ping")
    # One more whose presence row is missing (connected while the disable ran): only the
    # status check can stop it.
    before = stack.gateway.open_connection_ids
    slipped, _ = chat.visitor(demo)
    slipped.ok("ping")
    (slipped_id,) = stack.gateway.open_connection_ids - before
    boto3.client("dynamodb", region_name=REGION, endpoint_url=stack.moto_url).delete_item(
        TableName=table_name("connections"),
        Key={"pk": {"S": f"VISITORS#{client_id}"}, "sk": {"S": f"CONN#{slipped_id}"}})
    elsewhere, _ = chat.visitor(stack.demo.harbor)
    kept_token = chat.visitor_session(demo.widget_key, demo.origin)["visitorToken"]  # issued before the disable

    admin = chat.agent_token(stack.demo.admin_username)
    status, body = admin_post(stack, f"/api/admin/clients/{client_id}/disable", admin)
    assert (status, body.get("closedConnections"), body["client"]["status"]) == (200, 2, "disabled"), body
    for socket in (chatting, browsing):
        with pytest.raises(ConnectionClosed):
            while True:  # anything already in flight, then the close
                socket.ws.recv(timeout=10)
    elsewhere.ok("ping")  # another client's visitors are untouched

    session_status, session = http_post(f"{stack.base_url}/api/visitor/session", {"widgetKey": demo.widget_key},
                                        demo.origin)
    assert session_status == 403, session
    with pytest.raises(InvalidStatus) as refused:  # a token issued before the disable does not help
        connect(f"{stack.ws_url}?widgetKey={demo.widget_key}&visitorToken={quote(kept_token)}",
                origin=Origin(demo.origin), open_timeout=30)
    assert refused.value.response.status_code == 403

    stack.clock.advance(TTL + timedelta(seconds=1))  # past the status cache of every environment
    refusal = slipped.request("ping")
    assert (refusal["type"], refusal.get("code")) == ("error", "client_disabled"), refusal

    status, body = admin_post(stack, f"/api/admin/clients/{client_id}/enable", admin)
    assert (status, body["client"]["status"]) == (200, "active"), body
    stack.clock.advance(TTL + timedelta(seconds=1))  # an enable, too, reaches actions within the cache's bound
    session_status, session = http_post(f"{stack.base_url}/api/visitor/session", {"widgetKey": demo.widget_key},
                                        demo.origin)
    assert session_status == 200, session
    url = f"{stack.ws_url}?widgetKey={demo.widget_key}&visitorToken={quote(session['visitorToken'])}"
    again = ChatClient(connect(url, origin=Origin(demo.origin), open_timeout=30))
    again.ok("ping")
    again.close()
