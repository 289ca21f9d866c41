"""How the eligibility service reaches J-LIS and the hub (wired in :mod:`kojin.app`).

J-LIS turns the 住民票コード serial linkage gave into its opaque link id; the
hub says which insurer codes exist for that person and records each view as
an exchange. Nothing here is stored by the eligibility service. An insurer
asks J-LIS one narrow thing about a member: the last four digits of the
number its code is linked to (:meth:`JlisHubLinks.number_tail`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from kojin.hub import reasons as hub_reasons
from kojin.hub.service import HubService
from kojin.numbering.service import NumberingService

JLIS = "jlis"
JLIS_NAME = "地方公共団体情報システム機構（J-LIS）"
NOTICE_TASK = "資格情報のお知らせの作成"
TAIL_ITEM = "個人番号の下4桁"


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
        link_ids = self._numbering.link_ids_for_codes(juminhyo_codes)
        return self._hub.issue_codes(insurer_id, link_ids)

    def number_tail(self, insurer_id: str, insurer_name: str, member_code: str) -> str:
        """The last four digits of the number J-LIS links to an insurer's member code; the look is logged.

        The hub turns the insurer's code back into J-LIS's link id, J-LIS answers
        four digits and nothing else, and the look is an exchange in the
        person's やりとり履歴 like any other, so the person sees who asked.
        """
        link_id = self._hub.link_id_of(insurer_id, member_code)
        if link_id is None:
            raise hub_reasons.UNKNOWN_CODE.error()
        tail = self._numbering.last_four_for_link(link_id)
        self._hub.record_view(
            viewer=insurer_id,
            viewer_name=insurer_name,
            holder=JLIS,
            holder_name=JLIS_NAME,
            task=NOTICE_TASK,
            item=TAIL_ITEM,
            agency_id=insurer_id,
            code=member_code,
            request_id=f"tail-{secrets.token_hex(12)}",
        )
        return tail
