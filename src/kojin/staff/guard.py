"""The door of every staff route (職員の入口): who is calling, in which role; every refusal recorded.

A staff route declares its door with :meth:`StaffDoors.role`, a FastAPI
dependency that answers the checked :class:`StaffPrincipal`. The caller proves
who they are with a bearer token from a staff-card login (``Authorization:
Bearer …``, for API clients) or with the staff session cookie of the pages.
Default deny: without credentials a route answers 401, with a role outside
the route's roles 403, and the route itself refuses (403) a principal acting
outside its own organisation. Each of these refusals — at the door or inside
the route — is recorded with its reason code before the caller hears of it.

Both ways in are declared as OpenAPI security schemes, so ``/docs`` shows
which routes need what. The route-enumeration test reads :attr:`StaffDoor.roles`
to check every route against its declaration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Annotated, Any, Protocol

from fastapi import Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from kojin.core.errors import KojinError
from kojin.core.i18n import pick
from kojin.staff.domain import ROLE_LABELS, Role, StaffPrincipal
from kojin.staff.service import StaffService
from kojin.web.security import read_cookie

STAFF_COOKIE = "kojin_staff"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="staffToken",
    bearerFormat="JWT",
    description="職員カードでのログインで得たアクセストークン（RFC 6750）。"
    " A staff access token from a staff-card login at /staff/token.",
)
session_scheme = APIKeyCookie(
    name=STAFF_COOKIE,
    auto_error=False,
    scheme_name="staffSession",
    description="職員ログイン（/staff/login）のセッション。 The staff pages' session, from /staff/login.",
)

ALL_ROLES = frozenset(Role)


class SessionCheck(Protocol):
    def __call__(self, token: str | None, /) -> StaffPrincipal: ...


class StaffDoor:
    """A FastAPI dependency: the principal of a staff route in one of ``roles``, or a recorded refusal."""

    def __init__(self, doors: StaffDoors, roles: Collection[Role]) -> None:
        self.doors = doors
        self.roles = frozenset(roles)

    async def __call__(
        self,
        request: Request,
        token: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
        _session: Annotated[str | None, Security(session_scheme)],
    ) -> AsyncIterator[StaffPrincipal]:
        # An async dependency with the store's work handed to the thread pool:
        # FastAPI would run a plain generator's entry and its exit on a
        # pool thread each, and the exit has nothing to do unless refused.
        principal = await run_in_threadpool(self.enter, request, token)
        try:
            yield principal
        except KojinError as exc:
            if exc.status in (401, 403) or exc.code.startswith("staff."):  # refused inside: no purpose, not ours …
                await run_in_threadpool(self.doors.refused, request, exc, principal)
            raise

    def enter(self, request: Request, token: HTTPAuthorizationCredentials | None) -> StaffPrincipal:
        """The checked principal, or the refusal recorded and raised."""
        principal: StaffPrincipal | None = None
        try:
            principal = self.doors.principal(request, token)
            self.doors.staff.authorise(principal, self.roles)
        except KojinError as exc:
            self.doors.refused(request, exc, principal)
            raise
        return principal


class StaffDoors:
    """Makes the doors of one installation's staff routes."""

    def __init__(self, staff: StaffService, session: SessionCheck | None = None) -> None:
        self.staff = staff
        self._session = session

    def role(self, *roles: Role) -> StaffDoor:
        return StaffDoor(self, roles or ALL_ROLES)

    def any_role(self) -> StaffDoor:
        return StaffDoor(self, ALL_ROLES)

    def principal(self, request: Request, token: HTTPAuthorizationCredentials | None) -> StaffPrincipal:
        if token is not None and token.scheme.lower() == "bearer":
            return self.staff.check_token(token.credentials)
        cookie = read_cookie(request, STAFF_COOKIE)
        if cookie and self._session is not None:
            return self._session(cookie)
        return self.staff.check_token(None)  # staff.token_missing

    def page_context(self, request: Request, principal: StaffPrincipal) -> dict[str, Any]:
        """What a staff page's layout shows: the member, their role, and the logout form's CSRF token."""
        member = self.staff.member(principal.staff_id)
        label = ROLE_LABELS[member.role]
        cookie = read_cookie(request, STAFF_COOKIE)
        csrf = self.staff.session_csrf(cookie) if cookie and self._session is not None else None
        return {"member": member, "role_label": pick(label.ja, label.en), "csrf_token": csrf}

    def refused(self, request: Request, exc: KojinError, principal: StaffPrincipal | None) -> None:
        self.staff.refusals.record(self.staff.now(), request.method, request.url.path, exc.code, principal)
