"""Certificate profiles, validity rules and reason codes of JPKI: pure rules.

Nothing here touches keys, X.509 encoders, the database or the web: the service
turns these rules into certificates, and the tests check them on their own.

Subject alternative name of the signature certificate (署名用電子証明書)
-----------------------------------------------------------------------

The four basic items (基本4情報) travel as ``otherName`` entries whose value is
a DER UTF8String. The arc 1.2.392.200149.8.5.5 is J-LIS's "personal data" arc;
the mapping below is the one in J-LIS's certificate profile (spec 3.2) and in
software that reads real cards (for example jpki/myna):

=========================  ===========================================  =================
OID                        meaning                                      kojin writes
=========================  ===========================================  =================
1.2.392.200149.8.5.5.1     氏名 name                                    always
1.2.392.200149.8.5.5.2     氏名代替文字の使用位置 (substitute characters  never
                           used in the name)
1.2.392.200149.8.5.5.3     性別 sex: ``1`` male, ``2`` female            always
1.2.392.200149.8.5.5.4     生年月日 birth date, ``EYYYYMMDD``            always
1.2.392.200149.8.5.5.5     住所 address, one line                        always
1.2.392.200149.8.5.5.6     住所代替文字の使用位置 (substitute characters  never
                           used in the address)
=========================  ===========================================  =================

The real card substitutes characters outside its character set and records
where; kojin keeps names and addresses code point for code point (variant
characters and IVS included) and a UTF8String carries every one of them, so
there is never anything to substitute and .2 / .6 are not written (readers
ignore them). The name's kana reading is not in the certificate, as on the real
card. ``E`` in the birth date is the era code 1 明治, 2 大正, 3 昭和, 4 平成,
5 令和, followed by the Gregorian date; readers here accept any era digit 1–5
and trust the Gregorian digits, so a disagreeing era code is not fatal.

Validity (FACTS.md §3)
----------------------

Both certificates run from the day of issue to the holder's fifth birthday
after it. "After" is strict: a certificate issued on a birthday does not count
that day, so issuing on a birthday gives five full years and issuing the day
before gives four years and a day, as on the real card. For a person born on
29 February the birthday in a common year is taken to be 28 February — the day
at whose end Japanese law (年齢計算ニ関スル法律) has them attain the new age —
so a certificate never outlives the period the rule intends [?: J-LIS's own
practice is not published]. Times are Japan Standard Time: valid from 00:00:00
on the day of issue to 23:59:59 on the last day.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, get_args

from kojin.core.errors import InvalidInput
from kojin.core.japan import JST, age_on, era_of, parse_yyyymmdd, yyyymmdd
from kojin.pki import reasons

Algorithm = Literal["rsa2048", "p256"]
ALGORITHMS: Final[tuple[Algorithm, ...]] = get_args(Algorithm)

ROOT_CA: Final = "root"
SIGN_CA: Final = "sign"
AUTH_CA: Final = "auth"
CA_NAMES: Final = (ROOT_CA, SIGN_CA, AUTH_CA)
# Each organisation's staff CA (職員認証局) is named ``staff-<kind>[-<id>]``:
# ``municipality:131016`` → ``staff-municipality-131016``, ``jlis`` → ``staff-jlis``.
STAFF_CA_PREFIX: Final = "staff-"
_ORGANISATION = re.compile(r"([a-z]{2,20})(?::([a-z0-9_]{1,40}))?\Z")
_STAFF_CA_NAME = re.compile(r"staff-([a-z]{2,20})(?:-([a-z0-9_]{1,40}))?\Z")

SIGNATURE_MIN_AGE: Final = 15
VALIDITY_BIRTHDAYS: Final = 5

# -- personal-data OIDs (see the module docstring) ---------------------------
OID_NAME: Final = "1.2.392.200149.8.5.5.1"
OID_NAME_SUBSTITUTE: Final = "1.2.392.200149.8.5.5.2"
OID_SEX: Final = "1.2.392.200149.8.5.5.3"
OID_BIRTH_DATE: Final = "1.2.392.200149.8.5.5.4"
OID_ADDRESS: Final = "1.2.392.200149.8.5.5.5"
OID_ADDRESS_SUBSTITUTE: Final = "1.2.392.200149.8.5.5.6"

OID_CLIENT_AUTH: Final = "1.3.6.1.5.5.7.3.2"


class CertKind(StrEnum):
    """The two certificates on a resident's card (署名用, 利用者証明用), and a staff card's (職員認証用)."""

    SIGN = "sign"
    AUTH = "auth"
    STAFF = "staff"

    @property
    def ca_name(self) -> str:
        """The issuing CA of a resident certificate; a staff certificate's is its organisation's."""
        if self is CertKind.STAFF:
            raise ValueError("a staff certificate's CA is its organisation's (staff_ca_name)")
        return SIGN_CA if self is CertKind.SIGN else AUTH_CA


# The certificates of a resident's My Number card, issued by the two JPKI issuing CAs.
RESIDENT_KINDS: Final = (CertKind.SIGN, CertKind.AUTH)


def staff_ca_name(organisation: str) -> str:
    """The staff CA of an organisation written as the staff party writes it (``agency:nenkin``)."""
    match = _ORGANISATION.match(organisation) if isinstance(organisation, str) else None
    if match is None:
        raise reasons.BAD_ORGANISATION.error(value=organisation)
    kind, org_id = match.groups()
    return f"{STAFF_CA_PREFIX}{kind}" + (f"-{org_id}" if org_id else "")


def organisation_of_staff_ca(name: str) -> str | None:
    """The organisation a staff CA name stands for, or None if ``name`` is no staff CA's."""
    match = _STAFF_CA_NAME.match(name) if isinstance(name, str) else None
    if match is None:
        return None
    kind, org_id = match.groups()
    return kind + (f":{org_id}" if org_id else "")


