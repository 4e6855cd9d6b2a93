"""Admin API request bodies: strict types (no coercion), camelCase on the wire, unknown fields
refused, so bad input is a 400 naming the field and nothing is written."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator
from pydantic.alias_generators import to_camel

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
ID = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Email = Annotated[StrictStr, Field(max_length=254, pattern=EMAIL_PATTERN)]
Language = Annotated[StrictStr, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
MAX_TEAMS_PER_ITEM = 25
MAX_TEAM_SIZE = 100


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _unique(values: list[str], what: str) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat")
    return values


class PreChatFieldIn(_Body):
    key: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    label: Annotated[StrictStr, Field(min_length=1, max_length=80)]
    type: Literal["text", "email", "phone", "textarea", "select", "consent"] = "text"
    required: StrictBool = False
    consent_text: Annotated[StrictStr, Field(max_length=1000)] = ""
    options: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=200)]], Field(max_length=30)] = []

    @model_validator(mode="after")
    def _options(self) -> PreChatFieldIn:
        # A select field offers its options (distinct); no other type has any.
        if (self.type == "select") != bool(self.options):
            raise ValueError("a select field needs its options, and only a select field has options")
        _unique(self.options, "options")
        return self


class ClientSettingsPatch(_Body):
    """The editable settings of a client; on an edit, only the fields sent change."""

    name: Annotated[StrictStr, Field(min_length=2, max_length=100)] | None = None
    allowed_origins: Annotated[list[StrictStr], Field(min_length=1, max_length=20)] | None = None
    greeting: Annotated[StrictStr, Field(max_length=500)] | None = None
    accent_color: Annotated[StrictStr, Field(pattern=r"^#[0-9a-fA-F]{6}$")] | None = None
    languages: Annotated[list[Language], Field(min_length=1, max_length=10)] | None = None
    pre_chat_fields: Annotated[list[PreChatFieldIn], Field(max_length=12)] | None = None
    no_answer_timeout_seconds: Annotated[StrictInt, Field(ge=10, le=900)] | None = None
    idle_timeout_seconds: Annotated[StrictInt, Field(ge=60, le=7 * 24 * 3600)] | None = None
    notification_email: Email | None = None
    tier: Literal["basic", "proactive", "premium"] | None = None
    team_ids: Annotated[list[ID], Field(max_length=MAX_TEAMS_PER_ITEM)] | None = None
    # Business hours as parley.hours.parse_hours takes them (snake_case inside, docs/hours.md),
    # or null to remove them. Left untyped here: the hours module validates them and answers
    # 400 `invalid_hours` naming the field, whatever was sent.
    hours: Any = None

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            bad = [o for o in value if not ORIGIN.match(o.rstrip("/"))]
            if bad:
                raise ValueError(f"not an origin (scheme://host[:port]): {bad[0]!r}")
            value = _unique([o.rstrip("/") for o in value], "origins")
        return value

    @field_validator("pre_chat_fields")
    @classmethod
    def _fields(cls, value: list[PreChatFieldIn] | None) -> list[PreChatFieldIn] | None:
        if value is not None:
            _unique([f.key for f in value], "field keys")
            for f in value:
                if f.type == "consent" and not f.consent_text:
                    raise ValueError(f"field {f.key!r}: a consent field needs its consentText")
        return value

    @field_validator("team_ids", "languages")
    @classmethod
    def _no_repeats(cls, value: list[str] | None) -> list[str] | None:
        return _unique(value, "entries") if value is not None else None


class OnboardClient(ClientSettingsPatch):
    name: Annotated[StrictStr, Field(min_length=2, max_length=100)]
    allowed_origins: Annotated[list[StrictStr], Field(min_length=1, max_length=20)]


class InviteAgent(_Body):
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    email: Email
    role: Literal["agent", "supervisor"] = "agent"
    max_concurrent_chats: Annotated[StrictInt, Field(ge=1, le=50)] = 3
    team_ids: Annotated[list[ID], Field(max_length=MAX_TEAMS_PER_ITEM)] = []

    @field_validator("team_ids")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        return _unique(value, "teamIds")


class AgentPatch(_Body):
    name: Annotated[StrictStr, Field(min_length=1, max_length=100)] | None = None
    role: Literal["agent", "supervisor"] | None = None
    max_concurrent_chats: Annotated[StrictInt, Field(ge=1, le=50)] | None = None
    team_ids: Annotated[list[ID], Field(max_length=MAX_TEAMS_PER_ITEM)] | None = None

    @field_validator("team_ids")
    @classmethod
    def _no_repeats(cls, value: list[str] | None) -> list[str] | None:
        return _unique(value, "teamIds") if value is not None else None


class TeamBody(_Body):
    name: Annotated[StrictStr, Field(min_length=1, max_length=80)]
    agent_ids: Annotated[list[ID], Field(max_length=MAX_TEAM_SIZE)] = []

    @field_validator("agent_ids")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        return _unique(value, "agentIds")


class TeamPatch(_Body):
    name: Annotated[StrictStr, Field(min_length=1, max_length=80)] | None = None
    agent_ids: Annotated[list[ID], Field(max_length=MAX_TEAM_SIZE)] | None = None

    @field_validator("agent_ids")
    @classmethod
    def _no_repeats(cls, value: list[str] | None) -> list[str] | None:
        return _unique(value, "agentIds") if value is not None else None
