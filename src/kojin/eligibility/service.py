"""The eligibility service (オンライン資格確認等システム; 支払基金・国保中央会).

It answers clinics by the card's certificate serial and never holds a number:

1. The clinic's terminal sends the card's signed challenge; card
   authentication (:mod:`kojin.auth`) checks it and J-LIS's serial linkage
   names the person to this public relying party.
2. J-LIS turns that into its opaque link id, and the hub says which of the
   known insurers hold a code (機関別符号) for that person — read only, nothing
   is issued on the way.
3. The service answers from the copies the insurers registered under those
   codes, and opens a visit (受診) that consent and views hang on.

Consents and views are kept under the service's own pseudonym of the person
(an HMAC of the link id under a key only this service holds), so neither a
number, a 住民票コード nor a link id is ever written to its store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kojin.core.bulk import bulk_insert
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated
from kojin.core.group_commit import GroupCommit, ThreadReaders
from kojin.core.japan import JST
from kojin.core.keys import party_secret
from kojin.eligibility.domain import (
    CardClass,
    CardIdentifiers,
    Clinic,
    ElderlyInfo,
    Insurer,
    InsurerKind,
    LossReason,
    Membership,
    Qualification,
    answer_fields,
    certificate_expired,
    certificate_not_issued,
    certificate_unknown,
    no_qualification,
    not_registered,
    pick_current,
    validate_clinic_id,
)
from kojin.eligibility.store import (
    checkups,
    clinics,
    insurers,
    medications,
    qualifications,
    registrations,
    service_keys,
    visits,
)

VISIT_HOURS = 24
"""A visit, and any consent given at it, ends this long after the card check."""
CONSENT_WINDOW_S = 300
"""Consent is taken on the terminal right after the card check, or not at all."""


class PersonDirectory(Protocol):
    """What J-LIS and the hub do for the eligibility service (wired in :mod:`kojin.app`)."""

    def link_id(self, juminhyo_code: str) -> str:
        """J-LIS: the opaque link id of the person serial linkage named."""
        ...

    def find_code(self, agency_id: str, link_id: str) -> str | None:
        """The hub: the agency's code for that person, if one was ever issued (issues none)."""
        ...


class RegistrationListener(Protocol):
    """Told when a member's card registration changes (the insurer issues a 資格確認書)."""

    def registration_changed(self, membership: Membership, registered: bool, today: date) -> None: ...


@dataclass(frozen=True, slots=True)
class Patient:
    """A person as the eligibility service knows them: its pseudonym and their memberships."""

    person_key: str
    memberships: tuple[Membership, ...]


@dataclass(frozen=True, slots=True)
class Visit:
    """A visit (受診) opened by a card check at one clinic."""

    visit_id: str
    clinic_id: str
    person_key: str
    memberships: tuple[Membership, ...]
    opened_at: datetime
    consent_until: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CardCheck:
    """The outcome of a card check: the answer, the visit it opened, the patient."""

    answer: dict[str, Any]
    visit: Visit
    patient: Patient
    registered_now: bool


@dataclass(frozen=True, slots=True)
class Medication:
    """One dispensing (薬剤情報) from a claim."""

    insurer_id: str
    member_code: str
    dispensed_on: date
    institution: str
    drug_code: str
    drug_name: str
    dose: str
    usage: str
    days: int

    def as_record(self) -> dict[str, Any]:
        return {
            "dispensed_on": self.dispensed_on.isoformat(),
            "institution": self.institution,
            "drug_code": self.drug_code,
            "drug_name": self.drug_name,
            "dose": self.dose,
            "usage": self.usage,
            "days": self.days,
        }


