"""A relying party's cache of OCSP answers (OCSP応答のキャッシュ), in front of any lookup.

Kept apart from the client because it wraps any :data:`~kojin.pki.ocsp_client.OcspLookup`
(the client over HTTP, or the responder in process) and holds state of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kojin.pki.domain import as_utc
from kojin.pki.ocsp_client import OcspAnswer, OcspLookup, OcspStatus


class OcspCache:
    """OCSP応答のキャッシュ: keeps each answer until its nextUpdate, then asks again.

    Unknown answers and answers without nextUpdate are not kept. The cache is
    bounded; when full, the oldest entry goes first.
    """

    def __init__(
        self,
        lookup: OcspLookup,
        *,
        clock: Callable[[], datetime] | None = None,
        max_entries: int = 10_000,
    ) -> None:
        if max_entries < 1:
            raise ValueError("an OCSP cache holds at least one answer")
        self.lookup = lookup
        self._clock = clock or (lambda: datetime.now(UTC))
        self.max_entries = max_entries
        self._entries: dict[tuple[bytes, int], OcspAnswer] = {}
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
            if cached is not None and cached.next_update is not None and now < cached.next_update:
                self.hits += 1
                return cached
            self._entries.pop(key, None)
            self.misses += 1
        answer = self.lookup(certificate, issuer)
        if answer.status is not OcspStatus.UNKNOWN and answer.next_update is not None and now < answer.next_update:
            with self._lock:
                while len(self._entries) >= self.max_entries:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = answer
        return answer

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
