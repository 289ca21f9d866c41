"""The four basic items file (基本4情報) of the 券面事項入力補助AP: EF 0002, built from text.

EF 0002 of the 券面事項入力補助AP is one BER-TLV object, as real cards hold it::

    FF 20 L                         constructed wrapper (the header)
      DF 21 08 o1 o2 o3 o4          four big-endian 16-bit offsets, from the start
                                    of the EF, of the DF22, DF23, DF24, DF25 objects
      DF 22 L name                  UTF-8, exactly as given (IVS selectors kept)
      DF 23 L address               UTF-8
      DF 24 08 YYYYMMDD             birth date, ASCII
      DF 25 01 sex                  '1' male, '2' female (ASCII)

The meaning of the DF21 offsets on the real card is not confirmed; readers
(including :class:`kojin.card.reader.CardReader`) find the items by tag.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from kojin.card.apdu import (
    TAG_BASIC_ADDRESS,
    TAG_BASIC_BIRTH_DATE,
    TAG_BASIC_ITEMS,
    TAG_BASIC_NAME,
    TAG_BASIC_OFFSETS,
    TAG_BASIC_SEX,
    tlv_encode,
)
from kojin.card.files import MAX_EF_SIZE
from kojin.core.errors import InvalidInput
from kojin.core.japan import parse_yyyymmdd, yyyymmdd


def _check_text(value: str, field: str, ja: str, en: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"card.{field}_empty", f"{ja}が空です。", f"The {en} is empty.", field=field)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput(
            f"card.{field}_control",
            f"{ja}に制御文字が含まれています。",
            f"The {en} contains control characters.",
            field=field,
        )
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"card.{field}_encoding", f"{ja}をUTF-8で表せません。", f"The {en} cannot be encoded as UTF-8.", field=field
        ) from exc


def _birth_date_text(birth_date: date | str) -> bytes:
    text = yyyymmdd(birth_date) if isinstance(birth_date, date) else birth_date
    try:
        parse_yyyymmdd(text)
    except ValueError as exc:
        raise InvalidInput(
            "card.birth_date",
            "生年月日はYYYYMMDDの実在する日付です。",
            "The birth date must be a real date as YYYYMMDD.",
            field="birth_date",
        ) from exc
    return text.encode("ascii")


def build_basic_items_file(name: str, address: str, birth_date: date | str, sex: str) -> bytes:
    """The content of EF 0002 of the 券面事項入力補助AP (基本4情報), layout in the module doc."""
    if sex not in ("1", "2"):
        raise InvalidInput(
            "card.sex", "性別は'1'（男）か'2'（女）です。", "Sex is '1' (male) or '2' (female).", field="sex"
        )
    items = [
        tlv_encode(TAG_BASIC_NAME, _check_text(name, "name", "氏名", "name")),
        tlv_encode(TAG_BASIC_ADDRESS, _check_text(address, "address", "住所", "address")),
        tlv_encode(TAG_BASIC_BIRTH_DATE, _birth_date_text(birth_date)),
        tlv_encode(TAG_BASIC_SEX, sex.encode("ascii")),
    ]
    offsets_len = len(tlv_encode(TAG_BASIC_OFFSETS, bytes(2 * len(items))))
    content_len = offsets_len + sum(map(len, items))
    outer_header = len(tlv_encode(TAG_BASIC_ITEMS, bytes(content_len))) - content_len
    offsets = bytearray()
    at = outer_header + offsets_len
    for item in items:
        offsets += at.to_bytes(2, "big")
        at += len(item)
    header = tlv_encode(TAG_BASIC_OFFSETS, bytes(offsets))
    out = tlv_encode(TAG_BASIC_ITEMS, header + b"".join(items))
    if len(out) > MAX_EF_SIZE:
        raise InvalidInput(
            "card.basic_items_too_long",
            "券面事項が長すぎます。",
            "The card-face items are too long for the card.",
            field="name",
        )
    return out
