"""Refusals raised by more than one part of the CA or of the relying-party checks.

Each is a function, so every raise builds a fresh exception with the same code
and wording; they live apart so that the parts that raise them need not import
one another for an error.
"""

from __future__ import annotations

from kojin.core.errors import NotFound
from kojin.pki import reasons
from kojin.pki.domain import CA_NAMES


def unknown_serial(field: str = "serial") -> NotFound:
    return reasons.UNKNOWN_SERIAL.error(field=field)


def unknown_ca(name: str) -> NotFound:
    return reasons.UNKNOWN_CA.error(name=name, ca_names=", ".join(CA_NAMES))
