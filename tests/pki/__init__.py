"""Tests of the J-LIS CA (公的個人認証サービス), with shared helpers.

The helpers live here rather than in a conftest so each test module states its
own fixtures (and their scope) and imports what it needs with ``from . import``.
CA key generation is the slow part, so modules build one CA each and most
end-entity keys are P-256; RSA is used where the profile itself is checked.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypedDict

from cryptography.hazmat.primitives.asymmetric import ec

from kojin.core.config import Settings
from kojin.core.db import Database, register_party
from kojin.pki.domain import Algorithm
from kojin.pki.service import CertificateAuthority

CODE = "12345678903"
OTHER_CODE = "10987654320"
ADULT_BIRTH = date(1985, 6, 15)


class BasicItems(TypedDict):
    """The four basic items (基本4情報) a signature certificate is issued with."""

    name: str
    address: str
    birth_date: date
    sex: str


PERSON: BasicItems = {
    "name": "山田 太郎",
    "address": "東京都文京区本郷一丁目1番1号",
    "birth_date": ADULT_BIRTH,
    "sex": "1",
}


@contextmanager
def pki_store(directory: Path, database_url: str | None = None) -> Iterator[Database]:
    """A migrated, private pki store: SQLite under ``directory``, or a PostgreSQL schema."""
    register_party("pki", "kojin.pki")
    db = Database(
        Settings(
            data_dir=directory,
            database_url=database_url,
            schema_prefix=f"tpki_{secrets.token_hex(4)}_",
        )
    )
    db.migrate("pki")
    try:
        yield db
    finally:
        db.drop_all()


@contextmanager
def authority(
    directory: Path,
    *,
    algorithm: Algorithm = "p256",
    base_url: str = "http://127.0.0.1:8000",
    clock: Callable[[], datetime] | None = None,
    database_url: str | None = None,
) -> Iterator[CertificateAuthority]:
    with pki_store(directory, database_url) as db:
        ca = CertificateAuthority(db.engine("pki"), algorithm=algorithm, base_url=base_url, clock=clock)
        ca.bootstrap()
        yield ca


class Clock:
    """A settable clock for the CA and relying parties."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def card_key() -> ec.EllipticCurvePrivateKey:
    """A key pair as a card would make it (P-256 to keep tests fast)."""
    return ec.generate_private_key(ec.SECP256R1())
