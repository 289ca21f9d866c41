"""Online eligibility (オンライン資格確認): insurers, qualifications and the answer, pure.

No storage and no web here. The eligibility service (支払基金・国保中央会) keeps
copies of insurers' qualifications under each insurer's own agency code
(機関別符号) and answers clinics with the fields of the official interface
(FACTS.md §5): ``ProcessingResultStatus``, ``QualificationValidity`` and, per
person, ``InsurerNumber`` … ``ReasonOfLoss``.

Insurer numbers (保険者番号): kojin uses the real layouts. Employee insurers
and the late-elderly system have 8 digits — 法別番号 (2), 都道府県番号 (2),
保険者別番号 (3), 検証番号 (1); the municipality's national health insurance
has 6 — 都道府県番号 (2), 保険者別番号 (3), 検証番号 (1). The check digit is the
real rule: from the right of the body, weights 2, 1, 2, 1 …; the digits of
each product are summed; the check digit is ``(10 − sum mod 10) mod 10``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from kojin.core import japan
from kojin.core.errors import KojinError
from kojin.core.japan import age_on
from kojin.eligibility import reasons

# -- insurers (保険者) -------------------------------------------------------------


class InsurerKind(StrEnum):
    """Kinds of medical insurer (保険者の種別)."""

    SOCIETY = "society"  # 健康保険組合
    KYOKAI = "kyokai"  # 全国健康保険協会（協会けんぽ）
    NHI = "nhi"  # 市町村国民健康保険
    LATE_ELDERLY = "late_elderly"  # 後期高齢者医療広域連合


INSURER_KIND_LABELS: dict[InsurerKind, tuple[str, str]] = {
    InsurerKind.SOCIETY: ("健康保険組合", "health insurance society"),
    InsurerKind.KYOKAI: ("全国健康保険協会", "Japan Health Insurance Association"),
    InsurerKind.NHI: ("国民健康保険", "national health insurance"),
    InsurerKind.LATE_ELDERLY: ("後期高齢者医療", "late-elderly medical care"),
}


def insurer_check_digit(body: str) -> str:
    """検証番号 of an insurer number's body (modulus 10, weights 2-1 from the right)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def make_insurer_number(body: str) -> str:
    return body + insurer_check_digit(body)


_INSURER_NUMBER = re.compile(r"^([0-9]{6}|[0-9]{8})\Z")


def validate_insurer_number(value: object, field_name: str = "insurer_number") -> str:
    """Six (国保) or eight digits with a correct check digit, or ``eligibility.unknown_insurer``."""
    if not isinstance(value, str) or not _INSURER_NUMBER.match(value):
        raise reasons.BAD_INSURER_NUMBER.error(field=field_name)
    if insurer_check_digit(value[:-1]) != value[-1]:
        raise reasons.UNKNOWN_INSURER.error(
            detail_ja="（検証番号が合いません）", detail_en=" (the check digit does not match)", field=field_name
        )
    return value


@dataclass(frozen=True, slots=True)
class Insurer:
    """A medical insurer (医療保険者) as the eligibility service knows it.

    ``insurer_id`` is its agency id at the hub: the codes it keeps its people
    under are the hub's codes for that agency.
    """

    insurer_id: str
    insurer_number: str
    name: str
    kind: InsurerKind


# The demo insurers: one of each kind, all at agencies of kojin.demo.agencies.
DEMO_INSURERS: tuple[Insurer, ...] = (
    Insurer("kenpo_kojin", make_insurer_number("0613412"), "小石川健康保険組合", InsurerKind.SOCIETY),
    Insurer("kyokai", make_insurer_number("0113001"), "全国健康保険協会東京支部", InsurerKind.KYOKAI),
    Insurer("13105", make_insurer_number("13105"), "文京区（国民健康保険）", InsurerKind.NHI),
    Insurer("tokyo_kouki", make_insurer_number("3913100"), "東京都後期高齢者医療広域連合", InsurerKind.LATE_ELDERLY),
)


# -- qualifications (資格) ----------------------------------------------------------


class CardClass(StrEnum):
    """InsuredCardClassification: what the person's qualification is shown with.

    kojin's table (the official code list is not public in machine form):
    ``01`` 被保険者（健康保険・国保）, ``07`` 後期高齢者医療被保険者, ``11`` 資格確認書.
    """

    INSURED = "01"
    LATE_ELDERLY = "07"
    CERTIFICATE = "11"


class LossReason(StrEnum):
    """ReasonOfLoss (資格喪失事由), kojin's table."""

    RETIREMENT = "1"  # 退職
    DEATH = "2"  # 死亡
    MOVE_OUT = "3"  # 転出
    LATE_ELDERLY = "4"  # 後期高齢者医療へ移行
    OTHER = "9"  # その他


LOSS_REASON_LABELS: dict[LossReason, tuple[str, str]] = {
    LossReason.RETIREMENT: ("退職", "left employment"),
    LossReason.DEATH: ("死亡", "death"),
    LossReason.MOVE_OUT: ("転出", "moved out"),
    LossReason.LATE_ELDERLY: ("後期高齢者医療へ移行", "moved to late-elderly care"),
    LossReason.OTHER: ("その他", "other"),
}


