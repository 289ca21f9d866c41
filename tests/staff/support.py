"""Staff credentials for tests of guarded routes: a registered member and a bearer token.

The token is issued the way the token endpoint issues one after a card login
(tests/staff/test_login.py walks the card login itself); here the member is
taken as authenticated so that tests of other parties stay about their party.
"""

from __future__ import annotations

from kojin.app import Kojin
from kojin.staff.domain import Organisation, Role

CITY = "13105"  # 文京区, the tests' usual municipality


def staff_headers(
    kojin: Kojin, role: Role, organisation: str = f"municipality:{CITY}", staff_id: str | None = None
) -> dict[str, str]:
    """``Authorization`` for a staff member in ``role`` at ``organisation`` (registered if new)."""
    org = Organisation.parse(organisation)
    staff_id = staff_id or f"{role.value}.{org.kind.value}.{org.id}".replace("_", "-")[:40]
    if kojin.staff.roster.find(staff_id) is None:
        kojin.staff.register(staff_id, f"試験 {role.value}", org, role)
    return {"authorization": f"Bearer {kojin.staff.issue_token(staff_id).access_token}"}


def clerk_headers(kojin: Kojin, municipality: str = CITY) -> dict[str, str]:
    return staff_headers(kojin, Role.COUNTER_CLERK, f"municipality:{municipality}")
