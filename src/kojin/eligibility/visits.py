"""Card checks and visits (受診): a patient found by card or 資格確認書, the answer, and the visit consent hangs on."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from kojin.core import reasons as core_reasons
from kojin.eligibility import reasons
from kojin.eligibility.clinics import ClinicRegistry
from kojin.eligibility.domain import (
    CardClass,
    CardIdentifiers,
    Clinic,
    Membership,
    Qualification,
    answer_fields,
    certificate_expired,
    certificate_not_issued,
    no_qualification,
    not_registered,
    pick_current,
)
from kojin.eligibility.records import CONSENT_WINDOW_S, VISIT_HOURS, CardCheck, Patient, Visit, visit_of_row
from kojin.eligibility.store import (
    visits,
)


class VisitDesk(ClinicRegistry):
    """Checks at the clinic and the visits they open."""

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

    def disputed(self, memberships: tuple[Membership, ...]) -> list[Membership]:
        """The memberships whose link to the person they disputed (asked afresh: the patient is cached)."""
        return [m for m in memberships if self._directory.link_disputed(m.member_code)]

    def refuse_disputed(self, memberships: tuple[Membership, ...]) -> None:
        """A disputed link may be another person's insurance: answer nothing by the card until it is checked."""
        if self.disputed(memberships):
            raise reasons.LINK_DISPUTED.error()

    def qualifications_of(self, patient: Patient) -> list[Qualification]:
        return [q for m in patient.memberships if (q := self.qualification(m)) is not None]

    def check_card(self, clinic: Clinic, juminhyo_code: str) -> CardCheck:
        """A card check (マイナ保険証): the answer, and a visit for consent and views.

        A card never registered is registered here (初回登録, as the real
        reader does once the patient confirms); a cancelled registration is
        refused with ``eligibility.not_registered``, and a card one of whose
        memberships the person disputed with ``eligibility.link_disputed``.
        """
        patient = self.patient(juminhyo_code)
        self.refuse_disputed(patient.memberships)
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
        """A visit of this clinic that has not ended and none of whose links is disputed; otherwise a precise reason."""
        found = self.visit_unchecked(visit_id, clinic)
        # A visit opened before the dispute shows nothing more of that link.
        self.refuse_disputed(found.memberships)
        return found

    def visit_unchecked(self, visit_id: str, clinic: Clinic) -> Visit:
        """:meth:`visit` without the disputed links' check (for the caller that logs that refusal)."""
        if not isinstance(visit_id, str) or len(visit_id) != 32:
            raise reasons.VISIT_UNKNOWN.error()
        with self.engine.connect() as conn:
            row = conn.execute(select(visits).where(visits.c.visit_id == visit_id)).first()
        if row is None:
            raise reasons.VISIT_UNKNOWN.error()
        found = visit_of_row(row)
        if found.clinic_id != clinic.clinic_id:
            raise core_reasons.EHR_CONSENT_OTHER_CLINIC.error()
        if found.expires_at <= self.now():
            raise reasons.VISIT_EXPIRED.error()
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
        return [visit_of_row(r) for r in rows]
