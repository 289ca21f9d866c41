"""The CA's record of each end-entity certificate (電子証明書の発行・失効情報): rows in, records out.

Issuing writes a row, revocation updates its status, OCSP and the counter read
it; the row's shape and its reading into a :class:`CertificateRecord` are kept
here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, RowMapping, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.core.errors import InvalidInput
from kojin.numbering.domain import validate_juminhyo_code
from kojin.pki.domain import (
    CertKind,
    CertStatus,
    RevocationReason,
    as_utc,
    parse_serial_key,
    serial_key,
)
from kojin.pki.errors import unknown_serial
from kojin.pki.store import certificates


@dataclass(frozen=True)
class CertificateRecord:
    """What the CA records about one certificate (電子証明書の発行・失効情報)."""

    serial: int
    ca: str
    kind: CertKind
    subject_ref: str
    not_before: datetime
    not_after: datetime
    status: CertStatus
    revoked_at: datetime | None
    reason: RevocationReason | None

    @classmethod
    def from_row(cls, row: RowMapping) -> CertificateRecord:
        return cls(
            serial=parse_serial_key(row["serial"]),
            ca=row["ca"],
            kind=CertKind(row["kind"]),
            subject_ref=row["subject_ref"],
            not_before=as_utc(row["not_before"]),
            not_after=as_utc(row["not_after"]),
            status=CertStatus(row["status"]),
            revoked_at=None if row["revoked_at"] is None else as_utc(row["revoked_at"]),
            reason=None if row["reason"] is None else RevocationReason(row["reason"]),
        )


class CertificateRows:
    """The ``certificates`` table: one row per end-entity certificate ever issued."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        *,
        serial: int,
        ca: str,
        kind: CertKind,
        subject_ref: str,
        juminhyo_code: str,
        not_before: datetime,
        not_after: datetime,
        issued_at: datetime,
        der: bytes,
        staff_id: str | None = None,
    ) -> bool:
        """Record a good certificate; False if its serial or subject reference is taken.

        A staff certificate has no 住民票コード (``""``) and names its holder by ``staff_id``.
        """
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(certificates).values(
                        serial=serial_key(serial),
                        ca=ca,
                        kind=kind.value,
                        subject_ref=subject_ref,
                        juminhyo_code=juminhyo_code,
                        staff_id=staff_id,
                        not_before=not_before,
                        not_after=not_after,
                        status=CertStatus.GOOD.value,
                        issued_at=issued_at,
                        der=der,
                    )
                )
        except IntegrityError:
            return False
        return True

    def find(self, serial: int) -> CertificateRecord | None:
        """The record of a serial, or None (OCSP answers "unknown" then)."""
        try:
            key = serial_key(serial)
        except InvalidInput:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(certificates).where(certificates.c.serial == key)).mappings().first()
        return None if row is None else CertificateRecord.from_row(row)

    def status(self, serial: int) -> CertificateRecord:
        """有効性: the certificate's state, or ``pki.unknown_serial``."""
        record = self.find(serial)
        if record is None:
            raise unknown_serial()
        return record

    def der(self, serial: int) -> bytes:
        with self.engine.connect() as conn:
            der = conn.execute(select(certificates.c.der).where(certificates.c.serial == serial_key(serial))).scalar()
        if der is None:
            raise unknown_serial()
        return bytes(der)

    def of_person(self, juminhyo_code: str) -> list[CertificateRecord]:
        """Every certificate ever issued to a person, oldest first."""
        validate_juminhyo_code(juminhyo_code)
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(certificates)
                    .where(certificates.c.juminhyo_code == juminhyo_code)
                    .order_by(certificates.c.issued_at, certificates.c.serial)
                )
                .mappings()
                .all()
            )
        return [CertificateRecord.from_row(row) for row in rows]
