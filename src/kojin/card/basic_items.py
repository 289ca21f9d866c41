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

from kojin.card import reasons
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
from kojin.core.japan import parse_yyyymmdd, yyyymmdd


def _check_text(value: str, field: str, ja: str, en: str) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise reasons.EMPTY_BY_FIELD[field].error(label_ja=ja, label_en=en)
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise reasons.CONTROL_BY_FIELD[field].error(label_ja=ja, label_en=en)
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise reasons.ENCODING_BY_FIELD[field].error(label_ja=ja, label_en=en) from exc


def _birth_date_text(birth_date: date | str) -> bytes:
    text = yyyymmdd(birth_date) if isinstance(birth_date, date) else birth_date
    try:
        parse_yyyymmdd(text)
    except ValueError as exc:
        raise reasons.BIRTH_DATE.error() from exc
    return text.encode("ascii")


def build_basic_items_file(name: str, address: str, birth_date: date | str, sex: str) -> bytes:
    """The content of EF 0002 of the 券面事項入力補助AP (基本4情報), layout in the module doc."""
    if sex not in ("1", "2"):
        raise reasons.SEX.error()
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
        raise reasons.BASIC_ITEMS_TOO_LONG.error()
    return out
