"""Corporations and their public numbers: pure types and rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# 法人種別 codes as in the NTA's published data.
KINDS: dict[str, tuple[str, str]] = {
    "101": ("国の機関", "national government body"),
    "201": ("地方公共団体", "local government"),
    "301": ("株式会社", "stock company"),
    "302": ("有限会社", "limited company (old form)"),
    "303": ("合名会社", "general partnership company"),
    "304": ("合資会社", "limited partnership company"),
    "305": ("合同会社", "limited liability company"),
    "399": ("その他の設立登記法人", "other registered corporation"),
    "401": ("外国会社等", "foreign company"),
    "499": ("その他", "other"),
}

# 登記記録の閉鎖等の事由 codes.
CLOSE_CAUSES: dict[str, tuple[str, str]] = {
    "01": ("清算の結了等", "liquidation completed"),
    "11": ("合併による解散等", "dissolved by merger"),
    "21": ("登記官による閉鎖", "closed by the registrar"),
    "31": ("その他の清算の結了等", "other"),
}


@dataclass(frozen=True)
class Corporation:
    """法人: one record of the corporate register, public by law."""

    corporate_number: str
    name: str
    furigana: str
    kind: str
    prefecture: str
    city: str
    street: str
    postal_code: str
    assignment_date: date
    close_date: date | None = None
    close_cause: str | None = None

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.street}"

    @property
    def is_closed(self) -> bool:
        return self.close_date is not None


def corporation_record(corp: Corporation) -> dict[str, object]:
    """The JSON form, with the NTA Web-API's field names where they exist."""
    return {
        "corporateNumber": corp.corporate_number,
        "name": corp.name,
        "furigana": corp.furigana,
        "kind": corp.kind,
        "kindName": KINDS[corp.kind][0],
        "prefectureName": corp.prefecture,
        "cityName": corp.city,
        "streetNumber": corp.street,
        "postCode": corp.postal_code,
        "assignmentDate": corp.assignment_date.isoformat(),
        "closeDate": corp.close_date.isoformat() if corp.close_date else None,
        "closeCause": corp.close_cause,
    }