@dataclass(frozen=True, slots=True)
class Checkup:
    """One check-up (特定健診) with its measured items."""

    insurer_id: str
    member_code: str
    examined_on: date
    results: dict[str, Any]

    def as_record(self) -> dict[str, Any]:
        return {"examined_on": self.examined_on.isoformat(), "results": self.results}


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _day(value: date | str | None) -> date | None:
    if value is None:
        return None
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _qual_row(q: Qualification, now: datetime) -> dict[str, Any]:
    return {
        "insurer_id": q.insurer_id,
        "member_code": q.member_code,
        "insurer_number": q.insurer_number,
        "symbol": q.symbol,
        "number": q.number,
        "branch": q.branch,
        "family": q.family,
        "insured_name": q.insured_name,
        "name": q.name,
        "kana": q.kana,
        "sex": q.sex,
        "birth_date": q.birth_date,
        "address": q.address,
        "postal_code": q.postal_code,
        "qualified_on": q.qualified_on,
        "lost_on": q.lost_on,
        "loss_reason": q.loss_reason.value if q.loss_reason else None,
        "ratio": q.ratio,
        "card_class": q.card_class.value,
        "elderly": json.dumps(q.elderly.as_json()) if q.elderly else None,
        "certificate_from": q.certificate_from,
        "certificate_until": q.certificate_until,
        "updated_at": now,
    }


QUAL_COLUMNS = tuple(c.name for c in qualifications.columns)
_QUAL_SELECT = f"SELECT {', '.join(QUAL_COLUMNS)} FROM qualifications"


def _qual_from(row: Sequence[Any]) -> Qualification:
    r = dict(zip(QUAL_COLUMNS, row, strict=True))
    birth = _day(r["birth_date"])
    qualified = _day(r["qualified_on"])
    assert birth is not None and qualified is not None
    return Qualification(
        insurer_id=r["insurer_id"],
        member_code=r["member_code"],
        insurer_number=r["insurer_number"],
        symbol=r["symbol"],
        number=r["number"],
        branch=r["branch"],
        family=bool(r["family"]),
        insured_name=r["insured_name"],
        name=r["name"],
        kana=r["kana"],
        sex=r["sex"],
        birth_date=birth,
        address=r["address"],
        postal_code=r["postal_code"],
        qualified_on=qualified,
        ratio=int(r["ratio"]),
        card_class=CardClass(r["card_class"]),
        lost_on=_day(r["lost_on"]),
        loss_reason=LossReason(r["loss_reason"]) if r["loss_reason"] else None,
        elderly=ElderlyInfo.from_json(json.loads(r["elderly"])) if r["elderly"] else None,
        certificate_from=_day(r["certificate_from"]),
        certificate_until=_day(r["certificate_until"]),
    )


def _visit_from(row: Any) -> Visit:
    return Visit(
        row.visit_id,
        row.clinic_id,
        row.person_key,
        tuple(Membership(a, b) for a, b in json.loads(row.memberships)),
        _utc(row.opened_at),
        _utc(row.consent_until),
        _utc(row.expires_at),
    )


