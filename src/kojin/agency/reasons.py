"""Reason codes of agency: 行政機関・中間サーバー (agencies and their intermediate servers).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated

TABLE = Table("agency", "行政機関・中間サーバー (agencies and their intermediate servers)", prefixes=("agency",))


ANSWER_MISMATCH = TABLE.reason(
    "agency.answer_mismatch",
    NotPermitted,
    "回答が照会と一致しません（{what}）。",
    "The answer does not match the request ({what}).",
)

BAD_CHANNEL_MAC = TABLE.reason(
    "agency.bad_channel_mac",
    Unauthenticated,
    "情報提供ネットワークシステムからの求めとして認証できません。",
    "The query does not authenticate as the hub's.",
    field="mac",
)

BAD_COPIES = TABLE.reason(
    "agency.bad_copies",
    InvalidInput,
    "{where_ja}{problem_ja}。何も登録していません。",
    "{where_en}{problem_en}. Nothing was registered.",
    field="jsonl",
)

BAD_JSON = TABLE.reason(
    "agency.bad_json",
    InvalidInput,
    "JSON ではありません（{detail}）。",
    "Not JSON ({detail}).",
    field="json_file",
)

BAD_LOCAL_ID = TABLE.reason(
    "agency.bad_local_id",
    InvalidInput,
    "宛名番号は64文字以内です。",
    "A local id is 1–64 characters.",
    field="local_id",
)

BAD_PAYLOAD = TABLE.reason(
    "agency.bad_payload",
    InvalidInput,
    "副本の内容が JSON ではありません。",
    "The copy's payload is not JSON.",
    field="payload",
)

BAD_REQUESTS = TABLE.reason(
    "agency.bad_requests",
    InvalidInput,
    "{where_ja}{problem_ja}。何も照会していません。",
    "{where_en}{problem_en}. Nothing was asked.",
    field="requests",
)

CODE_ENROLLED = TABLE.reason(
    "agency.code_enrolled",
    Conflict,
    "この符号は別の宛名番号に登録済みです。",
    "This code is already kept under another local id.",
    field="local_id",
)

LOCAL_ID_TAKEN = TABLE.reason(
    "agency.local_id_taken",
    Conflict,
    "この宛名番号には別の符号が登録されています。",
    "This local id already holds another code.",
    field="local_id",
)

NO_KEYS = TABLE.reason(
    "agency.no_keys",
    NotFound,
    "機関 {agency_id} の鍵がありません。",
    "Agency {agency_id} has no keys; register it first.",
    field="agency_id",
)

NOT_HOSTED = TABLE.reason(
    "agency.not_hosted",
    NotFound,
    "機関 {agency_id} の中間サーバーはここにありません。",
    "Agency {agency_id}'s intermediate server is not hosted here.",
    field="agency_id",
)

PAYLOAD_TOO_LARGE = TABLE.reason(
    "agency.payload_too_large",
    InvalidInput,
    "{what_ja}が大きすぎます（{limit}バイトまで）。",
    "The {what_en} is too large ({limit} bytes at most).",
    field="payload",
)

STALE_QUERY = TABLE.reason(
    "agency.stale_query",
    Unauthenticated,
    "求めの時刻が古すぎるか未来です。",
    "The query time is too far from now.",
    field="sent_at_ms",
)

UNKNOWN_CODE = TABLE.reason(
    "agency.unknown_code",
    NotFound,
    "この機関の符号ではありません（先に符号を取得してください）。",
    "Not a code of this agency's people; obtain the code first.",
    field="code",
)

UNKNOWN_ITEM = TABLE.reason(
    "agency.unknown_item",
    InvalidInput,
    "情報の種類が不明です。",
    "Unknown item; one of: {items}.",
    field="item",
)

UNKNOWN_PERSON = TABLE.reason(
    "agency.unknown_person",
    NotFound,
    "この宛名番号の人はいません。",
    "No person has this local id.",
    field="local_id",
)

UNREADABLE_FILE = TABLE.reason(
    "agency.unreadable_file",
    InvalidInput,
    "{path} を読めません。",
    "Cannot read {path}.",
    field="jsonl",
)

UNWRITABLE_FILE = TABLE.reason(
    "agency.unwritable_file",
    InvalidInput,
    "{path} に書けません。",
    "Cannot write {path}.",
    field="out",
)

WRONG_PROVIDER = TABLE.reason(
    "agency.wrong_provider",
    NotPermitted,
    "この中間サーバー宛ての求めではありません。",
    "The query is addressed to another intermediate server.",
    field="provider",
)
