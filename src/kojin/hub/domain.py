"""The information-linkage hub's rules (情報提供ネットワークシステム): pure.

Agency kinds, the permitted-exchange table, per-agency codes, signed requests
and the exchange-log leaf. No storage, no web.
"""

from __future__ import annotations

import base64
import csv
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any, NamedTuple

from kojin.core import reasons as core_reasons
from kojin.core.crypto import canonical_json, canonical_json_built
from kojin.core.errors import InvalidInput


class AgencyKind(StrEnum):
    """Kinds of agency (情報照会者・情報提供者の種別)."""

    MUNICIPALITY = "municipality"  # 市町村長 (also the NHI insurer)
    TAX_AGENCY = "tax_agency"  # 国税庁長官
    PENSION_SERVICE = "pension_service"  # 日本年金機構
    HEALTH_INSURER = "health_insurer"  # 健康保険組合
    KYOKAI_KENPO = "kyokai_kenpo"  # 全国健康保険協会
    LATE_ELDERLY = "late_elderly"  # 後期高齢者医療広域連合
    MHLW = "mhlw"  # 厚生労働大臣 (雇用保険)
    PORTAL = "portal"  # デジタル庁（マイナポータル）: asks only for the person's own items, for the person


AGENCY_KIND_LABELS: dict[AgencyKind, tuple[str, str]] = {
    AgencyKind.MUNICIPALITY: ("市町村長", "municipality"),
    AgencyKind.TAX_AGENCY: ("国税庁長官", "National Tax Agency"),
    AgencyKind.PENSION_SERVICE: ("日本年金機構", "Japan Pension Service"),
    AgencyKind.HEALTH_INSURER: ("健康保険組合", "health insurance society"),
    AgencyKind.KYOKAI_KENPO: ("全国健康保険協会", "Japan Health Insurance Association"),
    AgencyKind.LATE_ELDERLY: ("後期高齢者医療広域連合", "late-elderly medical care union"),
    AgencyKind.MHLW: ("厚生労働大臣", "Minister of Health, Labour and Welfare"),
    AgencyKind.PORTAL: ("デジタル庁（マイナポータル）", "Digital Agency (Myna Portal)"),
}

ITEMS = (
    "地方税関係情報",
    "住民票関係情報",
    "年金給付関係情報",
    "医療保険給付関係情報",
    "児童手当関係情報",
    "生活保護関係情報",
    "障害者関係情報",
    "介護保険給付等関係情報",
    "雇用保険給付関係情報",
    "予防接種関係情報",
)


@dataclass(frozen=True)
class PermittedExchange:
    """One row of the permitted-exchange table (利用特定個人情報; formerly 別表第二)."""

    row: int
    requester_kind: AgencyKind
    task: str
    provider_kind: AgencyKind
    item: str
    legal_basis: str


@lru_cache(maxsize=1)
def permitted_exchanges() -> tuple[PermittedExchange, ...]:
    """The table shipped in ``hub/data/permitted_exchanges.csv``."""
    text = (resources.files("kojin.hub") / "data" / "permitted_exchanges.csv").read_text(encoding="utf-8")
    rows = []
    for rec in csv.DictReader(text.splitlines()):
        if rec["item"] not in ITEMS:
            raise ValueError(f"permitted_exchanges.csv row {rec['row']}: unknown item {rec['item']}")
        rows.append(
            PermittedExchange(
                int(rec["row"]),
                AgencyKind(rec["requester_kind"]),
                rec["task"],
                AgencyKind(rec["provider_kind"]),
                rec["item"],
                rec["legal_basis"],
            )
        )
    return tuple(rows)


@lru_cache(maxsize=1)
def _permitted_index() -> dict[tuple[AgencyKind, str, AgencyKind, str], PermittedExchange]:
    return {(p.requester_kind, p.task, p.provider_kind, p.item): p for p in permitted_exchanges()}


def find_permission(
    requester_kind: AgencyKind, task: str, provider_kind: AgencyKind, item: str
) -> PermittedExchange | None:
    return _permitted_index().get((requester_kind, task, provider_kind, item))


def tasks() -> list[str]:
    return sorted({p.task for p in permitted_exchanges()})


