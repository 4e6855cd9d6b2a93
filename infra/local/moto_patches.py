"""THE one place where moto is adapted to run our workflows locally (docs/local-stack.md):

1. Step Functions executes state machines for real (`execute_state_machine`).
2. Wait states follow the controllable clock instead of sleeping on the wall clock (moto's
   `Timestamp` wait is computed against naive local time and really sleeps): a person moving
   the clock forward sees a 14-day trial end. Active waits are registered so the local stack
   can step time exactly to each deadline.
3. DynamoDB requests are applied one at a time, each atomically, as DynamoDB does: moto's
   TransactWriteItems deep-copies the tables for its rollback and breaks ("dictionary changed
   size during iteration", HTTP 500, then a botocore retry that may find it half applied) when
   another request writes meanwhile. Concurrency tests need the real guarantee.
4. TransactWriteItems keeps an undo log of the items it names instead of deep-copying every
   table it touches (O(table size) per transaction: a session's worth of chats made each
   transaction take up to half a second). Same all-or-nothing result.
5. Lambda tasks invoke our handlers through the local control server's Lambda Invoke endpoint
   (moto's own Lambda needs Docker): moto's Step Functions builds its Lambda client pointing at
   moto; we point it at the control server instead, with the run's token (infra/local/control.py).
6. Cognito: a TOTP secret per user, codes always checked, an email-shaped username refused
   in an email-alias pool, and a confidential client's SECRET_HASH required on every password
   sign-in and challenge answer, as on AWS (`install_cognito_patches`).

Nothing here changes what our code sends: the same ASL, the same `lambda:invoke` tasks.
"""

from __future__ import annotations

import copy
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from infra.local.tested_versions import require_tested_versions
from parley.clock import get_clock

TESTED_VERSIONS = {"moto": "5.2.5"}
"""The moto release these patches were written and tested against (docs/local-stack.md)."""

_lock = threading.Lock()
_waits: dict[int, datetime] = {}  # id(env) -> deadline on the controllable clock
_installed = False
_lambda_endpoint = ""
_lambda_token = ""


def active_wait_deadlines() -> list[datetime]:
    with _lock:
        return sorted(_waits.values())


def install(lambda_endpoint: str, lambda_token: str = "") -> None:
    global _installed, _lambda_endpoint, _lambda_token
    require_tested_versions(TESTED_VERSIONS, patched_by=__name__)
    _lambda_endpoint = lambda_endpoint
    _lambda_token = lambda_token
    if _installed:
        return
    _installed = True
    from moto.core.config import default_user_config
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as timestamp_module
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    default_user_config["stepfunctions"] = {"execute_state_machine": True}

    from moto.dynamodb.responses import DynamoHandler

    dynamodb_lock = threading.RLock()
    original_call_action = DynamoHandler.call_action

    def serialized_call_action(self: Any) -> Any:
        with dynamodb_lock:
            return original_call_action(self)

    DynamoHandler.call_action = serialized_call_action  # type: ignore[method-assign]
    _install_transaction_undo_log()
    install_cognito_patches()

    original_boto_client_for = getattr(lambda_eval_utils, "boto_client_for")  # noqa: B009 - not exported

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if service != "lambda":
            return original_boto_client_for(region=region, service=service, state_credentials=state_credentials)
        client = boto3.client("lambda", region_name=region, endpoint_url=_lambda_endpoint,
                              aws_access_key_id="local", aws_secret_access_key="local",
                              # unsigned: the Authorization header carries the control token instead
                              config=Config(retries={"max_attempts": 1}, read_timeout=300,
                                            signature_version=UNSIGNED))
        token = _lambda_token
        client.meta.events.register("before-send.lambda", lambda request, **_: _bearer(request, token))
        return client

    setattr(lambda_eval_utils, "boto_client_for", boto_client_for)  # noqa: B010

    def timestamp_wait_seconds(self: Any, env: Any) -> int:
        # moto compares with naive local time; we compare with the controllable clock (UTC).
        self.string.eval(env=env)
        text = env.stack.pop()
        target = timestamp_module.Timestamp._from_timestamp_string(text)
        if target is None:
            raise ValueError(f"invalid timestamp {text!r}")
        # Rounded up: a wait never ends before its timestamp (a day boundary stays exact).
        return math.ceil((target.replace(tzinfo=UTC) - get_clock().now()).total_seconds())

    def wait_on_clock(self: Any, env: Any, wait_seconds: int) -> None:
        deadline = get_clock().now() + timedelta(seconds=max(wait_seconds, 0))
        key = id(env)
        with _lock:
            _waits[key] = deadline
        try:
            while env.is_running() and get_clock().now() < deadline:
                env.program_state_event.wait(0.05)
        finally:
            with _lock:
                _waits.pop(key, None)

    timestamp_module.Timestamp._get_wait_seconds = timestamp_wait_seconds  # type: ignore[method-assign]
    WaitFunction._wait_interval = wait_on_clock  # type: ignore[method-assign]


