"""CRLs (証明書失効リスト): each CA's current list, numbered, signed and kept in the store.

A revocation rebuilds the issuing CA's CRL in its own transaction (see
:mod:`kojin.pki.revocation`), so a revocation is never visible in OCSP but
missing from the CRL, or the other way round. A CRL nobody revokes against is
reissued on demand once half its lifetime has passed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from kojin.pki.domain import CA_NAMES, RevocationReason, as_utc, organisation_of_staff_ca, parse_serial_key
from kojin.pki.errors import unknown_ca
from kojin.pki.extensions import authority_key_id
from kojin.pki.hierarchy import CaHierarchy, CaMaterial
from kojin.pki.store import crls, revocations

DEFAULT_CRL_VALIDITY: Final = timedelta(days=1)


def build_crl(
    material: CaMaterial, entries: Sequence[Row[Any, Any, Any]], now: datetime, next_update: datetime, number: int
) -> bytes:
    """A DER CRL of ``material`` listing ``entries`` (rows of serial, revoked_at, reason)."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(material.certificate.subject)
        .last_update(now)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(authority_key_id(material.key_identifier), critical=False)
    )
    for entry in entries:
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(parse_serial_key(entry.serial))
            .revocation_date(as_utc(entry.revoked_at))
        )
        # RFC 5280 §5.3.1: omit the reason code rather than say "unspecified".
        if entry.reason != RevocationReason.UNSPECIFIED:
            revoked = revoked.add_extension(x509.CRLReason(x509.ReasonFlags[entry.reason]), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(material.signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class CrlPublisher:
    """Each CA's current CRL: the first at bootstrap, then one more per revocation or refresh."""

    def __init__(
        self, engine: Engine, hierarchy: CaHierarchy, *, validity: timedelta, now: Callable[[], datetime]
    ) -> None:
        self.engine = engine
        self.hierarchy = hierarchy
        self.validity = validity
        self._now = now

    def publish_missing(self, now: datetime) -> None:
        """Publish CRL number 1 of every CA that has none yet."""
        with self.engine.connect() as conn:
            with_crl = set(conn.execute(select(crls.c.ca)).scalars())
        for name in CA_NAMES:
            if name not in with_crl:
                self._first(name, now)

    def publish_first(self, ca_name: str, now: datetime) -> None:
        """Publish CRL number 1 of one CA (a staff CA just made) unless it has one."""
        with self.engine.connect() as conn:
            if conn.execute(select(crls.c.ca).where(crls.c.ca == ca_name)).first() is not None:
                return
        self._first(ca_name, now)

    def _first(self, ca_name: str, now: datetime) -> None:
        try:
            with self.engine.begin() as conn:
                self.write(conn, ca_name, now, number=1, insert_row=True)
        except IntegrityError:
            pass  # another process published the first CRL

    def lock(self, conn: Connection, ca_name: str) -> int:
        """Lock a CA's CRL row for this transaction; return its current number."""
        # A no-op write, not SELECT … FOR UPDATE: pysqlite opens its transaction
        # at the first write, so only a write makes SQLite take the writer lock
        # before the number is read; on PostgreSQL it locks the row. Either way
        # two revocations can never publish the same CRL number.
        locked = conn.execute(update(crls).where(crls.c.ca == ca_name).values(crl_number=crls.c.crl_number))
        if locked.rowcount != 1:
            raise RuntimeError(f"CA {ca_name!r} has no CRL: run `kojin init` (bootstrap the CA)")
        return int(conn.execute(select(crls.c.crl_number).where(crls.c.ca == ca_name)).scalar_one())

    def write(
        self,
        conn: Connection,
        ca_name: str,
        now: datetime,
        *,
        number: int,
        insert_row: bool = False,
    ) -> bytes:
        """Build, sign and store CRL ``number`` of a CA in the caller's transaction."""
        material = self.hierarchy.ca(ca_name)
        # An expired certificate is invalid anyway, so it leaves the CRL
        # (RFC 5280 §3.3) and the CRL does not grow for ever.
        entries = conn.execute(
            select(revocations.c.serial, revocations.c.revoked_at, revocations.c.reason)
            .where(revocations.c.ca == ca_name, revocations.c.not_after > now)
            .order_by(revocations.c.serial)
        ).all()
        next_update = now + self.validity
        der = build_crl(material, entries, now, next_update, number)
        values = {"crl_number": number, "this_update": now, "next_update": next_update, "der": der}
        if insert_row:
            conn.execute(insert(crls).values(ca=ca_name, **values))
        else:
            conn.execute(update(crls).where(crls.c.ca == ca_name).values(**values))
        return der

    def current_der(self, ca_name: str) -> bytes:
        """The CA's current CRL (DER); reissued once half its lifetime has passed."""
        staff = organisation_of_staff_ca(ca_name) is not None
        if ca_name not in CA_NAMES and not staff:
            raise unknown_ca(ca_name)
        now = self._now()
        with self.engine.connect() as conn:
            row = conn.execute(select(crls.c.der, crls.c.next_update).where(crls.c.ca == ca_name)).first()
        if row is None and staff:
            raise unknown_ca(ca_name)
        if row is None:
            raise RuntimeError(f"CA {ca_name!r} has no CRL: run `kojin init` (bootstrap the CA)")
        if self._fresh(row.next_update, now):
            return bytes(row.der)
        with self.engine.begin() as conn:
            number = self.lock(conn, ca_name)
            # Another worker may have refreshed it while this one waited.
            row = conn.execute(select(crls.c.der, crls.c.next_update).where(crls.c.ca == ca_name)).first()
            if row is not None and self._fresh(row.next_update, now):
                return bytes(row.der)
            return self.write(conn, ca_name, now, number=number + 1)

    def _fresh(self, next_update: datetime, now: datetime) -> bool:
        return now < as_utc(next_update) - self.validity / 2
