"""Conversations, messages and live connections in DynamoDB — every path a key lookup.

Data table
  CONV#{id} / META                 the conversation, its `last_seq` and the map of the
                                   connections attached to it (connection id -> role)
                                   and the send guards: `rate` (message counters per
                                   sender role and window) and `sent` (recent client
                                   message ids per window), parley.chat.limits
  CONV#{id} / MSG#{seq:010d}       a message or system event
  VISITOR#{client}#{visitor} / LIMITS  a visitor's open conversations and starts per window
  CLIENTLIMITS#{client} / STARTS#{window}  a client's new conversations per window (TTL)
  gsi1: QUEUE#{client} / created   waiting conversations of a client (sparse)
        AGENTOPEN#{agent} / accepted  an agent's open conversations (sparse)
  gsi2: CLIENTCONV#{client} / created  every conversation of a client (export, deletion; LC-3)
Connections table
  CONN#{id} / META                 identity established at $connect, conversations joined
  AGENTS#{client} / CONN#{id}      agents online for a client (queue broadcasts)
  AGENTCONN#{agent} / CONN#{id}    an agent's connections (all its tabs join an accepted chat)
  VISITORS#{client} / CONN#{id}    a client's visitor connections (closed when the client is disabled)

A relayed message costs two requests whatever the number of open connections: UpdateItem
conversation (next seq, membership checked in its condition, the connections to post to) and
PutItem message; the rate limit and the duplicate check ride on that UpdateItem's condition.
The sender's identity comes from the `$connect` authorizer's context, not
from the connection item (which relays, queue broadcasts and $disconnect still use).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from botocore.exceptions import ClientError

from parley.chat import limits
from parley.chat.limits import RateLimited, SendInProgress
from parley.chat.models import Connection, Conversation, ConversationStatus, Identity, Message, Role
from parley.clock import iso
from parley.errors import AlreadyTaken, ConversationClosed, NotAccepted, NotFound
from parley.repositories.dynamo import from_item, to_item, values
from parley.repositories.routing import open_shard_key
from parley.settings import MissingSetting

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONNECTION_TTL = timedelta(hours=24)  # API Gateway closes a WebSocket after 2 h at most
MAX_PAGE = 500


def _conv_key(conversation_id: str) -> dict[str, Any]:
    return to_item({"pk": f"CONV#{conversation_id}", "sk": "META"})


def _msg_sk(seq: int) -> str:
    return f"MSG#{seq:010d}"


def _conversation(data: dict[str, Any]) -> Conversation:
    return Conversation.model_validate(data)


@dataclass(frozen=True, kw_only=True)
class ConversationUpdate:
    """One update of a conversation by a participant, and the states it is allowed in."""

    expression: str  # the UpdateExpression
    names: dict[str, str] = field(default_factory=dict)
    vals: dict[str, Any] = field(default_factory=dict)
    require_active_for_agent: bool = False  # an agent writes only once accepted (not waiting)
    allow_closed: bool = False
    returning: Literal["ALL_NEW", "ALL_OLD"] = "ALL_NEW"
    extra_condition: str = ""  # ANDed with the participant condition
    # Asked first when the condition refuses, with the item as it was (None: no such item):
    # an exception that explains the refusal, or None for the participant checks' reason.
    explain: Callable[[dict[str, Any] | None], Exception | None] | None = None


@dataclass(frozen=True)
class Sent:
    """A send's outcome: the message (the original one for a recognised retry), the conversation
    after it, whether the sender's connection was newly attached, and whether it was a retry."""

    message: Message
    conversation: Conversation
    newly_attached: bool
    duplicate: bool = False


class _DuplicateSend(Exception):
    """The send's client message id is among the conversation's recent ones (nothing written)."""

    def __init__(self, conversation: Conversation) -> None:
        super().__init__("duplicate send")
        self.conversation = conversation


def _may_write(conversation: Conversation, identity: Identity) -> bool:
    """What the participant condition of a send checks, on an image of the item."""
    if not _visible_to(conversation, identity) or conversation.status is ConversationStatus.CLOSED:
        return False
    if identity.role is Role.VISITOR:
        return True
    return conversation.agent_id == identity.user_id and conversation.status is ConversationStatus.ACTIVE


