"""Frame parsing and visitor tokens: pure domain, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.auth.visitor_token import VisitorTokens
from parley.chat.frames import MAX_MESSAGE_CHARS, SendMessage, StartConversation, parse_action, request_id_of
from parley.errors import EmptyMessage, InvalidJson, InvalidRequest, MessageTooLong, Unauthorized, UnknownAction

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (None, InvalidJson), ("", InvalidJson), ("{", InvalidJson), ('"text"', InvalidJson),
        ("{}", UnknownAction), ('{"action": "dance"}', UnknownAction), ('{"action": 7}', UnknownAction),
        ('{"action": "sendMessage"}', InvalidRequest),
        ('{"action": "resume", "conversationId": "c1", "sinceSeq": "x"}', InvalidRequest),
        ('{"action": "sendMessage", "conversationId": "a b", "text": "hi"}', InvalidRequest),
    ],
)
def test_bad_frames_raise_typed_errors(body: str | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_action(body)


def test_a_valid_frame_parses_to_its_action() -> None:
    action = parse_action('{"action": "sendMessage", "conversationId": "cv_1", "text": " hi ", "requestId": "r"}')
    assert isinstance(action, SendMessage)
    assert (action.conversation_id, action.clean_text(), action.request_id) == ("cv_1", "hi", "r")


def test_text_limits() -> None:
    at_limit = StartConversation(action="startConversation", text="x" * MAX_MESSAGE_CHARS)
    assert len(at_limit.clean_text()) == MAX_MESSAGE_CHARS
    with pytest.raises(MessageTooLong, match="4001"):
        StartConversation(action="startConversation", text="x" * (MAX_MESSAGE_CHARS + 1)).clean_text()
    with pytest.raises(EmptyMessage):
        StartConversation(action="startConversation", text=" \n\t ").clean_text()


def test_request_id_is_recovered_even_from_a_bad_frame() -> None:
    assert request_id_of('{"action": "nope", "requestId": "r9"}') == "r9"
    assert request_id_of("garbage") is None
    assert request_id_of('{"requestId": "' + "x" * 65 + '"}') is None


class TestVisitorTokens:
    tokens = VisitorTokens(b"k" * 32, timedelta(days=30))

    def test_round_trip(self) -> None:
        token, expires = self.tokens.issue("cl_a", "v_1", NOW)
        claims = self.tokens.verify(token, NOW)
        assert (claims.client_id, claims.visitor_id, claims.expires_at) == ("cl_a", "v_1", expires)

    def test_expiry_edges(self) -> None:
        token, expires = self.tokens.issue("cl_a", "v_1", NOW)
        self.tokens.verify(token, expires - timedelta(seconds=1))
        with pytest.raises(Unauthorized, match="expired"):
            self.tokens.verify(token, expires)

    @pytest.mark.parametrize("mangle", [
        lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],  # signature changed
        lambda t: "eyJjIjoiY2xfYiJ9." + t.split(".")[1],  # payload swapped
        lambda t: t.replace(".", ""),
        lambda t: "",
    ])
    def test_forgeries_are_refused(self, mangle: object) -> None:
        token, _ = self.tokens.issue("cl_a", "v_1", NOW)
        with pytest.raises(Unauthorized):
            self.tokens.verify(mangle(token), NOW)  # type: ignore[operator]

    def test_another_secret_does_not_verify(self) -> None:
        token, _ = self.tokens.issue("cl_a", "v_1", NOW)
        with pytest.raises(Unauthorized):
            VisitorTokens(b"z" * 32, timedelta(days=1)).verify(token, NOW)

    def test_short_secrets_are_refused(self) -> None:
        with pytest.raises(ValueError, match="32 bytes"):
            VisitorTokens(b"short", timedelta(days=1))
