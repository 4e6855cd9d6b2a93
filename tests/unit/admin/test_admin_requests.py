"""Admin request bodies: bad input is refused naming the field (as the HTTP API reports it)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from parley.admin.requests import AgentPatch, ClientSettingsPatch, InviteAgent, OnboardClient, TeamBody

ONBOARD = {"name": "Sierra", "allowedOrigins": ["https://sierra.test"]}
INVITE = {"name": "Dana", "email": "dana@example.com"}


def _field_of(model: type[BaseModel], body: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    return ".".join(str(p) for p in caught.value.errors()[0]["loc"])


@pytest.mark.parametrize(("cap", "field"), [(0, "maxConcurrentChats"), (-1, "maxConcurrentChats"),
                                            (51, "maxConcurrentChats"), ("3", "maxConcurrentChats"),
                                            (2.5, "maxConcurrentChats"), (True, "maxConcurrentChats")])
def test_a_cap_must_be_a_whole_number_of_at_least_one(cap: object, field: str) -> None:
    assert _field_of(InviteAgent, {**INVITE, "maxConcurrentChats": cap}) == field
    assert _field_of(AgentPatch, {"maxConcurrentChats": cap}) == field


def test_caps_at_the_edges_are_accepted() -> None:
    assert InviteAgent.model_validate({**INVITE, "maxConcurrentChats": 1}).max_concurrent_chats == 1
    assert AgentPatch.model_validate({"maxConcurrentChats": 50}).max_concurrent_chats == 50
    assert InviteAgent.model_validate(INVITE).max_concurrent_chats == 3


@pytest.mark.parametrize(("body", "field"), [
    ({**ONBOARD, "allowedOrigins": ["sierra.test"]}, "allowedOrigins"),
    ({**ONBOARD, "allowedOrigins": ["https://sierra.test/path"]}, "allowedOrigins"),
    ({**ONBOARD, "allowedOrigins": []}, "allowedOrigins"),
    ({**ONBOARD, "accentColor": "red"}, "accentColor"),
    ({**ONBOARD, "languages": ["english"]}, "languages.0"),
    ({**ONBOARD, "languages": ["en", "en"]}, "languages"),
    ({**ONBOARD, "noAnswerTimeoutSeconds": 0}, "noAnswerTimeoutSeconds"),
    ({**ONBOARD, "idleTimeoutSeconds": "600"}, "idleTimeoutSeconds"),
    ({**ONBOARD, "notificationEmail": "not-an-email"}, "notificationEmail"),
    ({**ONBOARD, "tier": "gold"}, "tier"),
    ({**ONBOARD, "teamIds": ["bad id!"]}, "teamIds.0"),
    ({**ONBOARD, "preChatFields": [{"key": "Name", "label": "x"}]}, "preChatFields.0.key"),
    ({**ONBOARD, "preChatFields": [{"key": "a", "label": "x", "type": "date"}]}, "preChatFields.0.type"),
    ({**ONBOARD, "preChatFields": [{"key": "a", "label": "x"}, {"key": "a", "label": "y"}]}, "preChatFields"),
    ({**ONBOARD, "preChatFields": [{"key": "ok", "label": "x", "type": "consent"}]}, "preChatFields"),
    ({**ONBOARD, "widgetKey": "wk_mine"}, "widgetKey"),  # unknown fields are refused, not ignored
    ({"allowedOrigins": ["https://sierra.test"]}, "name"),
])
def test_bad_client_settings_name_the_field(body: dict[str, Any], field: str) -> None:
    assert _field_of(OnboardClient, body) == field


def test_a_patch_may_send_any_subset() -> None:
    patch = ClientSettingsPatch.model_validate({"greeting": "Hola"})
    assert patch.model_dump(exclude_unset=True) == {"greeting": "Hola"}


@pytest.mark.parametrize(("body", "field"), [
    ({**INVITE, "email": "dana"}, "email"),
    ({**INVITE, "role": "admin"}, "role"),  # admins are not invited through this route
    ({**INVITE, "teamIds": ["tm_a", "tm_a"]}, "teamIds"),
    ({"email": "dana@example.com"}, "name"),
])
def test_bad_invitations_name_the_field(body: dict[str, Any], field: str) -> None:
    assert _field_of(InviteAgent, body) == field


def test_team_members_must_not_repeat() -> None:
    assert _field_of(TeamBody, {"name": "A", "agentIds": ["x", "x"]}) == "agentIds"
    assert _field_of(TeamBody, {"name": ""}) == "name"
