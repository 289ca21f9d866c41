"""The clinic terminal's pages (医療機関の受付端末), mounted at ``/clinic``.

1. The clinic's staff sign the terminal in with the clinic code and key.
2. マイナ保険証: the patient puts the card on the reader and types the 4-digit
   PIN there (the shared card reader at ``/reader``; face matching is not
   built), the signed challenge comes back to ``/clinic/card``.
3. The patient chooses on the terminal what this clinic may see at this visit
   (medication, check-ups, e-health records, or nothing).
4. The terminal shows eligibility and exactly what the consent covers.

Without a card the staff type in the 資格確認書's insurer number, symbol,
number and branch: eligibility and nothing more.

The terminal's session is a cookie MACed with the eligibility service's key:
the clinic, a CSRF token, an expiry. No patient is named in a URL or a cookie;
a visit id is a random handle valid for this clinic only.

Each step is a module here (:mod:`.login`, :mod:`.card`, :mod:`.results`) built
on the :class:`~kojin.clinic.terminal.kit.TerminalKit` they share;
:func:`make_router` mounts them.
"""

from __future__ import annotations

from fastapi import APIRouter

from kojin.clinic.service import ClinicService
from kojin.clinic.terminal import card, login, results
from kojin.clinic.terminal.kit import TerminalKit

__all__ = ["PARTS", "make_router"]

PARTS = (login, card, results)


def make_router(clinics: ClinicService) -> APIRouter:
    router = APIRouter(prefix="/clinic", include_in_schema=False)
    kit = TerminalKit(clinics)
    for part in PARTS:
        router.include_router(part.make_router(kit))
    return router
