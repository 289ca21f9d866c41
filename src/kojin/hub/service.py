"""The hub service (情報提供ネットワークシステム): agencies, codes, exchanges.

What the hub checks, in order, for every exchange: a well-formed body; a known
requester; its Ed25519 signature; freshness (±300 s); a request id the
requester never used; the permitted-exchange table; that the code is the
requester's own. Then it translates the code to the provider's and asks the
provider's intermediate server. A server hosted in this process queues its
§23 record for a durable commit and answers at once; the hub appends the
exchange's leaf meanwhile, and answers only once the leaf *and* the
provider's record are durable (over HTTP the server answers only after its
record is durable). The hub's own §23 record holds nothing the leaf does not,
so it is committed behind the answer without an fsync and rebuilt from the
log after a crash (:meth:`HubService._reconcile`). A refused request is
logged as a leaf too, and changes nothing else.

The exchange is written once, as steps that yield where they wait
(:class:`_Op`): :meth:`HubService.exchange` blocks a thread on each wait,
:meth:`HubService.exchange_async` awaits them on an event loop, so both give
the same checks, refusals, leaves and records.

One process runs the hub: the exchange log has a single writer, and request
ids in flight are reserved in that process's memory.

The hub sees no number, no name and no payload: the answer is sealed by the
provider in a box only the requester can open (:class:`kojin.core.crypto.AnswerBox`).
"""

from __future__ import annotations

import asyncio
import binascii
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.aio import Resolver, resolver, until_done
from kojin.core.bulk import bulk_insert, select_in
from kojin.core.crypto import b64, verify_ed25519
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted, Unauthenticated
from kojin.core.group_commit import GroupCommit, Row, ThreadReaders
from kojin.core.keys import party_secret
from kojin.hub.domain import (
    ANSWERS_KIND,
    BATCH_MAX,
    FRESHNESS_SECONDS,
    LEAF_KIND,
    QUERIES_KIND,
    AgencyKind,
    CodeDeriver,
    ExchangeRequest,
    Outcome,
    ProvisionAnswer,
    ProvisionQuery,
    batch_signing_input,
    channel_mac,
    check_channel_mac,
    find_permission,
    invalid,
    leaf_bytes,
    subject_commitment,
    validate_agency_id,
)
from kojin.hub.store import agencies, codes, exchange_records, hub_keys, persons, seen_requests
from kojin.hub.transport import IntermediateTransport, ProviderUnavailable, Settlement, provider_unavailable

log = logging.getLogger("kojin.hub")

_LINK_ID = re.compile(r"^[0-9a-f]{64}\Z")
# Codes never change once issued, so a cache of them is never stale; it is
# only bounded so a national population does not live in one process.
_CODE_CACHE_MAX = 1_000_000
# After a crash, hub records may lag the log by the exchanges in flight; this
# many leaves before the last recorded one are re-checked on start-up.
_RECONCILE_MARGIN = 4096


class Receipt(Protocol):
    @property
    def index(self) -> int: ...


class ExchangeLogPort(Protocol):
    """What the hub needs of the audit party's exchange log."""

    def append(self, leaf_data: bytes) -> Receipt: ...

    def append_then(self, leaf_data: bytes, done: Callable[[Any, BaseException | None], None]) -> None: ...

    def append_many(self, leaf_data: Sequence[bytes]) -> Sequence[Receipt]: ...

    def append_many_then(
        self, leaf_data: Sequence[bytes], done: Callable[[Any, BaseException | None], None]
    ) -> None: ...

    def size(self) -> int: ...

    def leaf_data(self, index: int) -> bytes: ...

    def sign_tree_head(self) -> object: ...


@dataclass(frozen=True, slots=True)
class AgencyEntry:
    """A registered agency as the hub knows it (機関情報)."""

    agency_id: str
    name: str
    kind: AgencyKind
    sign_public: bytes
    box_public: bytes
    channel_key: bytes = field(repr=False)
    endpoint: str | None
    box_public_b64: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Sent in every query to this agency's providers: encoded once.
        object.__setattr__(self, "box_public_b64", b64(self.box_public))

    def public_record(self) -> dict[str, Any]:
        return {
            "agency_id": self.agency_id,
            "name": self.name,
            "kind": self.kind.value,
            "sign_public": b64(self.sign_public),
            "box_public": b64(self.box_public),
        }


@dataclass
class _Attempt:
    """What is known about an exchange so far, for the leaf if it is refused."""

    time: int | None = None
    requester: str | None = None
    provider: str | None = None
    task: str | None = None
    item: str | None = None
    request_id: str | None = None
    subject: str | None = None
    reserved: tuple[str, str] | None = None
    leaf_logged: bool = False
    # A batch member's request as sent: its claims are taken only if it is refused.
    unread: object = None

    def take_claims(self, raw: object) -> None:
        # Whatever a malformed request claimed still goes in its leaf, cut short.
        if not isinstance(raw, dict):
            return
        for name in ("requester", "provider", "task", "item", "request_id"):
            value = raw.get(name)
            if isinstance(value, str):
                setattr(self, name, value[:200])
        t = raw.get("time")
        if isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 1 << 40:
            self.time = t


class _Op:
    """A point where an exchange waits: what to do, blocking (:meth:`run`) or on a loop (:meth:`run_async`)."""

    __slots__ = ()

    def run(self, hub: HubService) -> Any:
        raise NotImplementedError

    async def run_async(self, hub: HubService, wake: Resolver) -> Any:
        raise NotImplementedError


class _Deliver(_Op):
    """Ask the provider's intermediate server: in process it answers at once; over HTTP it is a round trip.

    ``many``: the message is a batch's share of queries (``provision-queries/1``).
    """

    __slots__ = ("many", "message", "provider")

    def __init__(self, provider: AgencyEntry, message: dict[str, Any], *, many: bool = False) -> None:
        self.provider = provider
        self.message = message
        self.many = many

    def run(self, hub: HubService) -> tuple[object, object, Settlement]:
        provider = self.provider
        deliver = hub._transport.deliver_many if self.many else hub._transport.deliver
        return deliver(
            provider.agency_id, provider.endpoint, self.message, channel_mac(provider.channel_key, self.message)
        )

    async def run_async(self, hub: HubService, wake: Resolver) -> tuple[object, object, Settlement]:
        if self.provider.endpoint:
            # A blocking HTTP round trip: off the loop.
            return await asyncio.get_running_loop().run_in_executor(None, self.run, hub)
        return self.run(hub)