def _window_names(prefix: str, window: int, placeholder: str, count: int) -> dict[str, str]:
    """Placeholders for the `count` windows before `window` (the stale counters a write removes)."""
    return {f"#{placeholder}{i}": f"{prefix}{window - i}" for i in range(1, count + 1)}


def _refusal(current: Conversation | None, identity: Identity, *, accepting: bool) -> Exception:
    """Why `identity`'s conditional write to `current` (as it was) was refused."""
    # Another tenant's conversation is indistinguishable from a missing one.
    if current is None or not _visible_to(current, identity):
        return NotFound("no such conversation")
    if current.status is ConversationStatus.CLOSED:
        return ConversationClosed("the conversation is closed")
    if accepting:
        return AlreadyTaken("another agent accepted this conversation")
    if _another_agents_chat(current, identity):
        return NotFound("no such conversation")
    return NotAccepted("accept the conversation first")


def _visible_to(conversation: Conversation, identity: Identity) -> bool:
    """In one of the caller's tenants and, for a visitor, their own."""
    if conversation.client_id not in identity.client_ids:
        return False
    return identity.role is not Role.VISITOR or conversation.visitor_id == identity.user_id


def _another_agents_chat(conversation: Conversation, identity: Identity) -> bool:
    """Accepted by someone else (a waiting chat is anyone's to accept first)."""
    return (identity.role is Role.AGENT and conversation.agent_id != identity.user_id
            and conversation.status is not ConversationStatus.WAITING)


