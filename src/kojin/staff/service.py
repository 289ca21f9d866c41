"""The staff party (職員): identities, access tokens, scope checks, the access log and the two-person rule.

:class:`StaffService` is the one entry other parties and the pages call. The
card login that precedes a token is not here: :meth:`StaffService.issue_token`
takes a staff id already authenticated. Behind the facade: the roster
(``members``), tokens (``tokens``), the access log (``access``) and bulk
approvals (``bulk``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from kojin.core.keys import insert_if_absent, party_secret
from kojin.staff import reasons
from kojin.staff.access import AccessLog, LeafSink
from kojin.staff.bulk import BulkApprovals
from kojin.staff.domain import (
    Access,
    AccessEntry,
    AccessSeen,
    BulkRequest,
    ExportDone,
    Organisation,
    Purpose,
    Recipient,
    Role,
    StaffMember,
    StaffPrincipal,
    check_exportable,
    needs_second_person,
    parse_access,
    require_purpose,
    validate_bulk,
    validate_person_key,
)
from kojin.staff.export import SUFFIX, json_lines, seal, write_private
from kojin.staff.members import Roster
from kojin.staff.operators import (
    KEY_FILE_NAME,
    LOCAL_ADMIN_ID,
    LOCAL_ADMIN_NAME,
    Operators,
    local_admin_organisation,
)
from kojin.staff.recipients import Recipients
from kojin.staff.refusals import Refusals
from kojin.staff.store import revoked_tokens, staff_keys
from kojin.staff.tokens import TOKEN_TTL_S, IssuedToken, TokenSigner

# Roles that never see personal data: the system administrator ever, the auditor until cases exist.
NO_PERSONAL_DATA = frozenset({Role.SYSADMIN, Role.AUDITOR})


class StaffService:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        token_ttl_s: int = TOKEN_TTL_S,
        leaves: Callable[[], LeafSink | None] = lambda: None,
        exports_dir: Path | None = None,
    ) -> None:
        """``leaves`` gives the exchange log each access-log row is also a leaf of (opened on first use);
        ``exports_dir`` is where export files are written (none: exports are refused)."""
        self.engine = engine
        self.exports_dir = exports_dir
        self._clock = clock
        self._token_ttl_s = token_ttl_s
        self._signer: TokenSigner | None = None
        self._leaf_key: bytes | None = None
        self._lock = threading.Lock()
        self.roster = Roster(engine, clock)
        self._leaves = leaves
        self.log = AccessLog(engine, self.leaf_key, lambda: self._leaves())
        self.refusals = Refusals(engine)
        self.operators = Operators(engine)
        self.bulk = BulkApprovals(engine)
        self.recipients = Recipients(engine)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def ensure_key(self) -> None:
        """Create the token-signing key (idempotent, race-free between processes)."""
        party_secret(self.engine, staff_keys, created_at=self.now())

    def leaf_key(self) -> bytes:
        """The key of the access log's leaf commitments, derived from the party's secret."""
        if self._leaf_key is None:
            seed = party_secret(self.engine, staff_keys, created_at=self.now())
            self._leaf_key = hmac.new(seed, b"kojin-staff-access-leaf", hashlib.sha256).digest()
        return self._leaf_key

    def log_leaves_to(self, leaves: Callable[[], LeafSink | None]) -> None:
        """From now on every access-log row is also a leaf of ``leaves()`` (the exchange log)."""
        self._leaves = leaves

    def close(self) -> None:
        self.log.close()

    @property
    def signer(self) -> TokenSigner:
        with self._lock:
            if self._signer is None:
                seed = party_secret(self.engine, staff_keys, created_at=self.now())
                self._signer = TokenSigner(seed, clock=self._clock, ttl_s=self._token_ttl_s)
            return self._signer

    # -- staff members -----------------------------------------------------------------------------

    def register(
        self, staff_id: str, display_name: str, organisation: Organisation, role: Role, card_serial: str | None = None
    ) -> StaffMember:
        return self.roster.register(staff_id, display_name, organisation, role, card_serial)

    def member(self, staff_id: str) -> StaffMember:
        return self.roster.get(staff_id)

    def deactivate(self, staff_id: str) -> None:
        self.roster.deactivate(staff_id)

    # -- tokens ------------------------------------------------------------------------------------

    def issue_token(self, staff_id: str) -> IssuedToken:
        """A bearer token for an authenticated, active staff member."""
        member = self.roster.active(staff_id)
        if member.role is Role.LOCAL_ADMIN:
            raise reasons.LOCAL_ONLY.error()
        return self.signer.issue(member)

    def check_token(self, token: str | None) -> StaffPrincipal:
        """The principal a bearer token names; 401 (or 403 for a stopped member) with its reason code."""
        principal = self.signer.check(token, revoked=self._revoked)
        member = self.roster.find(principal.staff_id)
        if member is None or not member.active:
            raise reasons.INACTIVE.error(staff_id=principal.staff_id)
        return principal

    def revoke_token(self, principal: StaffPrincipal) -> None:
        """Logout: the token is refused from now on (idempotent)."""
        values = {
            "token_id": principal.token_id,
            "staff_id": principal.staff_id,
            "revoked_at": self.now(),
            "expires_at": principal.expires_at,
        }
        insert_if_absent(self.engine, revoked_tokens, values)

    def _revoked(self, token_id: str) -> bool:
        with self.engine.connect() as conn:
            query = select(revoked_tokens.c.token_id).where(revoked_tokens.c.token_id == token_id)
            return conn.execute(query).first() is not None

    # -- CLI operators -----------------------------------------------------------------------------

    def make_operator_key(self, staff_id: str, path: Path) -> None:
        """Write ``staff_id``'s operator key file (0600) at ``path``; an older key of theirs stops working."""
        self.operators.make_key(self.roster.active(staff_id), path, self.now())

    def operator(self, path: Path) -> StaffPrincipal:
        """The operator a key file proves, for one command (their OS user is kept with every record)."""
        staff_id, proof_id = self.operators.prove(path)
        member = self.roster.active(staff_id)
        return StaffPrincipal(member.staff_id, member.role, member.organisation, proof_id, self.now())

    def ensure_local_admin(self, data_dir: Path) -> Path:
        """The embedded installation's local administrator and its key file (made once, idempotent)."""
        path = data_dir / KEY_FILE_NAME
        if self.roster.find(LOCAL_ADMIN_ID) is None:
            self.register(LOCAL_ADMIN_ID, LOCAL_ADMIN_NAME, local_admin_organisation(), Role.LOCAL_ADMIN)
        if not path.exists():
            self.make_operator_key(LOCAL_ADMIN_ID, path)
        return path

    # -- scope -------------------------------------------------------------------------------------

    @staticmethod
    def authorise(
        principal: StaffPrincipal, role_needed: Role | Collection[Role], organisation: Organisation | None = None
    ) -> None:
        """Default deny: the principal must hold a needed role and act for ``organisation`` (if one is named)."""
        needed = {role_needed} if isinstance(role_needed, Role) else set(role_needed)
        if principal.role not in needed:
            raise reasons.WRONG_ROLE.error(needed="/".join(sorted(r.value for r in needed)), held=principal.role.value)
        if organisation is not None and principal.organisation != organisation:
            raise reasons.OTHER_ORGANISATION.error(organisation=str(organisation))

    # -- the access log ----------------------------------------------------------------------------

    def record_access(
        self,
        principal: StaffPrincipal,
        person_key: str,
        purpose: str | None,
        what: str,
        count: int = 1,
        *,
        bulk_id: int | None = None,
    ) -> str:
        """Record that ``principal`` was shown ``person_key`` (one of ``count`` people) for ``purpose``.

        Call it before showing anything: a refusal means nothing may be shown.
        A search or export of more than BULK_THRESHOLD people needs ``bulk_id``,
        an approved bulk request of this staff member covering it. Returns the
        entry's reference.
        """
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise reasons.INVALID_COUNT.error()
        chosen, access = self._check_access(principal, purpose, what, count, bulk_id)
        key = validate_person_key(person_key)
        rows = self.log.record(principal, [key], chosen, access, self.now(), bulk_id, count)
        return rows[0]

    def record_shown(
        self,
        principal: StaffPrincipal,
        person_keys: Sequence[str],
        purpose: str | None,
        what: str,
        *,
        bulk_id: int | None = None,
    ) -> list[str]:
        """Record every person a search or listing shows, one entry each; nothing is recorded for none."""
        keys = [validate_person_key(k) for k in person_keys]
        chosen, access = self._check_access(principal, purpose, what, max(len(keys), 1), bulk_id)
        if not keys:
            return []
        return self.log.record(principal, keys, chosen, access, self.now(), bulk_id)

    def _check_access(
        self, principal: StaffPrincipal, purpose: str | None, what: str, count: int, bulk_id: int | None
    ) -> tuple[Purpose, Access]:
        if principal.role in NO_PERSONAL_DATA:
            raise reasons.WRONG_ROLE.error(needed="(a role that may see personal data)", held=principal.role.value)
        chosen = require_purpose(purpose)
        access = parse_access(what)
        if needs_second_person(access, count):
            self.bulk.check_covers(principal, bulk_id, chosen, count)
        return chosen, access

    def accesses_of(self, person_key: str) -> list[AccessSeen]:
        """For the person: organisation, role, purpose, time of every staff access; no staff name."""
        return self.log.of_person(person_key)

    def accesses_by(self, staff_id: str) -> list[AccessEntry]:
        """For the auditor: every access of one staff member, with the name."""
        return self.log.by_staff(staff_id)

    # -- the two-person rule ----------------------------------------------------------------------

    def request_bulk(
        self, principal: StaffPrincipal, purpose: str | None, row_count: int, recipient: str
    ) -> BulkRequest:
        """Ask for a second person's approval of a listing or export of at most ``row_count`` people.

        The recipient must be registered; a staff member may make BULK_REQUESTS_PER_HOUR requests an hour.
        """
        if principal.role in NO_PERSONAL_DATA:
            raise reasons.WRONG_ROLE.error(needed="(a role that may see personal data)", held=principal.role.value)
        chosen = require_purpose(purpose)
        rows, to = validate_bulk(row_count, recipient)
        self.recipients.get(to)
        return self.bulk.request(principal, chosen, rows, to, self.now())

    def approve_bulk(self, approver: StaffPrincipal, bulk_id: int) -> BulkRequest:
        """Approve as the second person: another supervisor of the same organisation (``staff.two_person_rule``)."""
        return self.bulk.approve(approver, bulk_id, self.now())

    def bulk_request(self, bulk_id: int) -> BulkRequest:
        return self.bulk.get(bulk_id)

    def bulk_request_for(self, principal: StaffPrincipal, bulk_id: int) -> BulkRequest:
        """A request as a staff member of its organisation (or an auditor) may see it."""
        found = self.bulk.get(bulk_id)
        if principal.role is not Role.AUDITOR and principal.organisation != found.organisation:
            raise reasons.OTHER_ORGANISATION.error(organisation=str(found.organisation))
        return found

    # -- exports -----------------------------------------------------------------------------------

    def add_recipient(self, principal: StaffPrincipal, name: str, certificate_pem: str) -> Recipient:
        """Register who export files may be encrypted to: a supervisor or system administrator does."""
        self.authorise(principal, (Role.SUPERVISOR, Role.SYSADMIN))
        return self.recipients.add(principal, name, certificate_pem, self.now())

    def recipient(self, name: str) -> Recipient:
        return self.recipients.get(name)

    def check_export(self, principal: StaffPrincipal, bulk_id: int, purpose: str | None, count: int = 1) -> BulkRequest:
        """The approved, unused request an export of ``count`` people by ``principal`` would be made under."""
        if principal.role in NO_PERSONAL_DATA:
            raise reasons.WRONG_ROLE.error(needed="(a role that may see personal data)", held=principal.role.value)
        chosen = require_purpose(purpose)
        found = self.bulk.get(bulk_id)
        check_exportable(found, principal, chosen, count)
        return found

    def export(
        self,
        principal: StaffPrincipal,
        bulk_id: int,
        purpose: str | None,
        rows: Sequence[tuple[str, Mapping[str, object]]],
    ) -> BulkRequest:
        """The one export an approved request allows: ``rows`` (person key, record) to its recipient.

        Every person is recorded in the access log before the file is written;
        the file is encrypted to the recipient's certificate and written under
        ``exports_dir`` for the owner only; the request then records the rows,
        the file name and the SHA-256 of the encrypted file, and is used up.
        """
        if self.exports_dir is None:
            raise RuntimeError("this StaffService has no exports directory")
        found = self.check_export(principal, bulk_id, purpose, len(rows))
        if not rows:
            raise reasons.NOTHING_TO_EXPORT.error()
        certificate = self.recipients.certificate(found.recipient, self.now())
        self.record_shown(principal, [key for key, _ in rows], purpose, Access.EXPORT.value, bulk_id=bulk_id)
        sealed = seal(json_lines(record for _, record in rows), certificate)
        name = f"bulk-{bulk_id}-{secrets.token_hex(4)}{SUFFIX}"
        path = write_private(self.exports_dir, name, sealed)
        done = ExportDone(name, len(rows), hashlib.sha256(sealed).hexdigest(), self.now())
        try:
            return self.bulk.mark_exported(bulk_id, done)
        except BaseException:  # another export of the same approval won: this file is not the export
            path.unlink(missing_ok=True)
            raise