def parse_kind(value: str) -> CertKind:
    try:
        return CertKind(value)
    except ValueError:
        raise reasons.BAD_KIND.error() from None


def parse_algorithm(value: str) -> Algorithm:
    for algorithm in ALGORITHMS:
        if value == algorithm:
            return algorithm
    raise reasons.BAD_ALGORITHM.error()


@dataclass(frozen=True)
class SecretRule:
    """暗証番号の規則: the secret that unlocks one certificate's key on the card."""

    min_length: int
    max_length: int
    alphabet: str
    tries: int


@dataclass(frozen=True)
class CertificateProfile:
    """証明書プロファイル: what one kind of end-entity certificate contains."""

    kind: CertKind
    ca_name: str
    label_ja: str
    label_en: str
    # KeyUsage bit names as cryptography spells them.
    key_usage: frozenset[str]
    extended_key_usage: tuple[str, ...]
    carries_personal_data: bool
    min_age: int
    revoked_on_move_or_name_change: bool
    secret: SecretRule


PROFILES: Final[Mapping[CertKind, CertificateProfile]] = MappingProxyType(
    {
        CertKind.SIGN: CertificateProfile(
            kind=CertKind.SIGN,
            ca_name=SIGN_CA,
            label_ja="署名用電子証明書",
            label_en="signature certificate",
            key_usage=frozenset({"digital_signature", "content_commitment"}),
            extended_key_usage=(),
            carries_personal_data=True,
            min_age=SIGNATURE_MIN_AGE,
            revoked_on_move_or_name_change=True,
            secret=SecretRule(6, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 5),
        ),
        CertKind.AUTH: CertificateProfile(
            kind=CertKind.AUTH,
            ca_name=AUTH_CA,
            label_ja="利用者証明用電子証明書",
            label_en="user-authentication certificate",
            key_usage=frozenset({"digital_signature"}),
            extended_key_usage=(OID_CLIENT_AUTH,),
            carries_personal_data=False,
            min_age=0,
            revoked_on_move_or_name_change=False,
            secret=SecretRule(4, 4, "0123456789", 3),
        ),
        # Not JPKI's: a staff card carries one authentication certificate from
        # its organisation's staff CA, naming the staff id and the organisation.
        CertKind.STAFF: CertificateProfile(
            kind=CertKind.STAFF,
            ca_name=STAFF_CA_PREFIX,
            label_ja="職員認証用電子証明書",
            label_en="staff authentication certificate",
            key_usage=frozenset({"digital_signature"}),
            extended_key_usage=(OID_CLIENT_AUTH,),
            carries_personal_data=False,
            min_age=0,
            revoked_on_move_or_name_change=False,
            secret=SecretRule(4, 4, "0123456789", 3),
        ),
    }
)


def check_secret_format(kind: CertKind, secret: str) -> None:
    """Refuse a PIN or password the card would never accept (FACTS.md §3)."""
    rule = PROFILES[kind].secret
    if not rule.min_length <= len(secret) <= rule.max_length or any(ch not in rule.alphabet for ch in secret):
        if kind is CertKind.SIGN:
            raise reasons.BAD_SECRET_FORMAT.error(
                label_ja="署名用パスワード",
                rule_ja="英大文字と数字の6〜16文字",
                label_en="signature password",
                rule_en="6–16 characters of A–Z and 0–9",
            )
        raise reasons.BAD_SECRET_FORMAT.error(
            label_ja="利用者証明用暗証番号", rule_ja="数字4桁", label_en="user-authentication PIN", rule_en="4 digits"
        )


