"""Reason codes of corporate: 法人番号 (the corporate register).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound

TABLE = Table(
    "corporate", "法人番号 (the corporate register)", prefixes=("close_cause", "corporation", "mode", "street")
)


CLOSE_CAUSE_INVALID = TABLE.reason(
    "close_cause.invalid",
    InvalidInput,
    "閉鎖事由コードが正しくありません。",
    "Unknown closing cause.",
    field="close_cause",
)

CORPORATION_CLOSED = TABLE.reason(
    "corporation.closed",
    Conflict,
    "この法人は既に閉鎖されています。",
    "This corporation is already closed.",
    field="corporate_number",
)

CORPORATION_DUPLICATE = TABLE.reason(
    "corporation.duplicate",
    Conflict,
    "同じ名称・所在地の法人が登録済みです。",
    "A corporation with this name and address is already registered.",
    field="name",
)

CORPORATION_NOT_FOUND = TABLE.reason(
    "corporation.not_found",
    NotFound,
    "その法人番号の法人はありません。",
    "No corporation has that number.",
    field="corporate_number",
)

MODE_INVALID = TABLE.reason(
    "mode.invalid",
    InvalidInput,
    "検索方式は 1（前方一致）か 2（部分一致）です。",
    "mode is 1 (prefix) or 2 (partial).",
    field="mode",
)

STREET_EMPTY = TABLE.reason(
    "street.empty",
    InvalidInput,
    "所在地（町名以下）を入力してください。",
    "The street address is required.",
    field="street",
)
