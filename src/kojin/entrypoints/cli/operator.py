"""Who runs a command (操作者): the operator a key file proves, and what they may do at the terminal.

``--operator FILE`` (or ``KOJIN_OPERATOR``) names a staff member's key file.
Without one, on the embedded default the local administrator's file in the
data directory is used (made by ``kojin init`` or on first need). On a
PostgreSQL deployment an operator must be named. Reads of one person ask for
a purpose (``--purpose``), and every read and write of a person is recorded
under the operator and the OS user, as the web's doors record theirs.
"""

from __future__ import annotations

from collections.abc import Collection
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated

import typer

from kojin.app import Kojin
from kojin.staff import reasons as staff_reasons
from kojin.staff.domain import Organisation, OrganisationKind, Role, StaffPrincipal

_operator_file: ContextVar[Path | None] = ContextVar("kojin_operator_file", default=None)

PurposeOpt = Annotated[
    str | None,
    typer.Option(help="利用目的（事務）, e.g. 住民票の写しの交付; `kojin staff purposes` lists them."),
]


def set_operator_file(path: Path | None) -> None:
    _operator_file.set(path)


def acting(kojin: Kojin) -> StaffPrincipal:
    """The operator of this command, proved by their key file."""
    path = _operator_file.get()
    if path is None:
        if kojin.settings.database_url:
            raise staff_reasons.OPERATOR_KEY_UNREADABLE.error(path="--operator / KOJIN_OPERATOR")
        path = kojin.staff.ensure_local_admin(kojin.settings.data_dir)
    return kojin.staff.operator(path)


def act_as(kojin: Kojin, roles: Collection[Role], organisation: Organisation | None = None) -> StaffPrincipal:
    """The operator, in one of ``roles`` (for ``organisation``, if named): the web's rule at the terminal.

    The local administrator of an embedded install may do all of it.
    """
    principal = acting(kojin)
    if principal.role is not Role.LOCAL_ADMIN:
        kojin.staff.authorise(principal, roles, organisation)
    return principal


def counter_act(kojin: Kojin, resident_id: int, purpose: str | None, what: str) -> StaffPrincipal:
    """The operator, allowed at the counter of the resident's municipality, their look recorded first."""
    municipality = Organisation(OrganisationKind.MUNICIPALITY, kojin.register.get(resident_id).municipality_code)
    principal = act_as(kojin, [Role.COUNTER_CLERK], municipality)
    kojin.staff.record_access(principal, str(resident_id), purpose, what)
    return principal
