"""Clinics known to the eligibility service (医療機関・薬局), and their terminal keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from kojin.eligibility import reasons
from kojin.eligibility.domain import (
    Clinic,
    validate_clinic_id,
)
from kojin.eligibility.registration import CardRegistrations
from kojin.eligibility.store import (
    clinics,
)


class ClinicRegistry(CardRegistrations):
    """Registering clinics and recognising a terminal by its key."""

    def register_clinic(self, clinic_id: str, name: str, kind: str = "clinic") -> str:
        """Enter a clinic; returns its key (shown once; only its hash is kept)."""
        validate_clinic_id(clinic_id)
        if not name or len(name) > 200:
            raise reasons.BAD_CLINIC_NAME.error()
        if kind not in ("clinic", "hospital", "pharmacy"):
            raise reasons.BAD_CLINIC_KIND.error()
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
            raise reasons.CLINIC_EXISTS.error() from None
        return key

    def clinic(self, clinic_id: str) -> Clinic:
        with self.engine.connect() as conn:
            row = conn.execute(select(clinics).where(clinics.c.clinic_id == clinic_id)).first()
        if row is None:
            raise reasons.UNKNOWN_CLINIC.error()
        return Clinic(row.clinic_id, row.name, row.kind)

    def authenticate_clinic(self, key: str | None) -> Clinic:
        """The clinic a key belongs to, or ``eligibility.clinic_unauthenticated``."""
        refuse = reasons.CLINIC_UNAUTHENTICATED.error()
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