class _Append(_Op):
    """Append a leaf to the exchange log; the receipt once it is durable."""

    __slots__ = ("leaf",)

    def __init__(self, leaf: bytes) -> None:
        self.leaf = leaf

    def run(self, hub: HubService) -> Receipt:
        return hub._log().append(self.leaf)

    async def run_async(self, hub: HubService, wake: Resolver) -> Receipt:
        future: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        hub._log().append_then(self.leaf, lambda receipt, error: wake.settle(future, receipt, error))
        return await future


class _Settle(_Op):
    """Wait until the provider's §23 record is durable."""

    __slots__ = ("settlement",)

    def __init__(self, settlement: Settlement) -> None:
        self.settlement = settlement

    def run(self, hub: HubService) -> None:
        self.settlement.wait()

    async def run_async(self, hub: HubService, wake: Resolver) -> None:
        await until_done(self.settlement.then)


class _AppendMany(_Op):
    """Append leaves to the exchange log in one commit; their receipts once durable."""

    __slots__ = ("leaves",)

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves

    def run(self, hub: HubService) -> list[Receipt]:
        return list(hub._log().append_many(self.leaves))

    async def run_async(self, hub: HubService, wake: Resolver) -> list[Receipt]:
        future: asyncio.Future[list[Receipt]] = asyncio.get_running_loop().create_future()
        hub._log().append_many_then(self.leaves, lambda receipts, error: wake.settle(future, receipts, error))
        return await future


@dataclass(slots=True)
class _Admitted:
    """A batch's request that passed the hub's checks, waiting for its provider's answer."""

    position: int
    request: ExchangeRequest
    provider: AgencyEntry
    query: dict[str, Any]
    attempt: _Attempt


