"""An agency's own store: people, copies (副本), the §23 log, the intermediate server."""

from __future__ import annotations

import time

import pytest

from kojin.agency.domain import CopyEntry
from kojin.app import Kojin
from kojin.core.errors import KojinError
from kojin.hub.domain import ProvisionQuery, channel_mac
from tests.hub.helpers import CHILD_ALLOWANCE, LOCAL_TAX, RESIDENT, Person


def test_copies_are_replaced_and_checked(kojin: Kojin, people: list[Person]) -> None:
    shinjuku = kojin.agencies.get("13104")
    code = people[0].codes["13104"]
    shinjuku.update_copies([CopyEntry(code, LOCAL_TAX, {"taxable_income": 1})])
    shinjuku.update_copies([CopyEntry(code, LOCAL_TAX, {"taxable_income": 2}), CopyEntry(code, RESIDENT, {"h": 3})])
    copy = shinjuku.copy(code, LOCAL_TAX)
    assert copy is not None and copy.payload == {"taxable_income": 2}
    assert shinjuku.counts()["copies"] == 3  # two of Alice's, one of Bob's
    bad: list[tuple[CopyEntry, str]] = [
        (CopyEntry(code, "好きな情報", {}), "agency.unknown_item"),
        (CopyEntry(people[0].codes["13105"], LOCAL_TAX, {}), "agency.unknown_code"),
        (CopyEntry(code, LOCAL_TAX, {1, 2}), "agency.bad_payload"),
        (CopyEntry(code, LOCAL_TAX, "x" * 70_000), "agency.payload_too_large"),
    ]
    for entry, reason in bad:
        with pytest.raises(KojinError) as err:
            shinjuku.update_copies([entry])
        assert err.value.code == reason


def test_people_are_kept_by_local_id(kojin: Kojin, people: list[Person]) -> None:
    bunkyo = kojin.agencies.get("13105")
    code, local = kojin.agencies.obtain_code_unverified("13105", people[0].number, None)
    assert bunkyo.code_of(local) == code and bunkyo.local_id_of(code) == local
    with pytest.raises(KojinError) as err:
        bunkyo.enrol(code, "someone-else")
    assert err.value.code == "agency.code_enrolled"
    result = kojin.agencies.client("13105").request("13104", CHILD_ALLOWANCE, LOCAL_TAX, local_id=local)
    assert result.payload["taxable_income"] == 3_200_000
    with pytest.raises(KojinError) as err:
        bunkyo.code_of("nobody")
    assert err.value.code == "agency.unknown_person"


def test_the_intermediate_server_checks_what_the_hub_sends(kojin: Kojin, people: list[Person]) -> None:
    server = kojin.agencies.intermediate("13104")
    assert server is not None
    key = kojin.agencies.get("13104").keys.channel_key
    box = kojin.agencies.get("13105").keys.box_public
    from kojin.core.crypto import b64

    def query(**change: object) -> dict[str, object]:
        q = ProvisionQuery(
            "r1",
            "13105",
            "文京区長",
            b64(box),
            "13104",
            CHILD_ALLOWANCE,
            LOCAL_TAX,
            people[0].codes["13104"],
            int(time.time()),
            int(time.time() * 1000),
        ).to_wire()
        q.update(change)
        return q

    # One query, MACed as sent: two calls to query() may straddle a millisecond.
    first = query()
    answer, mac = server.answer(first, channel_mac(key, first))
    assert answer["outcome"] == "answered" and mac == channel_mac(key, answer)
    for q, reason in (
        (query(provider="13105"), "agency.wrong_provider"),
        (query(sent_at_ms=0), "agency.stale_query"),
    ):
        with pytest.raises(KojinError) as err:
            server.answer(q, channel_mac(key, q))
        assert err.value.code == reason
    with pytest.raises(KojinError) as err:
        server.answer(query(), channel_mac(b"k" * 32, query()))
    assert err.value.code == "agency.bad_channel_mac"
    assert kojin.agencies.get("13104").counts()["exchange_log"] == 1


def test_creating_an_agency_twice_is_refused(kojin: Kojin, people: list[Person]) -> None:
    with pytest.raises(KojinError) as err:
        kojin.agencies.create("13105", name="文京区長", kind="municipality")
    assert err.value.code == "hub.agency_exists"
    with pytest.raises(KojinError) as err:
        kojin.agencies.create("Bad Id", name="x", kind="municipality")
    assert err.value.code == "request.invalid"
    with pytest.raises(KojinError) as err:
        kojin.agencies.create("newone", name="x", kind="alien")
    assert err.value.field == "kind"


@pytest.mark.parametrize("micro", [0, 120_000])
def test_an_answer_carries_its_copys_update_time(kojin: Kojin, people: list[Person], micro: int) -> None:
    # Read back from SQLite as text and rewritten without parsing: the same as isoformat() of the time written.
    from datetime import UTC, datetime

    from kojin.agency.domain import Ask

    alice = people[0]
    when = datetime(2026, 4, 1, 9, 30, 5, micro, tzinfo=UTC)
    kojin.agencies.get("13104").update_copies([CopyEntry(alice.codes["13104"], LOCAL_TAX, {"x": 1}, updated_at=when)])
    asker = kojin.agencies.client("13105")
    one = asker.request("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])
    (many,) = asker.request_many([Ask("13104", CHILD_ALLOWANCE, LOCAL_TAX, code=alice.codes["13105"])])
    assert not isinstance(many, KojinError)
    assert one.updated_at == many.updated_at == when.isoformat()
    stored = kojin.agencies.get("13104").copy(alice.codes["13104"], LOCAL_TAX)
    assert stored is not None and stored.updated_at == when
