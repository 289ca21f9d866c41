"""Agencies as parties: their stores, intermediate servers, and the directory of them.

* :class:`AgencyService` — one agency's own store: keys, people (local id ↔
  its code), copies (副本) and its §23 log.
* :class:`IntermediateServer` — the agency's intermediate server (中間サーバー):
  answers the hub from the copies, sealed to the requester.
* :class:`AgencyDirectory` — the agencies hosted in this process: creates them
  (a store of their own, keys, registration at the hub) and obtains codes for
  them through J-LIS (取得番号), so the number never reaches the hub.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.agency.domain import CopyEntry, LogEntry, Role, load_payload, payload_json, validate_item
from kojin.agency.store import agency_keys, copies, exchange_log, people
from kojin.core.crypto import AnswerBox, SigningKey, b64, unb64, x25519_private_raw
from kojin.core.db import PARTIES, Database, register_party
from kojin.core.errors import Conflict, InvalidInput, KojinError, NotFound, NotPermitted, Unauthenticated
from kojin.core.group_commit import GroupCommit, ThreadReaders, Ticket
from kojin.core.keys import insert_if_absent
from kojin.hub.domain import (
    ANSWERS_KIND,
    BATCH_MAX,
    FRESHNESS_SECONDS,
    QUERIES_KIND,
    AgencyKind,
    Outcome,
    ProvisionAnswer,
    ProvisionQuery,
    agency_party,
    channel_mac,
    check_channel_mac,
    sealed_plaintext_json,
    validate_agency_id,
)

if TYPE_CHECKING:
    from kojin.agency.client import AgencyClient, HubTransport
    from kojin.hub.service import HubService
    from kojin.numbering.service import NumberingService


class AgencyKeys:
    """An agency's private keys (秘密鍵): signing, the answer boxes, the hub channel."""

    __slots__ = ("agency_id", "box", "box_public", "channel_key", "kind", "name", "sign", "sign_public")

    def __init__(
        self,
        agency_id: str,
        name: str,
        kind: AgencyKind,
        sign: SigningKey,
        box: AnswerBox,
        channel_key: bytes,
    ) -> None:
        self.agency_id = agency_id
        self.name = name
        self.kind = kind
        self.sign = sign
        self.box = box
        self.channel_key = channel_key
        self.sign_public = sign.public_raw
        self.box_public = box.public_raw