@dataclass(frozen=True)
class CodeDeriver:
    """Per-agency codes (機関別符号) from the hub's secret key.

    ``code = base32(HMAC-SHA-256(key, agency_id ‖ internal_id))[:26]``: two agencies'
    codes for one person share nothing an outsider could join on; only the hub,
    holding the key and the code table, can translate one into the other.
    """

    key: bytes

    def code(self, agency_id: str, internal_id: str) -> str:
        mac = hmac.digest(self.key, f"kojin-agency-code|{agency_id}|{internal_id}".encode(), "sha256")
        return base64.b32encode(mac[:16]).decode().rstrip("=")

    def subject_key(self, internal_id: str) -> bytes:
        """A per-person key the portal hands to the person, to recognise their leaves."""
        return hmac.digest(self.key, f"kojin-subject-key|{internal_id}".encode(), "sha256")


def subject_commitment(subject_key: bytes, requester: str, request_id: str) -> str:
    """What a log leaf says about the person: unlinkable without the person's key.

    Request ids are unique per requester only, so the requester is bound in
    too: two leaves never share a commitment, even for one person.
    """
    # "sha256" by name: HMAC takes OpenSSL's path at once, a microsecond sooner than from the constructor.
    return hmac.new(subject_key, f"kojin-leaf-subject|{requester}|{request_id}".encode(), "sha256").hexdigest()


def subject_tag(subject_key: bytes) -> bytes:
    """The person's tag in the log's index of leaves (``leaf_tags``): one per person, from their own key.

    Only the hub (which derives the key) and the portal (which the hub gives
    it to) can compute it; it says nothing about the number or any code.
    """
    return hmac.new(subject_key, b"kojin-leaf-index/1", "sha256").digest()


FRESHNESS_SECONDS = 300
"""How far a signed request's time may be from the hub's clock (±)."""

_AGENCY_ID = re.compile(r"^[a-z0-9_]{1,40}\Z")
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,64}\Z")


def invalid(field: str, what_ja: str, what_en: str) -> InvalidInput:
    """The one reason code for a malformed request, with the field it is about."""
    return core_reasons.REQUEST_INVALID.error(field_name=field, what_ja=what_ja, what_en=what_en, field=field)


def validate_agency_id(value: object, field: str = "agency_id") -> str:
    """Agency ids are short ASCII slugs: they name the agency's party store too."""
    if not isinstance(value, str) or not _AGENCY_ID.match(value):
        raise invalid(field, "機関IDは英小文字・数字・_ の40文字以内です。", "an agency id is 1–40 of [a-z0-9_].")
    return value


def agency_party(agency_id: str) -> str:
    """The party (store) name of an agency: ``agency_<id>``."""
    return "agency_" + re.sub(r"[^a-z0-9_]", "_", agency_id.lower())


REQUEST_FIELDS = ("requester", "provider", "task", "item", "code", "request_id", "time")


# The exchange path's messages are NamedTuples rather than frozen dataclasses:
# as immutable, and each is made several times per exchange, where a frozen
# dataclass's __init__ (a setattr per field) costs five times a tuple's.
class ExchangeRequest(NamedTuple):
    """A signed request for specific personal information (情報照会).

    ``code`` is the requester's own code for the person; ``request_id`` is the
    requester's 処理通番, unique per requester; ``time`` is Unix seconds.
    """

    requester: str
    provider: str
    task: str
    item: str
    code: str
    request_id: str
    time: int

    def signing_input(self) -> bytes:
        return canonical_json({"kojin": "exchange-request/1", **self.as_dict()})

    def as_dict(self) -> dict[str, Any]:
        return {
            "requester": self.requester,
            "provider": self.provider,
            "task": self.task,
            "item": self.item,
            "code": self.code,
            "request_id": self.request_id,
            "time": self.time,
        }

    @staticmethod
    def from_dict(data: object) -> ExchangeRequest:
        if not isinstance(data, dict):
            raise invalid("request", "オブジェクトではありません。", "must be an object.")
        missing = [f for f in REQUEST_FIELDS if f not in data]
        if missing:
            raise invalid(missing[0], "項目がありません。", "field is missing.")
        extra = sorted(set(data) - set(REQUEST_FIELDS))
        if extra:
            # A field the hub ignores would still be signed: refuse it rather
            # than let a requester believe it meant something.
            raise invalid(extra[0], "未知の項目です。", "unknown field.")
        time = data["time"]
        if not isinstance(time, int) or isinstance(time, bool) or not 0 <= time < 1 << 40:
            raise invalid("time", "整数（Unix 秒）ではありません。", "must be Unix seconds.")
        for f in ("task", "item", "code"):
            value = data[f]
            if not isinstance(value, str) or not value or len(value) > 200:
                raise invalid(f, "200文字以内の文字列ではありません。", "must be a non-empty string of at most 200.")
        validate_agency_id(data["requester"], "requester")
        validate_agency_id(data["provider"], "provider")
        if not isinstance(data["request_id"], str) or not _REQUEST_ID.match(data["request_id"]):
            raise invalid("request_id", "処理通番は印字可能な ASCII 64文字以内です。", "must be 1–64 printable ASCII.")
        return ExchangeRequest(
            data["requester"],
            data["provider"],
            data["task"],
            data["item"],
            data["code"],
            data["request_id"],
            time,
        )


