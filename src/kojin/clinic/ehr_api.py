"""HTTP API of the e-health record service (電子カルテ情報共有サービス API), ``/ehr``.

Clinics submit documents (FHIR ``Bundle``) and items (single resources)
without consent, naming the patient by a visit of theirs or by the
insurance identifiers; viewing needs the patient's consent at that visit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from kojin.clinic.doors import clinic_door
from kojin.clinic.service import ClinicService
from kojin.eligibility.domain import Clinic


class PatientIn(BaseModel):
    insurer_number: Annotated[str, Field(max_length=8)]
    symbol: Annotated[str, Field(max_length=20)] = ""
    number: Annotated[str, Field(max_length=20)]
    branch: Annotated[str, Field(max_length=2)] = ""


class DocumentIn(BaseModel):
    patient: PatientIn | None = None
    visit_id: Annotated[str | None, Field(max_length=32)] = None
    bundle: dict[str, Any] = Field(description="FHIR R4 Bundle of type document (3文書)")


class ItemIn(BaseModel):
    patient: PatientIn | None = None
    visit_id: Annotated[str | None, Field(max_length=32)] = None
    resource: dict[str, Any] = Field(
        description="FHIR R4 Condition, Observation, AllergyIntolerance or MedicationRequest (6情報)"
    )


def make_router(clinics: ClinicService) -> APIRouter:
    router = APIRouter(prefix="/ehr", tags=["ehr 電子カルテ情報共有"])
    door = Depends(clinic_door(clinics))

    @router.post("/documents")
    def submit_document(body: DocumentIn, clinic: Clinic = door) -> dict[str, Any]:
        """Submit one of the three documents; its items are extracted and shared with it."""
        return clinics.submit_document(
            clinic,
            body.bundle,
            patient=body.patient.model_dump() if body.patient else None,
            visit_id=body.visit_id,
        )

    @router.post("/items")
    def submit_item(body: ItemIn, clinic: Clinic = door) -> dict[str, Any]:
        """Submit one of the six items on its own."""
        return clinics.submit_item(
            clinic,
            body.resource,
            patient=body.patient.model_dump() if body.patient else None,
            visit_id=body.visit_id,
        )

    @router.get("/visits/{visit_id}/records")
    def records(visit_id: str, clinic: Clinic = door) -> dict[str, Any]:
        """Shared documents and items, when the consent at this visit covers them (logged to the patient)."""
        return clinics.records(clinic, visit_id)

    return router
