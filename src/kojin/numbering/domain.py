"""Individual and corporate numbers: check digits, validation, derivation.

Pure rules with no storage: every formula here is the one in the ministerial
orders (FACTS.md §1), and python-stdnum is used in the tests as an independent
oracle.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from kojin.numbering import reasons

_FULLWIDTH_DIGITS = re.compile(r"[０-９]")
_ASCII_DIGITS = re.compile(r"[0-9]+")  # used with fullmatch: "$" would let a trailing newline through


def _mod11_weights(length: int) -> tuple[int, ...]:
    # Left-to-right weights: for 11 digits 6,5,4,3,2,7,6,5,4,3,2.
    return tuple((n - 1) % 6 + 2 for n in range(length, 0, -1))


_MOD11_WEIGHTS = {10: _mod11_weights(10), 11: _mod11_weights(11)}


def mod11_check_digit(body: str) -> int:
    """Modulus-11 check digit with weights 2–7 cycling from the right.

    For an 11-digit body this is exactly the individual-number rule of
    総務省令第85号 §5 (Qn = n+1 for n ≤ 6, n−5 for 7 ≤ n ≤ 11); kojin uses the
    same rule for the 10-digit body of a 住民票コード.
    """
    weights = _MOD11_WEIGHTS[len(body)] if len(body) in _MOD11_WEIGHTS else _mod11_weights(len(body))
    # Over the ASCII codes: Σ w·(c − 48) = Σ w·c − 48·Σ w, with no int() per digit
    # (callers have checked the body is ASCII digits; this runs per number issued).
    remainder = (sum(map(int.__mul__, body.encode("ascii"), weights)) - 48 * sum(weights)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def _chunk_tables(weights: tuple[int, ...], widths: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Σ w·digit for every value of each chunk of the body, left to right."""
    tables, start = [], 0
    for width in widths:
        w = weights[start : start + width]
        tables.append(
            tuple(sum(int(d) * x for d, x in zip(f"{v:0{width}d}", w, strict=True)) for v in range(10**width))
        )
        start += width
    return tuple(tables)


# The bodies J-LIS makes are integers first: looking up three-digit chunks costs
# a few divisions instead of a digit-by-digit pass over a string.
_CHUNKS_11 = _chunk_tables(_MOD11_WEIGHTS[11], (3, 3, 3, 2))
_CHUNKS_10 = _chunk_tables(_MOD11_WEIGHTS[10], (3, 3, 2, 2))


def mod11_check_digit_of(body: int, digits: int) -> int:
    """:func:`mod11_check_digit` of ``body`` written with ``digits`` (10 or 11) digits."""
    if digits == 11:
        t0, t1, t2, t3 = _CHUNKS_11
        a, rest = divmod(body, 10**8)
        b, rest = divmod(rest, 10**5)
        c, d = divmod(rest, 100)
    elif digits == 10:
        t0, t1, t2, t3 = _CHUNKS_10
        a, rest = divmod(body, 10**7)
        b, rest = divmod(rest, 10**4)
        c, d = divmod(rest, 100)
    else:
        raise ValueError("only 10- and 11-digit bodies")
    remainder = (t0[a] + t1[b] + t2[c] + t3[d]) % 11
    return 0 if remainder <= 1 else 11 - remainder


def individual_check_digit(body11: str) -> int:
    """Check digit of an individual number's 11-digit body (個人番号の検査用数字)."""
    if len(body11) != 11 or not _ASCII_DIGITS.fullmatch(body11):
        raise reasons.NUMBER_BODY.error()
    return mod11_check_digit(body11)


def corporate_check_digit(base12: str) -> int:
    """Check digit of a corporate number's 12-digit base (法人番号の検査用数字).

    ``CD = 9 − (Σ Pn·Qn mod 9)``, Pn counted from the right, Qn = 1 for odd n
    and 2 for even n (財務省令第70号 §2). The digit is placed FIRST.
    """
    if len(base12) != 12 or not _ASCII_DIGITS.fullmatch(base12):
        raise reasons.CORPORATE_NUMBER_BODY.error()
    total = sum(int(ch) * (1 if n % 2 else 2) for n, ch in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def _check_digits_only(value: str, length: int, field: str, kind_ja: str, kind_en: str) -> None:
    if _FULLWIDTH_DIGITS.search(value):
        raise reasons.FULLWIDTH_BY_FIELD[field].error(kind_ja=kind_ja, kind_en=kind_en)
    if not _ASCII_DIGITS.fullmatch(value):
        raise reasons.NOT_DIGITS_BY_FIELD[field].error(kind_ja=kind_ja, kind_en=kind_en)
    if len(value) != length:
        raise reasons.LENGTH_BY_FIELD[field].error(kind_ja=kind_ja, length=length, given=len(value), kind_en=kind_en)


def validate_individual_number(value: str) -> str:
    """Return ``value`` if it is a well-formed individual number, else raise.

    The reasons are precise: wrong length, not digits, full-width digits, bad
    check digit. The number itself is never put in the message.
    """
    _check_digits_only(value, 12, "number", "個人番号", "individual number")
    if mod11_check_digit(value[:11]) != int(value[11]):
        raise reasons.NUMBER_CHECK_DIGIT.error()
    return value


def validate_corporate_number(value: str) -> str:
    """Return ``value`` if it is a well-formed corporate number, else raise."""
    _check_digits_only(value, 13, "corporate_number", "法人番号", "corporate number")
    if corporate_check_digit(value[1:]) != int(value[0]):
        raise reasons.CORPORATE_NUMBER_CHECK_DIGIT.error()
    return value


def make_corporate_number(base12: str) -> str:
    return f"{corporate_check_digit(base12)}{base12}"


def validate_juminhyo_code(value: str) -> str:
    """A 住民票コード: 10 digits and a modulus-11 check digit (see mod11_check_digit)."""
    _check_digits_only(value, 11, "juminhyo_code", "住民票コード", "resident record code")
    if mod11_check_digit(value[:10]) != int(value[10]):
        raise reasons.JUMINHYO_CODE_CHECK_DIGIT.error()
    return value


def make_juminhyo_code(body10: str) -> str:
    return f"{body10}{mod11_check_digit(body10)}"


def juminhyo_code_of(body10: int) -> str:
    """The 住民票コード whose 10-digit body is ``body10`` (0 ≤ body10 < 10¹⁰)."""
    return f"{body10:010d}{mod11_check_digit_of(body10, 10)}"


@dataclass(frozen=True)
class NumberDerivation:
    """The keyed one-way mapping 住民票コード → 個人番号 (番号法 §8).

    HMAC-SHA-256 under a key held only in the numbering store, reduced to an
    11-digit body. ``attempt`` is bumped when a candidate collides with any
    number ever issued, so the mapping stays a function of the code alone plus
    the store's history, and has no regularity that recovers the code.
    """

    key: bytes

    def candidate(self, juminhyo_code: str, attempt: int = 0) -> str:
        mac = hmac.digest(self.key, f"kojin-number|{juminhyo_code}|{attempt}".encode(), "sha256")
        body = int.from_bytes(mac[:16], "big") % 10**11
        return f"{body:011d}{mod11_check_digit_of(body, 11)}"


def mask_number(number: str) -> str:
    """A form safe for screens and logs: only the last four digits (下4桁)."""
    return "********" + number[-4:] if len(number) >= 4 else "****"
