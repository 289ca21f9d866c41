"""Reason codes of reader: カードリーダー (the card reader pages).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import InvalidInput, NotFound

TABLE = Table("reader", "カードリーダー (the card reader pages)", prefixes=("reader",))


BAD_CHALLENGE = TABLE.reason(
    "reader.bad_challenge",
    InvalidInput,
    "署名する内容が正しくありません。",
    "The challenge to sign is malformed.",
    field="challenge",
)

BAD_REQUEST = TABLE.reason(
    "reader.bad_request",
    NotFound,
    "{what_ja}の要求が正しくありません。元の画面からやり直してください。",
    "The {what_en} request is malformed; start again from the page that asked.",
    field="challenge",
)

NO_CARD = TABLE.reason(
    "reader.no_card",
    NotFound,
    "そのカードはありません。",
    "No such card.",
    field="card_id",
)
