"""The eligibility service's state and plumbing: its store, clock, pseudonym key, caches and writers.

The service's use cases are layered on this, one module each (insurers' copies,
card registrations, clinics, visits); :class:`~kojin.eligibility.service.EligibilityService`
is the top layer other parties hold."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select

from kojin.core.group_commit import GroupCommit, ThreadReaders
from kojin.core.japan import JST
from kojin.core.keys import party_secret
from kojin.eligibility.domain import (
    Clinic,
    Insurer,
)
from kojin.eligibility.records import Patient, PersonDirectory, RegistrationListener
from kojin.eligibility.store import (
    checkups,
    clinics,
    insurers,
    medications,
    qualifications,
    registrations,
    service_keys,
    visits,
)


class ServiceBase:
    """The service's store, clock, key, caches and writers, shared by every layer."""

    def __init__(
        self,
        engine: Engine,
        directory: PersonDirectory,
        *,
        clock: Callable[[], float] = time.time,
        patient_ttl_s: float = 60.0,
    ) -> None:
        self.engine = engine
        self._directory = directory
        self._clock = clock
        self._key: bytes | None = None
        self._writer = GroupCommit(engine, name="kojin-eligibility-visits")
        self._readers = ThreadReaders(engine)
        self._insurers: dict[str, Insurer] | None = None
        self._clinics: dict[str, tuple[Clinic, str]] = {}
        # A person's memberships change rarely (joining or leaving an insurer);
        # a minute's cache saves J-LIS and the hub a look-up on every check.
        self._patient_ttl_s = patient_ttl_s
        self._patients: dict[str, tuple[Patient, float]] = {}
        self._listener: RegistrationListener | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def today(self) -> date:
        return datetime.fromtimestamp(self._clock(), JST).date()

    def ensure_key(self) -> None:
        self._secret()

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = party_secret(self.engine, service_keys, created_at=self.now())
        return self._key

    def set_listener(self, listener: RegistrationListener) -> None:
        self._listener = listener

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table in (insurers, qualifications, registrations, medications, checkups, clinics, visits):
                out[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        return out

    def close(self) -> None:
        self._writer.close()
        self._readers.close()
