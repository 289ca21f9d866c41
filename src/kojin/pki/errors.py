"""Refusals raised by more than one part of the CA or of the relying-party checks.

Each is a function, so every raise builds a fresh exception with the same code
and wording; they live apart so that the parts that raise them need not import
one another for an error.
"""

from __future__ import annotations

from kojin.core.errors import NotFound, Unauthenticated
from kojin.pki.domain import CA_NAMES


def unknown_serial(field: str = "serial") -> NotFound:
    return NotFound(
        "pki.unknown_serial",
        "そのシリアル番号の電子証明書は発行されていません。",
        "No certificate with that serial number has been issued.",
        field=field,
    )


def unknown_ca(name: str) -> NotFound:
    return NotFound(
        "pki.unknown_ca",
        f"認証局「{name}」はありません。",
        f"There is no CA named {name!r}; one of {', '.join(CA_NAMES)}.",
        field="ca",
    )


def reject(code: str, ja: str, en: str, field: str = "certificate") -> Unauthenticated:
    """A relying party's refusal of a presented certificate or of an OCSP answer about it."""
    return Unauthenticated(code, ja, en, field=field)
