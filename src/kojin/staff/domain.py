"""Staff identity and purpose-bound access (職員と利用目的): pure rules.

Who works where (roles and the organisations that may hold them), why a staff
member may look at a person (the purposes, 事務), what an access-log entry
records, and the two-person rule for bulk listings. No storage, no web.

A *person key* is the key the person is known by where the access happens, as
text (the register's resident id at a municipality); the portal shows a person
the entries recorded under their key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from kojin.hub.domain import tasks as exchange_tasks
from kojin.staff import reasons

BULK_THRESHOLD = 20
"""Listing or exporting more than this many people needs a second staff member's approval."""


class Role(StrEnum):
    """What a staff member may do (役割); default deny: a role reaches only its own scope."""

    COUNTER_CLERK = "counter_clerk"
    SUPERVISOR = "supervisor"
    JLIS_OPERATOR = "jlis_operator"
    AGENCY_OFFICER = "agency_officer"
    INSURER_OFFICER = "insurer_officer"
    LINKAGE_CLERK = "linkage_clerk"
    AUDITOR = "auditor"
    SYSADMIN = "sysadmin"
    # The owner of an embedded installation at its own terminal (``kojin init``):
    # the CLI only, never a token, every act recorded under the OS user too.
    LOCAL_ADMIN = "local_admin"


@dataclass(frozen=True)
class RoleLabel:
    ja: str
    en: str
    scope: str
    scope_ja: str = ""


ROLE_LABELS: dict[Role, RoleLabel] = {
    Role.COUNTER_CLERK: RoleLabel(
        "窓口職員",
        "counter clerk",
        "register writes and single-person reads in the own municipality",
        "自分の市区町村の住民記録の届出処理と、一人ずつの閲覧",
    ),
    Role.SUPERVISOR: RoleLabel(
        "監督者", "supervisor", "approvals (the second person of the two-person rule)", "承認（二人目の確認）"
    ),
    Role.JLIS_OPERATOR: RoleLabel(
        "J-LIS", "J-LIS operator", "numbering and card operations at J-LIS", "J-LIS での付番とカードの業務"
    ),
    Role.AGENCY_OFFICER: RoleLabel(
        "機関職員", "agency officer", "the own agency's copies and records only", "自機関の副本と記録だけ"
    ),
    Role.INSURER_OFFICER: RoleLabel(
        "保険者職員", "insurer officer", "the own insurer's members only", "自保険者の加入者だけ"
    ),
    Role.LINKAGE_CLERK: RoleLabel(
        "照合担当", "linkage clerk", "the review queue of record linkage", "名寄せの要確認案件の審査"
    ),
    Role.AUDITOR: RoleLabel(
        "監査",
        "auditor",
        "read-only over records and logs; no personal data unless a case is open",
        "記録とログの閲覧のみ（事案を開くまで個人情報は見ない）",
    ),
    Role.SYSADMIN: RoleLabel(
        "システム管理者",
        "system administrator",
        "keys, start and stop; no personal data",
        "鍵・起動と停止（個人情報は見ない）",
    ),
    Role.LOCAL_ADMIN: RoleLabel(
        "端末管理者",
        "local administrator",
        "the embedded installation's own terminal (CLI only), every act recorded",
        "この端末のコマンドだけ（すべての操作を記録）",
    ),
}


class OrganisationKind(StrEnum):
    MUNICIPALITY = "municipality"  # 市区町村: id is the municipality code
    JLIS = "jlis"  # 地方公共団体情報システム機構
    AGENCY = "agency"  # an agency at the hub: id is its agency id
    INSURER = "insurer"  # 医療保険者: id is its insurer id
    LINKAGE = "linkage"  # the linkage clerks' office
    OVERSIGHT = "oversight"  # the oversight body
    INSTALLATION = "installation"  # one embedded installation, administered at its own terminal


# Organisations that are one of a kind have their kind as their id.
SINGLE = frozenset(
    {OrganisationKind.JLIS, OrganisationKind.LINKAGE, OrganisationKind.OVERSIGHT, OrganisationKind.INSTALLATION}
)

_ID_PATTERNS = {
    OrganisationKind.MUNICIPALITY: re.compile(r"[0-9]{5,6}\Z"),
    OrganisationKind.AGENCY: re.compile(r"[a-z0-9_]{1,40}\Z"),
    OrganisationKind.INSURER: re.compile(r"[a-z0-9_]{1,40}\Z"),
}

