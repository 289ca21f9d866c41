"""J-LIS numbering in its own process: one transaction per bulk batch."""

from __future__ import annotations

from kojin.app import Kojin
from kojin.numbering.domain import validate_individual_number, validate_juminhyo_code
from kojin.numbering.process import NumberingProcess


def test_a_batch_is_visible_only_once_committed_and_can_be_abandoned(kojin: Kojin) -> None:
    process = NumberingProcess(kojin.settings)
    try:
        parts = [f.result() for f in process.submit_batch([5, 7])]
        pairs = [p for part in parts for p in part]
        assert [len(p) for p in parts] == [5, 7]
        for code, number in pairs:
            assert validate_juminhyo_code(code) == code
            assert validate_individual_number(number) == number
        # Handed out, not yet committed: nothing is visible outside J-LIS's transaction.
        assert kojin.numbering.count() == 0
        process.commit_batch()
        assert kojin.numbering.count() == 12
        assert {kojin.numbering.number_for(c) for c, _ in pairs} == {n for _, n in pairs}

        [f.result() for f in process.submit_batch([3])]
        process.abandon_batch()
        assert kojin.numbering.count() == 12
        # The next batch starts afresh after an abandoned one.
        [f.result() for f in process.submit_batch([2])]
        process.commit_batch()
        assert kojin.numbering.count() == 14
    finally:
        process.close()
