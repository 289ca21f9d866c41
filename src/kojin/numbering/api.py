"""HTTP API of J-LIS numbering: validation only.

Numbers travel in request bodies, never in URLs, so they do not end up in
access logs or browser history.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from kojin.numbering.domain import validate_corporate_number, validate_individual_number
from kojin.numbering.service import NumberingService
from kojin.staff.guard import StaffDoors


class NumberIn(BaseModel):
    number: Annotated[str, Field(max_length=40)]


def make_router(_numbering: NumberingService, doors: StaffDoors) -> APIRouter:
    """Corporate numbers are public and checked for anyone; an individual number only for staff."""
    router = APIRouter(prefix="/numbering", tags=["numbering 付番"])

    @router.post("/validate", dependencies=[Depends(doors.any_role())])
    def validate(body: NumberIn) -> dict[str, bool]:
        """Check an individual number's form and check digit (nothing is looked up)."""
        validate_individual_number(body.number)
        return {"valid": True}

    @router.post("/validate-corporate")
    def validate_corporate(body: NumberIn) -> dict[str, bool]:
        validate_corporate_number(body.number)
        return {"valid": True}

    return router
