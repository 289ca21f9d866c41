from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kojin.agency.domain import payload_json
from kojin.core.errors import InvalidInput
from kojin.hub.domain import (
    ITEMS,
    AgencyKind,
    CodeDeriver,
    ExchangeRequest,
    Outcome,
    ProvisionAnswer,
    agency_party,
    find_permission,
    leaf_bytes,
    permitted_exchanges,
    sealed_plaintext,
    sealed_plaintext_json,
    subject_commitment,
)

REQ: dict[str, Any] = {
    "requester": "13105",
    "provider": "13104",
    "task": "児童手当の支給に関する事務",
    "item": "地方税関係情報",
    "code": "ABC",
    "request_id": "r-1",
    "time": 1_800_000_000,
}


def test_the_permitted_table_has_fifty_rows_with_a_legal_basis() -> None:
    rows = permitted_exchanges()
    # 50 rows between agencies, plus the portal's self-information rows (issue 5).
    assert len([r for r in rows if r.requester_kind is not AgencyKind.PORTAL]) == 50
    assert len({r.row for r in rows}) == len(rows)
    assert all(r.legal_basis and r.item in ITEMS for r in rows)
    assert find_permission(AgencyKind.MUNICIPALITY, REQ["task"], AgencyKind.MUNICIPALITY, "地方税関係情報")
    assert find_permission(AgencyKind.MUNICIPALITY, REQ["task"], AgencyKind.MUNICIPALITY, "年金給付関係情報") is None


def test_codes_of_two_agencies_share_nothing() -> None:
    deriver = CodeDeriver(b"k" * 32)
    a, b = deriver.code("13105", "person-1"), deriver.code("13104", "person-1")
    assert a != b and len(a) == len(b) == 26
    # No common prefix or suffix worth the name: unrelated strings.
    assert a[:3] != b[:3] and a[-3:] != b[-3:]
    assert deriver.code("13105", "person-1") == a
    assert CodeDeriver(b"j" * 32).code("13105", "person-1") != a


def test_signing_input_is_canonical_and_covers_every_field() -> None:
    request = ExchangeRequest.from_dict(REQ)
    assert json.loads(request.signing_input()) == {"kojin": "exchange-request/1", **REQ}
    for field in REQ:
        changed = {**REQ, field: REQ[field] + 1 if field == "time" else "x" + str(REQ[field])}
        assert ExchangeRequest.from_dict(changed).signing_input() != request.signing_input()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time": "now"}, "time"),
        ({"time": True}, "time"),
        ({"requester": "文京区"}, "requester"),
        ({"request_id": "with space"}, "request_id"),
        ({"request_id": "r-1\n"}, "request_id"),  # `$` would let a trailing newline through
        ({"requester": "13105\n"}, "requester"),
        ({"item": ""}, "item"),
        ({"extra": 1}, "extra"),
    ],
)
def test_malformed_requests_name_their_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        ExchangeRequest.from_dict({**REQ, **change})
    assert err.value.code == "request.invalid" and err.value.field == field


def test_missing_field() -> None:
    data = dict(REQ)
    del data["code"]
    with pytest.raises(InvalidInput) as err:
        ExchangeRequest.from_dict(data)
    assert err.value.field == "code"


def test_leaf_says_nothing_about_the_person() -> None:
    key = CodeDeriver(b"k" * 32).subject_key("person-1")
    subject = subject_commitment(key, "13105", "r-1")
    leaf = leaf_bytes(
        time=1,
        requester="13105",
        provider="13104",
        task="t",
        item="i",
        request_id="r-1",
        outcome=Outcome.ANSWERED,
        reason=None,
        subject=subject,
        provided_at=2,
    )
    assert b"person-1" not in leaf and json.loads(leaf)["subject"] == subject
    # The same person, another request: a different commitment.
    assert subject_commitment(key, "13105", "r-2") != subject
    assert subject_commitment(key, "13104", "r-1") != subject


def test_answers_must_agree_with_their_outcome() -> None:
    base = {"kojin": "provision-answer/1", "request_id": "r", "provider": "p", "provided_at_ms": 1}
    assert ProvisionAnswer.from_wire({**base, "outcome": "withheld", "sealed": None}).outcome is Outcome.WITHHELD
    for outcome, sealed in (("answered", None), ("no_data", "x"), ("refused", None), ("bogus", None)):
        with pytest.raises(InvalidInput):
            ProvisionAnswer.from_wire({**base, "outcome": outcome, "sealed": sealed})


def test_agency_party_names_are_schema_safe() -> None:
    assert agency_party("13105") == "agency_13105"
    assert agency_party("tokyo_kouki") == "agency_tokyo_kouki"


payloads = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text()),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=10,
)


@given(payloads, st.text(max_size=30), st.sampled_from(ITEMS))
def test_a_stored_copy_is_sealed_as_the_same_bytes_without_being_parsed(
    payload: object, updated_at: str, item: str
) -> None:
    fields = {"request_id": "r-1", "requester": "13105", "provider": "13104", "item": item, "updated_at": updated_at}
    try:
        stored = payload_json(payload)  # how update_copies keeps it
    except InvalidInput:
        return  # not storable (e.g. lone surrogates): never reaches the intermediate server
    assert sealed_plaintext_json(payload_json=stored, **fields) == sealed_plaintext(payload=payload, **fields)
