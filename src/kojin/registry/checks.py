"""Checking a person's details at the counter against the rules and Japan Post's data.

The domain's validators say what a name, a reading or a date may be; these
checks add what only the postal data can say — that the address exists and
lies in the municipality doing the registering — and complete the address
from it. Registration, a move and bulk enrolment all check the same way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from kojin.core.japan import validate_kana, validate_name
from kojin.registry import postal, reasons
from kojin.registry.domain import (
    Address,
    PersonDetails,
    validate_birth_date,
    validate_foreign_details,
)

__all__ = ["check_address", "check_details"]


def check_details(details: PersonDetails, municipality_code: str, today: date) -> PersonDetails:
    """Validate a person's details against the rules and Japan Post's data."""
    validate_name(details.name)
    validate_kana(details.kana)
    validate_birth_date(details.birth_date, today)
    validate_foreign_details(details)
    address = check_address(details.address, municipality_code)
    return replace(details, address=address)


def check_address(address: Address, municipality_code: str) -> Address:
    """The address completed from Japan Post's data; it must be in the municipality and name a block."""
    town_office = postal.municipality(municipality_code)
    checked = postal.complete_address(
        address.postal_code,
        prefecture=address.prefecture,
        city=address.city,
        town=address.town,
        block=address.block,
        building=address.building,
    )
    if (checked.prefecture, checked.city) != (town_office.prefecture, town_office.city):
        raise reasons.ADDRESS_OTHER_MUNICIPALITY.error(
            name=town_office.name, prefecture=checked.prefecture, city=checked.city
        )
    if not checked.block:
        raise reasons.ADDRESS_BLOCK_MISSING.error()
    return checked
