"""Presence, availability, team queues, timers and transfer notes in DynamoDB — every request
a key lookup, a Query with a small Limit, or a conditional write (docs/data-model.md).

Data table
  AGENT#{agent} / ROUTING            status, load, cap, routing teams, clients, idle_since, version
  ROUTEMEMBER#{agent} / TEAM#{team}  one availability row per routing team; while the agent is
                                     available: gsi1 AVAIL#{team} / {load:04d}#{idle_since}#{agent}
  TEAMQUEUE#{team} / Q#{created}#{conversation}  a waiting chat in one team's queue (arrival order)
  TEAMQUEUE#{team} / STATS           the last departures from the queue (the wait estimate)
  TIMERS#{shard} / {due}#{kind}#{subject}  no-answer deadlines, presence grace periods and
                                     queued-too-long (unanswered) deadlines
  CONV#{id} / NOTE#{at}#{rand}       transfer notes (outside the MSG# range: never resumed by visitors)
  CONV#{id} / META                   routing writes: assignment (condition status = waiting), loss
                                     of the chat (condition agent_id and routing_version); open
                                     conversations carry gsi3 OPEN#{shard} / updated_at (idle close)
Connections table
  AGENTCONN#{agent} / CONN#{id}      read with Limit 1: does the agent still have a connection?
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.chat.models import Conversation, Message, Role
from parley.clock import iso
from parley.repositories.dynamo import from_item, to_item, values
from parley.routing.choice import RECENT_DEQUEUES, Candidate, availability_key
from parley.routing.models import AgentState, Note, QueuePlace, Timer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TIMER_SHARDS = 4  # timers and open conversations are spread over a few partitions
OPEN_SHARDS = 4
SWEEP_PAGE = 200  # items read per shard and sweep run


def _shard(subject: str, shards: int) -> int:
    return zlib.crc32(subject.encode()) % shards


def open_shard_key(conversation_id: str) -> str:
    """gsi3 partition of an open conversation (idle close)."""
    return f"OPEN#{_shard(conversation_id, OPEN_SHARDS)}"


def _conv_key(conversation_id: str) -> dict[str, Any]:
    return to_item({"pk": f"CONV#{conversation_id}", "sk": "META"})


def _refused(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in ("ConditionalCheckFailedException", "TransactionCanceledException")


def queue_sort_key(conversation: Conversation) -> str:
    return f"Q#{iso(conversation.created_at)}#{conversation.conversation_id}"


class RoutingRepository:
    def __init__(self, client: DynamoDBClient, data_table: str, connections_table: str) -> None:
        self._db = client
        self._data = data_table
        self._conns = connections_table

    # --- agents: presence and load ---------------------------------------------------------
    def agent_state(self, agent_id: str) -> AgentState | None:
        item = self._db.get_item(TableName=self._data,
                                 Key=to_item({"pk": f"AGENT#{agent_id}", "sk": "ROUTING"})).get("Item")
        return AgentState.model_validate(from_item(item)) if item else None

    def save_status(self, wanted: AgentState) -> AgentState:
        """Set status, name, cap, teams and clients (the load is kept); the version moves on."""
        item = self._db.update_item(
            TableName=self._data, Key=to_item({"pk": f"AGENT#{wanted.agent_id}", "sk": "ROUTING"}),
            UpdateExpression=("SET agent_id = :aid, #name = :name, #status = :status, cap = :cap, team_ids = :teams, "
                              "client_ids = :clients, idle_since = if_not_exists(idle_since, :idle), "
                              "#load = if_not_exists(#load, :zero), version = if_not_exists(version, :zero) + :one"),
            ExpressionAttributeNames={"#name": "name", "#status": "status", "#load": "load"},
            ExpressionAttributeValues=values({
                ":aid": wanted.agent_id, ":name": wanted.name, ":status": wanted.status.value, ":cap": wanted.cap,
                ":teams": wanted.team_ids, ":clients": wanted.client_ids, ":idle": iso(wanted.idle_since),
                ":zero": 0, ":one": 1}),
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return AgentState.model_validate(from_item(item))

    def reserve(self, agent_id: str, now: datetime) -> AgentState | None:
        """Take one chat slot: the one write that keeps every agent within their cap, whatever
        the number of routers running at once (condition `status = online AND load < cap`)."""
        return self._load_update(agent_id, "SET #load = #load + :one, idle_since = :now, version = version + :one",
                                 "#status = :online AND #load < cap", {":now": iso(now), ":online": "online"})

    def release(self, agent_id: str) -> AgentState | None:
        """Give a slot back (a chat closed, moved or was lost); never below zero."""
        return self._load_update(agent_id, "SET #load = #load - :one, version = version + :one",
                                 "#load > :zero", {":zero": 0})

    def add_load(self, agent_id: str, now: datetime) -> AgentState | None:
        """A supervisor picked a chat by hand (`acceptConversation`): counted, cap or not."""
        return self._load_update(agent_id, "SET #load = #load + :one, idle_since = :now, version = version + :one",
                                 "attribute_exists(pk)", {":now": iso(now)})

    def _load_update(self, agent_id: str, update: str, condition: str, vals: dict[str, Any]) -> AgentState | None:
        names = {"#load": "load"}
        if "#status" in condition:
            names["#status"] = "status"
        try:
            item = self._db.update_item(
                TableName=self._data, Key=to_item({"pk": f"AGENT#{agent_id}", "sk": "ROUTING"}),
                UpdateExpression=update, ConditionExpression=condition, ExpressionAttributeNames=names,
                ExpressionAttributeValues=values({":one": 1, **vals}), ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if _refused(exc):
                return None
            raise
        return AgentState.model_validate(from_item(item))

    def sync_availability(self, state: AgentState, dropped_teams: Sequence[str] = ()) -> None:
        """Copy the agent's order (load, idle-since) to their availability row in each team; a
        row carries the version it was written from and never goes back to an older one."""
        for team in state.team_ids:
            data: dict[str, Any] = {"pk": f"ROUTEMEMBER#{state.agent_id}", "sk": f"TEAM#{team}",
                                    "agent_id": state.agent_id, "team_id": team, "version": state.version,
                                    "load": state.load, "idle_since": iso(state.idle_since)}
            if state.available:
                data.update(gsi1pk=f"AVAIL#{team}",
                            gsi1sk=availability_key(state.load, state.idle_since, state.agent_id))
            try:
                self._db.put_item(TableName=self._data, Item=to_item(data),
                                  ConditionExpression="attribute_not_exists(pk) OR version < :v",
                                  ExpressionAttributeValues=values({":v": state.version}))
            except ClientError as exc:
                if not _refused(exc):
                    raise
        for team in dropped_teams:
            self._db.delete_item(TableName=self._data,
                                 Key=to_item({"pk": f"ROUTEMEMBER#{state.agent_id}", "sk": f"TEAM#{team}"}))

    def candidates(self, team_id: str, limit: int) -> list[Candidate]:
        """The best available agents of a team, best first (one Query, `limit` items)."""
        page = self._db.query(
            TableName=self._data, IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=values({":pk": f"AVAIL#{team_id}"}), Limit=limit,
        )
        rows = [from_item(i) for i in page.get("Items", [])]
        return [Candidate(agent_id=str(r["agent_id"]), load=int(r["load"]),
                          idle_since=datetime.fromisoformat(str(r["idle_since"]))) for r in rows]

    def has_connection(self, agent_id: str) -> bool:
        page = self._db.query(TableName=self._conns, KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues=values({":pk": f"AGENTCONN#{agent_id}"}), Limit=1)
        return bool(page.get("Items"))

    def agent_connection_ids(self, agent_id: str) -> list[str]:
        """An agent's open tabs (at most a handful; one Query)."""
        page = self._db.query(TableName=self._conns, KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues=values({":pk": f"AGENTCONN#{agent_id}"}),
                              ProjectionExpression="connection_id", Limit=50)
        return [str(from_item(i)["connection_id"]) for i in page.get("Items", [])]

    # --- conversations: assignment and loss ----------------------------------------------
    def assign(self, conversation_id: str, agent: AgentState, tabs: Sequence[str],
               now: datetime) -> Conversation | None:
        """waiting → active with this agent (condition `status = waiting`: a chat is assigned
        once, whoever else tries at the same moment). Returns None when someone else won."""
        names = {f"#c{i}": cid for i, cid in enumerate(tabs)}
        attach = "".join(f", connections.{n} = :agent" for n in names)
        return self._update_conversation_if(
            conversation_id,
            UpdateExpression=(
                "SET #status = :active, agent_id = :aid, agent_name = :aname, "
                "accepted_at = if_not_exists(accepted_at, :now), assigned_at = :now, "
                "routing_version = if_not_exists(routing_version, :zero) + :one, "
                "agent_messages_at_assignment = if_not_exists(agent_messages, :zero), "
                "last_seq = last_seq + :one, gsi1pk = :open, gsi1sk = :now, updated_at = :now" + attach),
            ConditionExpression="#status = :waiting",
            ExpressionAttributeNames={"#status": "status", **names},
            ExpressionAttributeValues=values({
                ":active": "active", ":waiting": "waiting", ":aid": agent.agent_id, ":aname": agent.name,
                ":now": iso(now), ":zero": 0, ":one": 1, ":open": f"AGENTOPEN#{agent.agent_id}",
                **({":agent": "agent"} if tabs else {})}),
        )

    def unassign(self, conversation: Conversation, now: datetime, team_ids: Sequence[str] | None = None) -> (
            Conversation | None):
        """active (this agent, this routing version) → waiting; the agent's tabs leave the chat.
        None when the assignment already changed (a reply, a transfer, a close got there first)."""
        tabs = [cid for cid, role in conversation.connections.items() if role == Role.AGENT.value]
        names = {f"#c{i}": cid for i, cid in enumerate(tabs)}
        remove = "REMOVE agent_id, agent_name" + "".join(f", connections.{n}" for n in names)
        teams = list(team_ids) if team_ids is not None else conversation.team_ids
        return self._update_conversation_if(
            conversation.conversation_id,
            UpdateExpression=("SET #status = :waiting, gsi1pk = :queue, gsi1sk = :created, team_ids = :teams, "
                              "last_seq = last_seq + :one, updated_at = :now " + remove),
            ConditionExpression="#status = :active AND agent_id = :aid AND routing_version = :v",
            ExpressionAttributeNames={"#status": "status", **names},
            ExpressionAttributeValues=values({
                ":waiting": "waiting", ":active": "active", ":queue": f"QUEUE#{conversation.client_id}",
                ":created": iso(conversation.created_at), ":teams": teams, ":one": 1, ":now": iso(now),
                ":aid": conversation.agent_id or "", ":v": conversation.routing_version}),
        )

    def close_idle(self, conversation: Conversation, now: datetime) -> Conversation | None:
        """Close a conversation nobody wrote in since `updated_at` (a message that arrives in
        between changes `updated_at` and wins). Its `closed_at` is that last activity, not the
        sweep's time: the idle wait is nobody's handling time (CO-7 agent minutes, resolution)."""
        return self._update_conversation_if(
            conversation.conversation_id,
            UpdateExpression=("SET #status = :closed, closed_at = :seen, last_seq = last_seq + :one, "
                              "updated_at = :now REMOVE gsi1pk, gsi1sk, gsi3pk"),
            ConditionExpression="#status <> :closed AND updated_at = :seen",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values({":closed": "closed", ":now": iso(now), ":one": 1,
                                              ":seen": iso(conversation.updated_at or conversation.created_at)}),
        )

    def idle_candidates(self, cutoff: datetime) -> list[Conversation]:
        """Open conversations untouched since `cutoff` (gsi3, one Query per shard)."""
        found: list[Conversation] = []
        for shard in range(OPEN_SHARDS):
            page = self._db.query(
                TableName=self._data, IndexName="gsi3",
                KeyConditionExpression="gsi3pk = :pk AND updated_at <= :cutoff",
                ExpressionAttributeValues=values({":pk": f"OPEN#{shard}", ":cutoff": iso(cutoff)}), Limit=SWEEP_PAGE,
            )
            found += [Conversation.model_validate(from_item(i)) for i in page.get("Items", [])]
        return found

    def mark_unanswered(self, conversation_id: str, now: datetime) -> Conversation | None:
        """Note that the visitor was told nobody answered in time: once per conversation, and
        only while it still waits (condition). `updated_at` is left alone: the idle clock goes on."""
        return self._update_conversation_if(
            conversation_id,
            UpdateExpression="SET unanswered_at = :now",
            ConditionExpression="#status = :waiting AND attribute_not_exists(unanswered_at)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values({":now": iso(now), ":waiting": "waiting"}),
        )

    def _update_conversation_if(self, conversation_id: str, **update: Any) -> Conversation | None:
        """A conditional UpdateItem of a conversation: the item as written, or None when its
        condition refused it (another router, a reply or a close got there first)."""
        try:
            item = self._db.update_item(TableName=self._data, Key=_conv_key(conversation_id),
                                        ReturnValues="ALL_NEW", **update)["Attributes"]
        except ClientError as exc:
            if _refused(exc):
                return None
            raise
        return Conversation.model_validate(from_item(item))

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        item = self._db.get_item(TableName=self._data, Key=_conv_key(conversation_id)).get("Item")
        return Conversation.model_validate(from_item(item)) if item else None

    def open_conversations(self, agent_id: str) -> list[Conversation]:
        """An agent's open chats (gsi1 AGENTOPEN#, at most their cap and a few hand-picked)."""
        page = self._db.query(TableName=self._data, IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk",
                              ExpressionAttributeValues=values({":pk": f"AGENTOPEN#{agent_id}"}), Limit=100)
        return [Conversation.model_validate(from_item(i)) for i in page.get("Items", [])]

    def client_agent_connection_ids(self, client_id: str) -> list[str]:
        """Connected agents of a client (queue broadcasts); one Query page."""
        page = self._db.query(TableName=self._conns, KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues=values({":pk": f"AGENTS#{client_id}"}),
                              ProjectionExpression="connection_id")
        return [str(from_item(i)["connection_id"]) for i in page.get("Items", [])]

    def put_system_message(self, message: Message) -> None:
        data = message.model_dump(mode="json")
        data.update(pk=f"CONV#{message.conversation_id}", sk=f"MSG#{message.seq:010d}")
        self._db.put_item(TableName=self._data, Item=to_item(data))

    def remember_joined(self, connection_ids: Sequence[str], conversation_id: str) -> None:
        for connection_id in connection_ids:
            try:
                self._db.update_item(
                    TableName=self._conns, Key=to_item({"pk": f"CONN#{connection_id}", "sk": "META"}),
                    UpdateExpression="ADD conversations :c", ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=values({":c": {conversation_id}}),
                )
            except ClientError as exc:
                if not _refused(exc):
                    raise

    # --- team queues -------------------------------------------------------------------
    def enqueue(self, conversation: Conversation) -> None:
        sk = queue_sort_key(conversation)
        self._batch(PutRequest=[
            {"Item": to_item({"pk": f"TEAMQUEUE#{team}", "sk": sk, "conversation_id": conversation.conversation_id,
                              "client_id": conversation.client_id, "team_id": team})}
            for team in conversation.team_ids])

    def dequeue(self, conversation: Conversation, team_ids: Sequence[str], now: datetime) -> None:
        """Leave the queues (one BatchWriteItem) and note the departure for the wait estimate."""
        sk = queue_sort_key(conversation)
        self._batch(DeleteRequest=[{"Key": to_item({"pk": f"TEAMQUEUE#{t}", "sk": sk})} for t in team_ids])
        for team in team_ids:
            self._record_departure(team, now)

    def _record_departure(self, team: str, now: datetime) -> None:
        """The last RECENT_DEQUEUES departures in a ring of attributes d0…d9: always two writes."""
        key = to_item({"pk": f"TEAMQUEUE#{team}", "sk": "STATS"})
        item = self._db.update_item(
            TableName=self._data, Key=key, UpdateExpression="SET departures = if_not_exists(departures, :z) + :one",
            ExpressionAttributeValues=values({":z": 0, ":one": 1}), ReturnValues="UPDATED_NEW",
        )["Attributes"]
        slot = (int(from_item(item)["departures"]) - 1) % RECENT_DEQUEUES
        self._db.update_item(TableName=self._data, Key=key, UpdateExpression="SET #d = :now",
                             ExpressionAttributeNames={"#d": f"d{slot}"},
                             ExpressionAttributeValues=values({":now": iso(now)}))

    def recent_departures(self, team: str) -> list[datetime]:
        item = self._db.get_item(TableName=self._data,
                                 Key=to_item({"pk": f"TEAMQUEUE#{team}", "sk": "STATS"})).get("Item")
        data = from_item(item) if item else {}
        return [datetime.fromisoformat(str(data[f"d{i}"])) for i in range(RECENT_DEQUEUES) if f"d{i}" in data]

    def queue_head(self, team: str, limit: int) -> list[QueuePlace]:
        """The first `limit` waiting chats of a team, oldest first (strongly consistent)."""
        page = self._db.query(
            TableName=self._data, KeyConditionExpression="pk = :pk AND begins_with(sk, :q)",
            ExpressionAttributeValues=values({":pk": f"TEAMQUEUE#{team}", ":q": "Q#"}), Limit=limit,
            ConsistentRead=True,
        )
        return [QueuePlace(team_id=team, conversation_id=str(d["conversation_id"]), client_id=str(d["client_id"]),
                           sk=str(d["sk"])) for d in (from_item(i) for i in page.get("Items", []))]

    def drop_place(self, place: QueuePlace) -> None:
        self._db.delete_item(TableName=self._data, Key=to_item({"pk": f"TEAMQUEUE#{place.team_id}", "sk": place.sk}))

    def queue_position(self, team: str, conversation: Conversation) -> int:
        """1 + the number of chats ahead in this team's queue (one COUNT Query on small rows)."""
        page = self._db.query(
            TableName=self._data, KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=values({":pk": f"TEAMQUEUE#{team}", ":lo": "Q#",
                                              ":hi": queue_sort_key(conversation)}),
            Select="COUNT", ConsistentRead=True,
        )
        return int(page.get("Count", 0))

    def conversations(self, conversation_ids: Sequence[str]) -> dict[str, Conversation]:
        """Several conversations in one BatchGetItem (≤ 100 ids)."""
        ids = list(dict.fromkeys(conversation_ids))[:100]
        if not ids:
            return {}
        request: dict[str, Any] = {self._data: {"Keys": [_conv_key(i) for i in ids]}}
        found: dict[str, Conversation] = {}
        while request:
            page = self._db.batch_get_item(RequestItems=request)
            for item in page.get("Responses", {}).get(self._data, []):
                conversation = Conversation.model_validate(from_item(item))
                found[conversation.conversation_id] = conversation
            request = dict(page.get("UnprocessedKeys") or {})
        return found

    # --- timers ------------------------------------------------------------------------
    def put_timer(self, timer: Timer) -> None:
        data = timer.model_dump(mode="json")
        data.update(pk=f"TIMERS#{_shard(timer.subject, TIMER_SHARDS)}",
                    sk=f"{iso(timer.due)}#{timer.kind.value}#{timer.subject}#{timer.version}")
        self._db.put_item(TableName=self._data, Item=to_item(data))

    def due_timers(self, now: datetime) -> list[Timer]:
        found: list[Timer] = []
        for shard in range(TIMER_SHARDS):
            page = self._db.query(
                TableName=self._data, KeyConditionExpression="pk = :pk AND sk <= :now",
                ExpressionAttributeValues=values({":pk": f"TIMERS#{shard}", ":now": f"{iso(now)}#~"}),
                Limit=SWEEP_PAGE,
            )
            found += [Timer.model_validate(from_item(i)) for i in page.get("Items", [])]
        return sorted(found, key=lambda t: t.due)

    def delete_timer(self, timer: Timer) -> None:
        self._db.delete_item(TableName=self._data, Key=to_item({"pk": timer.pk, "sk": timer.sk}))

    # --- notes -------------------------------------------------------------------------
    def add_note(self, note: Note) -> None:
        self._db.put_item(TableName=self._data, Item=to_item({
            "pk": f"CONV#{note.conversation_id}", "sk": f"NOTE#{iso(note.at)}#{secrets.token_hex(4)}",
            **note.model_dump(mode="json")}))

    def notes(self, conversation_id: str) -> list[Note]:
        page = self._db.query(
            TableName=self._data, KeyConditionExpression="pk = :pk AND begins_with(sk, :n)",
            ExpressionAttributeValues=values({":pk": f"CONV#{conversation_id}", ":n": "NOTE#"}), Limit=100,
        )
        return [Note.model_validate(from_item(i)) for i in page.get("Items", [])]

    # --- internals ---------------------------------------------------------------------
    def _batch(self, **requests: list[dict[str, Any]]) -> None:
        (kind, items), = requests.items()
        pending: dict[str, Any] = {self._data: [{kind: r} for r in items[:25]]} if items else {}
        while pending:
            pending = dict(self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})


