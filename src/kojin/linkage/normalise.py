"""Comparison keys for names, kana and addresses (照合用の正規化).

Only keys are normalised here: the register keeps every name code point for
code point (variant kanji, IVS sequences), and so does the matching service's
record of what an agency sent. Two people compare equal on a key when a clerk
would say "the same spelling, written differently"; the score decides what an
equal key is worth.

- **kana** (フリガナ): full/half width, hiragana/katakana, spacing
  (:func:`kana_strict`); then small kana, long-vowel marks and the usual
  spelling pairs (ヂ/ジ, ヅ/ズ, ヲ/オ, ヴ/ブ) folded as well (:func:`kana_loose`),
  so サトウ = サトー = ｻﾄｳ = さとう.
- **kanji** (異体字): IVS selectors stripped, then each character folded through
  the MJ shrink map's JIS-incorporation and family-register rules
  (``jntajis``), closed under repetition and represented by its lowest code
  point so the fold is the same from either side (髙/高, 﨑/崎, 邊/辺/邉,
  濵/濱/浜, 𠮷/吉), plus a small table for what those maps do not join (齊/斉
  with 齋/斎) and a deny list for what they join wrongly (功/切).
- **addresses** (住所): full/half width, kanji numerals (``kanjize``), 丁目・番地・号
  and hyphen forms, so 一丁目二番三号 = 1-2-3 = １－２－３; the building name is
  dropped; the town is matched against the register's structured address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jaconv
from jntajis import MJShrinkSchemeCombo, mj_shrink_candidates
from kanjize import kanji2number

__all__ = [
    "AddressKey",
    "MemberAddress",
    "NameKey",
    "block_numbers",
    "fold_area",
    "fold_kanji",
    "kana_loose",
    "kana_parts",
    "kana_strict",
    "member_address",
    "name_key",
    "numbers_relation",
    "register_address",
    "split_name",
    "strip_selectors",
]

# Variation selectors: VS1–16 (standardised variants) and VS17–256 (IVS).
_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")

# MJ rules that join spellings of one character. "Inference by reading and
# glyph" and MOJ notice 582 also join different characters, so they are not used.
_COMBO = int(
    MJShrinkSchemeCombo.JIS_INCORPORATION_UCS_UNIFICATION_RULE
    | MJShrinkSchemeCombo.MOJ_FAMILY_REGISTER_ACT_RELATED_NOTICE
)
# Variants the MJ maps keep apart but people write for one another.
_EXTRA_FOLDS = {"斉": "斎", "齊": "斎", "齋": "斎", "嶌": "島", "ヶ": "ケ", "ヵ": "カ"}
# Pairs the MJ maps join although they are different characters.
_NEVER_JOIN = {("功", "切"), ("切", "功")}


def _fold_char(ch: str) -> str:
    """One character's representative: the lowest code point of its variant class."""
    if ch in _EXTRA_FOLDS:
        return _EXTRA_FOLDS[ch]
    seen = {ch}
    todo = [ch]
    while todo and len(seen) < 16:
        current = todo.pop()
        for candidate in mj_shrink_candidates(current, _COMBO, 8):
            if len(candidate) == 1 and candidate not in seen and (current, candidate) not in _NEVER_JOIN:
                seen.add(candidate)
                todo.append(candidate)
    folded = min(seen)
    return _EXTRA_FOLDS.get(folded, folded)


# Where kanji live: CJK unified ideographs and extensions A–G, and the compatibility block.
_HAN_RANGES = (
    (0x3400, 0x4DC0),
    (0x4E00, 0xA000),
    (0xF900, 0xFB00),
    (0x20000, 0x2A6E0),
    (0x2A700, 0x2EBF0),
    (0x30000, 0x3134B),
)


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    """Every kanji that folds to another, as a ``str.translate`` table (built once, about 0.2 s)."""
    table = {ord(k): v for k, v in _EXTRA_FOLDS.items()}
    for low, high in _HAN_RANGES:
        for code in range(low, high):
            ch = chr(code)
            folded = _fold_char(ch)
            if folded != ch:
                table[code] = folded
    return table


def strip_selectors(text: str) -> str:
    """Drop variation selectors (IVS): 葛󠄀 and 葛 compare equal."""
    return _SELECTORS.sub("", text)


def _repeat_marks(text: str) -> str:
    out: list[str] = []
    for ch in text:
        out.append(out[-1] if ch == "々" and out else ch)
    return "".join(out)


@lru_cache(maxsize=1 << 18)
def fold_kanji(text: str) -> str:
    """Width-fold, strip selectors, fold variant kanji and expand 々; spaces kept."""
    text = strip_selectors(unicodedata.normalize("NFKC", text)).translate(_fold_table())
    if "々" in text:
        text = _repeat_marks(text)
    return text.upper()


_SPACES = re.compile(r"[\s\u3000]+")


def split_name(text: str) -> tuple[str, str]:
    """(surname, given) split at the first space; ("", whole) when there is none."""
    parts = _SPACES.split(text.strip(), maxsplit=1)
    if len(parts) == 2:
        return parts[0], _SPACES.sub("", parts[1])
    return "", parts[0]


