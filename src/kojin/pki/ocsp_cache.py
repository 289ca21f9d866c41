"""A relying party's cache of OCSP answers (OCSP応答のキャッシュ), in front of any lookup.

Kept apart from the client because it wraps any :data:`~kojin.pki.ocsp_client.OcspLookup`
(the client over HTTP, or the responder in process) and holds state of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kojin.pki.domain import as_utc
from kojin.pki.ocsp_client import OcspAnswer, OcspLookup, OcspStatus

# How long a "good" answer is believed. A responder's good answer is valid for
# minutes, but a card reported lost must be refused everywhere within a second:
# a revocation in this process reaches the cache at once (:meth:`OcspCache.forget`),
# one made by another process is seen when the good answer is asked again.
GOOD_FOR = timedelta(seconds=1)


class OcspCache:
    """OCSP応答のキャッシュ: keeps a revoked answer until its nextUpdate, a good one for ``good_for``.

    Unknown answers and answers without nextUpdate are not kept. The cache is
    bounded; when full, the oldest entry goes first. :meth:`forget` drops the
    answers about serials just revoked (the CA's revocation listener).
    """

    def __init__(
        self,
        lookup: OcspLookup,
        *,
        clock: Callable[[], datetime] | None = None,
        max_entries: int = 10_000,
        good_for: timedelta = GOOD_FOR,
    ) -> None:
        if max_entries < 1:
            raise ValueError("an OCSP cache holds at least one answer")
        self.lookup = lookup
        self._clock = clock or (lambda: datetime.now(UTC))
        self.max_entries = max_entries
        self.good_for = good_for
        # key -> (answer, believed until)
        self._entries: dict[tuple[bytes, int], tuple[OcspAnswer, datetime]] = {}
        # Bumped by forget(): an answer asked for before a revocation was heard
        # may be stale, so it is returned but not kept.
        self._generation = 0
        # Issuer certificate objects seen -> their SHA-256 fingerprint. A
        # certificate rehashes its whole DER on every hash(), and a login
        # passes the trust store's own issuer object, so it is recognised by
        # identity; the entry holds the object, so its id cannot be reused.
        self._issuers: dict[int, tuple[x509.Certificate, bytes]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _issuer_id(self, issuer: x509.Certificate) -> bytes:
        known = self._issuers.get(id(issuer))
        if known is not None and known[0] is issuer:
            return known[1]
        fingerprint = issuer.fingerprint(hashes.SHA256())
        with self._lock:
            if len(self._issuers) >= 64:  # a few CAs, a new object per trust-store reload
                self._issuers.clear()
            self._issuers[id(issuer)] = (issuer, fingerprint)
        return fingerprint

    def __call__(self, certificate: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        key = (self._issuer_id(issuer), certificate.serial_number)
        now = as_utc(self._clock())
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None and now < cached[1]:
                self.hits += 1
                return cached[0]
            self._entries.pop(key, None)
            self.misses += 1
            generation = self._generation
        answer = self.lookup(certificate, issuer)
        until = self._believed_until(answer, now)
        if until is not None:
            with self._lock:
                if generation == self._generation:
                    while len(self._entries) >= self.max_entries:
                        del self._entries[next(iter(self._entries))]
                    self._entries[key] = (answer, until)
        return answer

    def _believed_until(self, answer: OcspAnswer, now: datetime) -> datetime | None:
        """Until when an answer may be reused, or None when it is not kept."""
        if answer.status is OcspStatus.UNKNOWN or answer.next_update is None or now >= answer.next_update:
            return None
        if answer.status is OcspStatus.GOOD:
            return min(answer.next_update, now + self.good_for)
        return answer.next_update  # revoked stays revoked

    def forget(self, serials: Iterable[int]) -> None:
        """Drop what is held about these serials (they were just revoked)."""
        gone = set(serials)
        if not gone:
            return
        with self._lock:
            self._generation += 1
            for key in [key for key in self._entries if key[1] in gone]:
                del self._entries[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
