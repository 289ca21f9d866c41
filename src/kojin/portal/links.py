"""ひも付けの確認: every agency that holds a code for the person, every insurance membership, the account.

The agencies' codes (機関別符号) are found the way the staff-looks page finds
them: J-LIS turns the person's 住民票コード into its link id, and the hub says
which agency holds a code for it, without the number. An agency that is a
medical insurer at the eligibility service is listed as the membership its
copy describes (insurer, dates, 本人・家族) and never with the insured's name:
if the link is wrong, that name is another person's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from kojin.core.errors import KojinError
from kojin.core.i18n import pick
from kojin.eligibility.domain import Membership
from kojin.hub.agencies import AgencyEntry
from kojin.hub.domain import AGENCY_KIND_LABELS
from kojin.portal.accounts import AccountRecord
from kojin.portal.disputes import Dispute
from kojin.portal.domain import AccountStatus, LinkKind
from kojin.registry.domain import Resident

if TYPE_CHECKING:
    from kojin.eligibility.service import EligibilityService
    from kojin.hub.service import HubService
    from kojin.numbering.service import NumberingService


@dataclass(frozen=True)
class Link:
    """One thing tied to the person, as the portal lists it.

    ``code`` (for the account, the account's key) is never shown.
    """

    kind: LinkKind
    agency_id: str | None
    name: str
    code: str | None
    facts: tuple[tuple[str, str], ...]
    dispute: Dispute | None = None

    @property
    def key(self) -> str:
        return f"{self.kind.value}|{self.agency_id or ''}"


def agency_codes(
    hub: HubService | None, numbering: NumberingService | None, person: Resident
) -> list[tuple[AgencyEntry, str]]:
    """Each agency that holds a code for the person, with that code (found, never issued)."""
    if hub is None or numbering is None:
        return []
    try:
        link_id = numbering.link_id_for_code(person.juminhyo_code)
    except KojinError:  # no link id: no agency has a code for them
        return []
    out = []
    for agency in hub.agencies():
        code = hub.find_code(agency.agency_id, link_id)
        if code is not None:
            out.append((agency, code))
    return out


def _day(value: date | None) -> str:
    return "—" if value is None else value.isoformat()


class PersonLinks:
    """Gathers a person's links from J-LIS and the hub, the eligibility service and the account registry."""

    def __init__(
        self,
        hub: HubService | None,
        numbering: NumberingService | None,
        eligibility: EligibilityService | None,
    ) -> None:
        self.hub = hub
        self.numbering = numbering
        self.eligibility = eligibility

    def of(self, person: Resident, account: AccountRecord | None, disputes: list[Dispute]) -> list[Link]:
        """Memberships first, then the other agencies' codes, then the account; each with its open dispute."""
        open_by_key = {f"{d.kind.value}|{d.agency_id or ''}": d for d in disputes if d.open}
        insurers = self.eligibility.insurers() if self.eligibility is not None else {}
        memberships: list[Link] = []
        codes: list[Link] = []
        for agency, code in agency_codes(self.hub, self.numbering, person):
            # A municipality is also its residents' NHI insurer under one agency id:
            # its code is a membership only where the insurer registered a copy.
            membership = self._membership(agency, code) if agency.agency_id in insurers else None
            if membership is not None:
                memberships.append(membership)
            else:
                kind = pick(*AGENCY_KIND_LABELS[agency.kind])
                codes.append(Link(LinkKind.CODE, agency.agency_id, agency.name, code, ((pick("種別", "Kind"), kind),)))
        links = memberships + codes
        if account is not None:
            links.append(_account(account))
        return [
            Link(link.kind, link.agency_id, link.name, link.code, link.facts, open_by_key.get(link.key))
            for link in links
        ]

    def _membership(self, agency: AgencyEntry, code: str) -> Link | None:
        assert self.eligibility is not None
        q = self.eligibility.qualification(Membership(agency.agency_id, code))
        if q is None:
            return None
        insurer = self.eligibility.insurers()[agency.agency_id]
        facts = (
            (pick("保険者番号", "Insurer number"), insurer.insurer_number),
            (
                pick("本人・家族", "Insured or dependant"),
                pick("家族", "dependant") if q.family else pick("本人", "self"),
            ),
            (pick("資格取得日", "Qualified on"), _day(q.qualified_on)),
            (pick("資格喪失日", "Lost on"), _day(q.lost_on)),
        )
        return Link(LinkKind.MEMBERSHIP, agency.agency_id, insurer.name, code, facts)


def _account(account: AccountRecord) -> Link:
    status = {
        AccountStatus.REGISTERED: ("登録済み", "registered"),
        AccountStatus.REVIEW: ("確認中", "under review"),
        AccountStatus.DISPUTED: ("申し出により停止中", "suspended (disputed)"),
    }[account.status]
    facts = (
        (pick("金融機関コード", "Bank code"), account.bank_code),
        (pick("支店コード", "Branch code"), account.branch_code),
        (pick("口座番号", "Account number"), "＊" * (len(account.account_number) - 3) + account.account_number[-3:]),
        (pick("名義（カナ）", "Holder (kana)"), account.holder_kana),
        (pick("状態", "Status"), pick(*status)),
    )
    # The account's key stands in for a code: a decision applies to this account, not to one registered since.
    return Link(LinkKind.ACCOUNT, None, pick("公金受取口座", "Public-funds account"), account.account_key, facts)
