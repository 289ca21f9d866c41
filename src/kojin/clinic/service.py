"""The clinic walk (DESIGN.md §5 walk 5) and the patient's own view of it.

Card + PIN → certificate serial → eligibility → consent on the terminal →
medication, check-ups and e-health records → every view logged to the patient.

:class:`ClinicService` is what the clinic terminal, the ``/eligibility`` and
``/ehr`` APIs and the portal call. Each view is recorded three times: in the
e-health record service's view log (for the patient's "who viewed what"), and
through the hub as an exchange whose leaf in the RFC 9162 log carries the
patient's subject commitment (so it appears in their やりとり履歴 with a proof).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from kojin.auth.domain import Challenge
from kojin.auth.service import CardAuthService
from kojin.ehr.domain import SCOPE_LABELS, Scope, parse_document, parse_item, parse_scopes
from kojin.ehr.service import Consent, EhrService
from kojin.eligibility import reasons as eligibility_reasons
from kojin.eligibility.domain import CardIdentifiers, Clinic, Membership, pick_current
from kojin.eligibility.insurer.service import InsurerDirectory
from kojin.eligibility.records import Patient, Visit
from kojin.eligibility.service import EligibilityService

RELYING_PARTY = "eligibility"
VIEW_TASK = "医療機関等における診療情報等の閲覧（本人同意）"
CHECK_TASK = "オンライン資格確認（マイナ保険証）"
CHECK_ITEM = "資格情報"

# Who holds what a clinic views: (hub id, name, item as logged).
HOLDERS: dict[Scope, tuple[str, str, str]] = {
    Scope.MEDICATION: ("eligibility", "オンライン資格確認等システム（支払基金・国保中央会）", "薬剤情報"),
    Scope.CHECKUPS: ("eligibility", "オンライン資格確認等システム（支払基金・国保中央会）", "特定健診等情報"),
    Scope.EHR: ("ehr", "電子カルテ情報共有サービス", "電子カルテ情報（3文書6情報）"),
}


class ViewLog(Protocol):
    """The hub's record of a view: a leaf in the exchange log about the patient (wired in kojin.app)."""

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
    ) -> int | None: ...

    def record_refusal(
        self, *, viewer: str, holder: str, task: str, item: str, agency_id: str, code: str, request_id: str, reason: str
    ) -> int | None: ...


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """A card check as the terminal shows it."""

    answer: dict[str, Any]
    visit: Visit
    registered_now: bool
    consent: Consent | None


def clinic_viewer_id(clinic: Clinic) -> str:
    return f"clinic_{clinic.clinic_id}"