@dataclass(frozen=True, slots=True)
class ElderlyInfo:
    """高齢受給者証 (70–74): its dates and contribution ratio."""

    issued_on: date
    valid_from: date
    valid_until: date
    ratio: int  # percent

    def as_fields(self) -> dict[str, str | None]:
        return {
            "ElderlyRecipientCertificateDate": yyyymmdd(self.issued_on),
            "ElderlyRecipientValidStartDate": yyyymmdd(self.valid_from),
            "ElderlyRecipientValidEndDate": yyyymmdd(self.valid_until),
            "ElderlyRecipientContributionRatio": ratio_text(self.ratio),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "issued_on": self.issued_on.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "ratio": self.ratio,
        }

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> ElderlyInfo | None:
        if not data:
            return None
        return ElderlyInfo(
            date.fromisoformat(data["issued_on"]),
            date.fromisoformat(data["valid_from"]),
            date.fromisoformat(data["valid_until"]),
            int(data["ratio"]),
        )


@dataclass(frozen=True, slots=True)
class Membership:
    """One person's membership of one insurer, as the insurer's own code names it (被保険者資格)."""

    insurer_id: str
    member_code: str


@dataclass(frozen=True, slots=True)
class Qualification:
    """A qualification copy (資格情報の副本) an insurer registers with the eligibility service.

    Keyed by the insurer's own code for the person; it carries what the
    answer shows and nothing the answer does not (no number, no 住民票コード).
    ``certificate_*`` describe the 資格確認書 when one is issued.
    """

    insurer_id: str
    member_code: str
    insurer_number: str
    symbol: str  # 記号
    number: str  # 番号
    branch: str  # 枝番
    family: bool  # PersonalFamilyClassification: 本人 (False) or 家族 (True)
    insured_name: str  # 被保険者氏名 (the 本人's name, also on a dependant's record)
    name: str
    kana: str
    sex: str
    birth_date: date
    address: str
    postal_code: str
    qualified_on: date
    ratio: int  # 一部負担金の割合 (percent)
    card_class: CardClass = CardClass.INSURED
    lost_on: date | None = None
    loss_reason: LossReason | None = None
    elderly: ElderlyInfo | None = None
    certificate_from: date | None = None
    certificate_until: date | None = None

    @property
    def membership(self) -> Membership:
        return Membership(self.insurer_id, self.member_code)

    def valid_on(self, day: date) -> bool:
        return self.qualified_on <= day and (self.lost_on is None or day < self.lost_on)


# -- answers ---------------------------------------------------------------------------


class Validity(StrEnum):
    """QualificationValidity (資格有効性), kojin's table: 1 有効, 2 無効（喪失）, 3 該当資格なし."""

    VALID = "1"
    LOST = "2"
    NONE = "3"


def yyyymmdd(day: date | None) -> str | None:
    return None if day is None else japan.yyyymmdd(day)


def ratio_text(ratio: int) -> str:
    """InsuredPartialContributionRatio as three digits of percent (3割 → ``030``)."""
    return f"{ratio:03d}"


def pick_current(quals: list[Qualification], today: date) -> Qualification | None:
    """The qualification to answer with: a valid one, else the most recently lost one."""
    valid = [q for q in quals if q.valid_on(today)]
    if valid:
        return max(valid, key=lambda q: q.qualified_on)
    past = [q for q in quals if q.qualified_on <= today]
    return max(past, key=lambda q: q.lost_on or q.qualified_on) if past else None


def answer_fields(q: Qualification, insurer_name: str, today: date) -> dict[str, Any]:
    """The answer of the eligibility service for one person, with the official field names."""
    validity = Validity.VALID if q.valid_on(today) else Validity.LOST
    return {
        "result_code": "eligibility.valid" if validity is Validity.VALID else "eligibility.lost",
        "ProcessingResultStatus": "1",
        "QualificationValidity": validity.value,
        "ResultList": {
            "InsuredCardClassification": q.card_class.value,
            "InsurerNumber": q.insurer_number,
            "InsurerName": insurer_name,
            "InsuredCardSymbol": q.symbol,
            "InsuredIdentificationNumber": q.number,
            "InsuredBranchNumber": q.branch,
            "PersonalFamilyClassification": "2" if q.family else "1",
            "InsuredName": q.insured_name,
            "Name": q.name,
            "NameKana": q.kana,
            "Sex1": q.sex,
            "Birthdate": yyyymmdd(q.birth_date),
            "Address": q.address,
            "PostNumber": q.postal_code,
            "QualificationDate": yyyymmdd(q.qualified_on),
            "InsuredCardValidDate": yyyymmdd(q.certificate_from),
            "InsuredCardExpirationDate": yyyymmdd(q.certificate_until),
            "InsuredPartialContributionRatio": ratio_text(q.ratio),
            "ElderlyRecipientCertificateInfo": q.elderly.as_fields() if q.elderly else None,
            "ReasonOfLoss": q.loss_reason.value if q.loss_reason else None,
            "DisqualificationDate": yyyymmdd(q.lost_on),
        },
    }


