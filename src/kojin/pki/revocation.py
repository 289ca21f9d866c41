"""Revocation (電子証明書の失効): one certificate, a person's certificates, or on a register event.

Every revocation marks the certificate, records it for the CRL and publishes
the issuing CA's next CRL in one transaction; the ``revocations`` table's
primary key makes a second revocation of the same serial impossible even
between racing writers. Once committed, the serials are told to the revocation
listeners (the relying parties' OCSP caches in this process).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, insert, select, update

from kojin.core.errors import Conflict
from kojin.core.events import Event
from kojin.numbering.domain import validate_juminhyo_code
from kojin.pki import reasons
from kojin.pki.certificate_rows import CertificateRecord, CertificateRows
from kojin.pki.crl import CrlPublisher
from kojin.pki.domain import (
    REVOKED_ON_EVENT,
    CertKind,
    CertStatus,
    RevocationReason,
    parse_kind,
    parse_reason,
    parse_serial_key,
    serial_key,
)
from kojin.pki.errors import unknown_serial
from kojin.pki.store import certificates, revocations

RevocationListener = Callable[[Sequence[int]], None]

log = logging.getLogger(__name__)


def _already_revoked() -> Conflict:
    return reasons.ALREADY_REVOKED.error()


def _mark_revoked(
    conn: Connection,
    key: str,
    ca: str,
    not_after: datetime,
    reason: RevocationReason,
    now: datetime,
) -> bool:
    """Mark a good certificate revoked and list it for the CRL; False if it was not good."""
    result = conn.execute(
        update(certificates)
        .where(certificates.c.serial == key, certificates.c.status == CertStatus.GOOD.value)
        .values(status=CertStatus.REVOKED.value, revoked_at=now, reason=reason.value)
    )
    if result.rowcount != 1:
        return False
    conn.execute(
        insert(revocations).values(serial=key, ca=ca, revoked_at=now, reason=reason.value, not_after=not_after)
    )
    return True


class Revocations:
    """Revokes certificates and publishes the CRLs that list them."""

    def __init__(
        self, engine: Engine, rows: CertificateRows, crls: CrlPublisher, *, now: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.rows = rows
        self.crls = crls
        self._now = now
        self._listeners: list[RevocationListener] = []

    def on_revoked(self, listener: RevocationListener) -> None:
        """Call ``listener`` with the serials of every revocation, after it is committed."""
        self._listeners.append(listener)

    def _tell(self, serials: Sequence[int]) -> None:
        if not serials:
            return
        for listener in list(self._listeners):
            # The revocation is committed whatever a listener does; a cache
            # that missed it still re-asks within a second.
            try:
                listener(serials)
            except Exception:
                log.exception("a revocation listener failed")

    def revoke(self, serial: int, reason: RevocationReason | str = RevocationReason.UNSPECIFIED) -> CertificateRecord:
        """失効: mark revoked and publish a new CRL, in one transaction."""
        why = parse_reason(reason)
        key = serial_key(serial)
        now = self._now()
        with self.engine.begin() as conn:
            row = conn.execute(
                select(certificates.c.ca, certificates.c.status, certificates.c.not_after).where(
                    certificates.c.serial == key
                )
            ).first()
            if row is None:
                raise unknown_serial()
            if row.status == CertStatus.REVOKED:
                raise _already_revoked()
            number = self.crls.lock(conn, row.ca)
            if not _mark_revoked(conn, key, row.ca, row.not_after, why, now):
                raise _already_revoked()
            self.crls.write(conn, row.ca, now, number=number + 1)
        self._tell([serial])
        return self.rows.status(serial)

    def revoke_for_person(
        self,
        juminhyo_code: str,
        *,
        kinds: Iterable[CertKind | str] = (CertKind.SIGN, CertKind.AUTH),
        reason: RevocationReason | str = RevocationReason.UNSPECIFIED,
    ) -> list[int]:
        """Revoke every good certificate of these kinds held by a person.

        Returns the serials revoked (none is not an error: the person may hold
        no certificate). Certificates already revoked are left as they are.
        """
        validate_juminhyo_code(juminhyo_code)
        wanted = sorted({parse_kind(str(kind)).value for kind in kinds})
        if not wanted:
            raise reasons.BAD_KIND.error(field="kinds")
        why = parse_reason(reason)
        now = self._now()
        revoked: list[int] = []
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(certificates.c.serial, certificates.c.ca, certificates.c.not_after)
                .where(
                    certificates.c.juminhyo_code == juminhyo_code,
                    certificates.c.kind.in_(wanted),
                    certificates.c.status == CertStatus.GOOD.value,
                )
                .order_by(certificates.c.serial)
            ).all()
            touched = sorted({row.ca for row in rows})
            numbers = {ca: self.crls.lock(conn, ca) for ca in touched}
            for row in rows:
                if _mark_revoked(conn, row.serial, row.ca, row.not_after, why, now):
                    revoked.append(parse_serial_key(row.serial))
            for ca in touched:
                self.crls.write(conn, ca, now, number=numbers[ca] + 1)
        self._tell(revoked)
        return revoked

    def handle_register_event(self, event: Event) -> None:
        """Revoke what a resident-register event invalidates (subscribe it to the bus).

        Safe to deliver twice: certificates already revoked are left alone.
        """
        rule = REVOKED_ON_EVENT.get(event.name)
        if rule is None:
            return
        kinds, reason = rule
        self.revoke_for_person(str(event.payload.get("juminhyo_code", "")), kinds=kinds, reason=reason)
