"""The agencies hosted in this process (機関の一覧): each with a store of its own, keys and a place at the hub.

The directory also obtains codes for an agency through J-LIS (取得番号), so the
number never reaches the hub.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kojin.core import reasons as core_reasons
from kojin.core.db import PARTIES, Database, register_party
from kojin.hub import reasons as hub_reasons
from kojin.hub.domain import (
    AgencyKind,
    agency_party,
    validate_agency_id,
)

if TYPE_CHECKING:
    from kojin.agency.client import AgencyClient, HubTransport
    from kojin.hub.service import HubService
    from kojin.numbering.holder import HolderCheck
    from kojin.numbering.service import NumberingService
    from kojin.registry.identity import Claim
from kojin.agency.intermediate import IntermediateServer
from kojin.agency.service import AgencyService


class AgencyDirectory:
    """The agencies hosted in this process, each with a store of its own."""

    def __init__(self, db: Database, hub: HubService, numbering: NumberingService, holders: HolderCheck) -> None:
        self._db = db
        self._hub = hub
        self._numbering = numbering
        self._holders = holders
        self._services: dict[str, AgencyService] = {}
        self._servers: dict[str, IntermediateServer] = {}
        self._lock = threading.Lock()

    def ids(self) -> list[str]:
        return [a.agency_id for a in self._hub.agencies()]

    def _service(self, agency_id: str) -> AgencyService:
        with self._lock:
            service = self._services.get(agency_id)
            if service is None:
                party = agency_party(agency_id)
                if party not in PARTIES:
                    register_party(party, "kojin.agency")
                service = AgencyService(agency_id, self._db.engine(party))
                self._services[agency_id] = service
            return service

    def get(self, agency_id: str) -> AgencyService:
        """The agency's service; ``hub.unknown_agency`` when the hub does not know it."""
        self._hub.agency(agency_id)
        return self._service(agency_id)

    def intermediate(self, agency_id: str) -> IntermediateServer | None:
        """Its intermediate server, when the agency is hosted here (None otherwise)."""
        server = self._servers.get(agency_id)
        if server is None:
            if self._hub.find_agency(agency_id) is None:
                return None
            server = IntermediateServer(self._service(agency_id))
            self._servers[agency_id] = server
        return server

    def client(self, agency_id: str, hub: HubTransport | None = None) -> AgencyClient:
        """A query client for the agency: in process by default, or over ``hub`` (e.g. HTTP)."""
        from kojin.agency.client import AgencyClient, InProcessHub

        return AgencyClient(self.get(agency_id), hub or InProcessHub(self._hub))

    def create(
        self, agency_id: str, *, name: str, kind: AgencyKind | str, endpoint: str | None = None
    ) -> AgencyService:
        """A new agency: its own migrated store, fresh keys, and its entry at the hub."""
        validate_agency_id(agency_id)
        try:
            kind = AgencyKind(kind)
        except ValueError:
            raise core_reasons.REQUEST_INVALID.error(
                field_name="kind", what_ja="機関の種別が不明です", what_en="unknown agency kind", field="kind"
            ) from None
        if self._hub.find_agency(agency_id) is not None:
            raise hub_reasons.AGENCY_EXISTS.error(agency_id=agency_id)
        party = agency_party(agency_id)
        if party not in PARTIES:
            register_party(party, "kojin.agency")
        self._db.migrate(party)
        service = self._service(agency_id)
        keys = service.create_keys(name=name, kind=kind)
        self._hub.register_agency(
            agency_id,
            name=name,
            kind=kind,
            sign_public=keys.sign_public,
            box_public=keys.box_public,
            channel_key=keys.channel_key,
            endpoint=endpoint,
        )
        return service

    def migrate_known(self) -> None:
        """Bring every registered agency's store to the newest migration (``kojin init``)."""
        for agency_id in self.ids():
            party = agency_party(agency_id)
            if party not in PARTIES:
                register_party(party, "kojin.agency")
            self._db.migrate(party)

    def obtain_code(self, agency_id: str, number: str, member: Claim, local_id: str | None = None) -> tuple[str, str]:
        """取得番号: the agency's code for the holder of ``number``, via J-LIS; (code, local id).

        J-LIS first compares ``member`` (the four basic items the agency holds)
        with the number's holder and refuses another person's number
        (``number.person_mismatch``); it then turns the number into a link id
        and passes only that to the hub, which answers with the agency's code.
        The number is used here and forgotten: it is written nowhere in the
        agency's or the hub's store.
        """
        service = self.get(agency_id)
        code = self._hub.issue_code(agency_id, self._holders.link_id_for(number, member))
        return code, service.enrol(code, local_id)

    def obtain_code_unverified(self, agency_id: str, number: str, local_id: str | None = None) -> tuple[str, str]:
        """:meth:`obtain_code` trusting the number: for seeding demo and benchmark worlds only.

        No entry point calls it; an operator's number always comes with the
        member's items.
        """
        service = self.get(agency_id)
        code = self._hub.issue_code(agency_id, self._numbering.link_id_for(number))
        return code, service.enrol(code, local_id)

    def obtain_codes_unverified(self, agency_id: str, numbers: Sequence[str]) -> list[str]:
        return [self.obtain_code_unverified(agency_id, n)[0] for n in numbers]

    def close(self) -> None:
        with self._lock:
            for service in self._services.values():
                service.close()