# -- revocation ---------------------------------------------------------------


class CertStatus(StrEnum):
    """証明書の状態: good until revoked; revocation is final."""

    GOOD = "good"
    REVOKED = "revoked"


class RevocationReason(StrEnum):
    """失効理由, the RFC 5280 reason codes JPKI has a use for."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "key_compromise"  # card lost or stolen (紛失・盗難)
    AFFILIATION_CHANGED = "affiliation_changed"  # move or name change (転居・氏名変更)
    SUPERSEDED = "superseded"  # reissued (再発行・更新)
    CESSATION_OF_OPERATION = "cessation_of_operation"  # death, card returned (死亡・返納)
    PRIVILEGE_WITHDRAWN = "privilege_withdrawn"  # revoked by J-LIS (職権失効)

    @property
    def code(self) -> int:
        """The CRLReason value of RFC 5280 §5.3.1."""
        return _REASON_CODES[self]


_REASON_CODES: Final = {
    RevocationReason.UNSPECIFIED: 0,
    RevocationReason.KEY_COMPROMISE: 1,
    RevocationReason.AFFILIATION_CHANGED: 3,
    RevocationReason.SUPERSEDED: 4,
    RevocationReason.CESSATION_OF_OPERATION: 5,
    RevocationReason.PRIVILEGE_WITHDRAWN: 9,
}


def parse_reason(value: str | RevocationReason) -> RevocationReason:
    try:
        return RevocationReason(value)
    except ValueError:
        raise reasons.BAD_REASON.error(choices=", ".join(r.value for r in RevocationReason)) from None


# Which certificates a register event revokes, and why (FACTS.md §3: a move or
# a name change changes the basic items in the signature certificate, so only
# that one goes; the authentication certificate holds no personal data, and a
# death ends both). Keys are the names of the events the resident register
# publishes on the bus, with a ``juminhyo_code`` in their payload.
REVOKED_ON_EVENT: Final[Mapping[str, tuple[frozenset[CertKind], RevocationReason]]] = MappingProxyType(
    {
        "registry.address_changed": (
            frozenset({CertKind.SIGN}),
            RevocationReason.AFFILIATION_CHANGED,
        ),
        "registry.moved_out": (frozenset({CertKind.SIGN}), RevocationReason.AFFILIATION_CHANGED),
        "registry.name_changed": (
            frozenset({CertKind.SIGN}),
            RevocationReason.AFFILIATION_CHANGED,
        ),
        "registry.deceased": (
            frozenset({CertKind.SIGN, CertKind.AUTH}),
            RevocationReason.CESSATION_OF_OPERATION,
        ),
    }
)


# -- validity -------------------------------------------------------------------


def birthday_in(birth_date: date, year: int) -> date:
    """The holder's birthday in ``year``; 29 February falls on the 28th in common years."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def last_valid_day(birth_date: date, issued_on: date) -> date:
    """The holder's fifth birthday strictly after ``issued_on``."""
    if birth_date > issued_on:
        raise reasons.BIRTH_AFTER_ISSUE.error()
    first_year = issued_on.year
    if birthday_in(birth_date, first_year) <= issued_on:
        first_year += 1
    return birthday_in(birth_date, first_year + VALIDITY_BIRTHDAYS - 1)


def validity_window(birth_date: date, issued_on: date) -> tuple[datetime, datetime]:
    """notBefore and notAfter (JST, second precision) for a certificate issued on a day."""
    start = datetime.combine(issued_on, time(0, 0, 0), JST)
    end = datetime.combine(last_valid_day(birth_date, issued_on), time(23, 59, 59), JST)
    return start, end


def check_may_hold(kind: CertKind, birth_date: date, today: date) -> None:
    """Refuse a signature certificate to a person under 15 on ``today``."""
    if birth_date > today:
        raise reasons.BIRTH_AFTER_ISSUE.error()
    if age_on(birth_date, today) < PROFILES[kind].min_age:
        raise reasons.SIGNATURE_UNDER_15.error()


# -- identifiers ----------------------------------------------------------------

# 95 random bits under a fixed top bit: positive, at least 64 bits of entropy as
# CA/B and RFC 5280 expect, and always 24 hex digits so stored serials sort.
_SERIAL_BITS: Final = 95
_SUBJECT_REF_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_SERIAL_HEX = re.compile(r"[0-9a-f]{1,40}")


def new_serial() -> int:
    return (1 << _SERIAL_BITS) | secrets.randbits(_SERIAL_BITS)


def serial_key(serial: int) -> str:
    """A serial as stored: lower-case hex without leading zeros (RFC 5280 allows 20 octets)."""
    if serial <= 0 or serial.bit_length() > 159:
        raise reasons.BAD_SERIAL.error()
    return format(serial, "x")


