"""Per-agency codes (機関別符号) and the 取得番号 flow through J-LIS."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select

from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.entrypoints.http.app import create_app
from kojin.hub.domain import channel_mac
from kojin.hub.service import jlis_code_message
from kojin.numbering.domain import make_juminhyo_code
from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, Person, person


def dump(kojin: Kojin, party: str) -> str:
    engine = kojin.db.engine(party)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return "\n".join(str(v) for t in meta.sorted_tables for row in conn.execute(select(t)) for v in row)


def test_codes_are_per_agency_and_stable(kojin: Kojin, people: list[Person]) -> None:
    alice, bob = people
    assert len(set(alice.codes.values())) == 3
    assert not set(alice.codes.values()) & set(bob.codes.values())
    again, local = kojin.agencies.obtain_code_unverified("13105", alice.number)
    assert again == alice.codes["13105"]
    assert kojin.agencies.get("13105").code_of(local) == again
    assert kojin.hub.counts()["persons"] == 2


def test_a_number_change_leaves_every_code_unchanged(kojin: Kojin, people: list[Person]) -> None:
    alice = people[0]
    new_number = kojin.numbering.change(alice.juminhyo_code, reason="漏えい", designated_by="test")
    assert new_number != alice.number
    for agency_id, code in alice.codes.items():
        assert kojin.agencies.obtain_code_unverified(agency_id, new_number)[0] == code
    # The retired number no longer obtains anything.
    with pytest.raises(KojinError) as err:
        kojin.agencies.obtain_code_unverified("13105", alice.number)
    assert err.value.code == "number.retired"
    # And exchanges under the old codes go on.
    result = kojin.agencies.client("13105").request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    assert result.payload["year"] == 2025


def test_the_number_never_reaches_the_hub_or_an_agency_store(kojin: Kojin, people: list[Person]) -> None:
    kojin.agencies.client("13105").request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=people[0].codes["13105"])
    numbers = [p.number for p in people]
    codes_of_residents = [p.juminhyo_code for p in people]
    for party in ["hub", "audit", *(f"agency_{a}" for a in kojin.agencies.ids())]:
        text = dump(kojin, party)
        assert not [n for n in numbers + codes_of_residents if n in text], party
    # The hub keeps opaque ids only; codes of one agency do not appear in another's store.
    assert people[0].codes["13104"] not in dump(kojin, "agency_13105")


def test_unknown_agency_and_bad_link_ids(kojin: Kojin, people: list[Person]) -> None:
    with pytest.raises(KojinError) as err:
        kojin.agencies.obtain_code_unverified("nobody", people[0].number)
    assert err.value.code == "hub.unknown_agency"
    with pytest.raises(KojinError) as err:
        kojin.hub.issue_code("13105", "not-a-link-id")
    assert err.value.code == "request.invalid"
    with pytest.raises(KojinError) as err:
        kojin.hub.subject_key_for("0" * 64)
    assert err.value.code == "hub.unknown_person"


def test_jlis_asks_the_hub_for_a_code_over_http(kojin: Kojin, people: list[Person]) -> None:
    fresh = person(kojin, 99, agencies=())
    link_id = kojin.numbering.link_id_for(fresh.number)
    now = int(time.time())
    mac = channel_mac(kojin.numbering.hub_channel_key(), jlis_code_message("nta", link_id, now))
    with TestClient(create_app(kojin)) as client:
        ok = client.post("/hub/agencies/nta/codes", json={"link_id": link_id, "time": now, "mac": mac})
        assert ok.status_code == 200, ok.text
        assert ok.json()["code"] == kojin.agencies.obtain_code_unverified("nta", fresh.number)[0]
        # Anyone else's MAC, or J-LIS's MAC for another agency, is refused.
        for agency, body in (
            ("nta", {"link_id": link_id, "time": now, "mac": "0" * 64}),
            ("13105", {"link_id": link_id, "time": now, "mac": mac}),
        ):
            bad = client.post(f"/hub/agencies/{agency}/codes", json=body)
            assert (bad.status_code, bad.json()["error"]["code"]) == (401, "hub.bad_channel_mac")
        stale_time = now - 1000
        stale_mac = channel_mac(kojin.numbering.hub_channel_key(), jlis_code_message("nta", link_id, stale_time))
        stale = client.post("/hub/agencies/nta/codes", json={"link_id": link_id, "time": stale_time, "mac": stale_mac})
        assert stale.json()["error"]["code"] == "hub.stale_request"


def test_link_ids_do_not_depend_on_the_number(kojin: Kojin) -> None:
    code = make_juminhyo_code("0000000042")
    first = kojin.numbering.assign(code)
    link = kojin.numbering.link_id_for(first)
    second = kojin.numbering.change(code, reason="漏えい", designated_by="test")
    assert kojin.numbering.link_id_for(second) == link
    assert first not in link and code not in link
