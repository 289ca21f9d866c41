"""A medical insurer (医療保険者) as a party: its members, 資格確認書, and copies it registers.

* :class:`InsurerService` — one insurer's own store: members (被保険者・被扶養者)
  under its local id and its agency code, the 資格確認書 it issued; it
  registers qualification copies with the eligibility service under its code,
  and makes the 資格情報のお知らせ with the last four digits of the number
  J-LIS links to the member's code (asked for each notice, never stored).
* :class:`InsurerDirectory` — the insurers hosted in this process; it is also
  what the eligibility service tells when a card registration changes, so the
  insurer can send a 資格確認書 at once.

An insurer obtains its code for a new member through J-LIS (取得番号): in kojin
the ``obtain_codes`` callable given here does that, and neither the number nor
the 住民票コード reaches the insurer's store.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from kojin.core.bulk import bulk_insert
from kojin.core.db import PARTIES, Database, register_party
from kojin.eligibility import reasons
from kojin.eligibility.certificate import CertificateView, render_certificate
from kojin.eligibility.domain import (
    CardClass,
    ElderlyInfo,
    Insurer,
    InsurerKind,
    LossReason,
    Membership,
    Qualification,
    certificate_validity,
)
from kojin.eligibility.insurer.store import certificates, counters, members
from kojin.eligibility.notice import NoticeView, render_notice
from kojin.eligibility.service import EligibilityService

ObtainCodes = Callable[[str, Sequence[str]], list[str]]
"""(insurer_id, 住民票コード…) → the insurer's agency codes, through J-LIS and the hub."""

NumberTail = Callable[[str, str, str], str]
"""(insurer_id, insurer name, member code) → the last four digits of the linked number, from J-LIS (logged)."""


def insurer_party(insurer_id: str) -> str:
    return f"insurer_{insurer_id}"


@dataclass(frozen=True, slots=True)
class MemberDraft:
    """A new member as the insurer's application form gives it.

    ``juminhyo_code`` is used once, to obtain the code through J-LIS, and is
    not kept. ``insured_index`` points at the member in the same batch whose
    card number this one shares (the 本人 of a dependant, the 世帯主 of a
    national-health-insurance household), or is None for a number of its own;
    ``family`` marks a dependant (家族・被扶養者).
    """

    juminhyo_code: str
    name: str
    kana: str
    sex: str
    birth_date: date
    address: str
    postal_code: str
    qualified_on: date
    ratio: int
    symbol: str = ""
    insured_index: int | None = None
    family: bool = False
    elderly: ElderlyInfo | None = None
    card_registered: bool = False


@dataclass(frozen=True, slots=True)
class Certificate:
    """A 資格確認書 issued to a member."""

    certificate_id: str
    local_id: str
    issued_on: date
    valid_until: date
    reason: str


_MEMBER_COLUMNS = tuple(c.name for c in members.columns)


@dataclass(frozen=True, slots=True)
class _MemberNumber:
    """A new member's local id and number on the insurer's card (記号・番号・枝番), and whose number it shares."""

    local_id: str
    number: str
    branch: str
    insured_local_id: str
    insured_name: str


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


