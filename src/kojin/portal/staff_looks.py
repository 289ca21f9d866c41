"""あなたの情報を見た職員の記録: every staff look at the person, as the person may see it.

The staff party records each look under the key the person is known by where
it happened: the register's resident id at the municipality, an agency's own
code (機関別符号) at that agency. The portal gathers the person's keys — the
resident id, and each agency's code for them through J-LIS's link id, which the
hub resolves without the number — and shows what the staff party answers for
them: when, which organisation (by name), which role, for which purpose. Never
the staff member: the auditor sees names, the person sees offices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kojin.core.errors import KojinError
from kojin.core.i18n import pick
from kojin.hub.service import HubService
from kojin.numbering.service import NumberingService
from kojin.portal.links import agency_codes
from kojin.registry.domain import Resident
from kojin.registry.postal import municipality
from kojin.staff.domain import ROLE_LABELS, Access, Organisation, OrganisationKind, purposes
from kojin.staff.service import StaffService

ACCESS_LABELS: dict[Access, tuple[str, str]] = {
    Access.READ: ("閲覧", "viewed"),
    Access.SEARCH: ("一覧・検索で表示", "shown in a list or search"),
    Access.EXPORT: ("書き出し", "exported"),
    Access.WRITE: ("記録の変更", "changed a record"),
}

OFFICE_NAMES: dict[OrganisationKind, tuple[str, str]] = {
    OrganisationKind.JLIS: ("地方公共団体情報システム機構（J-LIS）", "J-LIS"),
    OrganisationKind.LINKAGE: ("名寄せ照合担当（J-LIS）", "record-linkage office (J-LIS)"),
    OrganisationKind.OVERSIGHT: ("監督機関", "the oversight body"),
    OrganisationKind.INSTALLATION: ("この端末の管理者", "this installation's administrator"),
}


@dataclass(frozen=True)
class StaffLook:
    at: datetime
    organisation: str
    role: str
    purpose: str
    what: str


class StaffLooks:
    def __init__(self, staff: StaffService, hub: HubService | None, numbering: NumberingService | None) -> None:
        self.staff = staff
        self.hub = hub
        self.numbering = numbering

    def keys_of(self, person: Resident) -> list[str]:
        """The keys staff looks at this person are recorded under."""
        return [str(person.resident_id)] + [code for _agency, code in agency_codes(self.hub, self.numbering, person)]

    def of(self, person: Resident) -> list[StaffLook]:
        """Newest first, in the request's language."""
        seen = self.staff.accesses_of(*self.keys_of(person))
        return [
            StaffLook(
                s.at,
                self.office_name(s.organisation),
                pick(ROLE_LABELS[s.role].ja, ROLE_LABELS[s.role].en),
                _purpose(s.purpose),
                pick(*ACCESS_LABELS[s.what]),
            )
            for s in reversed(seen)
        ]

    def office_name(self, organisation: Organisation) -> str:
        if organisation.kind is OrganisationKind.MUNICIPALITY:
            try:
                found = municipality(organisation.id)
                return f"{found.prefecture}{found.city}"
            except KojinError:
                return organisation.id
        if organisation.kind is OrganisationKind.AGENCY and self.hub is not None:
            entry = self.hub.find_agency(organisation.id)
            return entry.name if entry is not None else organisation.id
        if organisation.kind is OrganisationKind.INSURER:
            return pick(f"医療保険者（{organisation.id}）", f"health insurer ({organisation.id})")
        return pick(*OFFICE_NAMES[organisation.kind])


def _purpose(name: str) -> str:
    found = purposes().get(name)
    return name if found is None else pick(found.name, found.en)
