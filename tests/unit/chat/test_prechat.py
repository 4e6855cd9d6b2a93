"""Pre-chat answers against a client's form (parley.chat.prechat): each field type, required,
consent, unknown keys, sizes; and the frame and admin shapes that carry forms and answers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from parley.admin.requests import PreChatFieldIn
from parley.chat.frames import parse_action
from parley.chat.models import PreChatField, PreChatFieldType
from parley.chat.prechat import MAX_CHARS, validate_answers, visitor_contact
from parley.errors import InvalidPreChat, InvalidRequest

FORM = [
    PreChatField(key="name", label="Your name", required=True),
    PreChatField(key="email", label="Email", type="email", required=True),
    PreChatField(key="phone", label="Phone", type="phone"),
    PreChatField(key="question", label="Question", type="textarea"),
    PreChatField(key="vehicle", label="Vehicle", type="select", options=["F-150", "Mustang"]),
    PreChatField(key="gdpr", label="Consent", type="consent", consent_text="You may contact me"),
]
GOOD: dict[str, Any] = {"name": " Ana ", "email": "ana@example.com", "gdpr": True}


def refused(answers: dict[str, Any], fields: list[PreChatField] = FORM) -> tuple[str, str]:
    with pytest.raises(InvalidPreChat) as info:
        validate_answers(fields, answers)
    assert info.value.code == "invalid_prechat"
    assert info.value.details() == {"field": info.value.field, "reason": info.value.reason}
    return info.value.field, info.value.reason


def test_good_answers_are_trimmed_kept_in_form_order_and_consent_stored_as_accepted() -> None:
    answers = {"gdpr": True, "vehicle": "Mustang", "phone": "+1 (602) 555-0100", "question": "Is it sold?",
               "email": " ana@example.com ", "name": " Ana "}
    stored = validate_answers(FORM, answers)
    assert stored == {"name": "Ana", "email": "ana@example.com", "phone": "+1 (602) 555-0100",
                      "question": "Is it sold?", "vehicle": "Mustang", "gdpr": "accepted"}
    assert list(stored) == ["name", "email", "phone", "question", "vehicle", "gdpr"]


def test_blank_optional_answers_are_left_out() -> None:
    assert validate_answers(FORM, {**GOOD, "phone": "  ", "question": ""}) == {
        "name": "Ana", "email": "ana@example.com", "gdpr": "accepted"}


def test_a_client_without_a_form_takes_no_answers_and_refuses_any() -> None:
    assert validate_answers([], {}) == {}
    assert validate_answers([], None) == {}
    assert refused({"name": "Ana"}, []) == ("name", "unknown_field")


@pytest.mark.parametrize(("answers", "problem"), [
    ({k: v for k, v in GOOD.items() if k != "name"}, ("name", "required")),
    ({**GOOD, "name": "   "}, ("name", "required")),
    ({**GOOD, "email": None}, ("email", "required")),
    ({**GOOD, "nickname": "A"}, ("nickname", "unknown_field")),
    ({**GOOD, "name": 42}, ("name", "invalid_type")),
    ({**GOOD, "name": ["Ana"]}, ("name", "invalid_type")),
    ({**GOOD, "email": "ana@example"}, ("email", "invalid_email")),
    ({**GOOD, "email": "ana example.com"}, ("email", "invalid_email")),
    ({**GOOD, "phone": "call me"}, ("phone", "invalid_phone")),
    ({**GOOD, "phone": "12345"}, ("phone", "invalid_phone")),  # too few digits
    ({**GOOD, "vehicle": "Ranger"}, ("vehicle", "invalid_option")),
    ({**GOOD, "vehicle": "f-150"}, ("vehicle", "invalid_option")),
    ({k: v for k, v in GOOD.items() if k != "gdpr"}, ("gdpr", "consent_required")),
    ({**GOOD, "gdpr": "yes"}, ("gdpr", "invalid_type")),
    ({**GOOD, "gdpr": False}, ("gdpr", "consent_required")),
    ({**GOOD, "gdpr": 1}, ("gdpr", "invalid_type")),
])
def test_each_problem_names_its_field_and_reason(answers: dict[str, Any], problem: tuple[str, str]) -> None:
    assert refused(answers) == problem


@pytest.mark.parametrize(("key", "limit"), [("name", MAX_CHARS[PreChatFieldType.TEXT]),
                                            ("question", MAX_CHARS[PreChatFieldType.TEXTAREA]),
                                            ("phone", MAX_CHARS[PreChatFieldType.PHONE])])
def test_sizes_at_the_edge(key: str, limit: int) -> None:
    at_limit = ("1" * limit) if key == "phone" else ("x" * limit)
    assert validate_answers(FORM, {**GOOD, key: at_limit})[key] == at_limit
    assert refused({**GOOD, key: at_limit + "1"}) == (key, "too_long")


def test_an_email_at_254_characters_passes_and_at_255_is_too_long() -> None:
    email = "a" * (254 - len("@example.com")) + "@example.com"
    assert validate_answers(FORM, {**GOOD, "email": email})["email"] == email
    assert refused({**GOOD, "email": "a" + email}) == ("email", "too_long")


def test_an_optional_consent_field_must_still_be_accepted() -> None:
    optional = [PreChatField(key="terms", label="Terms", type="consent", consent_text="I agree")]
    assert refused({}, optional) == ("terms", "consent_required")
    assert validate_answers(optional, {"terms": True}) == {"terms": "accepted"}


def test_visitor_contact_comes_from_the_name_field_and_the_first_email_field() -> None:
    assert visitor_contact(FORM, validate_answers(FORM, GOOD)) == ("Ana", "ana@example.com")
    assert visitor_contact([], {}) == ("", "")


def test_the_start_frame_carries_answers_bounded_in_number() -> None:
    frame = ('{"action":"startConversation","text":"hi","preChat":{"name":"Ana","gdpr":true}}')
    assert parse_action(frame).pre_chat == {"name": "Ana", "gdpr": True}  # type: ignore[union-attr]
    assert parse_action('{"action":"startConversation","text":"hi"}').pre_chat == {}  # type: ignore[union-attr]
    many = ",".join(f'"k{i}":"v"' for i in range(21))
    with pytest.raises(InvalidRequest, match="preChat"):
        parse_action('{"action":"startConversation","text":"hi","preChat":{' + many + '}}')
    with pytest.raises(InvalidRequest, match="preChat"):
        parse_action('{"action":"startConversation","text":"hi","preChat":["Ana"]}')


def test_the_public_field_is_what_the_widget_renders() -> None:
    assert [f.public() for f in FORM[3:]] == [
        {"key": "question", "label": "Question", "type": "textarea", "required": False},
        {"key": "vehicle", "label": "Vehicle", "type": "select", "required": False, "options": ["F-150", "Mustang"]},
        {"key": "gdpr", "label": "Consent", "type": "consent", "required": False, "consentText": "You may contact me"},
    ]


@pytest.mark.parametrize("field", [
    {"key": "car", "label": "Car", "type": "select"},  # a select without options
    {"key": "car", "label": "Car", "type": "select", "options": ["A", "A"]},
    {"key": "car", "label": "Car", "type": "select", "options": [""]},
    {"key": "name", "label": "Name", "options": ["A"]},  # options on a text field
])
def test_the_admin_api_refuses_a_malformed_select(field: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PreChatFieldIn.model_validate(field)


def test_the_admin_api_takes_a_select_with_options() -> None:
    field = PreChatFieldIn.model_validate({"key": "car", "label": "Car", "type": "select", "options": ["A", "B"]})
    assert PreChatField.model_validate(field.model_dump()).options == ["A", "B"]
