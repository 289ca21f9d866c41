"""The patient's own medical pages in the portal (マイナポータル: 医療・保険), at ``/portal/medical``.

Consents given at clinics (and withdrawing them), medication and check-ups,
e-health records with hide/unhide, who viewed what (each view with its
exchange-log entry), and the card's insurance registration with the
資格確認書. The portal's session decides whose pages these are: the person,
or a parent for a child; an appointed proxy does not see medical data.

Each part is a module here (:mod:`.overview`, :mod:`.consents`, :mod:`.records`,
:mod:`.insurance`) built on the :class:`~kojin.clinic.portal_medical.kit.MedicalKit`
they share; :func:`make_router` mounts them.
"""

from __future__ import annotations

from fastapi import APIRouter

from kojin.clinic.portal_medical import consents, insurance, overview, records
from kojin.clinic.portal_medical.kit import MedicalKit
from kojin.clinic.service import ClinicService
from kojin.portal.service import Portal

__all__ = ["PARTS", "PREFIX", "make_router"]

PREFIX = "/portal/medical"
PARTS = (overview, consents, records, insurance)


def make_router(portal: Portal, clinics: ClinicService) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    kit = MedicalKit(portal, clinics)
    # The prefix goes on each part: the overview's own path is empty.
    for part in PARTS:
        router.include_router(part.make_router(kit), prefix=PREFIX)
    return router
