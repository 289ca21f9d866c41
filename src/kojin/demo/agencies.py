"""The demo agencies (デモ用の機関): enough to walk every row kind of the permitted table.

文京区 (where the seed's assembly met) and its neighbour 新宿区 are the
municipalities — each is also the NHI insurer and runs 介護保険 — and the
national agencies and insurers are one each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kojin.hub.domain import AgencyKind

if TYPE_CHECKING:
    from kojin.app import Kojin

DEMO_AGENCIES: tuple[tuple[str, str, AgencyKind], ...] = (
    ("13105", "文京区長", AgencyKind.MUNICIPALITY),
    ("13104", "新宿区長", AgencyKind.MUNICIPALITY),
    ("nta", "国税庁長官", AgencyKind.TAX_AGENCY),
    ("jps", "日本年金機構", AgencyKind.PENSION_SERVICE),
    ("kenpo_kojin", "小石川健康保険組合", AgencyKind.HEALTH_INSURER),
    ("kyokai", "全国健康保険協会（協会けんぽ）", AgencyKind.KYOKAI_KENPO),
    ("mhlw", "厚生労働大臣（雇用保険）", AgencyKind.MHLW),
    ("tokyo_kouki", "東京都後期高齢者医療広域連合", AgencyKind.LATE_ELDERLY),
)


def ensure_demo_agencies(kojin: Kojin) -> list[str]:
    """Create the demo agencies that do not exist yet; return every demo agency id."""
    for agency_id, name, kind in DEMO_AGENCIES:
        if kojin.hub.find_agency(agency_id) is None:
            kojin.agencies.create(agency_id, name=name, kind=kind)
    return [agency_id for agency_id, _, _ in DEMO_AGENCIES]
