"""A client's hours: validate and replace them (admin settings), answer "are we open" (widget).

The admin API calls ``with_hours(client, body)`` and stores the returned client with
``TenantRepository.put_client``; ``InvalidHours`` (400 ``invalid_hours``) is raised before
anything is stored. ``body`` ``None`` removes the hours (the client is then always open).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from parley.chat.models import Client
from parley.hours.availability import Availability, availability
from parley.hours.parsing import parse_hours


def with_hours(client: Client, data: Mapping[str, Any] | None) -> Client:
    """A copy of ``client`` with its hours replaced by the validated ``data`` (or removed)."""
    hours = None if data is None else parse_hours(data)
    return client.model_copy(update={"hours": hours})


def client_availability(client: Client, at: datetime) -> Availability:
    """Whether the client's chats are answered live at ``at``, and when that changes next."""
    return availability(client.hours, at)
