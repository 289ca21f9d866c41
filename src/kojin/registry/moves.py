"""Move-ins in batches (転入の一括処理): households arriving with their 住民票コード, checked as at the counter.

A batch is one register transaction. Every mover is checked before anything is
written, with a few set-based queries for the whole batch: the code is J-LIS's
(only J-LIS mints codes), nobody holds it as a current resident, and the person
is the one the code's last record names (:func:`~kojin.registry.identity.refuse_other_person`).
The first mover refused stops the batch and nothing of it is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from kojin.numbering import reasons as numbering_reasons
from kojin.numbering.domain import validate_juminhyo_code
from kojin.numbering.service import NumberingService
from kojin.registry import reasons, records
from kojin.registry.checks import check_details
from kojin.registry.domain import RELATIONSHIPS, PersonDetails, validate_effective_date
from kojin.registry.identity import refuse_other_person

__all__ = ["Moves", "MovingHousehold"]


@dataclass(frozen=True)
class MovingHousehold:
    """A household moving in: (details, relationship, 住民票コード) for each member, the head first."""

    members: Sequence[tuple[PersonDetails, str, str]]


def _relationship(relationship: str, position: int) -> str:
    """The head (the first member) is 世帯主 and nobody else is."""
    if relationship not in RELATIONSHIPS:
        raise reasons.RELATIONSHIP_INVALID.error(
            relationships_ja="、".join(RELATIONSHIPS), relationships=", ".join(RELATIONSHIPS)
        )
    if position == 0 and relationship != "世帯主":
        raise reasons.RELATIONSHIP_NEEDS_HOUSEHOLD.error()
    if position > 0 and relationship == "世帯主":
        raise reasons.RELATIONSHIP_HEAD_EXISTS.error()
    return relationship


class Moves:
    """Move-ins from other municipalities, a batch at a time."""

    def __init__(self, engine: Engine, numbering: NumberingService) -> None:
        self.engine = engine
        self.numbering = numbering

    def move_in(
        self,
        households: Sequence[MovingHousehold],
        *,
        municipality_code: str,
        clerk: str = "clerk",
        effective_date: date | None = None,
        today: date | None = None,
    ) -> list[int]:
        """Register every household's move-in; the new resident ids in order."""
        today = today or date.today()
        effective = validate_effective_date(effective_date or today, today)
        people = [
            (check_details(d, municipality_code, today), _relationship(rel, n), h, code)
            for h, household in enumerate(households)
            for n, (d, rel, code) in enumerate(household.members)
        ]
        if not people:
            return []
        codes = [validate_juminhyo_code(code) for _d, _r, _h, code in people]
        if len(set(codes)) != len(codes):
            raise numbering_reasons.NUMBER_DUPLICATE_REQUEST.error()
        known = self.numbering.numbers_of(codes)
        if len(known) != len(codes):
            raise numbering_reasons.JUMINHYO_CODE_UNKNOWN.error()
        with self.engine.begin() as conn:
            if records.active_codes(conn, codes):
                raise numbering_reasons.JUMINHYO_CODE_ACTIVE_ELSEWHERE.error()
            last = records.last_departed_many(conn, codes)
            for details, _rel, _h, code in people:
                refuse_other_person(last.get(code), details)
            first = records.insert_moves(
                conn, people, len(households), municipality_code=municipality_code, clerk=clerk, effective=effective
            )
        return list(range(first, first + len(people)))
