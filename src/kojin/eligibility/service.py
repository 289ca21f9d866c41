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

The use cases are layered one module each on :class:`~kojin.eligibility.base.ServiceBase`
(its store, clock, key and writers): :mod:`~kojin.eligibility.copies` (insurers and
their copies), :mod:`~kojin.eligibility.registration` (the card's registration per
membership), :mod:`~kojin.eligibility.clinics` (clinics and terminal keys) and
:mod:`~kojin.eligibility.visits` (card checks and visits). Each layer may use the
ones below it; :class:`EligibilityService` is the whole.
"""

from __future__ import annotations

from kojin.eligibility.visits import VisitDesk

__all__ = ["EligibilityService"]


class EligibilityService(VisitDesk):
    """The eligibility service's use cases, over its own store."""
