"""The review pages' form tokens (CSRF対策) and the key that signs them.

The key is made once per store and shared by every process serving the pages,
so a form opened on one server can be posted to another; it is kept apart from
the matching itself, which never needs it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from sqlalchemy import Engine

from kojin.core.keys import party_secret
from kojin.linkage import reasons
from kojin.linkage.store import match_secrets

__all__ = ["FormTokens"]

_LIFETIME = 2 * 3600


class FormTokens:
    """Signed, time-limited tokens bound to one form's purpose."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._key: bytes | None = None

    def ensure_key(self) -> None:
        """Create the CSRF signing key once (idempotent, safe between processes)."""
        self._secret()

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = party_secret(self.engine, match_secrets)
        return self._key

    def token(self, purpose: str, *, now: float | None = None) -> str:
        """A signed token for a form: issue time and an HMAC of purpose and time."""
        issued = int(now if now is not None else time.time())
        mac = hmac.new(self._secret(), f"kojin-csrf|{purpose}|{issued}".encode(), hashlib.sha256).hexdigest()
        return f"{issued}.{mac}"

    def check(self, token: str, purpose: str, *, now: float | None = None) -> None:
        issued_text, _, mac = token.partition(".")
        current = now if now is not None else time.time()
        # ASCII digits only ("²".isdigit() is true, int("²") raises), and the MACs
        # compared as bytes (compare_digest raises on a non-ASCII str).
        ok = issued_text.isascii() and issued_text.isdigit() and 0 <= current - int(issued_text) <= _LIFETIME
        expected = hmac.new(self._secret(), f"kojin-csrf|{purpose}|{issued_text}".encode(), hashlib.sha256).hexdigest()
        if not (ok and hmac.compare_digest(mac.encode(), expected.encode())):
            raise reasons.CSRF.error()
