"""Leads errors, each with a stable code (docs/leads.md)."""

from __future__ import annotations

from parley.errors import Conflict, Forbidden, ParleyError


class RateLimited(ParleyError):
    """429: the visitor sent too many offline messages; `retry_after` seconds until allowed."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClientNotServed(Forbidden):
    code = "client_not_served"


class LeadExists(Conflict):
    code = "lead_exists"


class QuotaExceeded(Exception):
    """The visitor's lead quota for the current window is used up (raised by the store; nothing
    was written)."""
