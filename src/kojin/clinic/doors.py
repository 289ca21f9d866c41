"""The clinic software's door (医療機関の入口): the clinic's key, checked before anything else.

Declared as an OpenAPI security scheme (``X-Clinic-Key``) and used as a
dependency, so a call without a key is refused (401) before its body is even
looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Security
from fastapi.security import APIKeyHeader

from kojin.clinic.service import ClinicService
from kojin.eligibility.domain import Clinic

clinic_key_scheme = APIKeyHeader(
    name="X-Clinic-Key",
    auto_error=False,
    scheme_name="clinicKey",
    description="医療機関コードに発行された鍵。 The key issued to a clinic with its medical institution code.",
)


def clinic_door(clinics: ClinicService) -> Callable[[str | None], Clinic]:
    def door(key: Annotated[str | None, Security(clinic_key_scheme)]) -> Clinic:
        return clinics.eligibility.authenticate_clinic(key)

    return door
