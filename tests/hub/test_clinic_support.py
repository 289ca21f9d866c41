"""The hub methods the clinic walk uses: bulk codes, read-only code look-up, views as exchanges."""

from __future__ import annotations

import json

import pytest

from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.demo.agencies import ensure_demo_agencies
from kojin.hub.domain import subject_commitment
from kojin.numbering.domain import make_juminhyo_code


def _link_ids(kojin: Kojin, n: int) -> list[str]:
    out = []
    for i in range(n):
        code = make_juminhyo_code(f"{i + 1:010d}")
        kojin.numbering.assign(code)
        out.append(kojin.numbering.link_id_for_code(code))
    return out


def test_bulk_codes_are_the_codes_one_at_a_time_gives(kojin: Kojin) -> None:
    ensure_demo_agencies(kojin)
    links = _link_ids(kojin, 5)
    single = kojin.hub.issue_code("13105", links[0])
    bulk = kojin.hub.issue_codes("13105", [*links, links[2]])
    assert bulk[0] == single and bulk[2] == bulk[5] and len(set(bulk)) == 5
    assert kojin.hub.issue_codes("13105", links) == bulk[:5]  # idempotent
    assert kojin.hub.issue_codes("jps", links[:2]) != bulk[:2]  # per agency
    with pytest.raises(KojinError) as err:
        kojin.hub.issue_codes("13105", ["nope"])
    assert err.value.code == "request.invalid"


def test_find_code_reads_and_never_issues(kojin: Kojin) -> None:
    ensure_demo_agencies(kojin)
    links = _link_ids(kojin, 2)
    issued = kojin.hub.issue_code("kyokai", links[0])
    before = kojin.hub.counts()
    assert kojin.hub.find_code("kyokai", links[0]) == issued
    assert kojin.hub.find_code("kenpo_kojin", links[0]) is None  # a person the society never enrolled
    assert kojin.hub.find_code("kyokai", links[1]) is None  # a person the hub has not met
    assert kojin.hub.counts() == before
    with pytest.raises(KojinError) as err:
        kojin.hub.find_code("nobody", links[0])
    assert err.value.code == "hub.unknown_agency"


def test_a_view_is_a_leaf_about_the_person_and_a_record(kojin: Kojin) -> None:
    ensure_demo_agencies(kojin)
    link = _link_ids(kojin, 1)[0]
    code = kojin.hub.issue_code("kyokai", link)
    index = kojin.hub.record_view(
        viewer="clinic_1310512345",
        viewer_name="小石川内科クリニック",
        holder="eligibility",
        holder_name="オンライン資格確認等システム",
        task="閲覧",
        item="薬剤情報",
        agency_id="kyokai",
        code=code,
        request_id="view-1",
    )
    leaf = json.loads(kojin.exchange_log.leaf_data(index))
    assert leaf["outcome"] == "answered" and leaf["item"] == "薬剤情報"
    assert leaf["subject"] == subject_commitment(kojin.hub.subject_key_for(link), "clinic_1310512345", "view-1")
    record = next(r for r in kojin.hub.records() if r["leaf_index"] == index)
    assert record["requester_name"] == "小石川内科クリニック" and record["provider_id"] == "eligibility"
    for agency, bad in (("kenpo_kojin", code), ("kyokai", "NOSUCHCODE")):
        with pytest.raises(KojinError) as err:
            kojin.hub.record_view(
                viewer="c",
                viewer_name="c",
                holder="h",
                holder_name="h",
                task="t",
                item="i",
                agency_id=agency,
                code=bad,
                request_id="view-2",
            )
        assert err.value.code == "hub.unknown_code"
