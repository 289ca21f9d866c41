"""Residents, addresses and their history: pure types and rules.

Names are stored exactly as given (variant characters and IVS sequences kept
code point for code point); only comparison keys elsewhere are normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kojin.core.japan import age_on
from kojin.registry import reasons
from kojin.registry.countries import ISO_3166_ALPHA2


class Sex(StrEnum):
    """性別: '1' male, '2' female, as in the register's interchange formats."""

    MALE = "1"
    FEMALE = "2"


class Status(StrEnum):
    """住民の状態."""

    RESIDENT = "resident"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


class EventKind(StrEnum):
    """異動事由: why a history entry was made."""

    BIRTH = "birth"  # 出生
    MOVE_IN = "move_in"  # 転入
    MOVE_WITHIN = "move_within"  # 転居
    MOVE_OUT = "move_out"  # 転出
    NAME_CHANGE = "name_change"  # 氏名変更
    DEATH = "death"  # 死亡
    RESIDENCE_STATUS_CHANGE = "residence_status_change"  # 在留資格変更
    NUMBER_CHANGE = "number_change"  # 個人番号の変更 (the number itself is not kept here)


EVENT_LABELS: dict[EventKind, tuple[str, str]] = {
    EventKind.BIRTH: ("出生", "birth"),
    EventKind.MOVE_IN: ("転入", "move-in"),
    EventKind.MOVE_WITHIN: ("転居", "move within the municipality"),
    EventKind.MOVE_OUT: ("転出", "move-out"),
    EventKind.NAME_CHANGE: ("氏名変更", "name change"),
    EventKind.DEATH: ("死亡", "death"),
    EventKind.RESIDENCE_STATUS_CHANGE: ("在留資格変更", "residence status change"),
    EventKind.NUMBER_CHANGE: ("個人番号変更", "individual number change"),
}

# Relationship to the head of household (続柄), the register's usual words.
RELATIONSHIPS = ("世帯主", "妻", "夫", "子", "父", "母", "孫", "兄", "姉", "弟", "妹", "同居人", "縁故者")

# 在留資格 most often held by foreign residents registered with a municipality.
RESIDENCE_STATUSES = (
    "永住者",
    "特別永住者",
    "技術・人文知識・国際業務",
    "留学",
    "技能実習",
    "特定技能",
    "家族滞在",
    "日本人の配偶者等",
    "定住者",
    "永住者の配偶者等",
    "経営・管理",
    "技能",
    "特定活動",
)


@dataclass(frozen=True)
class Address:
    """住所: postal code, prefecture, city, town (町域), block (丁目・番地・号), building."""

    postal_code: str
    prefecture: str
    city: str
    town: str
    block: str = ""
    building: str = ""

    def one_line(self) -> str:
        """The address as one string from the prefecture down."""
        line = f"{self.prefecture}{self.city}{self.town}{self.block}"
        return f"{line} {self.building}" if self.building else line


@dataclass(frozen=True)
class CardProof:
    """The person's card read at the counter: the counter's challenge signed by the card's
    authentication key after its PIN (利用者証明), with the certificate it was signed under."""

    challenge: str
    certificate: bytes
    signature: bytes


@dataclass(frozen=True)
class PersonDetails:
    """What a clerk enters to register a person (基本4情報 and more)."""

    name: str
    kana: str
    sex: Sex
    birth_date: date
    address: Address
    nationality: str = "JP"
    residence_status: str | None = None
    period_of_stay_until: date | None = None


@dataclass(frozen=True)
class Resident:
    """A person in the register (住民)."""

    resident_id: int
    juminhyo_code: str
    municipality_code: str
    name: str
    kana: str
    sex: Sex
    birth_date: date
    address: Address
    household_id: int
    relationship: str
    nationality: str
    residence_status: str | None
    period_of_stay_until: date | None
    status: Status
    registered_on: date

    @property
    def is_foreign(self) -> bool:
        return self.nationality != "JP"

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of 異動履歴, with the date it took effect."""

    entry_id: int
    resident_id: int
    kind: EventKind
    effective_date: date
    recorded_at: str
    details: dict[str, str] = field(default_factory=dict)


def validate_birth_date(birth_date: date, today: date) -> date:
    if birth_date > today:
        raise reasons.BIRTH_DATE_FUTURE.error()
    if birth_date.year < 1880:
        raise reasons.BIRTH_DATE_TOO_OLD.error()
    return birth_date


def parse_sex(value: str) -> Sex:
    try:
        return Sex(value.strip())
    except ValueError:
        raise reasons.SEX_INVALID.error() from None


def validate_effective_date(effective: date, today: date) -> date:
    if effective > today:
        raise reasons.EFFECTIVE_DATE_FUTURE.error()
    return effective


def validate_foreign_details(details: PersonDetails) -> None:
    """Foreign residents carry a residence status and, unless permanent, a period of stay."""
    nationality = details.nationality
    if nationality not in ISO_3166_ALPHA2:
        raise reasons.NATIONALITY_INVALID.error()
    if nationality == "JP":
        if details.residence_status or details.period_of_stay_until:
            raise reasons.RESIDENCE_STATUS_NOT_APPLICABLE.error()
        return
    if details.residence_status not in RESIDENCE_STATUSES:
        raise reasons.RESIDENCE_STATUS_INVALID.error(residence_statuses=", ".join(RESIDENCE_STATUSES))
    permanent = details.residence_status in ("永住者", "特別永住者")
    if not permanent and details.period_of_stay_until is None:
        raise reasons.PERIOD_OF_STAY_MISSING.error()


def resident_record(resident: Resident) -> dict[str, object]:
    """The one JSON form of a resident, shared by the API and ``--json`` output."""
    return {
        "resident_id": resident.resident_id,
        "name": resident.name,
        "kana": resident.kana,
        "sex": resident.sex.value,
        "birth_date": resident.birth_date.isoformat(),
        "postal_code": resident.address.postal_code,
        "address": resident.address.one_line(),
        "prefecture": resident.address.prefecture,
        "city": resident.address.city,
        "town": resident.address.town,
        "block": resident.address.block,
        "building": resident.address.building,
        "household_id": resident.household_id,
        "relationship": resident.relationship,
        "nationality": resident.nationality,
        "residence_status": resident.residence_status,
        "period_of_stay_until": (resident.period_of_stay_until.isoformat() if resident.period_of_stay_until else None),
        "status": resident.status.value,
        "municipality_code": resident.municipality_code,
        "registered_on": resident.registered_on.isoformat(),
    }


def history_record(entry: HistoryEntry) -> dict[str, object]:
    label_ja, label_en = EVENT_LABELS[entry.kind]
    return {
        "entry_id": entry.entry_id,
        "kind": entry.kind.value,
        "label": label_ja,
        "label_en": label_en,
        "effective_date": entry.effective_date.isoformat(),
        "recorded_at": entry.recorded_at,
        "details": entry.details,
    }
