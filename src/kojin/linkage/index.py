"""The blocking index over the register's comparison keys (ブロッキング索引), with its term frequencies.

Each resident is filed under four block keys — reading and birth date, birth date
and postal code, name and birth year, name and postal code — so that a member's
candidates are the residents sharing any of its keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from kojin.linkage.records import KeyRow, ResidentEntry, entry_of_row
from kojin.linkage.scoring import TermFrequencies


def _entry_keys(entry: ResidentEntry) -> list[int]:
    ordinal = entry.birth_ordinal
    year = entry.birth[0]
    keys: list[int] = []
    for form in entry.names:
        full = form.surname + form.given
        keys.append(hash(("k", form.surname_kana + form.given_kana, ordinal)))
        keys.append(hash(("n", full, year)))
        keys.extend(hash(("f", full, address.postal_code)) for address in entry.addresses)
    keys.extend(hash(("p", ordinal, address.postal_code)) for address in entry.addresses)
    return keys


class MatchIndex:
    """The blocking index and term frequencies over the register's keys (ブロッキング索引)."""

    def __init__(self, entries: Iterable[ResidentEntry] = ()) -> None:
        self.items: list[ResidentEntry | tuple[KeyRow, int]] = []
        self.blocks: dict[int, int | list[int]] = {}
        self.tf = TermFrequencies()
        self.by_resident: dict[int, int] = {}
        for entry in entries:
            self.add(entry)

    def _block(self, keys: Iterable[int], position: int) -> None:
        blocks = self.blocks
        for key in keys:
            found = blocks.get(key)
            if found is None:
                blocks[key] = position
            elif isinstance(found, int):
                if found != position:
                    blocks[key] = [found, position]
            elif found[-1] != position:
                found.append(position)

    def add(self, entry: ResidentEntry) -> None:
        """Add a resident with all its names and addresses."""
        position = len(self.items)
        self.items.append(entry)
        self.by_resident[entry.resident_id] = position
        self._block(_entry_keys(entry), position)
        current = entry.names[0]
        address = entry.addresses[0]
        self._count(
            current.surname_kana,
            current.given_kana,
            entry.birth_ordinal,
            (address.postal_code, address.town, address.numbers),
        )

    def add_row(self, row: KeyRow, ordinal: int) -> None:
        """Add a resident with one name and one address from a stored row, built into an entry when asked for.

        This runs a million times when the index loads, so it is written out flat.
        """
        position = len(self.items)
        self.items.append((row, ordinal))
        self.by_resident[row[0]] = position
        full = row[5] + row[6]
        postal_code = row[9]
        blocks = self.blocks
        for key in (
            hash(("k", row[7] + row[8], ordinal)),
            hash(("n", full, row[4][0])),
            hash(("f", full, postal_code)),
            hash(("p", ordinal, postal_code)),
        ):
            found = blocks.get(key)
            if found is None:
                blocks[key] = position
            elif isinstance(found, int):
                if found != position:
                    blocks[key] = [found, position]
            elif found[-1] != position:
                found.append(position)
        tf = self.tf
        tf.total += 1
        surname, given, address = tf.surname, tf.given, tf.address
        surname[row[7]] = surname.get(row[7], 0) + 1
        given[row[8]] = given.get(row[8], 0) + 1
        tf.birth[ordinal] = tf.birth.get(ordinal, 0) + 1
        place = (postal_code, row[12], row[13])
        address[place] = address.get(place, 0) + 1

    def _count(self, surname: str, given: str, ordinal: int, address: tuple[str, str, tuple[int, ...]]) -> None:
        self.tf.add(surname, given, ordinal, address)

    def entry(self, position: int) -> ResidentEntry:
        item = self.items[position]
        if isinstance(item, ResidentEntry):
            return item
        entry = entry_of_row(*item)
        self.items[position] = entry
        return entry

    def entries(self) -> Iterator[ResidentEntry]:
        for position in range(len(self.items)):
            yield self.entry(position)

    def entry_for(self, resident_id: int) -> ResidentEntry | None:
        position = self.by_resident.get(resident_id)
        return None if position is None else self.entry(position)

    def __len__(self) -> int:
        return len(self.items)

    def candidates(self, keys: Sequence[int]) -> set[int]:
        out: set[int] = set()
        blocks = self.blocks
        for key in keys:
            found = blocks.get(key)
            if found is None:
                continue
            if isinstance(found, int):
                out.add(found)
            else:
                out.update(found)
        return out
