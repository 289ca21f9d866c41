"""Serial linkage (シリアル番号の紐付け): from a certificate serial to a person.

Only relying parties registered with J-LIS may ask. A public relying party (the
portal, the eligibility service, a municipality's kiosk service) learns the
person's 住民票コード, as a 本人確認情報 user under the 住民基本台帳法 would; a
private one gets a pairwise pseudonym, different for every relying party, so two
companies cannot join their customers on it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.core.keys import open_secret, party_secret
from kojin.pki import reasons
from kojin.pki.domain import serial_key
from kojin.pki.store import certificates, linkage_keys, relying_parties

_RP_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}\Z")


class RelyingPartyKind(StrEnum):
    PUBLIC = "public"  # 行政機関等
    PRIVATE = "private"  # 民間事業者


@dataclass(frozen=True)
class Subject:
    """Who a serial belongs to, as this relying party may know it."""

    rp_id: str
    kind: RelyingPartyKind
    juminhyo_code: str | None  # public relying parties only
    pseudonym: str | None  # private relying parties only


class SerialLinkage:
    """J-LIS's serial-to-person service for registered relying parties."""

    def __init__(self, engine: Engine, *, kind_ttl_s: float = 60.0) -> None:
        self.engine = engine
        self._key: bytes | None = None
        # Registrations change rarely and a serial's holder never changes, so
        # both are cached: each login would otherwise cost two queries.
        self._kind_ttl_s = kind_ttl_s
        self._kinds: dict[str, tuple[RelyingPartyKind, float]] = {}
        self._holders: dict[str, str] = {}

    def ensure_key(self) -> None:
        party_secret(self.engine, linkage_keys)

    def _linkage_key(self) -> bytes:
        if self._key is None:
            with self.engine.connect() as conn:
                key = conn.execute(select(linkage_keys.c.key).where(linkage_keys.c.id == 1)).scalar()
            if key is None:
                raise RuntimeError("linkage key missing: run `kojin init`")
            self._key = open_secret(bytes(key), linkage_keys.name)
        return self._key

    def register(self, rp_id: str, name: str, kind: RelyingPartyKind) -> None:
        if not _RP_ID.match(rp_id):
            raise reasons.RP_BAD_ID.error()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(relying_parties).values(
                        rp_id=rp_id, name=name, kind=RelyingPartyKind(kind).value, registered_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            raise reasons.RP_EXISTS.error() from None

    def ensure_registered(self, rp_id: str, name: str, kind: RelyingPartyKind) -> None:
        with self.engine.connect() as conn:
            if conn.execute(select(relying_parties.c.rp_id).where(relying_parties.c.rp_id == rp_id)).first():
                return
        self.register(rp_id, name, kind)

    def kind_of(self, rp_id: str) -> RelyingPartyKind:
        cached = self._kinds.get(rp_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        with self.engine.connect() as conn:
            kind = conn.execute(select(relying_parties.c.kind).where(relying_parties.c.rp_id == rp_id)).scalar()
        if kind is None:
            raise reasons.RP_NOT_REGISTERED.error()
        self._kinds[rp_id] = (RelyingPartyKind(kind), time.monotonic() + self._kind_ttl_s)
        return RelyingPartyKind(kind)

    def resolve(self, rp_id: str, serial: int) -> Subject:
        """Turn a verified certificate serial into the subject this relying party may know."""
        kind = self.kind_of(rp_id)
        key = serial_key(serial)
        code = self._holders.get(key)
        if code is None:
            with self.engine.connect() as conn:
                code = conn.execute(select(certificates.c.juminhyo_code).where(certificates.c.serial == key)).scalar()
            if code is not None and len(self._holders) < 100_000:
                self._holders[key] = str(code)
        if code is None:
            raise reasons.UNKNOWN_SERIAL.error()
        if kind is RelyingPartyKind.PUBLIC:
            return Subject(rp_id, kind, str(code), None)
        # An HMAC object rather than hmac.digest(), whose one-shot form
        # releases the GIL: on a login path that costs more than the HMAC.
        mac = hmac.new(self._linkage_key(), f"kojin-pairwise|{rp_id}|{code}".encode(), hashlib.sha256).digest()
        return Subject(rp_id, kind, None, mac[:20].hex())
