"""The chat path's rate limits and its duplicate-send window: every number in one place
(docs/protocol.md, "Rate limits" and "Idempotent sends" — keep them in step).

The counters ride on writes the path already makes, so a message still costs two DynamoDB
requests (parley.repositories.chat):

- messages: a counter per sender role and window on the conversation item, bumped by the
  sequence UpdateItem; its condition refuses the write when the window's count is spent;
- conversations: the visitor's limits item (open conversations, starts per window), updated in
  the TransactWriteItems that creates the conversation;
- a client's new conversations per window (a ceiling over all its visitors, against a flood of
  fresh visitor tokens): read before a start, counted after one (two requests per start, none
  per message; a start the visitor's limits refuse is not counted, so one visitor's flood
  cannot use up the client's ceiling).

Windows are fixed and aligned on the epoch (a burst of at most `limit` per window, so at most
twice that across a window boundary); they follow the business clock.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import os
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from parley.chat.models import Role
from parley.errors import ParleyError


class WindowLimit(BaseModel):
    """At most `limit` events per fixed window of `window_seconds`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int = Field(ge=1)
    window_seconds: int = Field(ge=1)

    def window(self, now: datetime) -> int:
        return int(now.timestamp()) // self.window_seconds

    def retry_after(self, now: datetime) -> float:
        """Seconds until the current window ends (when a refused event may be tried again)."""
        ends = (self.window(now) + 1) * self.window_seconds
        return max(0.001, math.ceil((ends - now.timestamp()) * 1000) / 1000)


class ChatLimits(BaseModel):
    """The defaults are the deployed limits. `PARLEY_CHAT_LIMITS` (JSON, any of these fields)
    overrides them for a whole local stack (infra/local/lambda_runtime.py passes it on) — the
    chat benchmark raises the message limits so that its back-to-back sends measure the cost of
    a send, not refusals."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Messages per sender role per conversation: 10 in 5 s for a visitor (2 a second on average),
    # 20 in 5 s for an agent (canned replies come in quick runs).
    visitor_messages: WindowLimit = WindowLimit(limit=10, window_seconds=5)
    agent_messages: WindowLimit = WindowLimit(limit=20, window_seconds=5)
    # startConversation per visitor: 5 a minute, and at most 3 of their conversations open at once.
    starts: WindowLimit = WindowLimit(limit=5, window_seconds=60)
    max_open_conversations: int = Field(default=3, ge=1)
    # New conversations per client, all visitors together: 120 a minute — far above what a
    # client's agents can take, and what stops 200 fake visitors pushing 200 chats to every agent.
    client_starts: WindowLimit = WindowLimit(limit=120, window_seconds=60)

    def messages(self, role: Role) -> WindowLimit:
        return self.visitor_messages if role is Role.VISITOR else self.agent_messages


LIMITS_ENV = "PARLEY_CHAT_LIMITS"


@functools.cache
def _parsed(raw: str) -> ChatLimits:
    return ChatLimits.model_validate_json(raw) if raw else ChatLimits()


def current() -> ChatLimits:
    """The limits in force (read from the environment, parsed once per value)."""
    return _parsed(os.environ.get(LIMITS_ENV, ""))


OPEN_CAP_RETRY_AFTER = 60.0  # a hint: the cap frees up when a conversation closes
# How many past windows' counters a write removes: a counter older than that (after a pause of
# over a minute) stays on its item, a few bytes; the visitor limits item expires by TTL.
STALE_WINDOWS_REMOVED = 12
# A retried send is recognised for at least DEDUPE_WINDOW_SECONDS (at most twice that): the
# conversation keeps the ids of the current and the previous window.
DEDUPE_WINDOW_SECONDS = 300
LIMITS_ITEM_TTL_SECONDS = 2 * 24 * 3600


class RateLimited(ParleyError):
    """Too many of something: nothing was stored; try again after `retry_after` seconds.
    `limit` names which limit refused (messages, starts, open_conversations, client_starts)."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: float, limit: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit

    def details(self) -> dict[str, Any]:
        return {"retryAfter": self.retry_after, "limit": self.limit}


class SendInProgress(ParleyError):
    """A retried send whose original is still being stored (its sequence number is taken but the
    message not yet readable): try again after `retryAfter`; it then gets the original's ack."""

    code = "send_in_progress"
    status = 409

    def details(self) -> dict[str, Any]:
        return {"retryAfter": 1}


def sent_marker(sender_id: str, client_message_id: str) -> str:
    """A short, fixed-size token for a sender's client message id (what the conversation keeps)."""
    digest = hashlib.blake2b(f"{sender_id}\n{client_message_id}".encode(), digest_size=9).digest()
    return base64.urlsafe_b64encode(digest).decode()


def conversation_id_for(client_id: str, visitor_id: str, client_message_id: str) -> str:
    """The conversation a visitor's startConversation with this id creates: the same id every
    time, so a retried start finds the one it created (its Put's condition refuses the copy)."""
    digest = hashlib.blake2b(f"{client_id}\n{visitor_id}\n{client_message_id}".encode(), digest_size=15).digest()
    return "cv_" + base64.b32encode(digest).decode().lower()
