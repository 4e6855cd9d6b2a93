"""Leads errors, each with a stable code (docs/leads.md)."""

from __future__ import annotations

from parley.errors import Conflict, Forbidden
from parley.ratelimit import RateLimited  # the one 429 (parley.ratelimit); re-exported for leads

__all__ = ["ClientNotServed", "LeadExists", "QuotaExceeded", "RateLimited"]


class ClientNotServed(Forbidden):
    code = "client_not_served"


class LeadExists(Conflict):
    code = "lead_exists"


class QuotaExceeded(Exception):
    """The visitor's lead quota for the current window is used up (raised by the store; nothing
    was written)."""