def _drive(hub: HubService, steps: Generator[_Op, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run an exchange's steps on this thread, blocking at each wait."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            op = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result
        try:
            value, error = op.run(hub), None
        except Exception as exc:
            value, error = None, exc


async def _drive_async(hub: HubService, steps: Generator[_Op, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run an exchange's steps on the event loop, awaiting each wait."""
    wake = resolver()
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            op = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result
        try:
            value, error = await op.run_async(hub, wake), None
        except Exception as exc:
            value, error = None, exc


def _replayed() -> KojinError:
    return _refuse(
        Conflict,
        "hub.replayed_request",
        "この処理通番は既に使われています。",
        "This request id has already been used by the requester.",
        "request_id",
    )


def _answered_leaf(request: ExchangeRequest, answer: ProvisionAnswer, subject: str | None) -> bytes:
    return leaf_bytes(
        time=request.time,
        requester=request.requester,
        provider=request.provider,
        task=request.task,
        item=request.item,
        request_id=request.request_id,
        outcome=answer.outcome,
        reason=None,
        subject=subject,
        provided_at=answer.provided_at_ms,
    )


def _refusal_leaf(attempt: _Attempt, exc: KojinError) -> bytes:
    if attempt.unread is not None:
        attempt.take_claims(attempt.unread)
        attempt.unread = None
    return leaf_bytes(
        time=attempt.time,
        requester=attempt.requester,
        provider=attempt.provider,
        task=attempt.task,
        item=attempt.item,
        request_id=attempt.request_id,
        outcome=Outcome.REFUSED,
        reason=exc.code,
        subject=attempt.subject,
    )


def _answer_out(request: ExchangeRequest, provider: AgencyEntry, answer: ProvisionAnswer, index: int) -> dict[str, Any]:
    return {
        "request_id": request.request_id,
        "requester": request.requester,
        "provider": provider.agency_id,
        "provider_name": provider.name,
        "task": request.task,
        "item": request.item,
        "outcome": answer.outcome.value,
        "sealed": answer.sealed,
        "requested_at": request.time,
        "provided_at_ms": answer.provided_at_ms,
        "leaf_index": index,
    }


def _refusal_out(request_id: str | None, index: int, exc: KojinError) -> dict[str, Any]:
    """A batch's refused request: its leaf, and the error as the single-request API would send it."""
    return {
        "request_id": request_id,
        "leaf_index": index,
        "error": {"code": exc.code, "message": exc.message, "field": exc.field, "status": exc.status},
    }


def _record_rows(
    request: ExchangeRequest,
    requester: AgencyEntry,
    provider: AgencyEntry,
    answer: ProvisionAnswer,
    index: int,
    logged: datetime,
) -> list[Row]:
    return [
        (seen_requests, {"requester": request.requester, "request_id": request.request_id, "seen_at": logged}),
        (
            exchange_records,
            {
                "request_id": request.request_id,
                "requester_id": requester.agency_id,
                "requester_name": requester.name,
                "provider_id": provider.agency_id,
                "provider_name": provider.name,
                "task": request.task,
                "item": request.item,
                "requested_at": _dt(request.time),
                "provided_at": _dt(answer.provided_at_ms / 1000),
                "outcome": answer.outcome.value,
                "withheld": answer.outcome is Outcome.WITHHELD,
                "leaf_index": index,
                "logged_at": logged,
            },
        ),
    ]


def _unauthenticated_answer() -> ProviderUnavailable:
    return ProviderUnavailable(
        "hub.provider_unavailable",
        "提供機関の応答を認証できません。",
        "The provider's answer does not authenticate.",
        field="provider",
    )


def _one_answer(provider: AgencyEntry, request_id: str, raw: object) -> ProvisionAnswer:
    """A provider's answer to ``request_id`` from an authenticated message, checked."""
    try:
        answer = ProvisionAnswer.from_wire(raw)
    except InvalidInput as exc:
        raise ProviderUnavailable(
            "hub.provider_unavailable",
            f"提供機関の応答が不正です（{exc.field}）。",
            f"The provider's answer is malformed ({exc.field}).",
            field="provider",
        ) from None
    if answer.request_id != request_id or answer.provider != provider.agency_id:
        raise ProviderUnavailable(
            "hub.provider_unavailable",
            "提供機関の応答が別の照会のものです。",
            "The provider answered a different request.",
            field="provider",
        )
    return answer


def _refuse(cls: type[KojinError], code: str, ja: str, en: str, field: str | None = None) -> KojinError:
    return cls(code, ja, en, field=field)


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class HubService:
    """The hub: agency registry, per-agency codes and the exchange path."""

    def __init__(
        self,
        engine: Engine,
        exchange_log: Callable[[], ExchangeLogPort],
        transport: IntermediateTransport,
        *,
        jlis_channel_key: Callable[[], bytes] | None = None,
        clock: Callable[[], float] = time.time,
        head_interval: float = 1.0,
    ) -> None:
        self.engine = engine
        # The key J-LIS MACs link-id messages with, asked of J-LIS when needed.
        self._jlis_channel_key = jlis_channel_key
        self._log = exchange_log
        self._transport = transport
        self._clock = clock
        # The hub's own records are rebuilt from the exchange log after a
        # crash (_reconcile), so they are committed without an fsync, a few
        # milliseconds' worth at a time.
        self._writer = GroupCommit(engine, name="kojin-hub-writer", durable=False, linger=0.005)
        self._readers = ThreadReaders(engine)
        self._deriver: CodeDeriver | None = None
        self._agencies: dict[str, AgencyEntry] = {}
        self._codes: dict[str, tuple[str, str]] = {}
        # The reverse (agency, person) -> code, and each person's subject key:
        # both derived from the code key, computed once per person here
        # rather than per exchange (base32 alone costs more than the lookup).
        self._codes_of: dict[tuple[str, str], str] = {}
        self._subject_keys: dict[str, bytes] = {}
        # (requester, request_id) of exchanges in flight: a concurrent replay
        # is refused before the first one has been committed.
        self._inflight: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._ready = False
        self._head_interval = head_interval
        self._head_stop = threading.Event()
        self._head_thread: threading.Thread | None = None

    @property
    def transport(self) -> IntermediateTransport:
        """How the hub reaches intermediate servers."""
        return self._transport

    # -- keys ----------------------------------------------------------------
    def ensure_keys(self) -> None:
        """Create the code key on first start (idempotent, safe between processes)."""
        self._load_keys()

    def _load_keys(self) -> CodeDeriver:
        if self._deriver is None:
            self._deriver = CodeDeriver(party_secret(self.engine, hub_keys, "code_key"))
        return self._deriver

    # -- agencies ------------------------------------------------------------
    def register_agency(
        self,
        agency_id: str,
        *,
        name: str,
        kind: AgencyKind | str,
        sign_public: bytes,
        box_public: bytes,
        channel_key: bytes,
        endpoint: str | None = None,
    ) -> AgencyEntry:
        """Enter an agency with its public keys and the channel key for its intermediate server."""
        validate_agency_id(agency_id)
        kind = _kind(kind)
        if not name or len(name) > 200:
            raise invalid("name", "名称は200文字以内です。", "a name is 1–200 characters.")
        if len(sign_public) != 32 or len(box_public) != 32 or len(channel_key) != 32:
            raise invalid("keys", "鍵の長さが不正です。", "keys must be 32 bytes.")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(agencies).values(
                        agency_id=agency_id,
                        name=name,
                        kind=kind.value,
                        sign_public=sign_public,
                        box_public=box_public,
                        channel_key=channel_key,
                        endpoint=endpoint or None,
                        registered_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise Conflict(
                "hub.agency_exists",
                f"機関 {agency_id} は登録済みです。",
                f"Agency {agency_id} is already registered.",
                field="agency_id",
            ) from None
        return self.agency(agency_id)

    def set_endpoint(self, agency_id: str, endpoint: str | None) -> AgencyEntry:
        """Point the hub at an agency's intermediate server over HTTP (None: in process)."""
        self.agency(agency_id)
        with self.engine.begin() as conn:
            conn.execute(update(agencies).where(agencies.c.agency_id == agency_id).values(endpoint=endpoint or None))
        self._agencies.pop(agency_id, None)
        return self.agency(agency_id)

    def find_agency(self, agency_id: str) -> AgencyEntry | None:
        entry = self._agencies.get(agency_id)
        if entry is None:
            with self.engine.connect() as conn:
                row = conn.execute(select(agencies).where(agencies.c.agency_id == agency_id)).first()
            if row is None:
                return None  # not cached: an agency registered later by another process is found then
            entry = AgencyEntry(
                row.agency_id,
                row.name,
                AgencyKind(row.kind),
                bytes(row.sign_public),
                bytes(row.box_public),
                bytes(row.channel_key),
                row.endpoint,
            )
            self._agencies[agency_id] = entry
        return entry

    def agency(self, agency_id: str, field: str = "agency_id") -> AgencyEntry:
        entry = self.find_agency(agency_id)
        if entry is None:
            raise NotFound(
                "hub.unknown_agency",
                f"機関 {agency_id} は登録されていません。",
                f"Agency {agency_id} is not registered.",
                field=field,
            )
        return entry

    def agencies(self) -> list[AgencyEntry]:
        with self.engine.connect() as conn:
            ids = [str(r[0]) for r in conn.execute(select(agencies.c.agency_id).order_by(agencies.c.agency_id))]
        return [self.agency(i) for i in ids]

    # -- codes (機関別符号) ----------------------------------------------------
    def issue_code(self, agency_id: str, link_id: str) -> str:
        """The agency's code for the person behind J-LIS's link id; the same on every call.

        Only J-LIS calls this: it turns an agency's number into a link id and
        passes that here, so the number itself never reaches the hub.
        """
        self.agency(agency_id)
        if not isinstance(link_id, str) or not _LINK_ID.match(link_id):
            raise invalid("link_id", "連携用符号は64桁の16進数です。", "a link id is 64 hex digits.")
        internal_id = self._person(link_id, create=True)
        assert internal_id is not None
        code = self._load_keys().code(agency_id, internal_id)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(codes).values(
                        code=code, agency_id=agency_id, internal_id=internal_id, issued_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            pass  # issued before: the same code again
        return code

    def issue_codes(self, agency_id: str, link_ids: Sequence[str]) -> list[str]:
        """:meth:`issue_code` for many people in one transaction (an insurer's first enrolment).

        Codes are the same as one at a time would give; people and codes the
        hub already has are reused. On a clash with a concurrent issuer the
        batch falls back to one at a time.
        """
        self.agency(agency_id)
        for link_id in link_ids:
            if not isinstance(link_id, str) or not _LINK_ID.match(link_id):
                raise invalid("link_id", "連携用符号は64桁の16進数です。", "a link id is 64 hex digits.")
        wanted = list(dict.fromkeys(link_ids))
        deriver = self._load_keys()
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                known = {
                    str(a): str(b) for a, b in select_in(conn, persons, ("link_id", "internal_id"), "link_id", wanted)
                }
                fresh = [(secrets.token_hex(16), lid, now) for lid in wanted if lid not in known]
                bulk_insert(conn, persons, ("internal_id", "link_id", "created_at"), fresh)
                known.update({lid: iid for iid, lid, _ in fresh})
                code_of = {lid: deriver.code(agency_id, known[lid]) for lid in wanted}
                issued = {str(c) for (c,) in select_in(conn, codes, ("code",), "code", list(code_of.values()))}
                bulk_insert(
                    conn,
                    codes,
                    ("code", "agency_id", "internal_id", "issued_at"),
                    [(code, agency_id, known[lid], now) for lid, code in code_of.items() if code not in issued],
                )
        except IntegrityError:
            return [self.issue_code(agency_id, lid) for lid in link_ids]
        return [code_of[lid] for lid in link_ids]

    def issue_code_signed(self, agency_id: str, body: Mapping[str, Any]) -> str:
        """:meth:`issue_code` for a message from J-LIS over HTTP, MACed with the J-LIS channel key."""
        link_id, sent, mac = body.get("link_id"), body.get("time"), body.get("mac")
        if not isinstance(link_id, str):
            raise invalid("link_id", "ありません。", "missing.")
        if not isinstance(sent, int) or isinstance(sent, bool):
            raise invalid("time", "整数（Unix 秒）ではありません。", "must be Unix seconds.")
        key = self._jlis_channel_key() if self._jlis_channel_key is not None else None
        message = jlis_code_message(agency_id, link_id, sent)
        if key is None or not check_channel_mac(key, message, mac):
            raise Unauthenticated(
                "hub.bad_channel_mac",
                "J-LIS からの通知として認証できません。",
                "The message does not authenticate as J-LIS's.",
                field="mac",
            )
        if abs(self._clock() - sent) > FRESHNESS_SECONDS:
            raise Unauthenticated(
                "hub.stale_request",
                "通知の時刻が古すぎるか未来です。",
                "The message time is too far from now.",
                field="time",
            )
        return self.issue_code(agency_id, link_id)

    def subject_key_for(self, link_id: str) -> bytes:
        """The person's own key to recognise their leaves in the log (for the portal only)."""
        internal_id = self._person(link_id, create=False)
        if internal_id is None:
            raise NotFound("hub.unknown_person", "この人の記録はありません。", "The hub has no record of this person.")
        return self._load_keys().subject_key(internal_id)

    def _person(self, link_id: str, *, create: bool) -> str | None:
        query = select(persons.c.internal_id).where(persons.c.link_id == link_id)
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        if found is not None or not create:
            return None if found is None else str(found)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(persons).values(
                        internal_id=secrets.token_hex(16), link_id=link_id, created_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            pass  # created concurrently: use that one
        with self.engine.connect() as conn:
            return str(conn.execute(query).scalar_one())

    def _code_owner(self, code: str) -> tuple[str, str] | None:
        owner = self._codes.get(code)
        if owner is None:
            row = self._readers.first("SELECT agency_id, internal_id FROM codes WHERE code = ?", (code,))
            if row is None:
                return None
            owner = (str(row[0]), str(row[1]))
            if len(self._codes) >= _CODE_CACHE_MAX:
                self._codes.clear()
            self._codes[code] = owner
        return owner

    # -- exchanges (情報照会・情報提供) -----------------------------------------
    def exchange(self, body: object) -> dict[str, Any]:
        """Route one signed request; return the provider's sealed answer once everything is durable."""
        self._start()
        return _drive(self, self._exchange_steps(body))

    async def exchange_async(self, body: object) -> dict[str, Any]:
        """:meth:`exchange` for a caller on an event loop: the same steps, waiting without blocking it.

        The checks, the provider's answer (when it is hosted here) and the
        log append run on the loop; durable commits are awaited, and the
        writers wake the loop once per commit for everyone waiting on it.
        """
        if not self._ready:
            await asyncio.get_running_loop().run_in_executor(None, self._start)
        return await _drive_async(self, self._exchange_steps(body))

    def exchange_batch(self, body: object) -> dict[str, Any]:
        """Route a signed batch of requests (一括照会) of one requester.

        Each request is checked, answered or refused, logged as a leaf and
        recorded exactly as :meth:`exchange` would; the batch shares one
        signature check, one message to each provider, one log commit and one
        commit of records. A batch whose envelope is refused (malformed,
        unknown requester, bad signature) refuses every request in it, each
        logged. The results come in the requests' order: an answer as
        :meth:`exchange` gives it, or ``{"request_id", "leaf_index", "error"}``.
        """
        self._start()
        return _drive(self, self._batch_steps(body))

    async def exchange_batch_async(self, body: object) -> dict[str, Any]:
        """:meth:`exchange_batch` for a caller on an event loop."""
        if not self._ready:
            await asyncio.get_running_loop().run_in_executor(None, self._start)
        return await _drive_async(self, self._batch_steps(body))

    def _exchange_steps(self, body: object) -> Generator[_Op, Any, dict[str, Any]]:
        """The exchange, yielding where it waits (see :class:`_Op`), so one code path serves both callers."""
        attempt = _Attempt()
        with self._holding([attempt]):
            try:
                return (yield from self._exchange(body, attempt))
            except KojinError as exc:
                if not attempt.leaf_logged:
                    yield from self._log_refusal(attempt, exc)
                raise

    @contextmanager
    def _holding(self, attempts: list[_Attempt]) -> Iterator[None]:
        """Release the request ids the attempts hold in memory when their exchange ends.

        An exchange that recorded its row has already let go (see :meth:`_record`).
        """
        try:
            yield
        except GeneratorExit:
            # Abandoned (its task cancelled) once the leaf may be in the log:
            # the request id stays spent; a restart rebuilds the rest.
            for attempt in attempts:
                if attempt.leaf_logged:
                    attempt.reserved = None
            raise
        finally:
            held = [a.reserved for a in attempts if a.reserved is not None]
            if held:
                with self._lock:
                    self._inflight.difference_update(held)

    def _exchange(self, body: object, attempt: _Attempt) -> Generator[_Op, Any, dict[str, Any]]:
        if not isinstance(body, dict):
            raise invalid("body", "オブジェクトではありません。", "must be an object.")
        attempt.take_claims(body.get("request"))
        extra = sorted(set(body) - {"request", "signature"})
        if extra:
            raise invalid(extra[0], "未知の項目です。", "unknown field.")
        request = ExchangeRequest.from_dict(body.get("request"))
        signature = _signature(body.get("signature"))

        requester = self.find_agency(request.requester)
        if requester is None:
            raise _refuse(
                NotFound,
                "hub.unknown_agency",
                f"照会機関 {request.requester} は登録されていません。",
                f"Requester {request.requester} is not registered.",
                "requester",
            )
        if not verify_ed25519(requester.sign_public, signature, request.signing_input()):
            raise _refuse(
                Unauthenticated,
                "hub.bad_signature",
                "照会の署名を検証できません。",
                "The request's signature does not verify with the requester's key.",
                "signature",
            )
        provider, query = self._admit(request, requester, self._clock(), attempt)
        answer, settlement = self._check_answer(provider, query, (yield _Deliver(provider, query)))
        leaf = _answered_leaf(request, answer, attempt.subject)
        # Past this point the exchange has its own leaf (or the log failed);
        # a later failure must not add a second, "refused" one.
        attempt.leaf_logged = True
        # The provider's record commits in its own store while the leaf
        # commits here; the answer is passed on only once both are durable.
        receipt: Receipt = yield _Append(leaf)
        index = receipt.index
        try:
            yield _Settle(settlement)
        except KojinError:
            # The leaf says what the hub held; the requester gets nothing. The
            # hub's record still mirrors the leaf, as a restart would rebuild it.
            self._record(request, requester, provider, answer, index, attempt)
            raise
        self._record(request, requester, provider, answer, index, attempt)
        return _answer_out(request, provider, answer, index)

    def _admit(
        self, request: ExchangeRequest, requester: AgencyEntry, now: float, attempt: _Attempt
    ) -> tuple[AgencyEntry, dict[str, Any]]:
        """The checks after the signature's, in order; the provider and the query to send it."""
        provider = self._provider_of(request, now)
        self._reserve(request, attempt)
        return provider, self._query(request, requester, provider, now, attempt)

    def _provider_of(self, request: ExchangeRequest, now: float) -> AgencyEntry:
        """The first of :meth:`_admit`'s checks: freshness, and a provider the hub knows."""
        if abs(now - request.time) > FRESHNESS_SECONDS:
            raise _refuse(
                Unauthenticated,
                "hub.stale_request",
                f"照会の時刻が現在から{FRESHNESS_SECONDS}秒を超えてずれています。",
                f"The request time is more than {FRESHNESS_SECONDS} s from now.",
                "time",
            )
        provider = self.find_agency(request.provider)
        if provider is None:
            raise _refuse(
                NotFound,
                "hub.unknown_agency",
                f"提供機関 {request.provider} は登録されていません。",
                f"Provider {request.provider} is not registered.",
                "provider",
            )
        return provider

    def _query(
        self,
        request: ExchangeRequest,
        requester: AgencyEntry,
        provider: AgencyEntry,
        now: float,
        attempt: _Attempt,
    ) -> dict[str, Any]:
        """The last of :meth:`_admit`'s checks, after the request id's: the table and the code; the query."""
        permission = find_permission(requester.kind, request.task, provider.kind, request.item)
        owner = self._code_owner(request.code)
        if owner is not None and owner[0] == request.requester:
            # Authenticated and the requester's own person: a refusal from here
            # on is shown to that person too.
            attempt.subject = self._subject(owner[1], request)
        if permission is None:
            raise _refuse(
                NotPermitted,
                "hub.not_permitted",
                "この照会（照会機関の種別・事務・提供機関の種別・情報）は情報連携の対象として定められていません。",
                "This (requester kind, task, provider kind, item) is not in the permitted-exchange table.",
                "task",
            )
        if owner is None:
            raise _refuse(
                NotFound,
                "hub.unknown_code",
                "この機関別符号は発行されていません。",
                "No such agency code was issued.",
                "code",
            )
        if owner[0] != request.requester:
            raise _refuse(
                NotPermitted,
                "hub.foreign_code",
                "他の機関の機関別符号は使えません。",
                "The code belongs to another agency; use your own.",
                "code",
            )
        internal_id = owner[1]
        return ProvisionQuery(
            request.request_id,
            requester.agency_id,
            requester.name,
            requester.box_public_b64,
            provider.agency_id,
            request.task,
            request.item,
            self._code_for(provider.agency_id, internal_id),
            request.time,
            int(now * 1000),
        ).to_wire()

    def _record(
        self,
        request: ExchangeRequest,
        requester: AgencyEntry,
        provider: AgencyEntry,
        answer: ProvisionAnswer,
        index: int,
        attempt: _Attempt,
    ) -> None:
        # The leaf is durable now, and it holds everything the hub's record
        # does: the record is committed behind the answer, without an fsync of
        # its own (rebuilt from the log after a crash, see _reconcile). The
        # request id stays reserved in memory until its row is in the store.
        reserved, attempt.reserved = attempt.reserved, None
        rows = _record_rows(request, requester, provider, answer, index, datetime.now(UTC))
        self._writer.write_later(rows, lambda error: self._release([] if reserved is None else [reserved], error))

    def _release(self, reserved: Sequence[tuple[str, str]], error: BaseException | None) -> None:
        if error is not None:
            # Rebuilt from the leaves on the next start; until then the ids stay reserved here.
            log.error("hub records of %d logged exchanges not written: %s", len(reserved), type(error).__name__)
            return
        if reserved:
            with self._lock:
                self._inflight.difference_update(reserved)

    # -- batches (一括照会) ---------------------------------------------------------
    def _batch_steps(self, body: object) -> Generator[_Op, Any, dict[str, Any]]:
        attempts: list[_Attempt] = []
        with self._holding(attempts):
            return (yield from self._batch(body, attempts))

    def _batch(self, body: object, attempts: list[_Attempt]) -> Generator[_Op, Any, dict[str, Any]]:
        try:
            requester, raws = self._batch_envelope(body, attempts)
        except KojinError as exc:
            yield from self._log_refusals([(a, exc) for a in attempts or [_Attempt()]])
            raise
        now = self._clock()
        refused: list[tuple[int, _Attempt, KojinError]] = []
        held: list[tuple[int, ExchangeRequest, AgencyEntry]] = []
        # _admit's checks in its order, with the store asked once for every
        # request id the batch holds in memory.
        for position, raw in enumerate(raws):
            attempt = attempts[position]
            try:
                request = ExchangeRequest.from_dict(raw)
                if request.requester != requester.agency_id:
                    raise _refuse(
                        NotPermitted,
                        "hub.batch_mixed_requesters",
                        "一括照会の照会はすべて署名した照会機関のものでなければなりません。",
                        "Every request in a batch must be the signing requester's.",
                        "requester",
                    )
                provider = self._provider_of(request, now)
                self._hold(request, attempt)
            except KojinError as exc:
                refused.append((position, attempt, exc))
                continue
            held.append((position, request, provider))
        seen = self._seen(requester.agency_id, [request.request_id for _, request, _ in held])
        by_provider: dict[str, list[_Admitted]] = {}
        for position, request, provider in held:
            attempt = attempts[position]
            try:
                if request.request_id in seen:
                    raise _replayed()
                query = self._query(request, requester, provider, now, attempt)
            except KojinError as exc:
                refused.append((position, attempt, exc))
                continue
            by_provider.setdefault(provider.agency_id, []).append(
                _Admitted(position, request, provider, query, attempt)
            )

        answered: list[tuple[_Admitted, ProvisionAnswer, int]] = []
        settlements: list[Settlement] = []
        for group in by_provider.values():
            provider = group[0].provider
            message = {"kojin": QUERIES_KIND, "queries": [g.query for g in group]}
            try:
                delivered = yield _Deliver(provider, message, many=True)
                answers, settlement = self._check_answers(provider, group, delivered)
            except KojinError as exc:
                refused.extend((g.position, g.attempt, exc) for g in group)
                continue
            settlements.append(settlement)
            for g, answer in zip(group, answers, strict=True):
                if isinstance(answer, ProvisionAnswer):
                    answered.append((g, answer, len(settlements) - 1))
                else:
                    refused.append((g.position, g.attempt, answer))

        leaves = [_answered_leaf(g.request, answer, g.attempt.subject) for g, answer, _ in answered]
        leaves += [_refusal_leaf(attempt, exc) for _, attempt, exc in refused]
        for attempt in attempts:
            attempt.leaf_logged = True  # each has its leaf in this append (or the log failed for all)
        receipts: list[Receipt] = yield _AppendMany(leaves)

        unsettled: dict[int, KojinError] = {}
        for number, settlement in enumerate(settlements):
            try:
                yield _Settle(settlement)
            except KojinError as exc:
                unsettled[number] = exc
        results: list[dict[str, Any] | None] = [None] * len(raws)
        rows: list[Row] = []
        reserved: list[tuple[str, str]] = []
        logged = datetime.now(UTC)
        for (g, answer, number), receipt in zip(answered, receipts, strict=False):
            # Recorded even when the provider's record failed: the hub's
            # record mirrors the leaf, as a restart would rebuild it.
            rows += _record_rows(g.request, requester, g.provider, answer, receipt.index, logged)
            if g.attempt.reserved is not None:
                reserved.append(g.attempt.reserved)
                g.attempt.reserved = None
            failure = unsettled.get(number)
            results[g.position] = (
                _answer_out(g.request, g.provider, answer, receipt.index)
                if failure is None
                else _refusal_out(g.request.request_id, receipt.index, failure)
            )
        self._writer.write_later(rows, lambda error: self._release(reserved, error))
        for (position, attempt, why), receipt in zip(refused, receipts[len(answered) :], strict=True):
            results[position] = _refusal_out(attempt.request_id, receipt.index, why)
        return {"requester": requester.agency_id, "results": results}

    def _batch_envelope(self, body: object, attempts: list[_Attempt]) -> tuple[AgencyEntry, list[Any]]:
        """The batch's requester, its signature checked, and its requests as sent."""
        if not isinstance(body, dict):
            raise invalid("body", "オブジェクトではありません。", "must be an object.")
        raws = body.get("requests")
        if isinstance(raws, list) and len(raws) <= BATCH_MAX:
            attempts += [_Attempt(unread=raw) for raw in raws]
        extra = sorted(set(body) - {"requests", "signature"})
        if extra:
            raise invalid(extra[0], "未知の項目です。", "unknown field.")
        if not isinstance(raws, list) or not raws:
            raise invalid("requests", "照会の配列がありません。", "must be a non-empty array of requests.")
        if len(raws) > BATCH_MAX:
            raise invalid("requests", f"一度に{BATCH_MAX}件までです。", f"at most {BATCH_MAX} requests in a batch.")
        signature = _signature(body.get("signature"))
        signer = raws[0].get("requester") if isinstance(raws[0], dict) else None
        if not isinstance(signer, str):
            raise invalid("requester", "最初の照会に照会機関がありません。", "the first request names no requester.")
        requester = self.find_agency(signer)
        if requester is None:
            raise _refuse(
                NotFound,
                "hub.unknown_agency",
                f"照会機関 {signer[:40]} は登録されていません。",
                f"Requester {signer[:40]} is not registered.",
                "requester",
            )
        try:
            signed = batch_signing_input(raws)
        except (TypeError, ValueError):
            raise invalid(
                "requests", "署名の対象にできない値があります。", "holds a value that cannot be signed."
            ) from None
        if not verify_ed25519(requester.sign_public, signature, signed):
            raise _refuse(
                Unauthenticated,
                "hub.bad_signature",
                "一括照会の署名を検証できません。",
                "The batch's signature does not verify with the requester's key.",
                "signature",
            )
        return requester, raws

    def _check_answers(
        self, provider: AgencyEntry, group: list[_Admitted], delivered: tuple[object, object, Settlement]
    ) -> tuple[list[ProvisionAnswer | KojinError], Settlement]:
        raw, mac, settlement = delivered
        if not isinstance(raw, dict) or not check_channel_mac(provider.channel_key, raw, mac):
            raise _unauthenticated_answer()
        answers = raw.get("answers") if raw.get("kojin") == ANSWERS_KIND else None
        if not isinstance(answers, list) or len(answers) != len(group):
            raise ProviderUnavailable(
                "hub.provider_unavailable",
                "提供機関の一括応答が照会と対応しません。",
                "The provider's batch answer does not match the queries.",
                field="provider",
            )
        out: list[ProvisionAnswer | KojinError] = []
        for g, answer in zip(group, answers, strict=True):
            try:
                if isinstance(answer, dict) and "error" in answer:
                    raise provider_unavailable(provider.agency_id, str(answer.get("error"))[:80])
                out.append(_one_answer(provider, g.request.request_id, answer))
            except KojinError as exc:
                out.append(exc)
        return out, settlement

    def _log_refusals(self, refusals: list[tuple[_Attempt, KojinError]]) -> Generator[_Op, Any, None]:
        try:
            yield _AppendMany([_refusal_leaf(attempt, exc) for attempt, exc in refusals])
        except KojinError as log_exc:
            log.error("%d refusals could not be logged: %s", len(refusals), log_exc.code)

    def _subject(self, internal_id: str, request: ExchangeRequest) -> str:
        return subject_commitment(self._subject_key(internal_id), request.requester, request.request_id)

    def _subject_key(self, internal_id: str) -> bytes:
        key = self._subject_keys.get(internal_id)
        if key is None:
            key = self._load_keys().subject_key(internal_id)
            if len(self._subject_keys) >= _CODE_CACHE_MAX:
                self._subject_keys.clear()
            self._subject_keys[internal_id] = key
        return key

    def _code_for(self, agency_id: str, internal_id: str) -> str:
        """The agency's code for the person (derived, so cached as freely as the code table)."""
        code = self._codes_of.get((agency_id, internal_id))
        if code is None:
            code = self._load_keys().code(agency_id, internal_id)
            if len(self._codes_of) >= _CODE_CACHE_MAX:
                self._codes_of.clear()
            self._codes_of[(agency_id, internal_id)] = code
        return code

    def _reserve(self, request: ExchangeRequest, attempt: _Attempt) -> None:
        self._hold(request, attempt)
        if (
            self._readers.first(
                "SELECT 1 FROM seen_requests WHERE requester = ? AND request_id = ?",
                (request.requester, request.request_id),
            )
            is not None
        ):
            raise _replayed()

    def _hold(self, request: ExchangeRequest, attempt: _Attempt) -> None:
        """Reserve the request id in memory (refused if in flight); the store is asked after, not before.

        In that order, an exchange with the same id is either still held here
        or already in the store: its row is written before its hold is released.
        """
        key = (request.requester, request.request_id)
        with self._lock:
            clash = key in self._inflight
            if not clash:
                self._inflight.add(key)
                attempt.reserved = key
        if clash:
            raise _replayed()

    def _seen(self, requester: str, request_ids: Sequence[str]) -> set[str]:
        """Which of a batch's request ids the requester has used before (one statement)."""
        return {
            str(r)
            for (r,) in self._readers.select_in(
                "seen_requests",
                ("request_id",),
                "request_id",
                request_ids,
                where="requester = ?",
                params=(requester,),
            )
        }

    def _check_answer(
        self, provider: AgencyEntry, query: dict[str, Any], delivered: tuple[object, object, Settlement]
    ) -> tuple[ProvisionAnswer, Settlement]:
        raw, mac, settlement = delivered
        if not isinstance(raw, dict) or not check_channel_mac(provider.channel_key, raw, mac):
            raise _unauthenticated_answer()
        return _one_answer(provider, query["request_id"], raw), settlement

    def _log_refusal(self, attempt: _Attempt, exc: KojinError) -> Generator[_Op, Any, None]:
        try:
            yield _Append(_refusal_leaf(attempt, exc))
        except KojinError as log_exc:
            log.error("refusal %s could not be logged: %s", exc.code, log_exc.code)

    # -- start-up --------------------------------------------------------------
    def _start(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            self._load_keys()
            self._reconcile()
            if self._head_interval > 0:
                self._head_thread = threading.Thread(target=self._sign_heads, name="kojin-hub-heads", daemon=True)
                self._head_thread.start()
            self._ready = True

    def _sign_heads(self) -> None:
        """Sign a tree head every interval while the log grows: what auditors and people check against."""
        signed = -1
        while not self._head_stop.wait(self._head_interval):
            try:
                exchange_log = self._log()
                size = exchange_log.size()
                if size != signed:
                    exchange_log.sign_tree_head()
                    signed = size
            except Exception as exc:  # the log's store is down; the next tick tries again
                log.warning("signing a tree head failed: %s", type(exc).__name__)

    def _reconcile(self) -> None:
        """Record exchanges whose leaf is in the log but whose §23 record was lost in a crash."""
        exchange_log = self._log()
        size = exchange_log.size()
        with self.engine.connect() as conn:
            last = conn.execute(select(func.max(exchange_records.c.leaf_index))).scalar()
            start = 0 if last is None else max(0, int(last) + 1 - _RECONCILE_MARGIN)
            recorded = {
                int(i)
                for (i,) in conn.execute(
                    select(exchange_records.c.leaf_index).where(exchange_records.c.leaf_index >= start)
                )
            }
        missing: list[list[Row]] = []
        for index in range(start, size):
            if index in recorded:
                continue
            try:
                leaf = json.loads(exchange_log.leaf_data(index))
            except ValueError:
                continue
            if not isinstance(leaf, dict) or leaf.get("kojin") != LEAF_KIND or leaf.get("outcome") == "refused":
                continue
            requester = self.find_agency(str(leaf.get("requester")))
            provider = self.find_agency(str(leaf.get("provider")))
            if requester is None or provider is None:
                continue
            outcome = Outcome(leaf["outcome"])
            now = datetime.now(UTC)
            missing.append(
                [
                    (
                        exchange_records,
                        {
                            "request_id": leaf["request_id"],
                            "requester_id": requester.agency_id,
                            "requester_name": requester.name,
                            "provider_id": provider.agency_id,
                            "provider_name": provider.name,
                            "task": leaf["task"],
                            "item": leaf["item"],
                            "requested_at": _dt(leaf["time"]),
                            "provided_at": _dt(leaf["provided_at"] / 1000),
                            "outcome": outcome.value,
                            "withheld": outcome is Outcome.WITHHELD,
                            "leaf_index": index,
                            "logged_at": now,
                        },
                    ),
                    (
                        seen_requests,
                        {"requester": requester.agency_id, "request_id": leaf["request_id"], "seen_at": now},
                    ),
                ]
            )
        restored = 0
        if missing:
            # All in one commit; should one clash (restored by another process
            # meanwhile), each goes on its own.
            try:
                self._writer.write([row for rows in missing for row in rows])
                restored = len(missing)
            except IntegrityError:
                for rows in missing:
                    try:
                        self._writer.write(rows)
                        restored += 1
                    except IntegrityError:
                        continue
        if restored:
            log.warning("restored %d hub exchange records from the exchange log", restored)

    # -- clinics' views (オンライン資格確認・電子カルテ情報共有) ---------------------------
    def find_code(self, agency_id: str, link_id: str) -> str | None:
        """The agency's code for the person behind ``link_id`` if one was issued; issues none.

        The eligibility service asks this for each insurer it knows, so that
        a person's check does not hand codes to insurers they never joined.
        """
        self.agency(agency_id)
        if not isinstance(link_id, str) or not _LINK_ID.match(link_id):
            raise invalid("link_id", "連携用符号は64桁の16進数です。", "a link id is 64 hex digits.")
        internal_id = self._person(link_id, create=False)
        if internal_id is None:
            return None
        code = self._load_keys().code(agency_id, internal_id)
        return code if self._code_owner(code) is not None else None

    def record_view(
        self,
        *,
        viewer: str,
        viewer_name: str,
        holder: str,
        holder_name: str,
        task: str,
        item: str,
        agency_id: str,
        code: str,
        request_id: str,
    ) -> int:
        """Log a clinic's consented view of a person's medical data as an exchange; the leaf index.

        The person is named by an agency's code (the insurer's, which the
        eligibility service holds); the leaf carries the usual subject
        commitment, so the view appears in the person's やりとり履歴 with an
        inclusion proof, and the hub keeps its §23 record of it.
        """
        owner = self._code_owner(code)
        if owner is None or owner[0] != agency_id:
            raise NotFound(
                "hub.unknown_code",
                "この機関別符号は発行されていません。",
                "No such agency code was issued.",
                field="code",
            )
        self._start()
        now = self._clock()
        provided_ms = int(now * 1000)
        subject = subject_commitment(self._load_keys().subject_key(owner[1]), viewer, request_id)
        leaf = leaf_bytes(
            time=int(now),
            requester=viewer,
            provider=holder,
            task=task,
            item=item,
            request_id=request_id,
            outcome=Outcome.ANSWERED,
            reason=None,
            subject=subject,
            provided_at=provided_ms,
        )
        index = self._log().append(leaf).index
        logged = datetime.now(UTC)
        # Committed durably on its own, unlike an exchange's record: the viewer
        # is a clinic, not a registered agency, so a restart could not rebuild
        # this record from the leaf.
        with self.engine.begin() as conn:
            conn.execute(insert(seen_requests).values(requester=viewer[:40], request_id=request_id, seen_at=logged))
            conn.execute(
                insert(exchange_records).values(
                    request_id=request_id,
                    requester_id=viewer[:40],
                    requester_name=viewer_name[:200],
                    provider_id=holder[:40],
                    provider_name=holder_name[:200],
                    task=task[:200],
                    item=item[:200],
                    requested_at=_dt(int(now)),
                    provided_at=_dt(provided_ms / 1000),
                    outcome=Outcome.ANSWERED.value,
                    withheld=False,
                    leaf_index=index,
                    logged_at=logged,
                )
            )
        return index

    # -- reading -------------------------------------------------------------------
    def records(self, *, limit: int = 100, after: int = 0) -> list[dict[str, Any]]:
        """The hub's §23 records, oldest first (including every exchange answered so far)."""
        self._writer.flush()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(exchange_records)
                .where(exchange_records.c.record_id > after)
                .order_by(exchange_records.c.record_id)
                .limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table: what a refused request must leave unchanged."""
        self._writer.flush()
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table in (agencies, persons, codes, seen_requests, exchange_records):
                out[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    def close(self) -> None:
        self._head_stop.set()
        if self._head_thread is not None:
            self._head_thread.join()
        self._writer.close()
        self._readers.close()
        self._transport.close()


def jlis_code_message(agency_id: str, link_id: str, sent: int) -> dict[str, Any]:
    """What J-LIS MACs when it asks the hub for an agency's code over HTTP."""
    return {"kojin": "jlis-code-request/1", "agency_id": agency_id, "link_id": link_id, "time": sent}


def _signature(value: object) -> bytes:
    if not isinstance(value, str):
        raise invalid("signature", "署名（base64）がありません。", "the signature (base64) is missing.")
    try:
        raw = binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (ValueError, UnicodeEncodeError):
        raise invalid("signature", "base64 ではありません。", "not base64.") from None
    if len(raw) != 64:
        raise invalid("signature", "Ed25519 の署名は64バイトです。", "an Ed25519 signature is 64 bytes.")
    return raw


def _kind(kind: AgencyKind | str) -> AgencyKind:
    try:
        return AgencyKind(kind)
    except ValueError:
        raise invalid("kind", "機関の種別が不明です。", "unknown agency kind.") from None