# -- contribution ratio and the elderly ---------------------------------------------------


def school_age_start(birth: date) -> date:
    """The 1 April a child starts school (義務教育就学): the ratio goes from 2割 to 3割.

    A school year takes those born from 2 April to the next 1 April.
    """
    return date(birth.year + (7 if (birth.month, birth.day) >= (4, 2) else 6), 4, 1)


def _birthday(birth: date, year: int) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def contribution_ratio(birth: date, today: date, *, high_income: bool = False, late_elderly_ratio: int = 10) -> int:
    """一部負担金の割合: 2割 before school, 3割 to 69, 2割 at 70–74, 1–3割 from 75."""
    age = age_on(birth, today)
    if today < school_age_start(birth):
        return 20
    if age < 70:
        return 30
    if age < 75:
        return 30 if high_income else 20
    return late_elderly_ratio


def elderly_info(birth: date, today: date, ratio: int) -> ElderlyInfo | None:
    """高齢受給者証 for those aged 70 to 74: from the month after the 70th birthday."""
    age = age_on(birth, today)
    if not 70 <= age < 75:
        return None
    seventieth = _birthday(birth, birth.year + 70)
    start = date(seventieth.year + (seventieth.month == 12), seventieth.month % 12 + 1, 1)
    if seventieth.day == 1:
        start = date(seventieth.year, seventieth.month, 1)
    end = _birthday(birth, birth.year + 75) - timedelta(days=1)
    return ElderlyInfo(start, start, end, ratio)


# -- 資格確認書 ------------------------------------------------------------------------

CERTIFICATE_MAX_YEARS = 5


def certificate_validity(kind: InsurerKind, issued_on: date, lost_on: date | None = None) -> date:
    """資格確認書 validity (at most 5 years; FACTS.md §5).

    kojin's choice within that limit: national health insurance and the
    late-elderly system renew theirs every year on 31 July, as most
    municipalities and unions do; employee insurers give the full five years.
    """
    if kind in (InsurerKind.NHI, InsurerKind.LATE_ELDERLY):
        until = date(issued_on.year + (issued_on >= date(issued_on.year, 7, 31)), 7, 31)
    else:
        until = _birthday(issued_on, issued_on.year + CERTIFICATE_MAX_YEARS) - timedelta(days=1)
    if lost_on is not None and lost_on - timedelta(days=1) < until:
        until = lost_on - timedelta(days=1)
    return until


# -- typed identifiers (資格確認書の記載事項) --------------------------------------------


_SYMBOL = re.compile(r"^[0-9A-Za-z\u3000-\u30ff\u4e00-\u9fff\-]{0,20}\Z")
_MEMBER_NUMBER = re.compile(r"^[0-9A-Za-z\-]{1,20}\Z")
_BRANCH = re.compile(r"^([0-9]{2})?\Z")


@dataclass(frozen=True, slots=True)
class CardIdentifiers:
    """What a clinic types in from a 資格確認書: insurer number, symbol, number, branch."""

    insurer_number: str
    symbol: str
    number: str
    branch: str

    @staticmethod
    def parse(insurer_number: object, symbol: object, number: object, branch: object) -> CardIdentifiers:
        insurer = validate_insurer_number(insurer_number.strip() if isinstance(insurer_number, str) else insurer_number)
        sym = symbol.strip() if isinstance(symbol, str) else ""
        num = number.strip() if isinstance(number, str) else ""
        br = branch.strip() if isinstance(branch, str) else ""
        if not _SYMBOL.match(sym):
            raise reasons.BAD_SYMBOL.error()
        if not _MEMBER_NUMBER.match(num):
            raise reasons.BAD_NUMBER.error()
        if not _BRANCH.match(br):
            raise reasons.BAD_BRANCH.error()
        return CardIdentifiers(insurer, sym, num, br)


# -- result codes -----------------------------------------------------------------------
#
# Every refusal the terminal and the API can show, in one place: the code is
# what tests, clinic software and the terminal page key on.


def not_registered() -> KojinError:
    return reasons.NOT_REGISTERED.error()


def no_qualification() -> KojinError:
    return reasons.NO_QUALIFICATION.error()


def certificate_unknown() -> KojinError:
    return reasons.CERTIFICATE_UNKNOWN.error()


def certificate_expired(until: date) -> KojinError:
    return reasons.CERTIFICATE_EXPIRED.error(until=until.isoformat())


def certificate_not_issued() -> KojinError:
    return reasons.NO_CERTIFICATE.error()


@dataclass(frozen=True, slots=True)
class Clinic:
    """A medical institution or pharmacy (保険医療機関・保険薬局) using the service."""

    clinic_id: str  # 医療機関コード: 都道府県 (2) + 点数表 (1) + 医療機関番号 (7)
    name: str
    kind: str = "clinic"


_CLINIC_ID = re.compile(r"^[0-9]{10}\Z")


def validate_clinic_id(value: object) -> str:
    if not isinstance(value, str) or not _CLINIC_ID.match(value):
        raise reasons.BAD_CLINIC_ID.error()
    return value
