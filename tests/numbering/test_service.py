from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from kojin.app import Kojin
from kojin.core.errors import Conflict, NotFound
from kojin.numbering.domain import (
    NumberDerivation,
    make_juminhyo_code,
    validate_individual_number,
    validate_juminhyo_code,
)
from kojin.numbering.store import numbering_keys, numbers


def code(i: int) -> str:
    return make_juminhyo_code(f"{i:010d}")


def test_assign_is_idempotent_per_code(kojin: Kojin) -> None:
    n = kojin.numbering.assign(code(1))
    assert validate_individual_number(n) == n
    assert kojin.numbering.assign(code(1)) == n
    assert kojin.numbering.number_for(code(1)) == n
    assert kojin.numbering.code_for(n) == code(1)


def test_bulk_numbers_are_unique(kojin: Kojin) -> None:
    codes = [code(i) for i in range(2000)]
    issued = kojin.numbering.assign_many(codes)
    assert len(set(issued)) == 2000
    assert kojin.numbering.count() == 2000


def test_collision_with_an_issued_number_retries(kojin: Kojin) -> None:
    # Plant a retired number equal to the first candidate of a fresh code:
    # the service must skip it, since no number is ever issued twice.
    with kojin.numbering.engine.connect() as conn:
        key = conn.execute(select(numbering_keys.c.key)).scalar_one()
    derivation = NumberDerivation(bytes(key))
    planted = derivation.candidate(code(2))
    with kojin.numbering.engine.begin() as conn:
        conn.execute(
            numbers.insert().values(
                number=planted, juminhyo_code=code(3), status="retired", issued_at=datetime.now(UTC)
            )
        )
    issued = kojin.numbering.assign(code(2))
    assert issued != planted
    assert issued == derivation.candidate(code(2), 1)


def test_duplicate_codes_in_one_request_are_refused(kojin: Kojin) -> None:
    with pytest.raises(Conflict) as err:
        kojin.numbering.assign_many([code(1), code(1)])
    assert err.value.code == "number.duplicate_request"
    assert kojin.numbering.count() == 0


def test_change_retires_the_old_number_for_ever(kojin: Kojin) -> None:
    old = kojin.numbering.assign(code(5))
    new = kojin.numbering.change(code(5), reason="漏えい", designated_by="clerk")
    assert new != old
    assert kojin.numbering.number_for(code(5)) == new
    with pytest.raises(Conflict) as err:
        kojin.numbering.code_for(old)
    assert err.value.code == "number.retired"
    history = kojin.numbering.history(code(5))
    assert [(h.number, h.status) for h in history] == [(old, "retired"), (new, "active")]
    # The retired number is never issued again: it stays in the store.
    assert kojin.numbering.is_issued(old)


def test_unknown_numbers_and_codes(kojin: Kojin) -> None:
    with pytest.raises(NotFound):
        kojin.numbering.code_for("123456789018")
    with pytest.raises(NotFound):
        kojin.numbering.number_for(code(9))
    with pytest.raises(NotFound):
        kojin.numbering.change(code(9), reason="x", designated_by="y")


def test_issue_persons_hands_out_fresh_codes_with_numbers(kojin: Kojin) -> None:
    issued = kojin.numbering.issue_persons(500)
    codes = [c for c, _ in issued]
    assert len(set(codes)) == 500
    for code, number in issued:
        assert validate_juminhyo_code(code) == code
        assert kojin.numbering.number_for(code) == number
    more = kojin.numbering.issue_persons(500)
    assert not set(codes) & {c for c, _ in more}
    assert kojin.numbering.issue_persons(0) == []


def test_fresh_people_skip_codes_and_numbers_already_taken(kojin: Kojin, monkeypatch: pytest.MonkeyPatch) -> None:
    # A code someone already has, a code whose first number is already issued,
    # and a code drawn twice: none may be handed out as drawn.
    taken_code = code(11)
    taken_number = kojin.numbering.assign(taken_code)
    with kojin.numbering.engine.connect() as conn:
        derivation = NumberDerivation(bytes(conn.execute(select(numbering_keys.c.key)).scalar_one()))
    clashing, fresh = code(12), [code(20 + i) for i in range(6)]
    planted = derivation.candidate(clashing)
    with kojin.numbering.engine.begin() as conn:
        conn.execute(
            numbers.insert().values(
                number=planted, juminhyo_code=code(13), status="retired", issued_at=datetime.now(UTC)
            )
        )
    planned = [taken_code, clashing, fresh[0], fresh[0], *fresh[1:]]
    draw_order = list(dict.fromkeys(planned))

    def draw(n: int) -> list[str]:  # the CSPRNG's draws, as planned
        out = planned[:n]
        del planned[:n]
        return out

    monkeypatch.setattr("kojin.numbering.service._draw_codes", draw)
    issued = kojin.numbering.issue_persons(4)
    codes = [c for c, _ in issued]
    assert len(set(codes)) == 4 and taken_code not in codes
    assert codes == sorted(codes, key=draw_order.index)  # handed out in the order drawn
    for c, n in issued:
        assert kojin.numbering.number_for(c) == n
    # The clashing code either got its next candidate or was given up; never the issued number.
    assert planted not in {n for _, n in issued}
    assert kojin.numbering.number_for(taken_code) == taken_number
    assert kojin.numbering.count() == 1 + 1 + 4
