"""J-LIS numbering service (付番サービス): issue, look up and change numbers.

The service is given only 住民票コード; it never sees a name or an address. The
number it returns to the municipality is for the number notice and the card,
and is never stored anywhere else in kojin.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, func, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.bulk import bulk_insert, converter, select_in
from kojin.core.db import bulk_checkpoints, checkpoint
from kojin.core.keys import open_secret, party_secret
from kojin.numbering import reasons
from kojin.numbering.domain import (
    NumberDerivation,
    juminhyo_code_of,
    validate_individual_number,
    validate_juminhyo_code,
)
from kojin.numbering.store import link_ids, link_keys, numbering_keys, numbers

# Enough for the birthday bound at national scale: at 124.6 M numbers in a
# space of 10^11 a candidate collides with probability ~0.1 %.
MAX_ATTEMPTS = 64


@dataclass(frozen=True)
class NumberRecord:
    """One issued number and its state (個人番号の履歴)."""

    number: str
    status: str
    issued_at: datetime
    retired_at: datetime | None
    retire_reason: str | None


class NumberingService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._derivation: NumberDerivation | None = None
        self._link_key: bytes | None = None

    # -- key ---------------------------------------------------------------
    def ensure_key(self) -> None:
        """Create the derivation key on first use (``kojin init``)."""
        party_secret(self.engine, numbering_keys)

    def _derive(self, conn: Connection) -> NumberDerivation:
        if self._derivation is None:
            key = conn.execute(select(numbering_keys.c.key).where(numbering_keys.c.id == 1)).scalar()
            if key is None:
                raise RuntimeError("numbering key missing: run `kojin init`")
            self._derivation = NumberDerivation(open_secret(bytes(key), numbering_keys.name))
        return self._derivation

    # -- issuing -----------------------------------------------------------
    def assign(self, juminhyo_code: str) -> str:
        return self.assign_many([juminhyo_code])[0]

    def assign_many(self, codes: Sequence[str], *, validated: bool = False) -> list[str]:
        """Issue one number per 住民票コード, all in one transaction.

        A concurrent writer that took the same candidate makes the commit
        fail; the whole batch is then retried.
        """
        if not validated:
            for code in codes:
                validate_juminhyo_code(code)
        if len(set(codes)) != len(codes):
            raise reasons.NUMBER_DUPLICATE_REQUEST.error()
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    return self._assign_in(conn, codes)
            except IntegrityError:
                continue
        raise reasons.NUMBER_CONTENTION.error()

    def issue_persons(self, count: int) -> list[tuple[str, str]]:
        """New people (出生・国外からの転入): fresh 住民票コード, each with its number.

        J-LIS hands out 住民票コード, so J-LIS checks them: 10 random digits and a
        check digit, unique against every code it has ever numbered. Returns
        ``(juminhyo_code, number)`` pairs, committed before they are returned.
        """
        if count < 1:
            return []
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    return self._issue_persons_in(conn, count)
            except IntegrityError:
                continue
        raise reasons.NUMBER_CONTENTION.error()

    def open_batch(self) -> IssueBatch:
        """One transaction for a whole bulk-enrolment batch (一斉付番), handed out part by part.

        Each part's pairs are returned before the commit, so the caller must
        not commit anything built on them before :meth:`IssueBatch.commit`
        returns. A batch costs one durable commit instead of one per part: on
        a random-keyed index every commit rewrites nearly every page it
        touched, so fewer, larger commits are what keep the cost per person
        flat as the store grows.
        """
        return IssueBatch(self, self.engine.connect())

    def checkpoint(self) -> None:
        """After a bulk job: fold what its batches left in the WAL into the store."""
        checkpoint(self.engine)

    def _issue_persons_in(self, conn: Connection, count: int) -> list[tuple[str, str]]:
        if conn.dialect.name == "sqlite":
            return self._issue_persons_optimistic(conn, count)
        codes = self._fresh_codes(conn, count)
        return list(zip(codes, self._assign_in(conn, codes, fresh_codes=True), strict=True))

    def _issue_persons_optimistic(self, conn: Connection, count: int) -> list[tuple[str, str]]:
        """Fresh people on SQLite: insert first, and let the unique indexes find the rare clash.

        A fresh code is already numbered, or its number already issued, about
        once in 10⁵ draws at a million people, so rather than look every code
        and number up before inserting, the rows go in with ``INSERT OR IGNORE``
        and a part is looked at again only when fewer rows landed than were
        sent. The rows that landed are exactly those past the table's last
        rowid before the insert (this transaction holds the store's write
        lock); a code whose row did not land is given up, and the person gets
        a fresh one.
        """
        derive = self._derive(conn)
        issued = converter(conn, numbers, "issued_at")(datetime.now(UTC))
        number_of: dict[str, str] = {}
        order: list[str] = []  # codes in the order drawn (see _fresh_codes)
        while len(order) < count:
            drawn = [c for c in dict.fromkeys(_draw_codes(count - len(order))) if c not in number_of]
            rows = sorted((derive.candidate(c), c, "active", issued) for c in drawn)
            before = conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM numbers").scalar_one()
            landed = bulk_insert(
                conn,
                numbers,
                ("number", "juminhyo_code", "status", "issued_at"),
                rows,
                converted=True,
                or_ignore=True,
            )
            if landed == len(rows):
                number_of.update((c, n) for n, c, _s, _i in rows)
            else:
                number_of.update(
                    (str(c), str(n))
                    for n, c in conn.exec_driver_sql(
                        "SELECT number, juminhyo_code FROM numbers WHERE rowid > ?", (before,)
                    )
                )
            order += [c for c in drawn if c in number_of]
        return [(c, number_of[c]) for c in order]

    @staticmethod
    def _fresh_codes(conn: Connection, count: int) -> list[str]:
        # Kept in the order drawn: the caller hands them out in this order, and
        # any sorting here would tie a person's code to their place in the batch.
        codes: dict[str, None] = {}
        while len(codes) < count:
            batch = [code for code in _draw_codes(count - len(codes)) if code not in codes]
            # Every code ever numbered has exactly one active number (a change
            # retires and issues in one transaction), so the active index is
            # the register of every code J-LIS ever handed out.
            taken = {
                str(c)
                for (c,) in select_in(
                    conn, numbers, ("juminhyo_code",), "juminhyo_code", batch, where="status = 'active'"
                )
            }
            codes.update((c, None) for c in batch if c not in taken)
        return list(codes)[:count]

    def _assign_in(self, conn: Connection, codes: Sequence[str], *, fresh_codes: bool = False) -> list[str]:
        derive = self._derive(conn)
        # Idempotent: a code that already has an active number gets it back,
        # so a municipality retrying after a failure never gets a second one.
        existing: dict[str, str] = (
            {}
            if fresh_codes
            else {
                str(c): str(n)
                for c, n in select_in(
                    conn, numbers, ("juminhyo_code", "number"), "juminhyo_code", codes, where="status = 'active'"
                )
            }
        )
        fresh = [code for code in codes if code not in existing]
        attempts = [0] * len(fresh)
        candidates = [derive.candidate(code) for code in fresh]
        while True:
            clash = self._clashes(conn, candidates)
            if not clash:
                break
            for i in clash:
                attempts[i] += 1
                if attempts[i] >= MAX_ATTEMPTS:
                    raise RuntimeError("number space exhausted for one code")
                candidates[i] = derive.candidate(fresh[i], attempts[i])
        if fresh:
            now = datetime.now(UTC)
            # Inserted in number order: the rows land in one pass along the
            # primary-key index instead of at random places in it.
            issued = converter(conn, numbers, "issued_at")(now)
            bulk_insert(
                conn,
                numbers,
                ("number", "juminhyo_code", "status", "issued_at"),
                sorted((n, c, "active", issued) for n, c in zip(candidates, fresh, strict=True)),
                converted=True,
            )
        existing.update(zip(fresh, candidates, strict=True))
        return [existing[code] for code in codes]

    def _clashes(self, conn: Connection, candidates: list[str]) -> list[int]:
        """Indexes of candidates equal to an issued number or to an earlier candidate."""
        position: dict[str, int] = {}
        clash: list[int] = []
        for i, n in enumerate(candidates):
            if n in position:
                clash.append(i)
            else:
                position[n] = i
        for (n,) in select_in(conn, numbers, ("number",), "number", list(position)):
            clash.append(position[n])
        return clash

    # -- look-ups ----------------------------------------------------------
    def number_for(self, juminhyo_code: str) -> str:
        """The active number of a 住民票コード (for the notice and the card)."""
        with self.engine.connect() as conn:
            number = conn.execute(
                select(numbers.c.number).where(numbers.c.juminhyo_code == juminhyo_code, numbers.c.status == "active")
            ).scalar()
        if number is None:
            raise reasons.NUMBER_NOT_ASSIGNED.error()
        return str(number)

    def numbers_of(self, codes: Sequence[str]) -> dict[str, str]:
        """The active number of each of ``codes`` J-LIS has numbered; a code it never numbered is left out.

        Nothing is issued: a move-in keeps a number, it never makes one.
        """
        with self.engine.connect() as conn:
            rows = select_in(
                conn, numbers, ("juminhyo_code", "number"), "juminhyo_code", codes, where="status = 'active'"
            )
        return {str(c): str(n) for c, n in rows}

    def code_for(self, number: str) -> str:
        """The 住民票コード behind an active number (J-LIS only; 取得番号 flow)."""
        validate_individual_number(number)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(numbers.c.juminhyo_code, numbers.c.status).where(numbers.c.number == number)
            ).first()
        if row is None:
            raise reasons.NUMBER_UNKNOWN.error()
        if row.status != "active":
            raise reasons.NUMBER_RETIRED.error()
        return str(row.juminhyo_code)

    def is_issued(self, number: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(numbers.c.number).where(numbers.c.number == number)).first() is not None

    def history(self, juminhyo_code: str) -> list[NumberRecord]:
        """Every number a 住民票コード has had, oldest first."""
        rows: list[Row[Any]] = []
        with self.engine.connect() as conn:
            # One query per status, so each uses its own partial index.
            for status in ("retired", "active"):
                rows += conn.execute(
                    select(numbers).where(numbers.c.juminhyo_code == juminhyo_code, numbers.c.status == status)
                ).all()
        rows.sort(key=lambda r: (r.issued_at, r.status))
        return [NumberRecord(r.number, r.status, r.issued_at, r.retired_at, r.retire_reason) for r in rows]

    # -- change (番号法 §7(2)) ----------------------------------------------
    def change(self, juminhyo_code: str, *, reason: str, designated_by: str) -> str:
        """Designate a new number; the old one is retired for ever."""
        validate_juminhyo_code(juminhyo_code)
        with self.engine.begin() as conn:
            result = conn.execute(
                update(numbers)
                .where(numbers.c.juminhyo_code == juminhyo_code, numbers.c.status == "active")
                .values(
                    status="retired",
                    retired_at=datetime.now(UTC),
                    retire_reason=reason[:200],
                    designated_by=designated_by[:100],
                )
            )
            if result.rowcount != 1:
                raise reasons.NUMBER_NOT_ASSIGNED.error()
            return self._assign_in(conn, [juminhyo_code])[0]

    # -- 取得番号 flow: link ids for the hub ----------------------------------
    def link_id_for(self, number: str) -> str:
        """The opaque link id (連携用符号) of the person behind an active number.

        An agency that holds a number asks J-LIS; J-LIS passes only this id to
        the hub, which turns it into the agency's own code (機関別符号). It is
        an HMAC of the 住民票コード under a key no other party holds, so it
        reveals neither the number nor the code, and it survives a number change.
        """
        juminhyo_code = self.code_for(number)
        return hmac.digest(self._link_secret(), f"kojin-link|{juminhyo_code}".encode(), "sha256").hex()

    def link_id_for_code(self, juminhyo_code: str) -> str:
        """The link id of the person behind an active 住民票コード.

        Serial linkage names a person to a public relying party by 住民票コード
        (the eligibility service, the portal); J-LIS turns that into the same
        opaque id :meth:`link_id_for` gives, so they reach the hub without a number.
        """
        validate_juminhyo_code(juminhyo_code)
        with self.engine.connect() as conn:
            active = conn.execute(
                select(numbers.c.juminhyo_code).where(
                    numbers.c.juminhyo_code == juminhyo_code, numbers.c.status == "active"
                )
            ).first()
        if active is None:
            raise reasons.NUMBER_NOT_ASSIGNED.error()
        return hmac.digest(self._link_secret(), f"kojin-link|{juminhyo_code}".encode(), "sha256").hex()

    def codes_behind(self, link_ids: Collection[str], *, batch: int = 20_000) -> dict[str, str]:
        """The 住民票コード behind each of ``link_ids`` that has an active number (J-LIS's integrity audit).

        A link id is one-way, so J-LIS reads it back by deriving the id of every
        active code until each asked for is found; the number takes no part.
        """
        wanted = set(link_ids)
        found: dict[str, str] = {}
        secret = self._link_secret()
        last = ""
        while wanted:
            with self.engine.connect() as conn:
                codes = (
                    conn.execute(
                        select(numbers.c.juminhyo_code)
                        .where(numbers.c.status == "active", numbers.c.juminhyo_code > last)
                        .order_by(numbers.c.juminhyo_code)
                        .limit(batch)
                    )
                    .scalars()
                    .all()
                )
            if not codes:
                break
            for code in codes:
                link_id = hmac.digest(secret, f"kojin-link|{code}".encode(), "sha256").hex()
                if link_id in wanted:
                    found[link_id] = code
                    wanted.discard(link_id)
            last = codes[-1]
        return found

    def link_ids_for_codes(self, juminhyo_codes: Sequence[str]) -> list[str]:
        """:meth:`link_id_for_code` for an agency obtaining its codes, each link remembered.

        Remembering is what lets :meth:`last_four_for_link` answer later: the
        link id itself is one-way.
        """
        ids = [self.link_id_for_code(code) for code in juminhyo_codes]
        pairs = dict(zip(ids, juminhyo_codes, strict=True))
        now = datetime.now(UTC)
        columns = ("link_id", "juminhyo_code", "created_at")
        try:
            with self.engine.begin() as conn:
                known = {str(r[0]) for r in select_in(conn, link_ids, ("link_id",), "link_id", list(pairs))}
                bulk_insert(conn, link_ids, columns, [(i, c, now) for i, c in pairs.items() if i not in known])
        except IntegrityError:
            # Another enrolment remembered some of them first: the rest one at a time.
            for lid, code in pairs.items():
                with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
                    bulk_insert(conn, link_ids, columns, [(lid, code, now)])
        return ids

    def last_four_for_link(self, link_id: str) -> str:
        """The last four digits of the active number of the person behind a remembered link id.

        The narrow answer an insurer gets for the 資格情報のお知らせ (see
        :class:`kojin.eligibility.links.JlisHubLinks`); the number stays here.
        """
        with self.engine.connect() as conn:
            code = conn.execute(select(link_ids.c.juminhyo_code).where(link_ids.c.link_id == link_id)).scalar()
        if code is None:
            raise reasons.LINK_UNKNOWN.error()
        return self.number_for(str(code))[-4:]

    def hub_channel_key(self) -> bytes:
        """The key J-LIS and the hub share to authenticate link-id messages (set at start-up)."""
        return hmac.digest(self._link_secret(), b"kojin-jlis-hub-channel/1", "sha256")

    def _link_secret(self) -> bytes:
        if self._link_key is None:
            self._link_key = party_secret(self.engine, link_keys)
        return self._link_key

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(numbers)).scalar_one())


def _draw_codes(count: int) -> list[str]:
    """``count`` random 住民票コード (10 digits from the OS CSPRNG and a check digit), maybe repeating."""
    pool = secrets.token_bytes(8 * count)
    return [juminhyo_code_of(int.from_bytes(pool[i : i + 8], "big") % 10**10) for i in range(0, len(pool), 8)]


class IssueBatch:
    """A bulk-enrolment batch at J-LIS: parts handed out inside one transaction.

    Obtained from :meth:`NumberingService.open_batch`; :meth:`persons` may be
    called many times, then exactly one of :meth:`commit` or :meth:`rollback`.
    Also a context manager that commits on success and rolls back on error.
    """

    def __init__(self, service: NumberingService, conn: Connection) -> None:
        self._service = service
        self._conn = conn
        bulk_checkpoints(conn, True)
        self._transaction = conn.begin()

    def persons(self, count: int) -> list[tuple[str, str]]:
        """``count`` fresh (住民票コード, number) pairs, not yet committed."""
        return self._service._issue_persons_in(self._conn, count) if count > 0 else []

    def commit(self) -> None:
        try:
            self._transaction.commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            self._transaction.rollback()
        finally:
            self._release()

    def _release(self) -> None:
        try:
            bulk_checkpoints(self._conn, False)
        finally:
            self._conn.close()

    def __enter__(self) -> IssueBatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.rollback()
