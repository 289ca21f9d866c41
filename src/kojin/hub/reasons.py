"""Reason codes of hub: 情報提供ネットワークシステム (the hub).

Each code with the error it is raised as, its words and its field. Code raises from
here (``raise reasons.NAME.error(...)``, see kojin.core.catalogue); docs/errors.md
lists every table.

The error classes only these codes are raised as are defined here too, so that the
table needs nothing from the modules that raise them; those modules import them back.
"""

from __future__ import annotations

from kojin.core.catalogue import Table
from kojin.core.errors import Conflict, KojinError, NotFound, NotPermitted, Unauthenticated

TABLE = Table("hub", "情報提供ネットワークシステム (the hub)", prefixes=("hub",))


class RemoteRefusal(KojinError):
    """A refusal the hub sent over HTTP, with its reason code kept."""

    status = 400


class HubUnreachable(KojinError):
    """The hub did not answer over HTTP; whether it received the request is unknown."""

    status = 503


class ProviderUnavailable(KojinError):
    """The provider's intermediate server could not be reached or answered wrongly (提供元応答不能)."""

    status = 502


AGENCY_EXISTS = TABLE.reason(
    "hub.agency_exists",
    Conflict,
    "機関 {agency_id} は登録済みです。",
    "Agency {agency_id} is already registered.",
    field="agency_id",
)

BAD_CHANNEL_MAC = TABLE.reason(
    "hub.bad_channel_mac",
    Unauthenticated,
    "J-LIS からの通知として認証できません。",
    "The message does not authenticate as J-LIS's.",
    field="mac",
)

BAD_SIGNATURE = TABLE.reason(
    "hub.bad_signature",
    Unauthenticated,
    "{what_ja}の署名を検証できません。",
    "The {what_en}'s signature does not verify with the requester's key.",
    field="signature",
)

BATCH_MIXED_REQUESTERS = TABLE.reason(
    "hub.batch_mixed_requesters",
    NotPermitted,
    "一括照会の照会はすべて署名した照会機関のものでなければなりません。",
    "Every request in a batch must be the signing requester's.",
    field="requester",
)

FOREIGN_CODE = TABLE.reason(
    "hub.foreign_code",
    NotPermitted,
    "他の機関の機関別符号は使えません。",
    "The code belongs to another agency; use your own.",
    field="code",
)

LINK_DISPUTED = TABLE.reason(
    "hub.link_disputed",
    NotPermitted,
    "この機関別符号と本人とのひも付けは、本人から誤りの申し出があり停止されています（監督者が確認中、または誤りと確認済み）。",
    "The person disputed this code's link to them: it is suspended while a supervisor checks it, or was found wrong.",
    field="code",
)

NOT_PERMITTED = TABLE.reason(
    "hub.not_permitted",
    NotPermitted,
    "この照会（照会機関の種別・事務・提供機関の種別・情報）は情報連携の対象として定められていません。",
    "This (requester kind, task, provider kind, item) is not in the permitted-exchange table.",
    field="task",
)

PROVIDER_UNAVAILABLE = TABLE.reason(
    "hub.provider_unavailable",
    ProviderUnavailable,
    "提供機関から正しい応答が得られません（{detail_ja}）。",
    "The provider did not answer properly ({detail_en}).",
    field="provider",
)

REPLAYED_REQUEST = TABLE.reason(
    "hub.replayed_request",
    Conflict,
    "この処理通番は既に使われています。",
    "This request id has already been used by the requester.",
    field="request_id",
)

STALE_REQUEST = TABLE.reason(
    "hub.stale_request",
    Unauthenticated,
    "{what_ja}の時刻が現在から{freshness_seconds}秒を超えてずれています。",
    "The {what_en} time is more than {freshness_seconds} s from now.",
    field="time",
)

UNAVAILABLE = TABLE.reason(
    "hub.unavailable",
    HubUnreachable,
    "情報提供ネットワークシステムに届きません（{detail}）。",
    "The hub cannot be reached ({detail}).",
)

UNKNOWN_AGENCY = TABLE.reason(
    "hub.unknown_agency",
    NotFound,
    "{role_ja} {agency_id} は登録されていません。",
    "{role_en} {agency_id} is not registered.",
    field="requester",
)

UNKNOWN_CODE = TABLE.reason(
    "hub.unknown_code",
    NotFound,
    "この機関別符号は発行されていません。",
    "No such agency code was issued.",
    field="code",
)

UNKNOWN_PERSON = TABLE.reason(
    "hub.unknown_person",
    NotFound,
    "この人の記録はありません。",
    "The hub has no record of this person.",
)
