"""Every refusal of the staff party, with its reason code and its words, in one place.

Each function returns the error to raise (``raise refusals.wrong_role(...)``), so
the codes and their messages are written once and the modules that raise them
stay short. Authentication failures are 401, scope failures 403, bad input 422.
"""

from __future__ import annotations

from kojin.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, Unauthenticated
from kojin.staff import reasons


def invalid_staff_id(value: object) -> InvalidInput:
    return reasons.INVALID_STAFF_ID.error(value=value)


def invalid_name() -> InvalidInput:
    return reasons.INVALID_NAME.error()


def invalid_role(value: object) -> InvalidInput:
    return reasons.INVALID_ROLE.error(value=value)


def invalid_organisation(value: object) -> InvalidInput:
    return reasons.INVALID_ORGANISATION.error(value=value)


def role_not_for_organisation(role: str, organisation: str) -> InvalidInput:
    return reasons.ROLE_NOT_FOR_ORGANISATION.error(organisation=organisation, role=role)


def invalid_card_serial() -> InvalidInput:
    return reasons.INVALID_CARD_SERIAL.error()


def staff_exists(staff_id: str) -> Conflict:
    return reasons.EXISTS.error(staff_id=staff_id)


def unknown_staff(staff_id: str) -> NotFound:
    return reasons.UNKNOWN.error(staff_id=staff_id)


def inactive(staff_id: str) -> NotPermitted:
    return reasons.INACTIVE.error(staff_id=staff_id)


def token_missing() -> Unauthenticated:
    return reasons.TOKEN_MISSING.error()


def token_malformed() -> Unauthenticated:
    return reasons.TOKEN_MALFORMED.error()


def token_bad_signature() -> Unauthenticated:
    return reasons.TOKEN_BAD_SIGNATURE.error()


def token_expired() -> Unauthenticated:
    return reasons.TOKEN_EXPIRED.error()


def token_revoked() -> Unauthenticated:
    return reasons.TOKEN_REVOKED.error()


def wrong_role(needed: str, held: str) -> NotPermitted:
    return reasons.WRONG_ROLE.error(needed=needed, held=held)


def other_organisation(organisation: str) -> NotPermitted:
    return reasons.OTHER_ORGANISATION.error(organisation=organisation)


def purpose_required() -> InvalidInput:
    return reasons.PURPOSE_REQUIRED.error()


def unknown_purpose(value: str) -> InvalidInput:
    return reasons.UNKNOWN_PURPOSE.error(value=value)


def invalid_access(value: object) -> InvalidInput:
    return reasons.INVALID_ACCESS.error(value=value)


def invalid_person_key() -> InvalidInput:
    return reasons.INVALID_PERSON_KEY.error()


def invalid_count() -> InvalidInput:
    return reasons.INVALID_COUNT.error()


def invalid_bulk(what: str, what_en: str, field: str) -> InvalidInput:
    return reasons.INVALID_BULK.error(what=what, what_en=what_en, field=field)


def two_person_rule(limit: int) -> NotPermitted:
    return reasons.TWO_PERSON_RULE.error(limit=limit)


def unknown_bulk(bulk_id: int) -> NotFound:
    return reasons.UNKNOWN_BULK.error(bulk_id=bulk_id)


def bulk_not_pending(bulk_id: int, status: str) -> Conflict:
    return reasons.BULK_NOT_PENDING.error(bulk_id=bulk_id, status=status)