# A batch (一括照会): many requests of one requester under one signature, as
# municipalities send them for a yearly review (現況確認) of thousands of
# people at once. Each request is still checked, answered, logged and
# recorded as an exchange of its own; only the signature (and the hub ↔
# intermediate-server hop, one message per provider) is shared.
BATCH_KIND = "exchange-batch/1"
BATCH_MAX = 1000


def batch_signing_input(requests: list[Any]) -> bytes:
    """What a requester signs for a batch: its requests as sent, in order."""
    return canonical_json({"kojin": BATCH_KIND, "requests": requests})


class Outcome(StrEnum):
    """The result of an exchange as logged (照会結果)."""

    ANSWERED = "answered"
    WITHHELD = "withheld"  # 不開示
    NO_DATA = "no_data"
    REFUSED = "refused"


LEAF_KIND = "exchange-leaf/1"


def leaf_bytes(
    *,
    time: int | None,
    requester: str | None,
    provider: str | None,
    task: str | None,
    item: str | None,
    request_id: str | None,
    outcome: Outcome,
    reason: str | None,
    subject: str | None,
    provided_at: int | None = None,
) -> bytes:
    """The exchange-log leaf: §23 metadata and a subject commitment, never the person.

    ``time`` is the request time (Unix seconds, the requester's), ``provided_at``
    the provision time (Unix ms, the provider's). ``subject`` is
    :func:`subject_commitment` (None when a refused request named no person the
    hub could authenticate); someone who sees only the log cannot tell whose it
    is or link two leaves of one person. A refused request logs whatever it
    claimed, with ``reason`` saying why it was refused.
    """
    return canonical_json_built(
        {
            "kojin": LEAF_KIND,
            "time": time,
            "requester": requester,
            "provider": provider,
            "task": task,
            "item": item,
            "request_id": request_id,
            "outcome": outcome.value,
            "reason": reason,
            "subject": subject,
            "provided_at": provided_at,
        }
    )


# -- hub ↔ intermediate server (中間サーバー) messages ----------------------------
#
# The hop is authenticated with an HMAC key the hub and the agency share from
# registration, not with signatures: both ends are fixed parties on the closed
# network that already trust each other's registration, the requester's own
# Ed25519 signature (checked by the hub) is what makes the exchange attributable,
# and the hub's Merkle log is the record both sides can be held to. An HMAC costs
# about 2 µs where an Ed25519 signature and its check cost ~140 µs, on a path
# that runs once per exchange on each side. Each message names its kind inside
# the MACed bytes, so a query's MAC never passes for an answer's.

QUERY_KIND = "provision-query/1"
ANSWER_KIND = "provision-answer/1"
SEALED_KIND = "exchange-answer/1"


QUERIES_KIND = "provision-queries/1"
ANSWERS_KIND = "provision-answers/1"


def channel_mac(key: bytes, message: dict[str, Any]) -> str:
    """The MAC of a message this side built (its fields checked: see :func:`canonical_json_built`)."""
    return _mac(key, canonical_json_built(message))


def check_channel_mac(key: bytes, message: dict[str, Any], mac: object) -> bool:
    """Whether a message as received carries its sender's MAC."""
    # Compared as bytes: compare_digest refuses a str with non-ASCII characters
    # (TypeError), and a MAC is whatever the sender put there.
    return isinstance(mac, str) and hmac.compare_digest(_mac(key, canonical_json(message)).encode(), mac.encode())


def _mac(key: bytes, data: bytes) -> str:
    # An HMAC object, not hmac.digest(): the one-shot form releases the GIL
    # around a microsecond of work, which on the exchange path (four MACs an
    # exchange) hands the GIL to a writer thread and waits to get it back.
    return hmac.new(key, data, "sha256").hexdigest()


