"""Reason codes of clinic: 医療機関 (the clinic terminal).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Unauthenticated

TABLE = Table("clinic", "医療機関 (the clinic terminal)", prefixes=("clinic",))


SIGNED_OUT = TABLE.reason(
    "clinic.signed_out",
    Unauthenticated,
    "端末にログインしてください。",
    "Sign the terminal in first.",
    field="clinic",
)