@dataclass(frozen=True, slots=True)
class NameKey:
    """A name folded for comparison (氏名の照合キー); ``surname`` empty when unsplit."""

    surname: str
    given: str

    @property
    def full(self) -> str:
        return self.surname + self.given


@lru_cache(maxsize=1 << 18)
def name_key(name: str) -> NameKey:
    surname, given = split_name(fold_kanji(name))
    return NameKey(surname, given)


# -- kana ----------------------------------------------------------------------------------------

_KANA_DROP = re.compile(r"[\s\u3000・･.,、。()（）]+")


@lru_cache(maxsize=1 << 18)
def kana_strict(text: str) -> str:
    """Katakana, full width, no spaces: ｻﾄｳ ﾀﾛｳ = さとう　たろう = サトウタロウ."""
    text = jaconv.hira2kata(unicodedata.normalize("NFKC", text))
    return _KANA_DROP.sub("", text)


_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_PAIRS = str.maketrans("ヂヅヲヴヰヱ", "ジズオブイエ")
_VOWEL: dict[str, str] = {}
for _vowel, _row in (
    ("a", "アカガサザタダナハバパマヤラワ"),
    ("i", "イキギシジチニヒビピミリ"),
    ("u", "ウクグスズツヌフブプムユル"),
    ("e", "エケゲセゼテデネヘベペメレ"),
    ("o", "オコゴソゾトドノホボポモヨロ"),
):
    for _ch in _row:
        _VOWEL[_ch] = _vowel
# Which following kana only lengthen the vowel before them (長音).
_LENGTHENERS = {"a": "アー", "i": "イー", "u": "ウー", "e": "イエー", "o": "ウオー"}
_DASHES = "ー－‐‑–—―−~〜"


@lru_cache(maxsize=1 << 18)
def kana_loose(text: str) -> str:
    """:func:`kana_strict` with small kana, long vowels and spelling pairs folded.

    サトウ, サトー and サトオ all become サト; キョウコ and キヨウコ become キヨコ.
    """
    text = kana_strict(text).translate(_SMALL).translate(_PAIRS)
    out: list[str] = []
    previous = ""
    for ch in text:
        vowel = _VOWEL.get(previous)
        if ch in _DASHES or (vowel is not None and ch in _LENGTHENERS[vowel]):
            continue  # previous stays the same: オオオ and オーー fold alike
        out.append(ch)
        previous = ch
    return "".join(out)


@lru_cache(maxsize=1 << 18)
def kana_parts(kana: str) -> tuple[str, str, str, str]:
    """Surname and given name of a reading, loose then strict; ("", whole) when there is no space.

    Loose keys say whether two readings agree; a typo is judged on the strict ones,
    because folding long vowels can turn one mistyped kana into two differences
    (ダイスケ → リイスケ is one edit; ダイスケ and リスケ are two).
    """
    surname, given = split_name(kana)
    return kana_loose(surname), kana_loose(given), kana_strict(surname), kana_strict(given)


# -- addresses -----------------------------------------------------------------------------------

_KANJI_DIGITS = re.compile("[〇一二三四五六七八九十百千]+")
_DASH_AFTER_DIGIT = re.compile(r"(?<=\d)\s*[ー－‐‑–—―−~〜﹣-]\s*(?=\d)")
_GAP_BETWEEN_DIGITS = re.compile(r"(?<=\d)\s+(?=\d)")
_AREA_FOLDS = str.maketrans({"ヶ": "ケ", "ヵ": "ケ", "が": "ケ", "ガ": "ケ", "の": "ノ", "之": "ノ"})
_BLOCK = re.compile(r"(?:\d+(?:丁目|番地ノ?|番ノ?|ノ|-))*\d+")
_DIGITS = re.compile(r"\d+")
_BLOCK_START = re.compile(r"\d+|[〇一二三四五六七八九十百千]+(?=丁目|番|号)")


_UNIT_MARK = ("丁目", "番", "号")
_SEPARATOR_MARK = ("ノ", "-", "|")
_AFTER_MARK = ("丁目", "番地", "番", "ノ", "-")


def _kanji_numbers(text: str) -> str:
    """Kanji numerals of the block (四丁目十五番十四号, 十五の十四) as digits; others (千川, 第二,
    一之江) stay: a run counts when 丁目・番・号 follow it, or when it starts the block or
    follows a block mark and a separator or the end follows it."""

    def convert(match: re.Match[str]) -> str:
        before, after = text[: match.start()], text[match.end() :]
        if before[-1:].isdigit():
            return match.group()
        opens = not before or before.endswith(_AFTER_MARK)
        if not (after.startswith(_UNIT_MARK) or (opens and (not after or after.startswith(_SEPARATOR_MARK)))):
            return match.group()
        try:
            return str(kanji2number(match.group()))
        except Exception:  # kanjize refuses odd runs such as 十十; they stay as written
            return match.group()

    return _KANJI_DIGITS.sub(convert, text)


@lru_cache(maxsize=1)
def _area_table() -> dict[int, str]:
    return {**_fold_table(), **_AREA_FOLDS}


