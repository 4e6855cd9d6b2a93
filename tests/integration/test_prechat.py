"""The pre-chat form through the local stack, with real WebSocket clients: the visitor session
returns the client's form; a refused answer is an `invalid_prechat` error frame and stores
nothing; good answers travel to agents with the conversation (queue, accept, routing, resume)."""

from __future__ import annotations

import uuid

import pytest

from infra.local.stack import DemoClient, LocalStack
from parley.chat.models import Agent, Client, PreChatField
from parley.composition import chat as chat_services
from tests.integration.chat_client import Harness

pytestmark = pytest.mark.integration

FORM = [PreChatField(key="name", label="Your name", required=True),
        PreChatField(key="email", label="Email", type="email", required=True),
        PreChatField(key="vehicle", label="Vehicle", type="select", options=["F-150", "Mustang"]),
        PreChatField(key="consent", label="Consent", type="consent", consent_text="You may contact me about my visit")]
GOOD = {"name": "Ana Ruiz", "email": "ana@example.com", "vehicle": "Mustang", "consent": True}
STORED = {"name": "Ana Ruiz", "email": "ana@example.com", "vehicle": "Mustang", "consent": "accepted"}


def client_with_form(stack: LocalStack, team: bool = False) -> tuple[DemoClient, str]:
    """A client of its own with the form, and one agent serving it (its username)."""
    suffix = uuid.uuid4().hex[:8]
    site = DemoClient(f"cl_pc_{suffix}", f"Pre-chat {suffix}", f"wk_pc_{suffix}", stack.base_url,
                      f"pc{suffix}", f"Agent {suffix}")
    team_ids = [f"tm_pc_{suffix}"] if team else []
    stack.add_client(Client(client_id=site.client_id, name=site.name, widget_key=site.widget_key,
                            allowed_origins=[site.origin], pre_chat_fields=FORM, team_ids=team_ids))
    sub = stack.add_agent(site.agent_username, site.agent_name, [site.client_id])
    chat_services.tenant_repository().put_agent(Agent(agent_id=sub, name=site.agent_name, client_ids=[site.client_id],
                                                      team_ids=team_ids))
    return site, site.agent_username


def test_the_session_returns_the_form_the_widget_renders(chat: Harness, local_stack: LocalStack) -> None:
    site, _ = client_with_form(local_stack)
    session = chat.visitor_session(site.widget_key, site.origin)
    assert session["preChatFields"] == [
        {"key": "name", "label": "Your name", "type": "text", "required": True},
        {"key": "email", "label": "Email", "type": "email", "required": True},
        {"key": "vehicle", "label": "Vehicle", "type": "select", "required": False, "options": ["F-150", "Mustang"]},
        {"key": "consent", "label": "Consent", "type": "consent", "required": False,
         "consentText": "You may contact me about my visit"},
    ]
    demo = local_stack.demo.sierra  # a client without a form
    assert chat.visitor_session(demo.widget_key, demo.origin)["preChatFields"] == []


@pytest.mark.parametrize(("answers", "field", "reason"), [
    ({**GOOD, "email": "ana@example"}, "email", "invalid_email"),
    ({k: v for k, v in GOOD.items() if k != "name"}, "name", "required"),
    ({k: v for k, v in GOOD.items() if k != "consent"}, "consent", "consent_required"),
    ({**GOOD, "vehicle": "Ranger"}, "vehicle", "invalid_option"),
    ({**GOOD, "budget": "20k"}, "budget", "unknown_field"),
])
def test_a_refused_form_is_an_error_frame_and_nothing_is_stored(chat: Harness, local_stack: LocalStack,
                                                               answers: dict[str, object], field: str,
                                                               reason: str) -> None:
    site, username = client_with_form(local_stack)
    agent = chat.agent(username)
    agent.ok("subscribeQueue")
    visitor, _ = chat.visitor(site)
    refused = visitor.request("startConversation", text="Is the Mustang still there?", preChat=answers)
    assert refused["type"] == "error"
    assert (refused["code"], refused["field"], refused["reason"]) == ("invalid_prechat", field, reason)
    assert chat_services.chat_repository().conversations_of_client(site.client_id) == []
    agent.no_event()  # no agent hears of it
    assert agent.ok("subscribeQueue")["waiting"] == []
    # The connection stays usable: the corrected form starts the chat.
    assert visitor.ok("startConversation", text="Is it there?", preChat=GOOD)["conversation"]["preChat"] == STORED


def test_good_answers_reach_the_agent_in_the_queue_on_accept_and_on_resume(chat: Harness,
                                                                          local_stack: LocalStack) -> None:
    site, username = client_with_form(local_stack)
    agent = chat.agent(username)
    agent.ok("subscribeQueue")
    visitor, _ = chat.visitor(site)
    started = visitor.ok("startConversation", text="Is the Mustang still there?", preChat=GOOD)
    cid = started["conversation"]["conversationId"]
    assert started["conversation"]["preChat"] == STORED
    assert started["conversation"]["visitorName"] == "Ana Ruiz"  # from the form's name field
    waiting = agent.next_event("conversation.waiting")["conversation"]
    assert (waiting["conversationId"], waiting["preChat"]) == (cid, STORED)
    assert [c["preChat"] for c in agent.ok("subscribeQueue")["waiting"]] == [STORED]
    assert agent.ok("acceptConversation", conversationId=cid)["conversation"]["preChat"] == STORED
    assert agent.ok("resume", conversationId=cid, sinceSeq=0)["conversation"]["preChat"] == STORED
    [stored] = chat_services.chat_repository().conversations_of_client(site.client_id)
    assert (stored.pre_chat, stored.visitor_email) == (STORED, "ana@example.com")


def test_a_routed_chat_brings_its_answers_to_the_assigned_agent(chat: Harness, local_stack: LocalStack) -> None:
    site, username = client_with_form(local_stack, team=True)
    agent = chat.agent(username)
    assert agent.ok("setStatus", status="online")["agent"]["status"] == "online"
    visitor, _ = chat.visitor(site)
    cid = visitor.ok("startConversation", text="Hello", preChat=GOOD)["conversation"]["conversationId"]
    assigned = agent.next_event("conversation.assigned")["conversation"]
    assert (assigned["conversationId"], assigned["preChat"]) == (cid, STORED)
    assert [c["preChat"] for c in agent.ok("subscribeQueue")["mine"]] == [STORED]
