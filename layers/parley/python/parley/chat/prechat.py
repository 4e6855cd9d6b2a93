"""The pre-chat form: a visitor's answers checked against the client's fields (docs/protocol.md,
"Pre-chat form"). Pure: no I/O, so the rules are tested without a stack.

The widget checks the same things before it sends; the server checks again because the widget
is not the only possible sender. The first problem found is refused as `invalid_prechat` with
the field's key and a reason code the widget translates:

- `unknown_field`: a key the client's form does not have;
- `invalid_type`: not a string (a consent field: not a boolean);
- `required`: a required field missing or blank;
- `too_long`: longer than the field type allows (`MAX_CHARS`);
- `invalid_email` / `invalid_phone` / `invalid_option`: not an email, a phone number, one of the options;
- `consent_required`: a consent field absent or `false` (whenever the client sets one, it must be accepted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from parley.chat.models import PreChatField, PreChatFieldType
from parley.errors import InvalidPreChat

MAX_CHARS = {  # per field type; every stored answer also fits a lead's 500-character limit
    PreChatFieldType.TEXT: 200,
    PreChatFieldType.EMAIL: 254,
    PreChatFieldType.PHONE: 32,
    PreChatFieldType.TEXTAREA: 500,
    PreChatFieldType.SELECT: 200,
}
CONSENT_ACCEPTED = "accepted"  # what a consent answer is stored as
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  # the admin API's and the widget's pattern
_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]*$")
MIN_PHONE_DIGITS = 6


def validate_answers(fields: list[PreChatField], answers: Mapping[str, object] | None) -> dict[str, str]:
    """The answers to store on the conversation, in the form's order (blank optional answers
    left out; consent as "accepted"); raises InvalidPreChat for the first problem."""
    given = dict(answers or {})
    by_key = {f.key: f for f in fields}
    for key in given:
        if key not in by_key:
            raise InvalidPreChat(key, "unknown_field", f"{key}: the pre-chat form has no such field")
    stored: dict[str, str] = {}
    for field in fields:
        value = _answer(field, given.get(field.key))
        if value:
            stored[field.key] = value
    return stored


def _answer(field: PreChatField, raw: object) -> str:
    if field.type is PreChatFieldType.CONSENT:
        if raw is None or raw is False:
            raise InvalidPreChat(field.key, "consent_required", f"{field.key}: please accept to continue")
        if raw is not True:
            raise InvalidPreChat(field.key, "invalid_type", f"{field.key}: a consent answer is true or false")
        return CONSENT_ACCEPTED
    if raw is not None and not isinstance(raw, str):
        raise InvalidPreChat(field.key, "invalid_type", f"{field.key}: the answer must be text")
    value = (raw or "").strip()
    if not value:
        if field.required:
            raise InvalidPreChat(field.key, "required", f"{field.key}: this field is required")
        return ""
    if len(value) > MAX_CHARS[field.type]:
        raise InvalidPreChat(field.key, "too_long", f"{field.key}: at most {MAX_CHARS[field.type]} characters")
    _check_format(field, value)
    return value


def _check_format(field: PreChatField, value: str) -> None:
    if field.type is PreChatFieldType.EMAIL and not _EMAIL.match(value):
        raise InvalidPreChat(field.key, "invalid_email", f"{field.key}: not an email address")
    if field.type is PreChatFieldType.PHONE and not _is_phone(value):
        raise InvalidPreChat(field.key, "invalid_phone", f"{field.key}: not a phone number")
    if field.type is PreChatFieldType.SELECT and value not in field.options:
        raise InvalidPreChat(field.key, "invalid_option", f"{field.key}: not one of the options")


def _is_phone(value: str) -> bool:
    return bool(_PHONE.match(value)) and sum(c.isdigit() for c in value) >= MIN_PHONE_DIGITS


def visitor_contact(fields: list[PreChatField], answers: Mapping[str, str]) -> tuple[str, str]:
    """The visitor's name and email from the answers, if the form asked for them: the field keyed
    `name`, and the first email field."""
    email = next((answers[f.key] for f in fields if f.type is PreChatFieldType.EMAIL and f.key in answers), "")
    return answers.get("name", ""), email
