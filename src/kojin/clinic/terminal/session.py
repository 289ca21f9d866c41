"""The terminal's session cookie: the clinic, a CSRF token and an expiry, MACed with the eligibility service's key.

Separate from the pages so the cookie's format is read in one place, with no
web framework in it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

COOKIE = "kojin_clinic"
SESSION_S = 12 * 3600
"""A terminal stays signed in for a working day."""

MacKey = Callable[[], bytes]
"""The MAC key, asked for only when a cookie is made or a well-formed one read
(the eligibility service makes its key on first use)."""


@dataclass(frozen=True)
class TerminalSession:
    clinic_id: str
    csrf: str
    expires: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def encode(session: TerminalSession, key: MacKey) -> str:
    body = _b64(json.dumps({"c": session.clinic_id, "t": session.csrf, "e": session.expires}).encode())
    mac = _b64(hmac.digest(key(), body.encode(), "sha256"))
    return f"{body}.{mac}"


def decode(value: str | None, key: MacKey) -> TerminalSession | None:
    """The session in ``value``, or None when it is malformed, forged or expired."""
    if not value or len(value) > 400 or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    expected = _b64(hmac.digest(key(), body.encode(), "sha256"))
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or data["e"] < time.time():
        return None
    return TerminalSession(str(data.get("c")), str(data.get("t")), int(data["e"]))
