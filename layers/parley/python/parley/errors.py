"""Typed domain errors. Each has a stable `code` (documented in docs/protocol.md) and the
HTTP status it maps to; handlers map them centrally, never by matching message text."""

from __future__ import annotations

from typing import Any


class ParleyError(Exception):
    code = "internal_error"
    status = 500

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code.replace("_", " "))
        self.message = message or self.code.replace("_", " ")

    def details(self) -> dict[str, Any]:
        """Extra fields of the error frame or body, beside code and message (documented per code)."""
        return {}


class InvalidRequest(ParleyError):
    code = "invalid_request"
    status = 400


class InvalidJson(InvalidRequest):
    code = "invalid_json"


class UnknownAction(InvalidRequest):
    code = "unknown_action"


class MessageTooLong(InvalidRequest):
    code = "message_too_long"


class EmptyMessage(InvalidRequest):
    code = "empty_message"


class InvalidPreChat(InvalidRequest):
    """A pre-chat answer the client's form refuses: `field` is its key, `reason` says why
    (parley.chat.prechat)."""

    code = "invalid_prechat"

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason

    def details(self) -> dict[str, Any]:
        return {"field": self.field, "reason": self.reason}


class Unauthorized(ParleyError):
    code = "unauthorized"
    status = 401


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class Forbidden(ParleyError):
    code = "forbidden"
    status = 403


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"


class ClientDisabled(Forbidden):
    code = "client_disabled"


class ServiceUnavailable(ParleyError):
    code = "service_unavailable"
    status = 403


class NotFound(ParleyError):
    code = "not_found"
    status = 404


class UnknownWidgetKey(NotFound):
    code = "unknown_widget_key"


class Conflict(ParleyError):
    status = 409
    code = "conflict"


class ConversationClosed(Conflict):
    code = "conversation_closed"


class AlreadyTaken(Conflict):
    code = "already_taken"


class NotAccepted(Conflict):
    code = "not_accepted"