# Every organisation has supervisors (the second person) and its own system administrators.
_COMMON = frozenset({Role.SUPERVISOR, Role.SYSADMIN})
ROLES_BY_KIND: dict[OrganisationKind, frozenset[Role]] = {
    OrganisationKind.MUNICIPALITY: _COMMON | {Role.COUNTER_CLERK},
    OrganisationKind.JLIS: _COMMON | {Role.JLIS_OPERATOR},
    OrganisationKind.AGENCY: _COMMON | {Role.AGENCY_OFFICER},
    OrganisationKind.INSURER: _COMMON | {Role.INSURER_OFFICER},
    OrganisationKind.LINKAGE: _COMMON | {Role.LINKAGE_CLERK},
    OrganisationKind.OVERSIGHT: _COMMON | {Role.AUDITOR},
    OrganisationKind.INSTALLATION: frozenset({Role.LOCAL_ADMIN}),
}


@dataclass(frozen=True, order=True)
class Organisation:
    """One organisation staff belong to: ``municipality:131016``, ``jlis``, ``agency:nenkin`` …"""

    kind: OrganisationKind
    id: str

    def __str__(self) -> str:
        return self.kind.value if self.kind in SINGLE else f"{self.kind.value}:{self.id}"

    @classmethod
    def of(cls, kind: str, org_id: str | None = None) -> Organisation:
        """The organisation of ``kind`` and ``org_id``, checked (``staff.invalid_organisation``)."""
        try:
            parsed = OrganisationKind(kind)
        except ValueError:
            raise reasons.INVALID_ORGANISATION.error(value=kind) from None
        if parsed in SINGLE:
            if org_id not in (None, parsed.value):
                raise reasons.INVALID_ORGANISATION.error(value=f"{kind}:{org_id}")
            return cls(parsed, parsed.value)
        if not isinstance(org_id, str) or not _ID_PATTERNS[parsed].match(org_id):
            raise reasons.INVALID_ORGANISATION.error(value=f"{kind}:{org_id}")
        return cls(parsed, org_id)

    @classmethod
    def parse(cls, text: str) -> Organisation:
        kind, sep, org_id = text.partition(":")
        return cls.of(kind, org_id if sep else None)


def parse_role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise reasons.INVALID_ROLE.error(value=value) from None


def may_hold(organisation: Organisation, role: Role) -> bool:
    return role in ROLES_BY_KIND[organisation.kind]


def check_may_hold(organisation: Organisation, role: Role) -> None:
    if not may_hold(organisation, role):
        raise reasons.ROLE_NOT_FOR_ORGANISATION.error(organisation=str(organisation), role=role.value)


_STAFF_ID = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,39}\Z")
_CARD_SERIAL = re.compile(r"[A-Za-z0-9]{1,40}\Z")


def validate_staff_id(value: object) -> str:
    if not isinstance(value, str) or not _STAFF_ID.match(value):
        raise reasons.INVALID_STAFF_ID.error(value=value)
    return value


def validate_display_name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 100:
        raise reasons.INVALID_NAME.error()
    return value.strip()


