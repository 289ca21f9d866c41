"""Whose number is this? (個人番号の本人確認): J-LIS compares a typed number's holder with the member's items.

An agency that keys a number from a form may key a family member's number
from the same form — the most common cause the 総点検 found. So a number
alone never obtains an agency's code: the agency sends the member's four basic
items with it, and J-LIS compares them with the holder's record in the
register (:mod:`kojin.registry.identity`) before it hands the hub a link id.
J-LIS keeps no names itself; it reads the register's record of the code and
forgets it.
"""

from __future__ import annotations

from collections.abc import Callable

from kojin.numbering import reasons
from kojin.numbering.service import NumberingService
from kojin.registry.domain import Resident
from kojin.registry.identity import Claim, item_words, mismatched_items

__all__ = ["HolderCheck"]


class HolderCheck:
    """Turns (number, member's items) into a link id only when the items are the holder's."""

    def __init__(self, numbering: NumberingService, record_of: Callable[[str], Resident | None]) -> None:
        self._numbering = numbering
        self._record_of = record_of

    def link_id_for(self, number: str, member: Claim) -> str:
        """The link id of ``number``'s holder; ``number.person_mismatch`` when ``member`` is someone else."""
        juminhyo_code = self._numbering.code_for(number)
        record = self._record_of(juminhyo_code)
        wrong = ["name", "sex", "birth_date"] if record is None else mismatched_items(member, record)
        if wrong:
            raise reasons.NUMBER_PERSON_MISMATCH.error(**item_words(wrong))
        return self._numbering.link_id_for_code(juminhyo_code)
