"""One agency as a party (機関): its own store of keys, people, copies and its §23 log.

* :class:`AgencyService` — one agency's own store: keys, people (local id ↔
  its code), copies (副本) and its §23 log.
* :class:`~kojin.agency.intermediate.IntermediateServer` — the agency's intermediate
  server (中間サーバー): answers the hub from the copies, sealed to the requester.
* :class:`~kojin.agency.directory.AgencyDirectory` — the agencies hosted in this
  process: creates them (a store of their own, keys, registration at the hub) and
  obtains codes for them through J-LIS (取得番号), so the number never reaches the hub.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.agency import reasons
from kojin.agency.domain import CopyEntry, LogEntry, Role, load_payload, payload_json, validate_item
from kojin.agency.store import agency_keys, copies, exchange_log, people
from kojin.core.crypto import AnswerBox, SigningKey, x25519_private_raw
from kojin.core.group_commit import GroupCommit, ThreadReaders, Ticket
from kojin.core.key_passphrase import is_sealed, key_passphrase
from kojin.core.keys import insert_if_absent, open_secret, sealed_if_asked
from kojin.hub.domain import (
    AgencyKind,
    Outcome,
    agency_party,
    validate_agency_id,
)

if TYPE_CHECKING:
    pass


# The columns of the agency's key row that are secret (sealed under KOJIN_KEY_PASSPHRASE when set).
_SECRET_COLUMNS = ("sign_private", "box_private", "channel_key")


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


def time_of_ms(ms: int) -> datetime:
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
                "sign_private": sealed_if_asked(SigningKey.generate().seed),
                "box_private": sealed_if_asked(x25519_private_raw(X25519PrivateKey.generate())),
                "channel_key": sealed_if_asked(secrets.token_bytes(32)),
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
        secret = {name: open_secret(bytes(row._mapping[name]), f"agency_keys.{name}") for name in _SECRET_COLUMNS}
        if key_passphrase() is not None and not all(is_sealed(bytes(row._mapping[n])) for n in _SECRET_COLUMNS):
            # Keys stored plain before the passphrase was set: sealed in place, unchanged.
            with self.engine.begin() as conn:
                conn.execute(
                    update(agency_keys)
                    .where(agency_keys.c.id == 1)
                    .values({name: sealed_if_asked(value) for name, value in secret.items()})
                )
        return AgencyKeys(
            row.agency_id,
            row.name,
            AgencyKind(row.kind),
            SigningKey(secret["sign_private"]),
            AnswerBox(X25519PrivateKey.from_private_bytes(secret["box_private"])),
            secret["channel_key"],
        )

    @property
    def keys(self) -> AgencyKeys:
        if self._keys is None:
            found = self._find_keys()
            if found is None:
                raise reasons.NO_KEYS.error(agency_id=self.agency_id)
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
                raise reasons.CODE_ENROLLED.error()
            return existing
        local_id = local_id or f"L{secrets.token_hex(8)}"
        if not 0 < len(local_id) <= 64:
            raise reasons.BAD_LOCAL_ID.error()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(people).values(local_id=local_id, code=code, created_at=datetime.now(UTC)))
        except IntegrityError:
            if self.local_id_of(code) == local_id:
                return local_id
            raise reasons.LOCAL_ID_TAKEN.error() from None
        return local_id

    def local_id_of(self, code: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(people.c.local_id).where(people.c.code == code)).scalar()
        return None if found is None else str(found)

    def iter_people(self, *, batch: int = 5000) -> Iterator[tuple[str, str]]:
        """Every person the agency keeps, as ``(local_id, code)`` (for the integrity audit)."""
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(people.c.local_id, people.c.code)
                    .where(people.c.local_id > last)
                    .order_by(people.c.local_id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for local_id, code in rows:
                yield str(local_id), str(code)
            last = str(rows[-1][0])

    def code_of(self, local_id: str) -> str:
        with self.engine.connect() as conn:
            found = conn.execute(select(people.c.code).where(people.c.local_id == local_id)).scalar()
        if found is None:
            raise reasons.UNKNOWN_PERSON.error()
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
                raise reasons.UNKNOWN_CODE.error()
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

    def copies_of(self, code: str) -> list[CopyEntry]:
        """Every copy the agency keeps for one person (its officers' look, which they record)."""
        query = select(copies).where(copies.c.code == code).order_by(copies.c.item)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            CopyEntry(code, r.item, load_payload(r.payload), bool(r.withheld), _stored_time(r.updated_at)) for r in rows
        ]

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
