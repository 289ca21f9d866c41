"""Self-information requests (自己情報取得): the portal asks the hub for the person.

The portal is an agency at the hub (``portal``, kind
:attr:`~kojin.hub.domain.AgencyKind.PORTAL`) whose only permitted task is
showing a person their own information (the permitted-exchange rows of that
kind, with their legal basis). It obtains its code for the person through
J-LIS from the 住民票コード serial linkage gave it at login (the number is
never used), signs an ordinary exchange request, and opens the answer sealed
to its key. Each fetch is an exchange like any other: the hub checks the
table and logs a leaf, so it shows in the person's やりとり履歴 with a proof.
"""

from __future__ import annotations

import json
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kojin.core.errors import Conflict
from kojin.hub.domain import AgencyKind, permitted_exchanges
from kojin.portal import reasons
from kojin.registry.domain import Resident

if TYPE_CHECKING:
    from kojin.agency.directory import AgencyDirectory
    from kojin.hub.service import HubService
    from kojin.numbering.service import NumberingService

PORTAL_AGENCY = "portal"
PORTAL_AGENCY_NAME = "デジタル庁（マイナポータル）"


@dataclass(frozen=True)
class SelfInfoOption:
    """One thing the person may fetch: an item from one agency, under one permitted row."""

    key: str
    provider: str
    provider_name: str
    item: str
    task: str


@dataclass(frozen=True)
class SelfInfoResult:
    provider_name: str
    item: str
    outcome: str
    rows: list[tuple[str, str]]
    leaf_index: int


def _rows(payload: object) -> list[tuple[str, str]]:
    if isinstance(payload, dict):
        return [(str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in payload.items()]
    return [("value", json.dumps(payload, ensure_ascii=False))]


class SelfInformation:
    def __init__(self, hub: HubService, agencies: AgencyDirectory, numbering: NumberingService) -> None:
        self.hub = hub
        self.agencies = agencies
        self.numbering = numbering

    def ensure_agency(self) -> None:
        """Register the portal at the hub once (its own agency store, keys, hub entry)."""
        if self.hub.find_agency(PORTAL_AGENCY) is None:
            # Another worker may register it first; theirs is as good.
            with suppress(Conflict):
                self.agencies.create(PORTAL_AGENCY, name=PORTAL_AGENCY_NAME, kind=AgencyKind.PORTAL)

    def options(self) -> list[SelfInfoOption]:
        rows = [p for p in permitted_exchanges() if p.requester_kind is AgencyKind.PORTAL]
        out = []
        for agency in self.hub.agencies():
            if agency.agency_id == PORTAL_AGENCY:
                continue
            for row in rows:
                if row.provider_kind is agency.kind:
                    out.append(
                        SelfInfoOption(
                            f"{agency.agency_id}|{row.item}", agency.agency_id, agency.name, row.item, row.task
                        )
                    )
        return out

    def fetch(self, person: Resident, key: str) -> SelfInfoResult:
        option = next((o for o in self.options() if o.key == key), None)
        if option is None:
            raise reasons.SELFINFO_NO_SUCH_OPTION.error()
        self.ensure_agency()
        link_id = self.numbering.link_id_for_code(person.juminhyo_code)
        code = self.hub.issue_code(PORTAL_AGENCY, link_id)
        self.agencies.get(PORTAL_AGENCY).enrol(code)
        result = self.agencies.client(PORTAL_AGENCY).request(option.provider, option.task, option.item, code=code)
        outcome = result.outcome.value
        rows = _rows(result.payload) if outcome == "answered" else []
        return SelfInfoResult(option.provider_name, option.item, outcome, rows, result.leaf_index)