class ChatRepository:
    def __init__(self, client: DynamoDBClient, data_table: str, connections_table: str | None) -> None:
        self._db = client
        self._data = data_table
        self._connections_table = connections_table  # None: this function is not granted it

    @property
    def _conns(self) -> str:
        if self._connections_table is None:
            raise MissingSetting("PARLEY_CONNECTIONS_TABLE")
        return self._connections_table

    # --- connections -------------------------------------------------------------------
    def put_connection(self, connection: Connection) -> None:
        identity = connection.identity
        base = {"connection_id": connection.connection_id,
                "expires_at": int((connection.connected_at + CONNECTION_TTL).timestamp())}
        items = [{"pk": f"CONN#{connection.connection_id}", "sk": "META", **base,
                  "identity": identity.model_dump(mode="json"), "connected_at": iso(connection.connected_at)}]
        if identity.role is Role.AGENT:
            items += [{"pk": f"AGENTS#{cid}", "sk": f"CONN#{connection.connection_id}", **base,
                       "agent_id": identity.user_id} for cid in identity.client_ids]
            items.append({"pk": f"AGENTCONN#{identity.user_id}", "sk": f"CONN#{connection.connection_id}", **base})
        elif identity.role is Role.VISITOR:  # disabling the client closes these (parley.admin)
            items.append({"pk": f"VISITORS#{identity.client_id}", "sk": f"CONN#{connection.connection_id}", **base})
        self._batch_write(self._conns, [{"PutRequest": {"Item": to_item(i)}} for i in items])

    def get_connection(self, connection_id: str) -> tuple[Connection, set[str]] | None:
        """The connection and the conversations it joined (one GetItem)."""
        item = self._db.get_item(TableName=self._conns,
                                 Key=to_item({"pk": f"CONN#{connection_id}", "sk": "META"})).get("Item")
        if not item:
            return None
        data = from_item(item)
        connection = Connection(connection_id=connection_id, identity=Identity.model_validate(data["identity"]),
                                connected_at=data["connected_at"])
        return connection, set(data.get("conversations", set()))

    def delete_connection(self, connection_id: str) -> tuple[Connection, set[str]] | None:
        """Forget a connection: its presence rows and its attachment to conversations."""
        found = self.get_connection(connection_id)
        if found is None:
            return None
        connection, conversations = found
        identity = connection.identity
        keys = [{"pk": f"CONN#{connection_id}", "sk": "META"}]
        if identity.role is Role.AGENT:
            keys += [{"pk": f"AGENTS#{cid}", "sk": f"CONN#{connection_id}"} for cid in identity.client_ids]
            keys.append({"pk": f"AGENTCONN#{identity.user_id}", "sk": f"CONN#{connection_id}"})
        elif identity.role is Role.VISITOR:
            keys.append({"pk": f"VISITORS#{identity.client_id}", "sk": f"CONN#{connection_id}"})
        self._batch_write(self._conns, [{"DeleteRequest": {"Key": to_item(k)}} for k in keys])
        for conversation_id in conversations:
            self.detach(conversation_id, connection_id)
        return connection, conversations

    def agent_connections_for_client(self, client_id: str) -> list[str]:
        return self._query_connection_ids(f"AGENTS#{client_id}")

    def connections_of_agent(self, agent_id: str) -> list[str]:
        return self._query_connection_ids(f"AGENTCONN#{agent_id}")

    def visitor_connections_for_client(self, client_id: str) -> list[str]:
        """Every open visitor connection of a client (closed at once when it is disabled)."""
        return self._query_connection_ids(f"VISITORS#{client_id}")

    def _query_connection_ids(self, pk: str) -> list[str]:
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self._conns, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": values({":pk": pk}), "ProjectionExpression": "connection_id",
        }
        while True:
            page = self._db.query(**kwargs)
            ids += [str(from_item(i)["connection_id"]) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return ids
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def remember_joined(self, connection_ids: Iterable[str], conversation_id: str) -> None:
        for connection_id in connection_ids:
            try:
                self._db.update_item(
                    TableName=self._conns, Key=to_item({"pk": f"CONN#{connection_id}", "sk": "META"}),
                    UpdateExpression="ADD conversations :c", ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=values({":c": {conversation_id}}),
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    # --- conversations -----------------------------------------------------------------
    def create_conversation(self, conversation: Conversation, first: Message, connection_id: str,
                            *, limited_at: datetime | None = None) -> bool:
        """Store a new conversation and its first message (one TransactWriteItems). With
        `limited_at`, the visitor's limits ride in the same transaction (parley.chat.limits):
        refused with `RateLimited`, nothing stored. False: a conversation with this id exists
        already (a retried start, `limits.conversation_id_for`); nothing stored."""
        data = conversation.model_dump(mode="json", exclude_none=True)
        data.update(pk=f"CONV#{conversation.conversation_id}", sk="META", connections={connection_id: "visitor"},
                    gsi1pk=f"QUEUE#{conversation.client_id}", gsi1sk=data["created_at"],
                    gsi2pk=f"CLIENTCONV#{conversation.client_id}", gsi2sk=data["created_at"],
                    gsi3pk=open_shard_key(conversation.conversation_id), updated_at=data["created_at"],
                    rate={}, sent={})  # the send guards' maps (parley.chat.limits)
        items: list[Any] = [
            {"Put": {"TableName": self._data, "Item": to_item(data),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._data, "Item": self._message_item(first)}},
        ]
        if limited_at is not None:
            items.append({"Update": self._visitor_limits_update(conversation, limited_at)})
        for attempt in range(2):  # once more only when a closed conversation made room
            try:
                self._db.transact_write_items(TransactItems=items)
                break
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                if "TransactionConflict" in reasons:  # a retried start racing its original
                    raise SendInProgress("this conversation is being started; retry shortly") from exc
                if limited_at is None or len(reasons) < 3 or reasons[2] != "ConditionalCheckFailed":
                    raise
                if attempt == 1 or not self._free_closed(conversation, limited_at):
                    raise self._start_refusal(conversation, limited_at) from exc
        self.remember_joined([connection_id], conversation.conversation_id)
        return True

    @staticmethod
    def _limits_key(conversation: Conversation) -> dict[str, Any]:
        return to_item({"pk": f"VISITOR#{conversation.client_id}#{conversation.visitor_id}", "sk": "LIMITS"})

    def _visitor_limits_update(self, conversation: Conversation, now: datetime) -> dict[str, Any]:
        """Count the start and the open conversation, refused by its condition when the visitor
        has too many open or started too many in this window."""
        config = limits.current()
        window = config.starts.window(now)
        stale = _window_names("starts_", window, "sp", limits.STALE_WINDOWS_REMOVED)
        return {
            "TableName": self._data, "Key": self._limits_key(conversation),
            "UpdateExpression": ("ADD open_conversations :cid, #starts :one SET expires_at = :exp "
                                 "REMOVE " + ", ".join(stale)),
            "ConditionExpression": ("(attribute_not_exists(open_conversations) OR size(open_conversations) < :cap) "
                                    "AND (attribute_not_exists(#starts) OR #starts < :max)"),
            "ExpressionAttributeNames": {"#starts": f"starts_{window}", **stale},
            "ExpressionAttributeValues": values({
                ":cid": {conversation.conversation_id}, ":one": 1, ":cap": config.max_open_conversations,
                ":max": config.starts.limit, ":exp": int(now.timestamp()) + limits.LIMITS_ITEM_TTL_SECONDS}),
        }

    def _visitor_limits(self, conversation: Conversation) -> dict[str, Any]:
        item = self._db.get_item(TableName=self._data, Key=self._limits_key(conversation),
                                 ConsistentRead=True).get("Item")
        return from_item(item) if item else {}

    def _free_closed(self, conversation: Conversation, now: datetime) -> bool:
        """At the open-conversation cap: forget the visitor's conversations that have closed since
        (they are not removed when they close — this refusal path is the only one that pays)."""
        config, found = limits.current(), self._visitor_limits(conversation)
        if int(found.get(f"starts_{config.starts.window(now)}", 0)) >= config.starts.limit:
            return False
        open_ids = sorted(found.get("open_conversations", set()))
        if len(open_ids) < config.max_open_conversations:
            return False  # not the cap: the condition refused for another reason, meanwhile gone
        closed = {cid for cid in open_ids
                  if (c := self.get_conversation(cid)) is None or c.status is ConversationStatus.CLOSED}
        if not closed:
            return False
        self._db.update_item(TableName=self._data, Key=self._limits_key(conversation),
                             UpdateExpression="DELETE open_conversations :closed",
                             ExpressionAttributeValues=values({":closed": closed}))
        return True

    def _start_refusal(self, conversation: Conversation, now: datetime) -> RateLimited:
        config, found = limits.current(), self._visitor_limits(conversation)
        if int(found.get(f"starts_{config.starts.window(now)}", 0)) >= config.starts.limit:
            wait = config.starts.retry_after(now)
            return RateLimited(f"too many new conversations; try again in {wait:g} s", wait, "starts")
        return RateLimited(f"at most {config.max_open_conversations} conversations may be open at once; close one",
                           limits.OPEN_CAP_RETRY_AFTER, "open_conversations")

    # --- a client's ceiling of new conversations (parley.chat.limits.client_starts) ---------
    @staticmethod
    def _client_starts_key(client_id: str, window: int) -> dict[str, Any]:
        return to_item({"pk": f"CLIENTLIMITS#{client_id}", "sk": f"STARTS#{window}"})

    def check_client_starts(self, client_id: str, now: datetime) -> None:
        """Refuse a start when the client's conversations of this window are at the ceiling."""
        limit = limits.current().client_starts
        item = self._db.get_item(TableName=self._data, Key=self._client_starts_key(client_id, limit.window(now)),
                                 ProjectionExpression="starts").get("Item")
        if item is not None and int(from_item(item).get("starts", 0)) >= limit.limit:
            wait = limit.retry_after(now)
            raise RateLimited(f"this chat is receiving too many new conversations; try again in {wait:g} s",
                              wait, "client_starts")

    def count_client_start(self, client_id: str, now: datetime) -> None:
        """Count a conversation the client received (one window's item, expired by TTL)."""
        limit = limits.current().client_starts
        self._db.update_item(TableName=self._data, Key=self._client_starts_key(client_id, limit.window(now)),
                             UpdateExpression="ADD starts :one SET expires_at = :exp",
                             ExpressionAttributeValues=values({
                                 ":one": 1, ":exp": int(now.timestamp()) + 2 * limit.window_seconds}))

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        item = self._db.get_item(TableName=self._data, Key=_conv_key(conversation_id)).get("Item")
        return _conversation(from_item(item)) if item else None

    def append(self, identity: Identity, connection_id: str, conversation_id: str, text: str,
               now: datetime) -> tuple[Message, Conversation, bool]:
        """`send` without a client message id: the message, the conversation after it and
        whether this connection was newly attached."""
        sent = self.send(identity, connection_id, conversation_id, text, now)
        return sent.message, sent.conversation, sent.newly_attached

    def send(self, identity: Identity, connection_id: str, conversation_id: str, text: str, now: datetime,
             client_message_id: str | None = None) -> Sent:
        """Allocate the next seq on the conversation (checking the sender may write to it, is
        within the message rate limit and, with a client message id, has not sent it already) and
        store the message: two requests. A recognised retry writes nothing and returns the
        original message (`duplicate`); a refusal by the rate limit is `RateLimited`.

        The update returns the item as it was (ALL_OLD) — the one image that says whether the
        sender's connection was already attached — and the new state is that image with the
        update applied (the same assignments as the expression, on a consistent old image)."""
        try:
            before = self._update_conversation(identity, conversation_id,
                                               self._send_update(identity, connection_id, text, now, client_message_id))
        except _DuplicateSend as duplicate:
            assert client_message_id is not None  # only a send with an id is recognised
            original = self._find_sent(conversation_id, identity.user_id, client_message_id)
            return Sent(original, duplicate.conversation, newly_attached=False, duplicate=True)
        except ClientError as exc:
            if not self._lacks_guard_maps(exc):
                raise
            self._add_guard_maps(conversation_id)  # a conversation stored before the guards: once
            return self.send(identity, connection_id, conversation_id, text, now, client_message_id)
        counter = "visitor_messages" if identity.role is Role.VISITOR else "agent_messages"
        first_at = "first_visitor_message_at" if identity.role is Role.VISITOR else "first_agent_reply_at"
        conversation = before.model_copy(update={
            "last_seq": before.last_seq + 1, counter: getattr(before, counter) + 1,
            first_at: getattr(before, first_at) or now, "preview": text[:120],
            "connections": {**before.connections, connection_id: identity.role.value},
        })
        message = Message(conversation_id=conversation_id, client_id=conversation.client_id,
                          seq=conversation.last_seq, role=identity.role, sender_id=identity.user_id,
                          sender_name=identity.name, text=text, sent_at=now, client_message_id=client_message_id)
        self._db.put_item(TableName=self._data, Item=self._message_item(message))
        return Sent(message, conversation, connection_id not in before.connections)

    def _send_update(self, identity: Identity, connection_id: str, text: str, now: datetime,
                     client_message_id: str | None) -> ConversationUpdate:
        counter = "visitor_messages" if identity.role is Role.VISITOR else "agent_messages"
        first_at = "first_visitor_message_at" if identity.role is Role.VISITOR else "first_agent_reply_at"
        rate = limits.current().messages(identity.role)
        window, prefix = rate.window(now), identity.role.value[0]
        stale = _window_names(prefix, window, "rs", limits.STALE_WINDOWS_REMOVED)
        names = {"#conn": connection_id, "#rate": f"{prefix}{window}", **stale}
        vals: dict[str, Any] = {":one": 1, ":zero": 0, ":now": iso(now), ":preview": text[:120],
                                ":role": identity.role.value, ":rate_max": rate.limit}
        sets = (f"last_seq = last_seq + :one, {counter} = if_not_exists({counter}, :zero) + :one, "
                f"{first_at} = if_not_exists({first_at}, :now), preview = :preview, updated_at = :now, "
                "connections.#conn = :role, rate.#rate = if_not_exists(rate.#rate, :zero) + :one")
        removes = [f"rate.{n}" for n in stale]
        condition = "(attribute_not_exists(rate.#rate) OR rate.#rate < :rate_max)"
        adds = ""
        marker = None
        if client_message_id is not None:
            marker = limits.sent_marker(identity.user_id, client_message_id)
            bucket = int(now.timestamp()) // limits.DEDUPE_WINDOW_SECONDS
            old = _window_names("b", bucket - 1, "so", limits.STALE_WINDOWS_REMOVED)
            names.update({"#sb": f"b{bucket}", "#sp": f"b{bucket - 1}", **old})
            vals.update({":marker": marker, ":markers": {marker}})
            adds = " ADD sent.#sb :markers"
            removes += [f"sent.{n}" for n in old]
            condition += " AND NOT contains(sent.#sb, :marker) AND NOT contains(sent.#sp, :marker)"

        def explain(raw: dict[str, Any] | None) -> Exception | None:
            current = _conversation(raw) if raw else None
            if raw is None or current is None or not _visible_to(current, identity):
                return None
            recent = raw.get("sent") or {}
            if marker is not None and any(marker in recent.get(names[b], set()) for b in ("#sb", "#sp")):
                return _DuplicateSend(current)
            if _may_write(current, identity) and int((raw.get("rate") or {}).get(names["#rate"], 0)) >= rate.limit:
                wait = rate.retry_after(now)
                return RateLimited(f"too many messages; try again in {wait:g} s", wait, "messages")
            return None

        return ConversationUpdate(
            expression=f"SET {sets}{adds} REMOVE {', '.join(removes)}", names=names, vals=vals,
            require_active_for_agent=True, returning="ALL_OLD", extra_condition=condition, explain=explain)

    @staticmethod
    def _lacks_guard_maps(exc: ClientError) -> bool:
        error = exc.response["Error"]
        return error["Code"] == "ValidationException" and "document path" in str(error.get("Message", ""))

    def _add_guard_maps(self, conversation_id: str) -> None:
        try:
            self._db.update_item(
                TableName=self._data, Key=_conv_key(conversation_id),
                UpdateExpression="SET rate = if_not_exists(rate, :empty), sent = if_not_exists(sent, :empty)",
                ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues=values({":empty": {}}))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _find_sent(self, conversation_id: str, sender_id: str, client_message_id: str) -> Message:
        """The message a recognised retry first stored: among the newest of the conversation (a
        retry comes within minutes). Its PutItem may still be on its way: a few short waits."""
        for pause in (0.0, 0.05, 0.15, 0.3):
            time.sleep(pause)
            kwargs: dict[str, Any] = {
                "TableName": self._data, "ScanIndexForward": False, "Limit": 200,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :msg)",
                "FilterExpression": "client_message_id = :cm AND sender_id = :sid",
                "ExpressionAttributeValues": values({":pk": f"CONV#{conversation_id}", ":msg": "MSG#",
                                                     ":cm": client_message_id, ":sid": sender_id}),
            }
            for _ in range(5):
                page = self._db.query(**kwargs)
                if page.get("Items"):
                    return Message.model_validate(from_item(page["Items"][0]))
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        raise SendInProgress("the first copy of this send is still being stored; retry shortly")

    def accept(self, identity: Identity, conversation_id: str, connection_ids: Sequence[str],
               now: datetime) -> tuple[Message, Conversation]:
        names = {f"#c{i}": cid for i, cid in enumerate(connection_ids)}
        attach = "".join(f", connections.{n} = :agent" for n in names)
        try:
            item = self._db.update_item(
                TableName=self._data, Key=_conv_key(conversation_id),
                UpdateExpression=("SET #status = :active, agent_id = :aid, agent_name = :aname, accepted_at = :now, "
                                  "last_seq = last_seq + :one, gsi1pk = :open, gsi1sk = :now, updated_at = :now"
                                  + attach),
                ConditionExpression=f"#status = :waiting AND client_id IN ({self._client_placeholders(identity)})",
                ExpressionAttributeNames={"#status": "status", **names},
                ExpressionAttributeValues=values({
                    ":active": "active", ":waiting": "waiting", ":aid": identity.user_id, ":aname": identity.name,
                    ":now": iso(now), ":one": 1, ":open": f"AGENTOPEN#{identity.user_id}", ":agent": "agent",
                    **self._client_values(identity)}),
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except ClientError as exc:
            raise self._why_refused(exc, identity, conversation_id, accepting=True) from exc
        conversation = _conversation(from_item(item))
        message = self._system_message(conversation, f"{identity.name} joined the chat", now,
                                       ("agent_joined", {"name": identity.name}))
        self._db.put_item(TableName=self._data, Item=self._message_item(message))
        self.remember_joined(connection_ids, conversation_id)
        return message, conversation

    def close(self, identity: Identity, connection_id: str, conversation_id: str,
              now: datetime) -> tuple[Message, Conversation]:
        conversation = self._update_conversation(identity, conversation_id, ConversationUpdate(
            expression=("SET #status = :closed, closed_at = :now, last_seq = last_seq + :one, updated_at = :now "
                        "REMOVE gsi1pk, gsi1sk, gsi3pk"),
            vals={":closed": "closed", ":now": iso(now), ":one": 1},
        ))
        who = "The visitor" if identity.role is Role.VISITOR else identity.name
        code = ("visitor_closed", {}) if identity.role is Role.VISITOR else ("agent_closed", {"name": identity.name})
        message = self._system_message(conversation, f"{who} closed the chat", now, code)
        self._db.put_item(TableName=self._data, Item=self._message_item(message))
        return message, conversation

    def attach(self, identity: Identity, connection_id: str, conversation_id: str) -> Conversation:
        """Attach a (re)connected client to a conversation it takes part in (for `resume`)."""
        conversation = self._update_conversation(identity, conversation_id, ConversationUpdate(
            expression="SET connections.#conn = :role", names={"#conn": connection_id},
            vals={":role": identity.role.value}, allow_closed=True,
        ))
        self.remember_joined([connection_id], conversation_id)
        return conversation

    def detach(self, conversation_id: str, connection_id: str) -> None:
        try:
            self._db.update_item(
                TableName=self._data, Key=_conv_key(conversation_id), UpdateExpression="REMOVE connections.#conn",
                ConditionExpression="attribute_exists(pk)", ExpressionAttributeNames={"#conn": connection_id},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def messages_since(self, conversation_id: str, since_seq: int, limit: int = MAX_PAGE) -> tuple[list[Message], bool]:
        page = self._db.query(
            TableName=self._data, KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values({":pk": f"CONV#{conversation_id}", ":lo": _msg_sk(since_seq + 1),
                                              ":hi": _msg_sk(9_999_999_999)}),
            Limit=limit,
        )
        messages = [Message.model_validate(from_item(i)) for i in page.get("Items", [])]
        return messages, "LastEvaluatedKey" in page

    def all_messages(self, conversation_id: str) -> list[Message]:
        """Every message of a conversation, oldest first, page by page (the data export, LC-3)."""
        found, more = self.messages_since(conversation_id, 0)
        while more and found:
            page, more = self.messages_since(conversation_id, found[-1].seq)
            found += page
        return found

    def waiting(self, client_id: str) -> list[Conversation]:
        return self._query_gsi(f"QUEUE#{client_id}")

    def waiting_page(self, client_id: str, *, limit: int, newest_first: bool,
                     start: str | None) -> tuple[list[tuple[str, Conversation]], bool]:
        """Up to `limit` waiting conversations of a client in queue order (gsi1 sort key, oldest
        or newest first), from `start` on (inclusive; the caller drops what it has seen), each
        with its sort key; and whether more may follow. One Query."""
        condition = "gsi1pk = :pk" + ("" if start is None else f" AND gsi1sk {'<=' if newest_first else '>='} :start")
        page = self._db.query(
            TableName=self._data, IndexName="gsi1", KeyConditionExpression=condition,
            ExpressionAttributeValues=values({":pk": f"QUEUE#{client_id}", **({":start": start} if start else {})}),
            ScanIndexForward=not newest_first, Limit=limit,
        )
        found = [(str(item["gsi1sk"]["S"]), _conversation(from_item(item))) for item in page.get("Items", [])]
        return found, "LastEvaluatedKey" in page

    def count_waiting(self, client_id: str, max_pages: int) -> tuple[int, bool]:
        """How many conversations of a client wait (COUNT Queries, at most `max_pages` of 1 MB);
        and whether the count is complete."""
        kwargs: dict[str, Any] = {
            "TableName": self._data, "IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": values({":pk": f"QUEUE#{client_id}"}), "Select": "COUNT",
        }
        total = 0
        for _ in range(max_pages):
            page = self._db.query(**kwargs)
            total += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return total, True
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return total, False

    def open_for_agent(self, agent_id: str) -> list[Conversation]:
        return self._query_gsi(f"AGENTOPEN#{agent_id}")

    def _query_gsi(self, pk: str) -> list[Conversation]:
        page = self._db.query(
            TableName=self._data, IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=values({":pk": pk}), Limit=MAX_PAGE,
        )
        return [_conversation(from_item(i)) for i in page.get("Items", [])]

    def conversations_of_client(self, client_id: str) -> list[Conversation]:
        """Every conversation of a client, oldest first (data export and deletion, LC-3)."""
        found: list[Conversation] = []
        kwargs: dict[str, Any] = {
            "TableName": self._data, "IndexName": "gsi2", "KeyConditionExpression": "gsi2pk = :pk",
            "ExpressionAttributeValues": values({":pk": f"CLIENTCONV#{client_id}"}),
        }
        while True:
            page = self._db.query(**kwargs)
            found += [_conversation(from_item(i)) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_conversation(self, conversation_id: str) -> int:
        """Delete a conversation and all its messages; returns the number of items deleted."""
        keys: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._data, "KeyConditionExpression": "pk = :pk", "ProjectionExpression": "pk, sk",
            "ExpressionAttributeValues": values({":pk": f"CONV#{conversation_id}"}),
        }
        while True:
            page = self._db.query(**kwargs)
            keys += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        self._batch_write(self._data, [{"DeleteRequest": {"Key": k}} for k in keys])
        return len(keys)

    # --- internals ---------------------------------------------------------------------
    def _update_conversation(self, identity: Identity, conversation_id: str,
                             change: ConversationUpdate) -> Conversation:
        """One conditional UpdateItem: the caller must take part in the conversation (tenant
        and participant checked in the condition, so a refused write changes nothing)."""
        condition, condition_vals = self._participant_condition(identity, change)
        if change.extra_condition:
            condition = f"{condition} AND {change.extra_condition}"
        names = dict(change.names)
        if "#status" in condition or "#status" in change.expression:
            names["#status"] = "status"
        kwargs: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        try:
            item = self._db.update_item(
                TableName=self._data, Key=_conv_key(conversation_id), UpdateExpression=change.expression,
                ConditionExpression=condition, ExpressionAttributeValues=values({**change.vals, **condition_vals}),
                ReturnValues=change.returning, ReturnValuesOnConditionCheckFailure="ALL_OLD", **kwargs,
            )["Attributes"]
        except ClientError as exc:
            raise self._why_refused(exc, identity, conversation_id, accepting=False, explain=change.explain) from exc
        return _conversation(from_item(item))

    def _participant_condition(self, identity: Identity, change: ConversationUpdate) -> tuple[str, dict[str, Any]]:
        """The condition (and its values) that the caller is this conversation's visitor or agent,
        in one of its tenants, and that the conversation is in a state `change` allows."""
        condition = f"client_id IN ({self._client_placeholders(identity)})"
        condition_vals: dict[str, Any] = {":uid": identity.user_id, **self._client_values(identity)}
        if identity.role is Role.VISITOR:
            condition += " AND visitor_id = :uid"
        else:
            condition += " AND agent_id = :uid"
            if change.require_active_for_agent:
                condition += " AND #status = :active_s"
                condition_vals[":active_s"] = "active"
        if not change.allow_closed:
            condition += " AND #status <> :closed_s"
            condition_vals[":closed_s"] = "closed"
        return condition, condition_vals

    def _why_refused(self, exc: ClientError, identity: Identity, conversation_id: str, *, accepting: bool,
                     explain: Callable[[dict[str, Any] | None], Exception | None] | None = None) -> Exception:
        """The domain error for a refused conditional write, from the item as it was."""
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            return exc
        old = cast("dict[str, Any] | None", dict(exc.response).get("Item"))
        if not old:
            old = self._db.get_item(TableName=self._data, Key=_conv_key(conversation_id)).get("Item")
        raw = from_item(old) if old else None
        explained = explain(raw) if explain is not None else None
        if explained is not None:
            return explained
        return _refusal(_conversation(raw) if raw else None, identity, accepting=accepting)

    @staticmethod
    def _client_placeholders(identity: Identity) -> str:
        return ", ".join(f":cid{i}" for i in range(len(identity.client_ids)))

    @staticmethod
    def _client_values(identity: Identity) -> dict[str, str]:
        return {f":cid{i}": cid for i, cid in enumerate(identity.client_ids)}

    @staticmethod
    def _system_message(conversation: Conversation, text: str, now: datetime,
                        code: tuple[str, dict[str, str]]) -> Message:
        """A system event: a code with params (translated in the browser) and an English fallback."""
        return Message(conversation_id=conversation.conversation_id, client_id=conversation.client_id,
                       seq=conversation.last_seq, kind="system", role=Role.SYSTEM, sender_id="system",
                       text=text, sent_at=now, code=code[0], params=code[1])

    @staticmethod
    def _message_item(message: Message) -> dict[str, Any]:
        data = message.model_dump(mode="json")
        data.update(pk=f"CONV#{message.conversation_id}", sk=_msg_sk(message.seq))
        return to_item(data)

    def _batch_write(self, table: str, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {table: requests[start:start + 25]}
            while pending:
                pending = dict(self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})
