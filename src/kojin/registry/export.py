"""The register's bulk export (住民の一括出力): the own municipality's residents, under an approved bulk request.

One function for the API route and the command line: the residents in id
order, at most the approved row count, handed to the staff party, which
records every person, encrypts the file to the request's recipient and keeps
its row count and hash on the request.
"""

from __future__ import annotations

from kojin.registry.domain import Resident, resident_record
from kojin.registry.service import RegisterService
from kojin.staff.domain import BulkRequest, Role, StaffPrincipal
from kojin.staff.service import StaffService

BATCH = 2000


def export_residents(
    register: RegisterService,
    staff: StaffService,
    principal: StaffPrincipal,
    bulk_id: int,
    purpose: str | None,
    after: int = 0,
) -> BulkRequest:
    """Export the principal's municipality's residents after ``after`` under ``bulk_id``; the used-up request.

    Refused before anything is read unless the request is approved, unused and
    the principal's own (``staff.two_person_rule``, ``staff.bulk_used``), or
    the principal is not a counter clerk (``staff.wrong_role``).
    """
    # The register is the counter's: a counter clerk, who works for a municipality, exports its residents.
    staff.authorise(principal, Role.COUNTER_CLERK)
    approved = staff.check_export(principal, bulk_id, purpose)
    residents: list[Resident] = []
    for resident in register.iter_residents(
        municipality_code=principal.organisation.id, batch=min(approved.row_count, BATCH), after=after
    ):
        residents.append(resident)
        if len(residents) >= approved.row_count:
            break
    rows = [(str(r.resident_id), resident_record(r)) for r in residents]
    return staff.export(principal, bulk_id, purpose, rows)