class InsurerService:
    """One insurer's own store and what it does with it."""

    def __init__(
        self,
        insurer: Insurer,
        engine: Engine,
        eligibility: EligibilityService,
        obtain_codes: ObtainCodes,
        number_tail: NumberTail | None = None,
    ) -> None:
        self.insurer = insurer
        self.engine = engine
        self._eligibility = eligibility
        self._obtain_codes = obtain_codes
        self._number_tail = number_tail
        self._lock = threading.Lock()

    # -- numbering cards -------------------------------------------------------------
    def _next(self, conn: Any, name: str, count: int = 1) -> int:
        current = conn.execute(select(counters.c.value).where(counters.c.name == name)).scalar()
        if current is None:
            conn.execute(insert(counters).values(name=name, value=count))
            return 1
        conn.execute(update(counters).where(counters.c.name == name).values(value=current + count))
        return int(current) + 1

    def _number_width(self) -> int:
        return 8 if self.insurer.kind is InsurerKind.LATE_ELDERLY else 0

    # -- enrolment -----------------------------------------------------------------------
    def enrol(self, drafts: Sequence[MemberDraft], *, today: date, publish: bool = True) -> list[Membership]:
        """Enter new members in one transaction; those without a registered card get a 資格確認書.

        Card numbers: a 本人 gets the next number under the symbol and branch
        ``00``; a dependant shares the 本人's number with branches ``01``, ``02`` …
        The late-elderly system has no symbol or branch, only an 8-digit number.
        """
        if not drafts:
            return []
        codes = self._obtain_codes(self.insurer.insurer_id, [d.juminhyo_code for d in drafts])
        now = datetime.now(UTC)
        with self._lock, self.engine.begin() as conn:
            numbers = self._number(conn, drafts)
            rows = [self._member_row(d, n, code, now) for d, n, code in zip(drafts, numbers, codes, strict=True)]
            cert_rows = [
                self._certificate_row(n.local_id, today, now)
                for d, n in zip(drafts, numbers, strict=True)
                if not d.card_registered
            ]
            bulk_insert(conn, members, _MEMBER_COLUMNS, rows)
            bulk_insert(
                conn,
                certificates,
                ("certificate_id", "local_id", "issued_on", "valid_until", "reason", "active", "created_at"),
                cert_rows,
            )
        memberships = [Membership(self.insurer.insurer_id, c) for c in codes]
        if publish:
            self.publish([n.local_id for n in numbers], fresh=True)
            registered = [m for m, d in zip(memberships, drafts, strict=True) if d.card_registered]
            self._eligibility.register_many(registered, by="seed")
        return memberships

    def _number(self, conn: Any, drafts: Sequence[MemberDraft]) -> list[_MemberNumber]:
        """A local id and a card number for each draft, in order; a dependant's number is its insured's."""
        elderly_system = self.insurer.kind is InsurerKind.LATE_ELDERLY
        first_local = self._next(conn, "local_id", len(drafts))
        numbers: list[_MemberNumber] = []
        branches: dict[int, int] = {}
        for i, d in enumerate(drafts):
            local_id = f"M{first_local + i:09d}"
            if d.insured_index is None:
                seq = self._next(conn, f"number:{d.symbol}")
                number = f"{10000000 + seq:08d}" if elderly_system else str(seq)
                numbers.append(_MemberNumber(local_id, number, "" if elderly_system else "00", local_id, d.name))
            else:
                insured = numbers[d.insured_index]
                branches[d.insured_index] = branches.get(d.insured_index, 0) + 1
                branch = f"{branches[d.insured_index]:02d}"
                numbers.append(
                    _MemberNumber(local_id, insured.number, branch, insured.local_id, drafts[d.insured_index].name)
                )
        return numbers

    def _member_row(self, d: MemberDraft, n: _MemberNumber, code: str, now: datetime) -> tuple[Any, ...]:
        """The ``members`` row of a new member, in the table's column order."""
        return (
            n.local_id,
            code,
            "" if self.insurer.kind is InsurerKind.LATE_ELDERLY else d.symbol,
            n.number,
            n.branch,
            d.family,
            n.insured_local_id,
            n.insured_name,
            d.name,
            d.kana,
            d.sex,
            d.birth_date,
            d.address,
            d.postal_code,
            d.qualified_on,
            None,
            None,
            d.ratio,
            json.dumps(d.elderly.as_json()) if d.elderly else None,
            now,
        )

    def _certificate_row(self, local_id: str, today: date, now: datetime) -> tuple[Any, ...]:
        """A 資格確認書 issued today because the member has no card registered for insurance."""
        return (
            self._certificate_id(),
            local_id,
            today,
            certificate_validity(self.insurer.kind, today),
            "no_card",
            True,
            now,
        )

    @staticmethod
    def _certificate_id() -> str:
        return f"K{secrets.token_hex(8).upper()}"

    # -- reading ---------------------------------------------------------------------------
    def _members(self, local_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        query = select(members)
        if local_ids is not None:
            query = query.where(members.c.local_id.in_(list(local_ids)))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(members.c.local_id))]

    def members(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The first members by local id (the counter's list)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(members).order_by(members.c.local_id).limit(limit))
            return [dict(r._mapping) for r in rows]

    def iter_members(self, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Every member with their code and the four basic items as enrolled (for the integrity audit)."""
        names = ("local_id", "member_code", "name", "kana", "sex", "birth_date", "postal_code", "address")
        columns = [members.c[name] for name in names]
        last = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(*columns).where(members.c.local_id > last).order_by(members.c.local_id).limit(batch)
                ).all()
            if not rows:
                return
            yield from (dict(r._mapping) for r in rows)
            last = str(rows[-1].local_id)

    def member(self, local_id: str) -> dict[str, Any]:
        found = self._members([local_id])
        if not found:
            raise reasons.INSURER_UNKNOWN_MEMBER.error()
        return found[0]

    def local_id_of(self, member_code: str) -> str:
        with self.engine.connect() as conn:
            found = conn.execute(select(members.c.local_id).where(members.c.member_code == member_code)).scalar()
        if found is None:
            raise reasons.INSURER_UNKNOWN_MEMBER.error(field="member_code")
        return str(found)

    def find_by_card(self, symbol: str, number: str, branch: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(members.c.local_id).where(
                    members.c.symbol == symbol,
                    members.c.number == number,
                    members.c.branch == branch,
                )
            ).scalar()
        return None if found is None else str(found)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(members)).scalar_one())

    def current_certificate(self, local_id: str) -> Certificate | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(certificates)
                .where(certificates.c.local_id == local_id, certificates.c.active.is_(True))
                .order_by(certificates.c.issued_on.desc(), certificates.c.created_at.desc())
            ).first()
        if row is None:
            return None
        issued, until = _day(row.issued_on), _day(row.valid_until)
        assert issued is not None and until is not None
        return Certificate(row.certificate_id, row.local_id, issued, until, row.reason)

    # -- copies for the eligibility service -----------------------------------------------------
    def _qualification(self, m: dict[str, Any], cert: Certificate | None) -> Qualification:
        elderly_system = self.insurer.kind is InsurerKind.LATE_ELDERLY
        birth, qualified = _day(m["birth_date"]), _day(m["qualified_on"])
        assert birth is not None and qualified is not None
        return Qualification(
            insurer_id=self.insurer.insurer_id,
            member_code=m["member_code"],
            insurer_number=self.insurer.insurer_number,
            symbol=m["symbol"],
            number=m["number"],
            branch=m["branch"],
            family=bool(m["family"]),
            insured_name=m["insured_name"],
            name=m["name"],
            kana=m["kana"],
            sex=m["sex"],
            birth_date=birth,
            address=m["address"],
            postal_code=m["postal_code"],
            qualified_on=qualified,
            ratio=int(m["ratio"]),
            card_class=CardClass.LATE_ELDERLY if elderly_system else CardClass.INSURED,
            lost_on=_day(m["lost_on"]),
            loss_reason=LossReason(m["loss_reason"]) if m["loss_reason"] else None,
            elderly=ElderlyInfo.from_json(json.loads(m["elderly"])) if m["elderly"] else None,
            certificate_from=cert.issued_on if cert else None,
            certificate_until=cert.valid_until if cert else None,
        )

    def publish(self, local_ids: Sequence[str] | None = None, *, fresh: bool = False) -> int:
        """Register the members' qualification copies with the eligibility service (副本登録)."""
        rows = self._members(local_ids)
        with self.engine.connect() as conn:
            certs: dict[str, Certificate] = {}
            for r in conn.execute(
                select(certificates).where(certificates.c.active.is_(True)).order_by(certificates.c.issued_on)
            ):
                issued, until = _day(r.issued_on), _day(r.valid_until)
                assert issued is not None and until is not None
                certs[r.local_id] = Certificate(r.certificate_id, r.local_id, issued, until, r.reason)
        quals = [self._qualification(m, certs.get(m["local_id"])) for m in rows]
        return self._eligibility.register_qualifications(quals, fresh=fresh)

    # -- 資格確認書 --------------------------------------------------------------------------------
    def issue_certificate(self, local_id: str, *, reason: str, today: date) -> Certificate:
        """Issue a 資格確認書 (the earlier one, if any, stops being the one in force)."""
        m = self.member(local_id)
        lost = _day(m["lost_on"])
        if lost is not None and lost <= today:
            raise reasons.INSURER_QUALIFICATION_LOST.error()
        cert = Certificate(
            self._certificate_id(), local_id, today, certificate_validity(self.insurer.kind, today, lost), reason
        )
        with self.engine.begin() as conn:
            conn.execute(update(certificates).where(certificates.c.local_id == local_id).values(active=False))
            conn.execute(
                insert(certificates).values(
                    certificate_id=cert.certificate_id,
                    local_id=local_id,
                    issued_on=cert.issued_on,
                    valid_until=cert.valid_until,
                    reason=reason,
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )
        self.publish([local_id])
        return cert

    def certificate_view(self, local_id: str) -> CertificateView:
        m = self.member(local_id)
        cert = self.current_certificate(local_id)
        if cert is None:
            raise reasons.INSURER_NO_CERTIFICATE.error(field="local_id")
        birth, qualified = _day(m["birth_date"]), _day(m["qualified_on"])
        assert birth is not None and qualified is not None
        return CertificateView(
            cert.certificate_id,
            self.insurer.insurer_number,
            self.insurer.name,
            m["symbol"],
            m["number"],
            m["branch"],
            bool(m["family"]),
            m["insured_name"],
            m["name"],
            m["kana"],
            m["sex"],
            birth,
            m["address"],
            qualified,
            int(m["ratio"]),
            cert.issued_on,
            cert.valid_until,
            cert.reason,
        )

    def certificate_pdf(self, local_id: str) -> bytes:
        return render_certificate(self.certificate_view(local_id))

    # -- 資格情報のお知らせ ---------------------------------------------------------------------
    def notice_view(self, local_id: str, *, today: date) -> NoticeView:
        """The member's 資格情報のお知らせ; the number's last four digits are asked of J-LIS now, not kept."""
        m = self.member(local_id)
        lost = _day(m["lost_on"])
        if lost is not None and lost <= today:
            raise reasons.INSURER_QUALIFICATION_LOST.error()
        if self._number_tail is None:
            raise reasons.INSURER_NO_JLIS.error()
        birth, qualified = _day(m["birth_date"]), _day(m["qualified_on"])
        assert birth is not None and qualified is not None
        tail = self._number_tail(self.insurer.insurer_id, self.insurer.name, m["member_code"])
        return NoticeView(
            insurer_number=self.insurer.insurer_number,
            insurer_name=self.insurer.name,
            symbol=m["symbol"],
            number=m["number"],
            branch=m["branch"],
            family=bool(m["family"]),
            name=m["name"],
            kana=m["kana"],
            birth_date=birth,
            qualified_on=qualified,
            ratio=int(m["ratio"]),
            issued_on=today,
            number_tail=tail,
        )

    def notice_pdf(self, local_id: str, *, today: date) -> bytes:
        return render_notice(self.notice_view(local_id, today=today))

    # -- changes ---------------------------------------------------------------------------------------
    def lose_qualification(self, local_id: str, *, lost_on: date, reason: LossReason) -> None:
        """資格喪失: the copy says so from ``lost_on``; any 資格確認書 ends the day before."""
        self.member(local_id)
        with self.engine.begin() as conn:
            conn.execute(
                update(members)
                .where(members.c.local_id == local_id)
                .values(
                    lost_on=lost_on,
                    loss_reason=reason.value,
                    updated_at=datetime.now(UTC),
                )
            )
            conn.execute(
                update(certificates)
                .where(
                    certificates.c.local_id == local_id,
                    certificates.c.valid_until >= lost_on,
                )
                .values(valid_until=lost_on - timedelta(days=1))
            )
        self.publish([local_id])

    def cancel_registration(self, local_id: str) -> None:
        """解除 at the insurer's counter: the eligibility service is told, a 資格確認書 follows."""
        m = self.member(local_id)
        self._eligibility.set_registration(
            [Membership(self.insurer.insurer_id, m["member_code"])], registered=False, by="insurer"
        )

    def registration_changed(self, member_code: str, registered: bool, today: date) -> None:
        """Told by the eligibility service: a cancelled card gets a 資格確認書 at once."""
        if registered:
            return
        local_id = self.local_id_of(member_code)
        current = self.current_certificate(local_id)
        if current is not None and current.valid_until >= today:
            return  # the one in force still serves
        self.issue_certificate(local_id, reason="cancelled", today=today)


class InsurerDirectory:
    """The insurers hosted in this process, each with a store of its own."""

    def __init__(
        self,
        db: Database,
        eligibility: EligibilityService,
        obtain_codes: ObtainCodes,
        number_tail: NumberTail | None = None,
    ) -> None:
        self._db = db
        self._eligibility = eligibility
        self._obtain_codes = obtain_codes
        self._number_tail = number_tail
        self._services: dict[str, InsurerService] = {}
        self._lock = threading.Lock()
        eligibility.set_listener(self)

    def ensure(self, insurer: Insurer) -> InsurerService:
        """The insurer's service: its store migrated, its entry at the eligibility service."""
        party = insurer_party(insurer.insurer_id)
        if party not in PARTIES:
            register_party(party, "kojin.eligibility.insurer")
        self._db.migrate(party)
        self._eligibility.register_insurer(insurer)
        with self._lock:
            self._services.pop(insurer.insurer_id, None)
        return self.get(insurer.insurer_id)

    def get(self, insurer_id: str) -> InsurerService:
        with self._lock:
            service = self._services.get(insurer_id)
            if service is None:
                insurer = self._eligibility.insurer(insurer_id)
                party = insurer_party(insurer_id)
                if party not in PARTIES:
                    register_party(party, "kojin.eligibility.insurer")
                service = InsurerService(
                    insurer, self._db.engine(party), self._eligibility, self._obtain_codes, self._number_tail
                )
                self._services[insurer_id] = service
            return service

    def ids(self) -> list[str]:
        return list(self._eligibility.insurers())

    def migrate_known(self) -> None:
        for insurer_id in self.ids():
            party = insurer_party(insurer_id)
            if party not in PARTIES:
                register_party(party, "kojin.eligibility.insurer")
            self._db.migrate(party)

    def registration_changed(self, membership: Membership, registered: bool, today: date) -> None:
        self.get(membership.insurer_id).registration_changed(membership.member_code, registered, today)