class EligibilityService:
    """The eligibility service's use cases, over its own store."""

    def __init__(
        self,
        engine: Engine,
        directory: PersonDirectory,
        *,
        clock: Callable[[], float] = time.time,
        patient_ttl_s: float = 60.0,
    ) -> None:
        self.engine = engine
        self._directory = directory
        self._clock = clock
        self._key: bytes | None = None
        self._writer = GroupCommit(engine, name="kojin-eligibility-visits")
        self._readers = ThreadReaders(engine)
        self._insurers: dict[str, Insurer] | None = None
        self._clinics: dict[str, tuple[Clinic, str]] = {}
        # A person's memberships change rarely (joining or leaving an insurer);
        # a minute's cache saves J-LIS and the hub a look-up on every check.
        self._patient_ttl_s = patient_ttl_s
        self._patients: dict[str, tuple[Patient, float]] = {}
        self._listener: RegistrationListener | None = None
        self._lock = threading.Lock()

    # -- time ------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def today(self) -> date:
        return datetime.fromtimestamp(self._clock(), JST).date()

    # -- keys --------------------------------------------------------------------------
    def ensure_key(self) -> None:
        self._secret()

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = party_secret(self.engine, service_keys, created_at=self.now())
        return self._key

    def set_listener(self, listener: RegistrationListener) -> None:
        self._listener = listener

    # -- insurers ------------------------------------------------------------------------
    def register_insurer(self, insurer: Insurer) -> None:
        """Enter an insurer (idempotent): its number, name and kind."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(insurers).values(
                        insurer_id=insurer.insurer_id,
                        insurer_number=insurer.insurer_number,
                        name=insurer.name,
                        kind=insurer.kind.value,
                        registered_at=self.now(),
                    )
                )
        except IntegrityError:
            pass
        self._insurers = None

    def insurers(self) -> dict[str, Insurer]:
        cached = self._insurers
        if cached is None:
            with self.engine.connect() as conn:
                rows = conn.execute(select(insurers).order_by(insurers.c.insurer_id)).all()
            cached = {r.insurer_id: Insurer(r.insurer_id, r.insurer_number, r.name, InsurerKind(r.kind)) for r in rows}
            self._insurers = cached
        return cached

    def insurer(self, insurer_id: str) -> Insurer:
        found = self.insurers().get(insurer_id)
        if found is None:
            raise NotFound(
                "eligibility.unknown_insurer",
                "この保険者は登録されていません。",
                "This insurer is not registered.",
                field="insurer_id",
            )
        return found

    def insurer_by_number(self, insurer_number: str) -> Insurer:
        for insurer in self.insurers().values():
            if insurer.insurer_number == insurer_number:
                return insurer
        raise NotFound(
            "eligibility.unknown_insurer",
            "この保険者番号の保険者はオンライン資格確認に参加していません。",
            "No insurer with this number takes part in online eligibility.",
            field="insurer_number",
        )

    # -- copies from insurers ---------------------------------------------------------------
    def register_qualifications(self, quals: Sequence[Qualification], *, fresh: bool = False) -> int:
        """Insert or replace qualification copies; ``fresh`` (seeding) skips the replace."""
        if not quals:
            return 0
        known = self.insurers()
        for q in quals:
            if q.insurer_id not in known:
                raise NotFound(
                    "eligibility.unknown_insurer",
                    "この保険者は登録されていません。",
                    "This insurer is not registered.",
                    field="insurer_id",
                )
        now = self.now()
        rows = [_qual_row(q, now) for q in quals]
        with self.engine.begin() as conn:
            if not fresh:
                for q in quals:
                    conn.execute(
                        delete(qualifications).where(
                            qualifications.c.insurer_id == q.insurer_id,
                            qualifications.c.member_code == q.member_code,
                        )
                    )
            bulk_insert(conn, qualifications, QUAL_COLUMNS, [tuple(r[c] for c in QUAL_COLUMNS) for r in rows])
        return len(rows)

    def register_medications(self, rows: Sequence[Medication]) -> int:
        cols = (
            "insurer_id",
            "member_code",
            "dispensed_on",
            "institution",
            "drug_code",
            "drug_name",
            "dose",
            "usage",
            "days",
        )
        with self.engine.begin() as conn:
            bulk_insert(
                conn,
                medications,
                cols,
                [
                    (
                        m.insurer_id,
                        m.member_code,
                        m.dispensed_on,
                        m.institution,
                        m.drug_code,
                        m.drug_name,
                        m.dose,
                        m.usage,
                        m.days,
                    )
                    for m in rows
                ],
            )
        return len(rows)

    def register_checkups(self, rows: Sequence[Checkup]) -> int:
        cols = ("insurer_id", "member_code", "examined_on", "results")
        with self.engine.begin() as conn:
            bulk_insert(
                conn,
                checkups,
                cols,
                [(c.insurer_id, c.member_code, c.examined_on, json.dumps(c.results, ensure_ascii=False)) for c in rows],
            )
        return len(rows)

    def qualification(self, membership: Membership) -> Qualification | None:
        row = self._readers.first(
            f"{_QUAL_SELECT} WHERE insurer_id = ? AND member_code = ?",
            (membership.insurer_id, membership.member_code),
        )
        return None if row is None else _qual_from(row)

    def find_by_identifiers(self, ids: CardIdentifiers) -> Qualification:
        """The qualification a 資格確認書's insurer number, symbol, number and branch name."""
        self.insurer_by_number(ids.insurer_number)
        row = self._readers.first(
            f"{_QUAL_SELECT} WHERE insurer_number = ? AND symbol = ? AND number = ? AND branch = ?",
            (ids.insurer_number, ids.symbol, ids.number, ids.branch),
        )
        if row is None:
            raise certificate_unknown()
        return _qual_from(row)

    # -- card registration (健康保険証利用登録) ----------------------------------------------
    def registration(self, membership: Membership) -> str | None:
        row = self._readers.first(
            "SELECT status FROM registrations WHERE insurer_id = ? AND member_code = ?",
            (membership.insurer_id, membership.member_code),
        )
        return None if row is None else str(row[0])

    def set_registration(self, memberships: Iterable[Membership], *, registered: bool, by: str) -> int:
        """Register or cancel (解除) the card's use as the insurance card; the insurers are told."""
        status = "registered" if registered else "cancelled"
        changed: list[Membership] = []
        now = self.now()
        with self.engine.begin() as conn:
            for m in memberships:
                key = and_(registrations.c.insurer_id == m.insurer_id, registrations.c.member_code == m.member_code)
                current = conn.execute(select(registrations.c.status).where(key)).scalar()
                if current == status:
                    continue
                if current is None:
                    conn.execute(
                        insert(registrations).values(
                            insurer_id=m.insurer_id,
                            member_code=m.member_code,
                            status=status,
                            changed_at=now,
                            changed_by=by,
                        )
                    )
                else:
                    conn.execute(update(registrations).where(key).values(status=status, changed_at=now, changed_by=by))
                changed.append(m)
        if self._listener is not None:
            for m in changed:
                self._listener.registration_changed(m, registered, self.today())
        return len(changed)

    def register_many(self, memberships: Sequence[Membership], *, by: str) -> int:
        """Bulk registration for memberships with no registration row yet (seeding)."""
        now = self.now()
        with self.engine.begin() as conn:
            have = {(a, b) for a, b in conn.execute(select(registrations.c.insurer_id, registrations.c.member_code))}
            rows = [
                (m.insurer_id, m.member_code, "registered", now, by)
                for m in memberships
                if (m.insurer_id, m.member_code) not in have
            ]
            bulk_insert(conn, registrations, ("insurer_id", "member_code", "status", "changed_at", "changed_by"), rows)
        return len(rows)

    def registered_codes(self, insurer_id: str) -> set[str]:
        """The insurer's members whose card is registered (what it needs to know whom to send a 資格確認書)."""
        with self.engine.connect() as conn:
            return {
                str(c)
                for (c,) in conn.execute(
                    select(registrations.c.member_code).where(
                        registrations.c.insurer_id == insurer_id,
                        registrations.c.status == "registered",
                    )
                )
            }

    # -- patients ----------------------------------------------------------------------------
    def patient(self, juminhyo_code: str) -> Patient:
        """The person serial linkage named, as memberships and this service's pseudonym."""
        now = time.monotonic()
        cached = self._patients.get(juminhyo_code)
        if cached is not None and cached[1] > now:
            return cached[0]
        link_id = self._directory.link_id(juminhyo_code)
        person_key = hmac.new(self._secret(), f"kojin-eligibility-person|{link_id}".encode(), hashlib.sha256)
        found: list[Membership] = []
        for insurer_id in self.insurers():
            code = self._directory.find_code(insurer_id, link_id)
            if code is not None:
                found.append(Membership(insurer_id, code))
        patient = Patient(person_key.hexdigest(), tuple(found))
        with self._lock:
            if len(self._patients) > 100_000:
                self._patients.clear()
            self._patients[juminhyo_code] = (patient, now + self._patient_ttl_s)
        return patient

    def forget_patient(self, juminhyo_code: str) -> None:
        self._patients.pop(juminhyo_code, None)

    def qualifications_of(self, patient: Patient) -> list[Qualification]:
        return [q for m in patient.memberships if (q := self.qualification(m)) is not None]

    # -- checks --------------------------------------------------------------------------------
    def check_card(self, clinic: Clinic, juminhyo_code: str) -> CardCheck:
        """A card check (マイナ保険証): the answer, and a visit for consent and views.

        A card never registered is registered here (初回登録, as the real
        reader does once the patient confirms); a cancelled registration is
        refused with ``eligibility.not_registered``.
        """
        patient = self.patient(juminhyo_code)
        quals = self.qualifications_of(patient)
        if not quals:
            raise no_qualification()
        statuses = [self.registration(q.membership) for q in quals]
        registered_now = False
        if "registered" not in statuses:
            if "cancelled" in statuses:
                raise not_registered()
            self.set_registration([q.membership for q in quals], registered=True, by="card")
            registered_now = True
        today = self.today()
        current = pick_current(quals, today)
        if current is None:
            raise no_qualification()
        answer = answer_fields(current, self.insurer(current.insurer_id).name, today)
        visit = self._open_visit(clinic, patient)
        answer["visit_id"] = visit.visit_id
        return CardCheck(answer, visit, patient, registered_now)

    def check_certificate(self, clinic: Clinic, ids: CardIdentifiers) -> dict[str, Any]:
        """A check with a 資格確認書's typed-in identifiers: eligibility and nothing more."""
        del clinic  # authenticated by the caller; a certificate check opens no visit
        q = self.find_by_identifiers(ids)
        today = self.today()
        if q.certificate_until is None:
            raise certificate_not_issued()
        if q.certificate_until < today:
            raise certificate_expired(q.certificate_until)
        answer = answer_fields(q, self.insurer(q.insurer_id).name, today)
        answer["ResultList"]["InsuredCardClassification"] = CardClass.CERTIFICATE.value
        return answer

    # -- visits ----------------------------------------------------------------------------------
    def _open_visit(self, clinic: Clinic, patient: Patient) -> Visit:
        opened = self.now()
        visit = Visit(
            secrets.token_hex(16),
            clinic.clinic_id,
            patient.person_key,
            patient.memberships,
            opened,
            opened + timedelta(seconds=CONSENT_WINDOW_S),
            opened + timedelta(hours=VISIT_HOURS),
        )
        # Group commit: concurrent checks share one durable commit.
        self._writer.write(
            [
                (
                    visits,
                    {
                        "visit_id": visit.visit_id,
                        "clinic_id": visit.clinic_id,
                        "person_key": visit.person_key,
                        "memberships": json.dumps([[m.insurer_id, m.member_code] for m in visit.memberships]),
                        "opened_at": visit.opened_at,
                        "consent_until": visit.consent_until,
                        "expires_at": visit.expires_at,
                    },
                )
            ]
        )
        return visit

    def visit(self, visit_id: str, clinic: Clinic) -> Visit:
        """A visit of this clinic that has not ended; otherwise a precise reason."""
        if not isinstance(visit_id, str) or len(visit_id) != 32:
            raise InvalidInput(
                "eligibility.visit_unknown",
                "受診の識別子が正しくありません。",
                "The visit id is malformed.",
                field="visit_id",
            )
        with self.engine.connect() as conn:
            row = conn.execute(select(visits).where(visits.c.visit_id == visit_id)).first()
        if row is None:
            raise NotFound("eligibility.visit_unknown", "この受診はありません。", "No such visit.", field="visit_id")
        found = _visit_from(row)
        if found.clinic_id != clinic.clinic_id:
            raise NotPermitted(
                "ehr.consent_other_clinic",
                "この受診と同意は別の医療機関のものです。閲覧できません。",
                "This visit and its consent belong to another clinic; nothing may be viewed.",
                field="visit_id",
            )
        if found.expires_at <= self.now():
            raise Conflict(
                "eligibility.visit_expired",
                "この受診の有効期間（24時間）は終了しました。もう一度カードで確認してください。",
                "This visit has ended (24 hours); check the card again.",
                field="visit_id",
            )
        return found

    def answer_for_visit(self, visit: Visit) -> dict[str, Any]:
        """The eligibility answer again for a visit's page (the copies may have changed since)."""
        quals = [q for m in visit.memberships if (q := self.qualification(m)) is not None]
        today = self.today()
        current = pick_current(quals, today)
        if current is None:
            raise no_qualification()
        answer = answer_fields(current, self.insurer(current.insurer_id).name, today)
        answer["visit_id"] = visit.visit_id
        return answer

    def terminal_key(self) -> bytes:
        """The key the clinic terminal MACs its session cookie with."""
        return hmac.digest(self._secret(), b"kojin-clinic-terminal-cookie/1", "sha256")

    def visits_of(self, person_key: str) -> list[Visit]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(visits).where(visits.c.person_key == person_key).order_by(visits.c.opened_at.desc()).limit(200)
            ).all()
        return [_visit_from(r) for r in rows]

    # -- medical history held for insurers ------------------------------------------------------------
    def medications(self, memberships: Sequence[Membership]) -> list[Medication]:
        if not memberships:
            return []
        cond = or_(
            *[
                and_(medications.c.insurer_id == m.insurer_id, medications.c.member_code == m.member_code)
                for m in memberships
            ]
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(medications).where(cond).order_by(medications.c.dispensed_on.desc(), medications.c.id)
            ).all()
        return [
            Medication(
                r.insurer_id,
                r.member_code,
                _day(r.dispensed_on) or date.min,
                r.institution,
                r.drug_code,
                r.drug_name,
                r.dose,
                r.usage,
                int(r.days),
            )
            for r in rows
        ]

    def checkups(self, memberships: Sequence[Membership]) -> list[Checkup]:
        if not memberships:
            return []
        cond = or_(
            *[and_(checkups.c.insurer_id == m.insurer_id, checkups.c.member_code == m.member_code) for m in memberships]
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(checkups).where(cond).order_by(checkups.c.examined_on.desc())).all()
        return [
            Checkup(r.insurer_id, r.member_code, _day(r.examined_on) or date.min, json.loads(r.results)) for r in rows
        ]

    # -- clinics -----------------------------------------------------------------------------------------
    def register_clinic(self, clinic_id: str, name: str, kind: str = "clinic") -> str:
        """Enter a clinic; returns its key (shown once; only its hash is kept)."""
        validate_clinic_id(clinic_id)
        if not name or len(name) > 200:
            raise InvalidInput(
                "eligibility.bad_clinic_name",
                "医療機関名は200文字以内です。",
                "A clinic name is 1–200 characters.",
                field="name",
            )
        if kind not in ("clinic", "hospital", "pharmacy"):
            raise InvalidInput(
                "eligibility.bad_clinic_kind",
                "種別は clinic, hospital, pharmacy のいずれかです。",
                "kind is clinic, hospital or pharmacy.",
                field="kind",
            )
        key = f"kojin-clinic.{clinic_id}.{secrets.token_urlsafe(24)}"
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(clinics).values(
                        clinic_id=clinic_id,
                        name=name,
                        kind=kind,
                        key_hash=hashlib.sha256(key.encode()).hexdigest(),
                        registered_at=self.now(),
                    )
                )
        except IntegrityError:
            raise Conflict(
                "eligibility.clinic_exists",
                "この医療機関は登録済みです。",
                "This clinic is already registered.",
                field="clinic_id",
            ) from None
        return key

    def clinic(self, clinic_id: str) -> Clinic:
        with self.engine.connect() as conn:
            row = conn.execute(select(clinics).where(clinics.c.clinic_id == clinic_id)).first()
        if row is None:
            raise NotFound(
                "eligibility.unknown_clinic",
                "この医療機関は登録されていません。",
                "This clinic is not registered.",
                field="clinic_id",
            )
        return Clinic(row.clinic_id, row.name, row.kind)

    def authenticate_clinic(self, key: str | None) -> Clinic:
        """The clinic a key belongs to, or ``eligibility.clinic_unauthenticated``."""
        refuse = Unauthenticated(
            "eligibility.clinic_unauthenticated",
            "医療機関の認証に失敗しました。",
            "The clinic could not be authenticated.",
            field="clinic_key",
        )
        if not key or len(key) > 120 or not key.startswith("kojin-clinic."):
            raise refuse
        digest = hashlib.sha256(key.encode()).hexdigest()
        cached = self._clinics.get(digest)
        if cached is not None:
            return cached[0]
        parts = key.split(".")
        if len(parts) != 3:
            raise refuse
        with self.engine.connect() as conn:
            row = conn.execute(select(clinics).where(clinics.c.clinic_id == parts[1])).first()
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            raise refuse
        clinic = Clinic(row.clinic_id, row.name, row.kind)
        self._clinics[digest] = (clinic, row.key_hash)
        return clinic

    # -- housekeeping -----------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table in (insurers, qualifications, registrations, medications, checkups, clinics, visits):
                out[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    def close(self) -> None:
        self._writer.close()
        self._readers.close()