@lru_cache(maxsize=1 << 16)
def fold_area(text: str) -> str:
    """Fold an address for comparison; a gap between two numbers becomes ``|``, other spaces go."""
    text = strip_selectors(unicodedata.normalize("NFKC", text)).translate(_area_table()).upper()
    if "々" in text:
        text = _repeat_marks(text)
    text = text.replace("大字", "")
    text = _DASH_AFTER_DIGIT.sub("-", text)
    text = _GAP_BETWEEN_DIGITS.sub("|", text)
    return _SPACES.sub("", text)


@lru_cache(maxsize=1 << 16)
def block_numbers(text: str) -> tuple[int, ...]:
    """The numbers of 丁目・番地・号 at the start of ``text`` (already folded); the building is dropped.

    ``4丁目15番14号``, ``4-15-14``, ``四丁目十五番十四号`` and ``4丁目15-14 メゾン 302`` all give (4, 15, 14).
    """
    text = _DASH_AFTER_DIGIT.sub("-", _kanji_numbers(text))
    # One match for the whole block: numbers joined by 丁目・番地・番・ノ・-, the last one
    # followed by anything (号, a building, nothing). A number with no mark after it,
    # or with 号, ends the block; what follows is the building.
    block = _BLOCK.match(text)
    return tuple(map(int, _DIGITS.findall(block.group()))) if block else ()


def numbers_relation(member: tuple[int, ...], register: tuple[int, ...]) -> str:
    """``full`` (the member gives every register number, maybe a room too), ``partial`` (the
    member leaves the last parts out), ``first`` (only the first number agrees) or ``none``."""
    if not register:
        return "partial" if not member else "none"
    if not member:
        return "partial"
    if member[: len(register)] == register:
        return "full"
    if register[: len(member)] == member:
        return "partial"
    return "first" if member[0] == register[0] else "none"


@dataclass(slots=True)
class AddressKey:
    """A register address as the matcher compares it (住所の照合キー)."""

    postal_code: str
    prefecture: str
    city: str
    town: str
    numbers: tuple[int, ...]


def register_address(postal_code: str, prefecture: str, city: str, town: str, block: str) -> AddressKey:
    """The key of a structured address; any words before the numbers (字…) belong to the town."""
    folded = fold_area(block)
    start = _BLOCK_START.search(folded)
    head = folded[: start.start()] if start else folded
    rest = folded[start.start() :] if start else ""
    return AddressKey(postal_code, fold_area(prefecture), fold_area(city), fold_area(town) + head, block_numbers(rest))


@dataclass(frozen=True, slots=True)
class MemberAddress:
    """An address as an agency sent it: the postal code, one folded line (building kept),
    and that line split once into the words before the block and the block's numbers."""

    postal_code: str
    text: str
    area: str
    numbers: tuple[int, ...]

    def against(self, key: AddressKey) -> tuple[bool, str]:
        """Does the town agree with ``key``, and how do the block numbers relate?"""
        return self.against_parts(key.prefecture, key.city, key.town, key.numbers)

    def against_parts(self, prefecture: str, city: str, town: str, numbers: tuple[int, ...]) -> tuple[bool, str]:
        """:meth:`against` for a key given as its parts (the matcher's stored rows)."""
        area = self.area
        if prefecture and area.startswith(prefecture):
            area = area[len(prefecture) :]
        if city and area.startswith(city):
            area = area[len(city) :]
        if area == town:
            return True, numbers_relation(self.numbers, numbers)
        # A town with numbers in its name (一番町, サンシャイン60) splits wrongly
        # above; compare the whole line with the register's town instead.
        text = self.text
        if prefecture and text.startswith(prefecture):
            text = text[len(prefecture) :]
        if city and text.startswith(city):
            text = text[len(city) :]
        if town and text.startswith(town):
            return True, numbers_relation(block_numbers(text[len(town) :]), numbers)
        return False, numbers_relation(self.numbers, numbers)


def member_address(postal_code: str, line: str) -> MemberAddress:
    text = fold_area(line)
    start = _BLOCK_START.search(text)
    if start is None:
        return MemberAddress(postal_code, text, text, ())
    return MemberAddress(postal_code, text, text[: start.start()], block_numbers(text[start.start() :]))


def parse_one_line(line: str, prefecture: str, city: str, towns: dict[str, str]) -> AddressKey | None:
    """Structure a register ``one_line`` address (as history keeps it) with the municipality's towns.

    ``towns`` maps each folded town name to its postal code; the longest town the
    line starts with wins. None when the line is not in that municipality.
    """
    text = fold_area(line)
    pref, town_city = fold_area(prefecture), fold_area(city)
    if text.startswith(pref):
        text = text[len(pref) :]
    if not text.startswith(town_city):
        return None
    text = text[len(town_city) :]
    best = ""
    for town in towns:
        if len(town) > len(best) and text.startswith(town):
            best = town
    if not best:
        return None
    rest = text[len(best) :]
    start = _BLOCK_START.search(rest)
    head = rest[: start.start()] if start else ""
    numbers = block_numbers(rest[start.start() :]) if start else ()
    return AddressKey(towns[best], pref, town_city, best + head, numbers)