def _bearer(request: Any, token: str) -> None:
    request.headers["Authorization"] = f"Bearer {token}"


def _install_transaction_undo_log() -> None:
    """Performance: an undo log of the touched items instead of moto's whole-table copy.

    moto's TransactWriteItems deep-copies every table it touches (items AND stream records)
    before applying the transaction, to roll back on failure. Every conversation, message and
    ledger record lives in the one data table, so each transaction costs O(table size): with a
    few hundred chats a transaction takes ~0.1-0.5 s and a scenario several minutes. This keeps
    moto's own code path and its all-or-nothing result, but snapshots only the items the
    transaction names (and the stream's length), restoring them if moto raises. Nothing Parley
    sends or receives changes; moto_patches already applies DynamoDB requests one at a time.
    """
    from moto.dynamodb import models as ddb_models
    from moto.dynamodb.models.table import Table

    backend = ddb_models.DynamoDBBackend
    if getattr(backend, "_parley_scenario_shim", False):
        return

    class _TablesAreNotCopied:
        @staticmethod
        def deepcopy(obj: Any, memo: Any = None) -> Any:
            return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)

    setattr(ddb_models, "copy", _TablesAreNotCopied)  # noqa: B010 - the module global moto reads per call
    original = backend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo_log = _TransactionUndoLog(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            undo_log.restore()
            raise

    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    backend._parley_scenario_shim = True  # type: ignore[attr-defined]


class _TransactionUndoLog:
    """The items a TransactWriteItems names, as they were before it (None: absent), and the
    length of each touched table's stream, so a cancelled transaction can be undone."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self._saved: list[tuple[Any, Any, Any, Any]] = []
        for entry in transact_items:
            try:
                self._saved.append(self._snapshot(backend, entry))
            except Exception:  # malformed: moto itself rejects it before changing anything
                continue
        self._streams = {id(t): (t, len(t.stream_shard.items)) for t, *_ in self._saved if t.stream_shard is not None}

    @staticmethod
    def _snapshot(backend: Any, entry: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        ((_, op),) = entry.items()
        table = backend.get_table(op["TableName"])
        keys = op.get("Key") or {a: op["Item"][a] for a in (table.hash_key_attr, table.range_key_attr) if a}
        hash_key, range_key = backend.get_keys_value(table, keys)
        current = table.get_item(hash_key, range_key)
        return table, hash_key, range_key, copy.deepcopy(current) if current is not None else None

    def restore(self) -> None:
        for table, hash_key, range_key, before in reversed(self._saved):
            if range_key is None:
                _restore_hash_item(table, hash_key, before)
            else:
                _restore_range_item(table, hash_key, range_key, before)
        for table, length in self._streams.values():
            del table.stream_shard.items[length:]


def _restore_hash_item(table: Any, hash_key: Any, before: Any) -> None:
    if before is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = before


def _restore_range_item(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    if before is not None:
        table.items[hash_key][range_key] = before
    elif hash_key in table.items:
        table.items[hash_key].pop(range_key, None)


def install_partition_query() -> None:
    """Performance, for the billing benchmark (bench/billing.py) only: moto answers a Query on
    the base table by sorting and scanning *every* item of the table (`Table.all_items()`):
    seconds per Query at 300,000 items (botocore's 10 s read timeout is hit), growing with N.
    DynamoDB reads the one partition: so does this, with the same result (moto's own code still
    filters, sorts, pages and projects). Safe because DynamoDB requests run one at a time
    (`install`). Idempotent."""
    require_tested_versions(TESTED_VERSIONS, patched_by=__name__)
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_parley_partition_query", False):
        return
    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = list(self.items.get(hash_key, {}).values())
        self.all_items = lambda: partition  # an instance attribute shadows the method for this call
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]
    Table._parley_partition_query = True  # type: ignore[attr-defined]


@contextmanager
def unchecked_item_sizes() -> Iterator[None]:
    """For seeding a benchmark table straight into moto's memory (bench/billing.py): moto's
    item dict checks the item size on every attribute set, quadratic in the item's size.
    Nothing else may write meanwhile."""
    require_tested_versions(TESTED_VERSIONS, patched_by=__name__)
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    check = LimitedSizeDict.__setitem__
    LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = check  # type: ignore[method-assign]



_cognito_originals: dict[str, Any] = {}


def install_cognito_patches() -> None:
    """Cognito as AWS behaves where our sign-in depends on it (moto 5.2.5 does otherwise):

    a. TOTP: moto hands every user the same secret ("asdfasdfasdf") and checks codes only when
       an environment switch is on. Here AssociateSoftwareToken makes a random secret per user,
       and VerifySoftwareToken and the SOFTWARE_TOKEN_MFA challenge check the code against that
       user's secret (±1 time step, as authenticator clocks drift) — always.
    b. A pool with the email as a sign-in alias refuses an email-shaped username, as Cognito does
       ("Username cannot be of email format…"), so the local stack catches code that sends one.
    c. A client with a secret refuses InitiateAuth (USER_PASSWORD_AUTH, USER_SRP_AUTH) and every
       RespondToAuthChallenge without the right SECRET_HASH ("Unable to verify secret hash for
       client …"), as Cognito does: moto checks it only for SRP, refresh and the MFA challenge,
       so a password sign-in with the public client id alone would pass.

    Idempotent."""
    require_tested_versions(TESTED_VERSIONS, patched_by=__name__)
    from moto.cognitoidp import models

    backend = models.CognitoIdpBackend
    if _cognito_originals:
        return
    for name, patched in (("initiate_auth", _initiate_auth),
                          ("associate_software_token", _associate_software_token),
                          ("verify_software_token", _verify_software_token),
                          ("respond_to_auth_challenge", _respond_to_auth_challenge),
                          ("admin_create_user", _admin_create_user)):
        _cognito_originals[name] = getattr(backend, name)
        setattr(backend, name, patched)


def _totp_user(backend: Any, access_token: str, session: str) -> Any:
    from moto.cognitoidp.exceptions import NotAuthorizedError

    if session:
        if session not in backend.sessions:
            raise NotAuthorizedError(session)
        username, pool = backend.sessions[session]
        return pool._get_user(username)
    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            return pool._get_user(pool.access_tokens[access_token][1])
    raise NotAuthorizedError(access_token)


def _check_totp(secret: str | None, code: str) -> None:
    from cryptography.hazmat.primitives.twofactor import InvalidToken
    from moto.cognitoidp.exceptions import CodeMismatchException
    from moto.cognitoidp.utils import cognito_totp, verify_totp

    if not secret:
        raise CodeMismatchException("no software token is associated with this user")
    try:
        verify_totp(cognito_totp(secret), code.encode(), valid_window=1)
    except InvalidToken:
        raise CodeMismatchException("Invalid code received for user") from None


def _associate_software_token(self: Any, access_token: str, session: str) -> dict[str, str]:
    import base64
    import secrets

    user = _totp_user(self, access_token, session)
    user.parley_totp_pending = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
    return {"SecretCode": user.parley_totp_pending, **({"Session": session} if session else {})}


def _verify_software_token(self: Any, access_token: str, session: str, user_code: str,
                           friendly_device_name: str) -> Any:
    user = _totp_user(self, access_token, session)
    _check_totp(getattr(user, "parley_totp_pending", None), user_code)
    user.parley_totp_secret = user.parley_totp_pending
    return _cognito_originals["verify_software_token"](self, access_token, session, user_code, friendly_device_name)


def _require_secret_hash(backend: Any, client_id: str, username: str, given: str | None) -> None:
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.utils import check_secret_hash

    for pool in backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is not None and client.generate_secret and not check_secret_hash(
                client.secret, client.id, username or "", given):
            raise NotAuthorizedError(f"Unable to verify secret hash for client {client_id}")


def _initiate_auth(self: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
    if auth_flow in ("USER_PASSWORD_AUTH", "USER_SRP_AUTH"):
        given = auth_parameters or {}
        _require_secret_hash(self, client_id, given.get("USERNAME", ""), given.get("SECRET_HASH"))
    return _cognito_originals["initiate_auth"](self, client_id, auth_flow, auth_parameters)


def _respond_to_auth_challenge(self: Any, session: str, client_id: str, challenge_name: str,
                               challenge_responses: dict[str, str]) -> Any:
    answers = challenge_responses or {}
    _require_secret_hash(self, client_id, answers.get("USERNAME", ""), answers.get("SECRET_HASH"))
    if challenge_name == "SOFTWARE_TOKEN_MFA" and session in self.sessions:
        username, pool = self.sessions[session]
        user = pool._get_user(username)
        _check_totp(getattr(user, "parley_totp_secret", None) if user else None,
                    challenge_responses.get("SOFTWARE_TOKEN_MFA_CODE", ""))
    return _cognito_originals["respond_to_auth_challenge"](self, session, client_id, challenge_name,
                                                           challenge_responses)


def _admin_create_user(self: Any, user_pool_id: str, username: str, *args: Any, **kwargs: Any) -> Any:
    from moto.cognitoidp.exceptions import InvalidParameterException

    pool = self.describe_user_pool(user_pool_id)
    if "email" in (pool.extended_config.get("AliasAttributes") or []) and "@" in username:
        raise InvalidParameterException(
            "Username cannot be of email format, since user pool is configured for email alias.")
    return _cognito_originals["admin_create_user"](self, user_pool_id, username, *args, **kwargs)