def validate_card_serial(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _CARD_SERIAL.match(value):
        raise reasons.INVALID_CARD_SERIAL.error()
    return value


def validate_person_key(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or value.strip() != value:
        raise reasons.INVALID_PERSON_KEY.error()
    return value


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    display_name: str
    organisation: Organisation
    role: Role
    card_serial: str | None
    active: bool


@dataclass(frozen=True)
class StaffPrincipal:
    """Who is acting, as a checked token or web session says.

    ``token_id`` is the token's ``jti`` or the web session's id: a logout
    (:meth:`~kojin.staff.service.StaffService.revoke_token`) names either.
    ``card_serial`` is the staff card the login was made with (None for a
    token issued without a card).
    """

    staff_id: str
    role: Role
    organisation: Organisation
    token_id: str
    expires_at: datetime
    card_serial: str | None = None


# -- purposes (事務) -------------------------------------------------------------------------------

# The offices' own tasks (the counter's, the agencies'), beside the exchange tasks of the permitted-exchange table.
COUNTER_TASKS: dict[str, str] = {
    "住民票の写しの交付": "issuing a copy of the residence record",
    "住民票の記載事項の確認": "checking an entry of the residence record",
    "出生届": "birth notification",
    "転入届": "moving-in notification",
    "転出届": "moving-out notification",
    "転居届": "change-of-address notification within the municipality",
    "死亡届": "death notification",
    "氏名の変更": "change of name",
    "在留資格等の変更": "change of residence status or period of stay",
    "個人番号の変更": "changing an individual number",
    "個人番号カードの交付": "issuing an individual number card",
    "暗証番号の初期化": "resetting a card PIN",
    "券面記載事項の変更": "writing changed details to a card",
    "名寄せの確認": "reviewing a record-linkage case",
    "機関別符号の取得": "obtaining the agency's code for a person",
    "副本の登録": "registering copies for information linkage",
    "資格確認書の交付": "issuing an eligibility certificate",
    "利用登録の解除": "cancelling the card's registration as an insurance card",
    "ひも付けの誤りの申し出の確認": "checking a link the person disputed",
    "資格情報のお知らせの作成": "making a member's notice of insurance details",
}

EXCHANGE_TASK_EN: dict[str, str] = {
    "予防接種の実施に関する事務": "vaccinations",
    "介護保険の保険給付の支給又は保険料の徴収に関する事務": "long-term care insurance benefits and premiums",
    "保育の利用に関する事務": "childcare places",
    "健康保険の保険給付の支給に関する事務": "health insurance benefits",
    "健康保険の被扶養者の認定に関する事務": "recognising health insurance dependants",
    "児童手当の支給に関する事務": "child allowance",
    "児童扶養手当の支給に関する事務": "child-rearing allowance",
    "公営住宅の管理に関する事務": "public housing",
    "国民健康保険の保険給付の支給又は保険料の徴収に関する事務": "national health insurance benefits and premiums",
    "国民年金の保険料の免除に関する事務": "national pension premium exemptions",
    "国税の賦課又は徴収に関する事務": "national taxes",
    "地方税の賦課又は徴収に関する事務": "local taxes",
    "年金給付の支給に関する事務": "pension benefits",
    "後期高齢者医療の保険料の徴収に関する事務": "late-elderly medical care premiums",
    "後期高齢者医療給付の支給に関する事務": "late-elderly medical care benefits",
    "本人への自己情報の表示に関する事務": "showing people their own information",
    "生活保護の決定及び実施に関する事務": "public assistance",
    "障害者自立支援給付の支給に関する事務": "disability support benefits",
    "雇用保険の失業等給付の支給に関する事務": "employment insurance benefits",
}


class PurposeKind(StrEnum):
    EXCHANGE = "exchange"  # a task of the permitted-exchange table
    COUNTER = "counter"  # a counter task


@dataclass(frozen=True)
class Purpose:
    name: str  # the 事務 as the law names it; what is stored
    en: str
    kind: PurposeKind


@lru_cache(maxsize=1)
def purposes() -> dict[str, Purpose]:
    """Every purpose a staff access may state, by its Japanese name."""
    found: dict[str, Purpose] = {}
    for task in exchange_tasks():
        if task not in EXCHANGE_TASK_EN:
            raise ValueError(f"permitted-exchange task without an English label: {task}")
        found[task] = Purpose(task, EXCHANGE_TASK_EN[task], PurposeKind.EXCHANGE)
    for task, en in COUNTER_TASKS.items():
        found[task] = Purpose(task, en, PurposeKind.COUNTER)
    return found


def require_purpose(value: str | None) -> Purpose:
    """The purpose named, or ``staff.purpose_required`` / ``staff.unknown_purpose``."""
    if value is None or not value.strip():
        raise reasons.PURPOSE_REQUIRED.error()
    found = purposes().get(value.strip())
    if found is None:
        raise reasons.UNKNOWN_PURPOSE.error(value=value)
    return found


# -- the access log -------------------------------------------------------------------------------


class Access(StrEnum):
    READ = "read"
    SEARCH = "search"
    EXPORT = "export"
    WRITE = "write"


def parse_access(value: object) -> Access:
    try:
        return Access(str(value))
    except ValueError:
        raise reasons.INVALID_ACCESS.error(value=value) from None


def needs_second_person(what: Access, count: int) -> bool:
    """Whether showing ``count`` people this way needs an approved bulk request (two-person rule)."""
    return what in (Access.SEARCH, Access.EXPORT) and count > BULK_THRESHOLD


@dataclass(frozen=True)
class AccessEntry:
    """One staff access to one person, as the auditor sees it (with the staff member's name)."""

    entry_id: int
    at: datetime
    staff_id: str
    staff_name: str
    role: Role
    organisation: Organisation
    person_key: str
    purpose: str
    what: Access
    count: int


@dataclass(frozen=True)
class AccessSeen:
    """One staff access as the person sees it: which organisation and role, why, when; never who."""

    at: datetime
    organisation: Organisation
    role: Role
    purpose: str
    what: Access

    @classmethod
    def of(cls, entry: AccessEntry) -> AccessSeen:
        return cls(entry.at, entry.organisation, entry.role, entry.purpose, entry.what)


# -- bulk approvals (two-person rule) -------------------------------------------------------------

BULK_REQUESTS_PER_HOUR = 5
"""At most this many bulk requests per staff member in any hour: a stolen token cannot list the register."""

RATE_WINDOW = timedelta(hours=1)


class BulkStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    EXPORTED = "exported"  # the one export of the approval is done


_RECIPIENT = re.compile(r"[A-Za-z0-9_.:@\-]{1,100}\Z")


def validate_recipient_name(value: object) -> str:
    if not isinstance(value, str) or not _RECIPIENT.match(value):
        raise reasons.INVALID_BULK.error(what="受取人", what_en="recipient", field="recipient")
    return value


def validate_bulk(row_count: object, recipient: object) -> tuple[int, str]:
    """A bulk request's row count (an upper bound) and the recipient whose key the file is encrypted to."""
    if not isinstance(row_count, int) or isinstance(row_count, bool) or row_count < 1:
        raise reasons.INVALID_BULK.error(what="件数", what_en="row count", field="row_count")
    return row_count, validate_recipient_name(recipient)


@dataclass(frozen=True)
class ExportDone:
    """What the one export of an approval wrote: the file, its rows and the SHA-256 of the encrypted file."""

    file_name: str
    rows: int
    sha256: str
    at: datetime


@dataclass(frozen=True)
class BulkRequest:
    bulk_id: int
    requester_id: str
    organisation: Organisation
    purpose: str
    row_count: int
    recipient: str
    status: BulkStatus
    requested_at: datetime
    approver_id: str | None
    approved_at: datetime | None
    export: ExportDone | None = None


def check_approver(request: BulkRequest, approver: StaffPrincipal) -> None:
    """The second person: another staff member, a supervisor, of the requester's organisation."""
    if (
        approver.staff_id == request.requester_id
        or approver.role is not Role.SUPERVISOR
        or approver.organisation != request.organisation
    ):
        raise reasons.TWO_PERSON_RULE.error(limit=BULK_THRESHOLD)


def check_covers(request: BulkRequest, principal: StaffPrincipal, purpose: Purpose, count: int) -> None:
    """An approved, unused request of this staff member, for this purpose, of at least ``count`` rows; or 403."""
    if (
        request.status is not BulkStatus.APPROVED
        or request.requester_id != principal.staff_id
        or request.organisation != principal.organisation
        or request.purpose != purpose.name
        or request.row_count < count
    ):
        raise reasons.TWO_PERSON_RULE.error(limit=BULK_THRESHOLD)


def check_exportable(request: BulkRequest, principal: StaffPrincipal, purpose: Purpose, count: int) -> None:
    """The request may be exported under now: covered as above, and not exported before (one export each)."""
    if request.status is BulkStatus.EXPORTED:
        raise reasons.BULK_USED.error(bulk_id=request.bulk_id)
    check_covers(request, principal, purpose, count)


# -- recipients of exports ------------------------------------------------------------------------

MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class Recipient:
    """A named holder of a certificate whose RSA key export files are encrypted to (another agency's officer)."""

    name: str
    certificate_pem: str
    subject: str
    fingerprint: str  # SHA-256 of the certificate's DER, lower-case hex
    not_after: datetime
    registered_by: str
    organisation: Organisation
    registered_at: datetime