class ProvisionQuery(NamedTuple):
    """What the hub asks a provider's intermediate server (情報提供の求め).

    ``code`` is the provider's own code for the person, never the requester's.
    ``requester_box_key`` is the requester's X25519 public key: the provider seals the
    answer in the box its own key and this one share (:class:`kojin.core.crypto.AnswerBox`).
    """

    request_id: str
    requester: str
    requester_name: str
    requester_box_key: str
    provider: str
    task: str
    item: str
    code: str
    requested_at: int
    sent_at_ms: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "kojin": QUERY_KIND,
            "request_id": self.request_id,
            "requester": self.requester,
            "requester_name": self.requester_name,
            "requester_box_key": self.requester_box_key,
            "provider": self.provider,
            "task": self.task,
            "item": self.item,
            "code": self.code,
            "requested_at": self.requested_at,
            "sent_at_ms": self.sent_at_ms,
        }

    @staticmethod
    def from_wire(data: object) -> ProvisionQuery:
        fields = _wire_fields(
            data,
            QUERY_KIND,
            (
                ("request_id", str),
                ("requester", str),
                ("requester_name", str),
                ("requester_box_key", str),
                ("provider", str),
                ("task", str),
                ("item", str),
                ("code", str),
                ("requested_at", int),
                ("sent_at_ms", int),
            ),
        )
        return ProvisionQuery(**fields)


class ProvisionAnswer(NamedTuple):
    """An intermediate server's answer (情報提供): sealed to the requester, opaque to the hub."""

    request_id: str
    provider: str
    outcome: Outcome
    sealed: str | None
    provided_at_ms: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "kojin": ANSWER_KIND,
            "request_id": self.request_id,
            "provider": self.provider,
            "outcome": self.outcome.value,
            "sealed": self.sealed,
            "provided_at_ms": self.provided_at_ms,
        }

    @staticmethod
    def from_wire(data: object) -> ProvisionAnswer:
        fields = _wire_fields(
            data,
            ANSWER_KIND,
            (
                ("request_id", str),
                ("provider", str),
                ("outcome", str),
                ("sealed", str | None),
                ("provided_at_ms", int),
            ),
        )
        try:
            outcome = Outcome(fields["outcome"])
        except ValueError:
            raise invalid("outcome", "不明な結果です。", "unknown outcome.") from None
        if outcome is Outcome.REFUSED or (outcome is Outcome.ANSWERED) != (fields["sealed"] is not None):
            raise invalid("sealed", "結果と暗号文が合いません。", "outcome and sealed answer disagree.")
        return ProvisionAnswer(
            fields["request_id"], fields["provider"], outcome, fields["sealed"], fields["provided_at_ms"]
        )


def _wire_fields(data: object, kind: str, spec: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("kojin") != kind:
        raise invalid("kojin", f"{kind} ではありません。", f"not a {kind} message.")
    out: dict[str, Any] = {}
    for name, typ in spec:
        value = data.get(name)
        if not isinstance(value, typ) or isinstance(value, bool):
            raise invalid(name, "項目が不正です。", "field is missing or of the wrong type.")
        out[name] = value
    return out


def sealed_plaintext(
    *, request_id: str, requester: str, provider: str, item: str, payload: Any, updated_at: str
) -> bytes:
    """What the provider seals: the copy, and which request it answers."""
    return canonical_json(
        {
            "kojin": SEALED_KIND,
            "request_id": request_id,
            "requester": requester,
            "provider": provider,
            "item": item,
            "payload": payload,
            "updated_at": updated_at,
        }
    )


def sealed_plaintext_json(
    *, request_id: str, requester: str, provider: str, item: str, payload_json: str, updated_at: str
) -> bytes:
    """:func:`sealed_plaintext` for a payload already written as canonical JSON (a stored copy).

    The same bytes, without parsing the copy and writing it again: the
    payload sits between the fields that sort before ``payload`` and those
    after it.
    """
    before = canonical_json_built({"item": item, "kojin": SEALED_KIND})
    after = canonical_json_built(
        {"provider": provider, "request_id": request_id, "requester": requester, "updated_at": updated_at}
    )
    return b"".join((before[:-1], b',"payload":', payload_json.encode(), b",", after[1:]))