def _dt_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class AgencyService:
    """One agency's own store and what it does with it."""

    def __init__(self, agency_id: str, engine: Engine) -> None:
        self.agency_id = validate_agency_id(agency_id)
        self.engine = engine
        self._writer = GroupCommit(engine, name=f"kojin-{agency_party(agency_id)}-writer")
        self._readers = ThreadReaders(engine)
        self._keys: AgencyKeys | None = None

    # -- keys ------------------------------------------------------------------
    def create_keys(self, *, name: str, kind: AgencyKind) -> AgencyKeys:
        """Make the agency's keys on first registration; the same keys on a later call."""
        if self._find_keys() is None:
            values = {
                "id": 1,
                "agency_id": self.agency_id,
                "name": name,
                "kind": kind.value,
                "sign_private": SigningKey.generate().seed,
                "box_private": x25519_private_raw(X25519PrivateKey.generate()),
                "channel_key": secrets.token_bytes(32),
                "created_at": datetime.now(UTC),
            }
            insert_if_absent(self.engine, agency_keys, values)
        self._keys = None
        return self.keys

    def _find_keys(self) -> AgencyKeys | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(agency_keys).where(agency_keys.c.id == 1)).first()
        if row is None:
            return None
        return AgencyKeys(
            row.agency_id,
            row.name,
            AgencyKind(row.kind),
            SigningKey(bytes(row.sign_private)),
            AnswerBox(X25519PrivateKey.from_private_bytes(bytes(row.box_private))),
            bytes(row.channel_key),
        )

    @property
    def keys(self) -> AgencyKeys:
        if self._keys is None:
            found = self._find_keys()
            if found is None:
                raise NotFound(
                    "agency.no_keys",
                    f"機関 {self.agency_id} の鍵がありません。",
                    f"Agency {self.agency_id} has no keys; register it first.",
                    field="agency_id",
                )
            self._keys = found
        return self._keys

    @property
    def name(self) -> str:
        return self.keys.name

    @property
    def kind(self) -> AgencyKind:
        return self.keys.kind

    # -- people (宛名) ----------------------------------------------------------
    def enrol(self, code: str, local_id: str | None = None) -> str:
        """Keep the agency's code for one of its people; returns the local id (idempotent per code)."""
        existing = self.local_id_of(code)
        if existing is not None:
            if local_id is not None and local_id != existing:
                raise Conflict(
                    "agency.code_enrolled",
                    "この符号は別の宛名番号に登録済みです。",
                    "This code is already kept under another local id.",
                    field="local_id",
                )
            return existing
        local_id = local_id or f"L{secrets.token_hex(8)}"
        if not 0 < len(local_id) <= 64:
            raise InvalidInput(
                "agency.bad_local_id", "宛名番号は64文字以内です。", "A local id is 1–64 characters.", field="local_id"
            )
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(people).values(local_id=local_id, code=code, created_at=datetime.now(UTC)))
        except IntegrityError:
            if self.local_id_of(code) == local_id:
                return local_id
            raise Conflict(
                "agency.local_id_taken",
                "この宛名番号には別の符号が登録されています。",
                "This local id already holds another code.",
                field="local_id",
            ) from None
        return local_id

    def local_id_of(self, code: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(people.c.local_id).where(people.c.code == code)).scalar()
        return None if found is None else str(found)

    def code_of(self, local_id: str) -> str:
        with self.engine.connect() as conn:
            found = conn.execute(select(people.c.code).where(people.c.local_id == local_id)).scalar()
        if found is None:
            raise NotFound(
                "agency.unknown_person",
                "この宛名番号の人はいません。",
                "No person has this local id.",
                field="local_id",
            )
        return str(found)

    # -- copies (副本) ----------------------------------------------------------
    def update_copies(self, entries: Iterable[CopyEntry]) -> int:
        """Insert or replace copies from the agency's business data, in one transaction."""
        now = datetime.now(UTC)
        rows = []
        for entry in entries:
            validate_item(entry.item)
            rows.append(
                {
                    "code": entry.code,
                    "item": entry.item,
                    "payload": payload_json(entry.payload),
                    "withheld": bool(entry.withheld),
                    "updated_at": entry.updated_at or now,
                }
            )
        if not rows:
            return 0
        with self.engine.begin() as conn:
            known = {
                str(c)
                for (c,) in conn.execute(
                    select(people.c.code).where(people.c.code.in_(sorted({r["code"] for r in rows})))
                )
            }
            unknown = [r["code"] for r in rows if r["code"] not in known]
            if unknown:
                raise NotFound(
                    "agency.unknown_code",
                    "この機関の符号ではありません（先に符号を取得してください）。",
                    "Not a code of this agency's people; obtain the code first.",
                    field="code",
                )
            for row in rows:
                done = conn.execute(
                    update(copies)
                    .where(copies.c.code == row["code"], copies.c.item == row["item"])
                    .values(payload=row["payload"], withheld=row["withheld"], updated_at=row["updated_at"])
                ).rowcount
                if not done:
                    conn.execute(insert(copies).values(**row))
        return len(rows)

    def copy(self, code: str, item: str) -> CopyEntry | None:
        row = self._readers.first(
            "SELECT payload, withheld, updated_at FROM copies WHERE code = ? AND item = ?", (code, item)
        )
        if row is None:
            return None
        payload, withheld, updated = row
        return CopyEntry(code, item, load_payload(payload), bool(withheld), _stored_time(updated))

    def copy_for_answer(self, code: str, item: str) -> tuple[str, bool, str] | None:
        """A copy as the intermediate server seals it: (payload as stored JSON, withheld, updated_at ISO)."""
        row = self._readers.first(
            "SELECT payload, withheld, updated_at FROM copies WHERE code = ? AND item = ?", (code, item)
        )
        return None if row is None else _for_answer(row)

    def copies_for_answer(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, bool, str]]:
        """:meth:`copy_for_answer` for a batch's (code, item) pairs, in one statement."""
        wanted_set = set(wanted)
        rows = self._readers.select_in(
            "copies",
            ("code", "item", "payload", "withheld", "updated_at"),
            "code",
            list({code: None for code, _ in wanted}),
        )
        return {
            (code, item): _for_answer((payload, withheld, updated))
            for code, item, payload, withheld, updated in rows
            if (code, item) in wanted_set
        }

    # -- §23 log ----------------------------------------------------------------
    def record(self, entry: LogEntry) -> None:
        """Write one §23 record durably (shared commit with concurrent exchanges)."""
        self._writer.write([(exchange_log, entry.as_row(datetime.now(UTC)))])

    def record_soon(self, entry: LogEntry) -> Ticket:
        """Queue one §23 record for the next durable commit; the ticket says when it is durable."""
        return self.record_many_soon([entry])

    def record_many(self, entries: Sequence[LogEntry]) -> None:
        """Write several §23 records durably, in one commit."""
        self.record_many_soon(entries).wait()

    def record_many_soon(self, entries: Sequence[LogEntry]) -> Ticket:
        """:meth:`record_soon` for several records, all in one durable commit."""
        now = datetime.now(UTC)
        return self._writer.submit([(exchange_log, entry.as_row(now)) for entry in entries])

    def log_entries(self, *, code: str | None = None, limit: int = 100) -> list[LogEntry]:
        query = select(exchange_log).order_by(exchange_log.c.entry_id).limit(limit)
        if code is not None:
            query = query.where(exchange_log.c.code == code)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            LogEntry(
                Role(r.role),
                r.request_id,
                r.code,
                r.requester_id,
                r.requester_name,
                r.provider_id,
                r.provider_name,
                r.task,
                r.item,
                r.requested_at,
                r.provided_at,
                Outcome(r.outcome),
                r.leaf_index,
            )
            for r in rows
        ]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table in (people, copies, exchange_log):
                out[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    def close(self) -> None:
        self._writer.close()
        self._readers.close()


class IntermediateServer:
    """The agency's intermediate server (中間サーバー): answers the hub from copies."""

    def __init__(self, agency: AgencyService, *, clock: Callable[[], float] = time.time) -> None:
        self.agency = agency
        self._clock = clock
        self._box_keys: dict[str, bytes] = {}

    def update_copies(self, entries: Iterable[CopyEntry]) -> int:
        """Keep the copies in step with the agency's business data."""
        return self.agency.update_copies(entries)

    def answer(self, query: dict[str, Any], mac: str) -> tuple[dict[str, Any], str]:
        """Answer one MACed query from the hub with a MACed answer, once its §23 record is durable."""
        answer, answer_mac, ticket = self.answer_deferred(query, mac)
        ticket.wait()
        return answer, answer_mac

    def answer_deferred(self, query: dict[str, Any], mac: str) -> tuple[dict[str, Any], str, Ticket]:
        """:meth:`answer`, returning before the §23 record is durable, with the ticket that tells when.

        For the hub hosting this server in its own process: it commits the
        exchange's leaf meanwhile, and passes the answer on only after both
        (the ticket fails if the record could not be written).
        """
        keys = self.agency.keys
        if not check_channel_mac(keys.channel_key, query, mac):
            raise _bad_channel_mac()
        q = self._take(query)
        answer, entry = self._answer(q, self.agency.copy_for_answer(q.code, q.item))
        return answer, channel_mac(keys.channel_key, answer), self.agency.record_soon(entry)

    def answer_many(self, message: dict[str, Any], mac: str) -> tuple[dict[str, Any], str]:
        """Answer a MACed batch of queries (一括照会) once all their §23 records are durable."""
        answers, answers_mac, ticket = self.answer_many_deferred(message, mac)
        ticket.wait()
        return answers, answers_mac

    def answer_many_deferred(self, message: dict[str, Any], mac: str) -> tuple[dict[str, Any], str, Ticket]:
        """:meth:`answer_deferred` for a ``provision-queries/1`` message: one MAC, one commit for all.

        The answers come in the queries' order; a query this server cannot
        take is answered with ``{"request_id": …, "error": code}`` in its
        place, and the others are answered as usual.
        """
        keys = self.agency.keys
        if not check_channel_mac(keys.channel_key, message, mac):
            raise _bad_channel_mac()
        queries = message.get("queries") if message.get("kojin") == QUERIES_KIND else None
        if not isinstance(queries, list) or len(queries) > BATCH_MAX:
            raise InvalidInput(
                "request.invalid",
                f"{QUERIES_KIND} ではありません。",
                f"not a {QUERIES_KIND} message.",
                field="queries",
            )
        taken: list[ProvisionQuery | dict[str, Any]] = []
        for query in queries:
            try:
                taken.append(self._take(query))
            except KojinError as exc:
                request_id = query.get("request_id") if isinstance(query, dict) else None
                taken.append({"request_id": request_id if isinstance(request_id, str) else None, "error": exc.code})
        found = self.agency.copies_for_answer([(q.code, q.item) for q in taken if isinstance(q, ProvisionQuery)])
        answers: list[dict[str, Any]] = []
        entries: list[LogEntry] = []
        for q in taken:
            if not isinstance(q, ProvisionQuery):
                answers.append(q)
                continue
            answer, entry = self._answer(q, found.get((q.code, q.item)))
            answers.append(answer)
            entries.append(entry)
        reply = {"kojin": ANSWERS_KIND, "answers": answers}
        return reply, channel_mac(keys.channel_key, reply), self.agency.record_many_soon(entries)

    def _box_key(self, encoded: str) -> bytes:
        # A batch names one requester's key in every query: decoded once.
        key = self._box_keys.get(encoded)
        if key is None:
            key = unb64(encoded, "requester_box_key")
            if len(self._box_keys) >= 1024:
                self._box_keys.clear()
            self._box_keys[encoded] = key
        return key

    def _take(self, query: object) -> ProvisionQuery:
        """An authenticated message's query, if it is one for this server, and fresh."""
        q = ProvisionQuery.from_wire(query)
        if q.provider != self.agency.agency_id:
            raise NotPermitted(
                "agency.wrong_provider",
                "この中間サーバー宛ての求めではありません。",
                "The query is addressed to another intermediate server.",
                field="provider",
            )
        now = self._clock()
        if abs(now * 1000 - q.sent_at_ms) > FRESHNESS_SECONDS * 1000:
            raise Unauthenticated(
                "agency.stale_query",
                "求めの時刻が古すぎるか未来です。",
                "The query time is too far from now.",
                field="sent_at_ms",
            )
        return q

    def _answer(self, q: ProvisionQuery, found: tuple[str, bool, str] | None) -> tuple[dict[str, Any], LogEntry]:
        """The answer to a query from its copy (None: no copy), and the §23 record still to be kept of it."""
        keys = self.agency.keys
        sealed: str | None = None
        if found is None:
            outcome = Outcome.NO_DATA
        elif found[1]:
            outcome = Outcome.WITHHELD
        else:
            outcome = Outcome.ANSWERED
            # The copy is stored as canonical JSON: it goes into the sealed
            # plaintext as it is, not parsed and written again.
            plaintext = sealed_plaintext_json(
                request_id=q.request_id,
                requester=q.requester,
                provider=q.provider,
                item=q.item,
                payload_json=found[0],
                updated_at=found[2],
            )
            sealed = b64(keys.box.seal_to(self._box_key(q.requester_box_key), plaintext, q.request_id.encode()))
        provided_ms = int(self._clock() * 1000)
        entry = LogEntry(
            Role.PROVIDER,
            q.request_id,
            q.code,
            q.requester,
            q.requester_name,
            q.provider,
            keys.name,
            q.task,
            q.item,
            datetime.fromtimestamp(q.requested_at, UTC),
            _dt_ms(provided_ms),
            outcome,
        )
        return ProvisionAnswer(q.request_id, q.provider, outcome, sealed, provided_ms).to_wire(), entry


def _stored_time(updated: datetime | str | None) -> datetime | None:
    """A copy's time as read through the driver: SQLite gives the stored text, and keeps no zone (all is UTC)."""
    if isinstance(updated, str):
        updated = datetime.fromisoformat(updated)
    if updated is not None and updated.tzinfo is None:
        updated = updated.replace(tzinfo=UTC)
    return updated


def _for_answer(row: tuple[Any, ...]) -> tuple[str, bool, str]:
    payload, withheld, updated = row
    if isinstance(updated, str) and len(updated) == 26 and updated[10] == " " and updated[19] == ".":
        # As SQLAlchemy writes a UTC time to SQLite (YYYY-MM-DD HH:MM:SS.ffffff):
        # rewritten as isoformat() would write it, since parsing it into a
        # datetime to print it again cost more than the rest of the answer.
        fraction = updated[19:]
        return (
            str(payload),
            bool(withheld),
            (f"{updated[:10]}T{updated[11:19]}{'' if fraction == '.000000' else fraction}+00:00"),
        )
    time_ = _stored_time(updated)
    return str(payload), bool(withheld), time_.isoformat() if time_ is not None else ""


def _bad_channel_mac() -> Unauthenticated:
    return Unauthenticated(
        "agency.bad_channel_mac",
        "情報提供ネットワークシステムからの求めとして認証できません。",
        "The query does not authenticate as the hub's.",
        field="mac",
    )


class AgencyDirectory:
    """The agencies hosted in this process, each with a store of its own."""

    def __init__(self, db: Database, hub: HubService, numbering: NumberingService) -> None:
        self._db = db
        self._hub = hub
        self._numbering = numbering
        self._services: dict[str, AgencyService] = {}
        self._servers: dict[str, IntermediateServer] = {}
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        return [a.agency_id for a in self._hub.agencies()]

    def _service(self, agency_id: str) -> AgencyService:
        with self._lock:
            service = self._services.get(agency_id)
            if service is None:
                party = agency_party(agency_id)
                if party not in PARTIES:
                    register_party(party, "kojin.agency")
                service = AgencyService(agency_id, self._db.engine(party))
                self._services[agency_id] = service
            return service

    def get(self, agency_id: str) -> AgencyService:
        """The agency's service; ``hub.unknown_agency`` when the hub does not know it."""
        self._hub.agency(agency_id)
        return self._service(agency_id)

    def intermediate(self, agency_id: str) -> IntermediateServer | None:
        """Its intermediate server, when the agency is hosted here (None otherwise)."""
        server = self._servers.get(agency_id)
        if server is None:
            if self._hub.find_agency(agency_id) is None:
                return None
            server = IntermediateServer(self._service(agency_id))
            self._servers[agency_id] = server
        return server

    def client(self, agency_id: str, hub: HubTransport | None = None) -> AgencyClient:
        """A query client for the agency: in process by default, or over ``hub`` (e.g. HTTP)."""
        from kojin.agency.client import AgencyClient, InProcessHub

        return AgencyClient(self.get(agency_id), hub or InProcessHub(self._hub))

    def create(
        self, agency_id: str, *, name: str, kind: AgencyKind | str, endpoint: str | None = None
    ) -> AgencyService:
        """A new agency: its own migrated store, fresh keys, and its entry at the hub."""
        validate_agency_id(agency_id)
        try:
            kind = AgencyKind(kind)
        except ValueError:
            raise InvalidInput(
                "request.invalid", "機関の種別が不明です。", "Unknown agency kind.", field="kind"
            ) from None
        if self._hub.find_agency(agency_id) is not None:
            raise Conflict(
                "hub.agency_exists",
                f"機関 {agency_id} は登録済みです。",
                f"Agency {agency_id} is already registered.",
                field="agency_id",
            )
        party = agency_party(agency_id)
        if party not in PARTIES:
            register_party(party, "kojin.agency")
        self._db.migrate(party)
        service = self._service(agency_id)
        keys = service.create_keys(name=name, kind=kind)
        self._hub.register_agency(
            agency_id,
            name=name,
            kind=kind,
            sign_public=keys.sign_public,
            box_public=keys.box_public,
            channel_key=keys.channel_key,
            endpoint=endpoint,
        )
        return service

    def migrate_known(self) -> None:
        """Bring every registered agency's store to the newest migration (``kojin init``)."""
        for agency_id in self.ids():
            party = agency_party(agency_id)
            if party not in PARTIES:
                register_party(party, "kojin.agency")
            self._db.migrate(party)

    def obtain_code(self, agency_id: str, number: str, local_id: str | None = None) -> tuple[str, str]:
        """取得番号: the agency's code for the holder of ``number``, via J-LIS; (code, local id).

        J-LIS turns the number into a link id and passes only that to the hub,
        which answers with the agency's code. The number is used here and
        forgotten: it is written nowhere in the agency's or the hub's store.
        """
        service = self.get(agency_id)
        code = self._hub.issue_code(agency_id, self._numbering.link_id_for(number))
        return code, service.enrol(code, local_id)

    def obtain_codes(self, agency_id: str, numbers: Sequence[str]) -> list[str]:
        return [self.obtain_code(agency_id, n)[0] for n in numbers]

    def close(self) -> None:
        with self._lock:
            for service in self._services.values():
                service.close()
