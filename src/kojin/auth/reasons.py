"""Reason codes of auth: 認証 (card login and relying parties).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import InvalidInput, Unauthenticated

TABLE = Table("auth", "認証 (card login and relying parties)", prefixes=("auth",))


BAD_SIGNATURE = TABLE.reason(
    "auth.bad_signature",
    Unauthenticated,
    "カードの署名を検証できません。",
    "The card's signature does not verify.",
    field="signature",
)

CERTIFICATE_SIZE = TABLE.reason(
    "auth.certificate_size",
    InvalidInput,
    "証明書の大きさが不正です。",
    "The certificate is missing or too large.",
    field="certificate",
)

CHALLENGE_EXPIRED = TABLE.reason(
    "auth.challenge_expired",
    Unauthenticated,
    "チャレンジの有効期限が切れています。もう一度お試しください。",
    "The challenge has expired; start again.",
    field="challenge",
)

CHALLENGE_FORGED = TABLE.reason(
    "auth.challenge_forged",
    Unauthenticated,
    "このチャレンジは発行されたものではありません。",
    "This challenge was not issued here.",
    field="challenge",
)

CHALLENGE_MALFORMED = TABLE.reason(
    "auth.challenge_malformed",
    Unauthenticated,
    "チャレンジの形式が正しくありません。",
    "The challenge is malformed.",
    field="challenge",
)

CHALLENGE_OTHER_RP = TABLE.reason(
    "auth.challenge_other_rp",
    Unauthenticated,
    "このチャレンジは別のサービス向けです。",
    "This challenge was issued for another relying party.",
    field="challenge",
)

CHALLENGE_REPLAYED = TABLE.reason(
    "auth.challenge_replayed",
    Unauthenticated,
    "このチャレンジは既に使われています。",
    "This challenge was already used.",
    field="challenge",
)

SIGNATURE_SIZE = TABLE.reason(
    "auth.signature_size",
    InvalidInput,
    "署名の大きさが不正です。",
    "The signature is missing or too large.",
    field="signature",
)