class ClinicService:
    """Terminal, API and portal use cases of online eligibility and record sharing."""

    def __init__(
        self,
        auth: CardAuthService,
        eligibility: EligibilityService,
        ehr: EhrService,
        insurers: InsurerDirectory,
        view_log: ViewLog,
    ) -> None:
        self.auth = auth
        self.eligibility = eligibility
        self.ehr = ehr
        self.insurers = insurers
        self._view_log = view_log

    # -- the terminal -------------------------------------------------------------------------
    def challenge(self) -> Challenge:
        return self.auth.challenge(RELYING_PARTY)

    def check_card(
        self,
        clinic: Clinic,
        challenge: str,
        certificate: bytes,
        signature: bytes,
        scopes: list[str] | None = None,
    ) -> CheckOutcome:
        """Verify the card's answer, answer eligibility, open the visit; consent too when chosen already."""
        result = self.auth.verify(RELYING_PARTY, challenge, certificate, signature)
        code = result.subject.juminhyo_code
        if code is None:  # the eligibility service is a public relying party; J-LIS names the person
            raise eligibility_reasons.NO_SUBJECT.error()
        self._refuse_disputed(clinic, self.eligibility.patient(code).memberships, CHECK_TASK, CHECK_ITEM)
        check = self.eligibility.check_card(clinic, code)
        consent = self.consent(clinic, check.visit.visit_id, scopes) if scopes is not None else None
        return CheckOutcome(check.answer, check.visit, check.registered_now, consent)

    def check_certificate(
        self, clinic: Clinic, insurer_number: object, symbol: object, number: object, branch: object
    ) -> dict[str, Any]:
        """資格確認書 typed in: eligibility only, no visit, no history."""
        ids = CardIdentifiers.parse(insurer_number, symbol, number, branch)
        return self.eligibility.check_certificate(clinic, ids)

    def _refuse_disputed(self, clinic: Clinic, memberships: tuple[Membership, ...], task: str, item: str) -> None:
        """Refuse, and log for the person, a check or view by a link they disputed."""
        disputed = self.eligibility.disputed(memberships)
        if not disputed:
            return
        reason = eligibility_reasons.LINK_DISPUTED.code
        for m in disputed:
            self._view_log.record_refusal(
                viewer=clinic_viewer_id(clinic),
                holder="eligibility",
                task=task,
                item=item,
                agency_id=m.insurer_id,
                code=m.member_code,
                request_id=f"refused-{secrets.token_hex(12)}",
                reason=reason,
            )
        raise eligibility_reasons.LINK_DISPUTED.error()

    def _visit(self, clinic: Clinic, visit_id: str, item: str) -> Visit:
        """A visit of this clinic, refused (and logged) if a link it was opened with is now disputed."""
        visit = self.eligibility.visit_unchecked(visit_id, clinic)
        self._refuse_disputed(clinic, visit.memberships, VIEW_TASK, item)
        return self.eligibility.visit(visit_id, clinic)

    def consent(self, clinic: Clinic, visit_id: str, scopes: object) -> Consent:
        chosen = parse_scopes(scopes)
        visit = self._visit(clinic, visit_id, "同意")
        return self.ehr.grant(
            visit_id=visit.visit_id,
            clinic=clinic,
            person_key=visit.person_key,
            scopes=chosen,
            consent_until=visit.consent_until,
            expires_at=visit.expires_at,
        )

    def _view(self, clinic: Clinic, visit_id: str, scope: Scope) -> Visit:
        visit = self._visit(clinic, visit_id, HOLDERS[scope][2])
        self.ehr.require(visit_id, clinic, scope)
        return visit

    def _log(self, clinic: Clinic, visit: Visit, scope: Scope, detail: str) -> int | None:
        holder, holder_name, item = HOLDERS[scope]
        leaf: int | None = None
        if visit.memberships:
            m = visit.memberships[0]
            leaf = self._view_log.record_view(
                viewer=clinic_viewer_id(clinic),
                viewer_name=clinic.name,
                holder=holder,
                holder_name=holder_name,
                task=VIEW_TASK,
                item=item,
                agency_id=m.insurer_id,
                code=m.member_code,
                request_id=f"view-{secrets.token_hex(12)}",
            )
        self.ehr.record_view(
            person_key=visit.person_key,
            visit_id=visit.visit_id,
            clinic=clinic,
            scope=scope,
            detail=detail,
            leaf_index=leaf,
        )
        return leaf

    def medications(self, clinic: Clinic, visit_id: str) -> dict[str, Any]:
        visit = self._view(clinic, visit_id, Scope.MEDICATION)
        rows = [m.as_record() for m in self.eligibility.medications(visit.memberships)]
        leaf = self._log(clinic, visit, Scope.MEDICATION, f"薬剤情報 {len(rows)}件")
        return {"visit_id": visit_id, "medications": rows, "leaf_index": leaf}

    def checkups(self, clinic: Clinic, visit_id: str) -> dict[str, Any]:
        visit = self._view(clinic, visit_id, Scope.CHECKUPS)
        rows = [c.as_record() for c in self.eligibility.checkups(visit.memberships)]
        leaf = self._log(clinic, visit, Scope.CHECKUPS, f"特定健診等情報 {len(rows)}件")
        return {"visit_id": visit_id, "checkups": rows, "leaf_index": leaf}

    def records(self, clinic: Clinic, visit_id: str) -> dict[str, Any]:
        visit = self._view(clinic, visit_id, Scope.EHR)
        shared = self.ehr.records(visit.memberships)
        leaf = self._log(
            clinic, visit, Scope.EHR, f"3文書 {len(shared['documents'])}件・6情報 {len(shared['items'])}件"
        )
        return {"visit_id": visit_id, **shared, "leaf_index": leaf}

    def history(self, clinic: Clinic, visit_id: str) -> dict[str, Any]:
        """Everything the consent at this visit covers (for the terminal); nothing it does not."""
        consent = self.ehr.consent_for(visit_id)
        out: dict[str, Any] = {"scopes": [s.value for s in consent.scopes] if consent else []}
        if consent is None:
            return out
        if Scope.MEDICATION in consent.scopes:
            out["medications"] = self.medications(clinic, visit_id)["medications"]
        if Scope.CHECKUPS in consent.scopes:
            out["checkups"] = self.checkups(clinic, visit_id)["checkups"]
        if Scope.EHR in consent.scopes:
            records = self.records(clinic, visit_id)
            out["documents"], out["items"] = records["documents"], records["items"]
        return out

    # -- submissions (clinics; consent not needed) -------------------------------------------------
    def _membership_for(self, clinic: Clinic, patient: dict[str, Any] | None, visit_id: str | None) -> Membership:
        if visit_id:
            visit = self._visit(clinic, visit_id, "電子カルテ情報の登録")
            quals = [q for m in visit.memberships if (q := self.eligibility.qualification(m)) is not None]
            current = pick_current(quals, self.eligibility.today())
            if current is None:
                raise eligibility_reasons.NO_QUALIFICATION.error(field="visit_id")
            return current.membership
        patient = patient or {}
        ids = CardIdentifiers.parse(
            patient.get("insurer_number"), patient.get("symbol"), patient.get("number"), patient.get("branch")
        )
        return self.eligibility.find_by_identifiers(ids).membership

    def submit_document(
        self, clinic: Clinic, bundle: object, *, patient: dict[str, Any] | None = None, visit_id: str | None = None
    ) -> dict[str, Any]:
        doc = parse_document(bundle)
        return self.ehr.submit_document(clinic, self._membership_for(clinic, patient, visit_id), doc)

    def submit_item(
        self, clinic: Clinic, resource: object, *, patient: dict[str, Any] | None = None, visit_id: str | None = None
    ) -> dict[str, Any]:
        item = parse_item(resource)
        return self.ehr.submit_item(clinic, self._membership_for(clinic, patient, visit_id), item)

    # -- the patient's own (portal) ------------------------------------------------------------------
    def patient(self, juminhyo_code: str) -> Patient:
        """The person's memberships for their own pages, without any they disputed (maybe someone else's)."""
        patient = self.eligibility.patient(juminhyo_code)
        disputed = self.eligibility.disputed(patient.memberships)
        if not disputed:
            return patient
        return Patient(patient.person_key, tuple(m for m in patient.memberships if m not in disputed))

    def my_consents(self, juminhyo_code: str) -> list[dict[str, Any]]:
        now = self.ehr.now()
        return [c.as_record(now) for c in self.ehr.consents_of(self.patient(juminhyo_code).person_key)]

    def withdraw_consent(self, juminhyo_code: str, consent_id: str) -> dict[str, Any]:
        consent = self.ehr.withdraw(self.patient(juminhyo_code).person_key, consent_id)
        return consent.as_record(self.ehr.now())

    def my_medications(self, juminhyo_code: str) -> list[dict[str, Any]]:
        return [m.as_record() for m in self.eligibility.medications(self.patient(juminhyo_code).memberships)]

    def my_checkups(self, juminhyo_code: str) -> list[dict[str, Any]]:
        return [c.as_record() for c in self.eligibility.checkups(self.patient(juminhyo_code).memberships)]

    def my_records(self, juminhyo_code: str) -> dict[str, Any]:
        return self.ehr.records(self.patient(juminhyo_code).memberships, for_patient=True)

    def set_hidden(
        self, juminhyo_code: str, *, doc_id: str | None = None, item_id: str | None = None, hidden: bool
    ) -> None:
        self.ehr.set_hidden(self.patient(juminhyo_code).memberships, doc_id=doc_id, item_id=item_id, hidden=hidden)

    def my_views(self, juminhyo_code: str) -> list[dict[str, Any]]:
        views = self.ehr.views_of(self.patient(juminhyo_code).person_key)
        for v in views:
            v["scope_label"] = SCOPE_LABELS[Scope(v["scope"])][0]
        return views

    def my_insurance(self, juminhyo_code: str) -> dict[str, Any]:
        """My qualification, whether my card is registered, and my 資格確認書."""
        patient = self.patient(juminhyo_code)
        quals = self.eligibility.qualifications_of(patient)
        today = self.eligibility.today()
        current = pick_current(quals, today)
        if current is None:
            return {"qualification": None, "registration": None, "certificate": None}
        insurer = self.eligibility.insurer(current.insurer_id)
        service = self.insurers.get(current.insurer_id)
        cert = service.current_certificate(service.local_id_of(current.member_code))
        return {
            "qualification": {
                "insurer_name": insurer.name,
                "insurer_number": insurer.insurer_number,
                "symbol": current.symbol,
                "number": current.number,
                "branch": current.branch,
                "valid": current.valid_on(today),
                "ratio": current.ratio,
            },
            "registration": self.eligibility.registration(current.membership),
            "certificate": None
            if cert is None
            else {
                "certificate_id": cert.certificate_id,
                "issued_on": cert.issued_on.isoformat(),
                "valid_until": cert.valid_until.isoformat(),
                "reason": cert.reason,
            },
        }

    def set_card_registration(self, juminhyo_code: str, *, registered: bool) -> dict[str, Any]:
        """Cancel (解除) or restore the card's use as the insurance card, from the portal."""
        patient = self.patient(juminhyo_code)
        quals = self.eligibility.qualifications_of(patient)
        if not quals:
            raise eligibility_reasons.NO_QUALIFICATION.error()
        self.eligibility.set_registration([q.membership for q in quals], registered=registered, by="portal")
        return self.my_insurance(juminhyo_code)

    def my_certificate_pdf(self, juminhyo_code: str) -> bytes:
        patient = self.patient(juminhyo_code)
        current = pick_current(self.eligibility.qualifications_of(patient), self.eligibility.today())
        if current is None:
            raise eligibility_reasons.INSURER_NO_CERTIFICATE.error()
        service = self.insurers.get(current.insurer_id)
        return service.certificate_pdf(service.local_id_of(current.member_code))
