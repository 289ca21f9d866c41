"""How the eligibility service reaches J-LIS and the hub (wired in :mod:`kojin.app`).

J-LIS turns the 住民票コード serial linkage gave into its opaque link id; the
hub says which insurer codes exist for that person and records each view as
an exchange. Nothing here is stored by the eligibility service.
"""

from __future__ import annotations

from collections.abc import Sequence

from kojin.hub.service import HubService
from kojin.numbering.service import NumberingService


class JlisHubLinks:
    """:class:`~kojin.eligibility.service.PersonDirectory` and :class:`~kojin.clinic.service.ViewLog`."""

    def __init__(self, numbering: NumberingService, hub: HubService) -> None:
        self._numbering = numbering
        self._hub = hub

    def link_id(self, juminhyo_code: str) -> str:
        return self._numbering.link_id_for_code(juminhyo_code)

    def find_code(self, agency_id: str, link_id: str) -> str | None:
        return self._hub.find_code(agency_id, link_id)

    def link_disputed(self, code: str) -> bool:
        return self._hub.link_disputed(code)

    def record_refusal(
        self, *, viewer: str, holder: str, task: str, item: str, agency_id: str, code: str, request_id: str, reason: str
    ) -> int | None:
        return self._hub.record_refusal(
            viewer=viewer,
            holder=holder,
            task=task,
            item=item,
            agency_id=agency_id,
            code=code,
            request_id=request_id,
            reason=reason,
        )

    def record_view(
        self,
        *,
        viewer: str,
        viewer_name: str,
        holder: str,
        holder_name: str,
        task: str,
        item: str,
        agency_id: str,
        code: str,
        request_id: str,
    ) -> int | None:
        return self._hub.record_view(
            viewer=viewer,
            viewer_name=viewer_name,
            holder=holder,
            holder_name=holder_name,
            task=task,
            item=item,
            agency_id=agency_id,
            code=code,
            request_id=request_id,
        )

    def obtain_codes(self, insurer_id: str, juminhyo_codes: Sequence[str]) -> list[str]:
        """取得番号 through J-LIS for an insurer's new members: the numbers never leave J-LIS."""
        link_ids = [self._numbering.link_id_for_code(code) for code in juminhyo_codes]
        return self._hub.issue_codes(insurer_id, link_ids)