def parse_serial_key(value: str) -> int:
    if not _SERIAL_HEX.fullmatch(value):
        raise ValueError(f"stored serial {value!r} is not lower-case hex")
    return int(value, 16)


def new_subject_ref() -> str:
    """An opaque subject name: says nothing about the holder and links nothing."""
    return "".join(secrets.choice(_SUBJECT_REF_ALPHABET) for _ in range(20))


# -- the four basic items -------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SEXES: Final = ("1", "2")


@dataclass(frozen=True)
class BasicFourItems:
    """基本4情報 as carried in the signature certificate."""

    name: str
    address: str
    birth_date: date
    sex: str


def validate_basic_items(items: BasicFourItems) -> BasicFourItems:
    for field, label, value, limit in (
        ("name", "氏名", items.name, 100),
        ("address", "住所", items.address, 300),
    ):
        if not isinstance(value, str) or not value.strip():
            raise reasons.EMPTY_BY_FIELD[field].error(label=label)
        if _CONTROL.search(value):
            raise reasons.CONTROL_IN_BY_FIELD[field].error(label=label)
        if len(value) > limit:
            raise reasons.LONG_BY_FIELD[field].error(label=label, limit=limit)
    if str(items.sex) not in _SEXES:
        raise reasons.BAD_SEX.error()
    encode_birth_date(items.birth_date)
    return items


def encode_birth_date(birth_date: date) -> str:
    """``EYYYYMMDD``: era code, then the Gregorian date."""
    era = era_of(birth_date)
    if era is not None:
        return f"{era.code}{yyyymmdd(birth_date)}"
    raise reasons.BAD_BIRTH_DATE.error()


def decode_birth_date(value: str) -> date:
    if not re.fullmatch(r"[1-5][0-9]{8}", value):
        raise malformed("birth date is not EYYYYMMDD")
    try:
        return parse_yyyymmdd(value[1:])
    except ValueError:
        raise malformed("birth date is not a real date") from None


def malformed(detail: str) -> InvalidInput:
    """``pki.malformed``: a certificate (or a part of one) that cannot be read."""
    return reasons.MALFORMED.error(detail=detail)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC (SQLite returns them so)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def der_utf8string(text: str) -> bytes:
    """DER UTF8String (tag 12)."""
    content = text.encode("utf-8")
    return b"\x0c" + der_length(len(content)) + content


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def parse_der_utf8string(data: bytes) -> str:
    """The text of one DER UTF8String that fills ``data`` exactly."""
    if len(data) < 2 or data[0] != 0x0C:
        raise malformed("personal data is not a UTF8String")
    first = data[1]
    if first < 0x80:
        length, offset = first, 2
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise malformed("bad DER length")
        length = int.from_bytes(data[2 : 2 + count], "big")
        # DER wants the shortest form; anything else is not ours.
        if length < 0x80 or data[2] == 0:
            raise malformed("non-minimal DER length")
        offset = 2 + count
    if offset + length != len(data):
        raise malformed("DER length does not match")
    try:
        return data[offset:].decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("personal data is not UTF-8") from None


def basic_items_to_other_names(items: BasicFourItems) -> list[tuple[str, bytes]]:
    """(OID, DER value) pairs for the subjectAltName, in the OID order."""
    validate_basic_items(items)
    return [
        (OID_NAME, der_utf8string(items.name)),
        (OID_SEX, der_utf8string(str(items.sex))),
        (OID_BIRTH_DATE, der_utf8string(encode_birth_date(items.birth_date))),
        (OID_ADDRESS, der_utf8string(items.address)),
    ]


def basic_items_from_other_names(pairs: Iterable[tuple[str, bytes]]) -> BasicFourItems:
    """Read the basic items back; each must be there exactly once."""
    wanted = (OID_NAME, OID_SEX, OID_BIRTH_DATE, OID_ADDRESS)
    found: dict[str, str] = {}
    for oid, value in pairs:
        if oid not in wanted:
            continue
        if oid in found:
            raise malformed(f"{oid} appears twice")
        found[oid] = parse_der_utf8string(value)
    missing = [oid for oid in wanted if oid not in found]
    if missing:
        raise malformed(f"{', '.join(missing)} missing from subjectAltName")
    sex = found[OID_SEX]
    if sex not in _SEXES:
        raise malformed("sex is neither 1 nor 2")
    return BasicFourItems(
        name=found[OID_NAME],
        address=found[OID_ADDRESS],
        birth_date=decode_birth_date(found[OID_BIRTH_DATE]),
        sex=sex,
    )
