"""The staff party (職員): identities, access tokens, scope checks, the access log and the two-person rule.

:class:`StaffService` is the one entry other parties and the pages call.
Staff log in with their staff card: :meth:`StaffService.login_with_card` turns
a card's answer to a challenge into a bearer token, and
:meth:`StaffService.complete_login` into a web session; either way the
principal comes back from :meth:`StaffService.check_token` or
:meth:`StaffService.check_session`. Behind the facade: the roster
(``members``), tokens (``tokens``), the card login (``cardlogin``), web
sessions (``sessions``), the access log (``access``) and bulk approvals
(``bulk``).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from kojin.auth.domain import Challenge
from kojin.core.errors import KojinError
from kojin.core.group_commit import ThreadReaders
from kojin.core.keys import insert_if_absent, party_secret
from kojin.staff import reasons
from kojin.staff.access import AccessLog, LeafSink
from kojin.staff.bulk import BulkApprovals
from kojin.staff.cardlogin import CardLogin, CardVerifier
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
from kojin.staff.sessions import StaffSession, StaffSessions
from kojin.staff.store import revoked_tokens, staff_keys
from kojin.staff.tokens import TOKEN_TTL_S, IssuedToken, TokenSigner

SEARCH_HOURLY_LIMIT = 300
"""People a staff member may be shown by searches outside a bulk request in any hour."""
# Whether a token id is revoked, whether its member is active, and their card: one point read of each.
_STANDING = (
    "SELECT (SELECT 1 FROM revoked_tokens WHERE token_id = ?),"
    " (SELECT active FROM staff_members WHERE staff_id = ?),"
    " (SELECT card_serial FROM staff_members WHERE staff_id = ?)"
)

# Roles that never see personal data: the system administrator ever, the auditor until cases exist.
NO_PERSONAL_DATA = frozenset({Role.SYSADMIN, Role.AUDITOR})
_INSERTION_ID = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")


def _b64(value: str | None, name: str) -> bytes:
    try:
        return binascii.a2b_base64((value or "").encode("ascii"), strict_mode=True)
    except (ValueError, UnicodeEncodeError):
        raise reasons.BAD_TOKEN_REQUEST.error(name=name, field=name) from None


class StaffService:
    def __init__(
        self,
        engine: Engine,
        *,
        cards: CardVerifier | None = None,
        revoke_card_certificate: Callable[[str], object] | None = None,
        clock: Callable[[], float] = time.time,
        token_ttl_s: int = TOKEN_TTL_S,
        idle_seconds: int | None = None,
        max_seconds: int | None = None,
        leaves: Callable[[], LeafSink | None] = lambda: None,
        exports_dir: Path | None = None,
    ) -> None:
        """``cards`` checks staff cards' certificates (pki's staff CAs and OCSP);
        ``revoke_card_certificate`` revokes a card's certificate by its card serial;
        ``leaves`` gives the exchange log each access-log row is also a leaf of (opened on first use);
        ``exports_dir`` is where export files are written (none: exports are refused).
        """
        self.engine = engine
        self.exports_dir = exports_dir
        self._clock = clock
        self._token_ttl_s = token_ttl_s
        self._signer: TokenSigner | None = None
        self._leaf_key: bytes | None = None
        self._challenge_key: bytes | None = None
        self._lock = threading.Lock()
        self._revoke_certificate = revoke_card_certificate
        self.roster = Roster(engine, clock)
        self._readers = ThreadReaders(engine)
        self._leaves = leaves
        self.log = AccessLog(engine, self.leaf_key, lambda: self._leaves())
        self.refusals = Refusals(engine)
        self.operators = Operators(engine)
        self.bulk = BulkApprovals(engine)
        self.recipients = Recipients(engine)
        self.login = CardLogin(engine, self.challenge_key, cards, clock)
        self.sessions = StaffSessions(engine, idle_seconds=idle_seconds, max_seconds=max_seconds, clock=clock)

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
        self._readers.close()

    @property
    def signer(self) -> TokenSigner:
        with self._lock:
            if self._signer is None:
                seed = party_secret(self.engine, staff_keys, created_at=self.now())
                self._signer = TokenSigner(seed, clock=self._clock, ttl_s=self._token_ttl_s)
            return self._signer

    def challenge_key(self) -> bytes:
        """The HMAC key of login challenges, derived from the token key's seed (no second secret to keep)."""
        with self._lock:
            if self._challenge_key is None:
                seed = party_secret(self.engine, staff_keys, created_at=self.now())
                self._challenge_key = hmac.digest(seed, b"kojin-staff-challenge/1", "sha256")
            return self._challenge_key

    # -- staff members -----------------------------------------------------------------------------

    def register(
        self, staff_id: str, display_name: str, organisation: Organisation, role: Role, card_serial: str | None = None
    ) -> StaffMember:
        return self.roster.register(staff_id, display_name, organisation, role, card_serial)

    def member(self, staff_id: str) -> StaffMember:
        return self.roster.get(staff_id)

    def deactivate(self, staff_id: str) -> None:
        self.roster.deactivate(staff_id)
        self.sessions.end_staff(staff_id)

    # -- staff cards -------------------------------------------------------------------------------

    def set_card(self, staff_id: str, card_serial: str | None) -> None:
        """Record the member's new staff card (its certificate serial): tokens of the old card stop."""
        self.roster.set_card(staff_id, card_serial)
        self.sessions.end_staff(staff_id)

    def revoke_card(self, staff_id: str) -> str:
        """The card was lost, or its holder leaves: revoke its certificate, forget it, end its sessions.

        Returns the card serial revoked. Tokens issued for it are refused from
        now on (``staff.token_card_revoked``), its certificate at the next
        login (``staff.certificate_revoked``).
        """
        member = self.roster.get(staff_id)
        if member.card_serial is None:
            raise reasons.NO_CARD.error(staff_id=staff_id)
        if self._revoke_certificate is not None:
            self._revoke_certificate(member.card_serial)
        self.roster.set_card(staff_id, None)
        self.sessions.end_staff(staff_id)
        return member.card_serial

    # -- card login --------------------------------------------------------------------------------

    def challenge(self) -> Challenge:
        """A one-time challenge for a staff card to sign after its PIN (two minutes; nothing written)."""
        return self.login.challenge()

    def login_with_card(self, challenge: str, certificate_der: bytes, signature: bytes) -> IssuedToken:
        """A bearer token for the holder of the staff card that signed ``challenge``."""
        return self.signer.issue(self._card_member(challenge, certificate_der, signature, "/staff/token"))

    def _card_member(self, challenge: str, certificate_der: bytes, signature: bytes, where: str) -> StaffMember:
        """The active member whose current card answered; the challenge is spent only if every check passed.

        A refused login is recorded (with the staff id the certificate names, when it names one).
        """
        named: list[str] = []
        try:
            return self._checked_member(challenge, certificate_der, signature, named)
        except KojinError as exc:
            self.refusals.record(self.now(), "POST", where, exc.code, staff_id=named[0] if named else None)
            raise

    def _checked_member(
        self, challenge: str, certificate_der: bytes, signature: bytes, named: list[str]
    ) -> StaffMember:
        checked = self.login.check(challenge, certificate_der, signature)
        named.append(checked.staff_id)
        member = self.roster.find(checked.staff_id)
        if member is None:
            raise reasons.UNKNOWN_CARD.error()
        if str(member.organisation) != checked.organisation:
            raise reasons.CARD_OTHER_ORGANISATION.error(
                card_org=checked.organisation, staff_id=member.staff_id, organisation=str(member.organisation)
            )
        if member.card_serial != checked.card_serial:
            raise reasons.UNKNOWN_CARD.error()
        if not member.active:
            raise reasons.INACTIVE.error(staff_id=member.staff_id)
        self.login.spend(checked)
        return member

    # -- tokens ------------------------------------------------------------------------------------

    def issue_token(self, staff_id: str) -> IssuedToken:
        """A bearer token for an authenticated, active staff member."""
        member = self.roster.active(staff_id)
        if member.role is Role.LOCAL_ADMIN:
            raise reasons.LOCAL_ONLY.error()
        return self.signer.issue(member)

    def check_token(self, token: str | None) -> StaffPrincipal:
        """The principal a bearer token names; 401 (or 403 for a stopped member) with its reason code."""
        principal = self.signer.check(token)
        # Revoked?, and the member's standing, in one statement: read on every
        # request (never cached), so a logout, a stopped member or a new card
        # in any process counts from the next request on.
        row = self._readers.first(_STANDING, (principal.token_id, principal.staff_id, principal.staff_id))
        revoked, active, card_serial = row if row is not None else (None, None, None)
        if revoked is not None:
            raise reasons.TOKEN_REVOKED.error()
        if not active:  # None: no such member
            raise reasons.INACTIVE.error(staff_id=principal.staff_id)
        # The card it was issued for must still be the member's: no query beyond the roster's.
        if principal.card_serial != card_serial:
            raise reasons.TOKEN_CARD_REVOKED.error()
        return principal

    def revoke_token(self, principal: StaffPrincipal) -> None:
        """Logout: the token (or the web session it names) is refused from now on (idempotent)."""
        self.sessions.end_id(principal.token_id)
        values = {
            "token_id": principal.token_id,
            "staff_id": principal.staff_id,
            "revoked_at": self.now(),
            "expires_at": principal.expires_at,
        }
        insert_if_absent(self.engine, revoked_tokens, values)

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

    # -- web sessions ------------------------------------------------------------------------------

    def begin_login(self, old_token: str | None) -> tuple[str, StaffSession]:
        """A new login ends whatever session this browser had, then waits for the card."""
        self.sessions.end(old_token)
        return self.sessions.start_login(self.challenge().value)

    def complete_login(
        self, token: str | None, *, challenge: str, certificate_b64: str, signature_b64: str, insertion_id: str
    ) -> tuple[str, StaffSession]:
        """Check the card's answer to this browser's challenge and open a session bound to that insertion."""
        # Spent whatever the outcome: a failed answer cannot be retried against the same challenge.
        pending = self.sessions.take_pending(token)
        if pending is None or self.sessions.expired(pending):
            self.sessions.end(token)
            raise reasons.LOGIN_RESTART.error()
        if not hmac.compare_digest((pending.challenge or "").encode(), (challenge or "").encode()):
            raise reasons.LOGIN_RESTART.error()
        if not _INSERTION_ID.match(insertion_id or ""):
            raise reasons.BAD_TOKEN_REQUEST.error(name="insertion_id", field="insertion_id")
        member = self._card_member(
            challenge, _b64(certificate_b64, "certificate"), _b64(signature_b64, "signature"), "/staff/login"
        )
        assert member.card_serial is not None
        return self.sessions.open(staff_id=member.staff_id, card_serial=member.card_serial, insertion_id=insertion_id)

    def check_session(self, token: str | None) -> StaffPrincipal:
        """The principal of a web session's cookie token; 401 with why there is none (missing, ended, timed out)."""
        return self._live_session(token)[1]

    def session_csrf(self, token: str | None) -> str:
        """The CSRF token of a live web session (what every POST of its pages must carry)."""
        return self._live_session(token)[0].csrf_token

    def _live_session(self, token: str | None) -> tuple[StaffSession, StaffPrincipal]:
        if not token:
            raise reasons.SESSION_MISSING.error()
        session = self.sessions.find(token)
        if session is None or not session.active or session.staff_id is None:
            raise reasons.SESSION_ENDED.error()
        if self.sessions.expired(session):
            self.sessions.end_hash(session.token_hash)
            raise reasons.SESSION_TIMEOUT.error()
        member = self.roster.find(session.staff_id)
        if member is None or not member.active or member.card_serial != session.card_serial:
            self.sessions.end_hash(session.token_hash)
            raise reasons.SESSION_ENDED.error()
        self.sessions.touch(session)
        principal = StaffPrincipal(
            member.staff_id,
            member.role,
            member.organisation,
            session.session_id,
            self.sessions.expires_at(session),
            session.card_serial,
        )
        return session, principal

    def logout_session(self, token: str | None) -> None:
        self.sessions.end(token)

    def end_insertion(self, insertion_id: str) -> int:
        """The reader's card was taken out or replaced: end the staff session opened with it."""
        return self.sessions.end_insertion(insertion_id)

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

    async def record_access_async(
        self, principal: StaffPrincipal, person_key: str, purpose: str | None, what: str
    ) -> str:
        """:meth:`record_access` of one person for an event loop: the same checks, both commits awaited."""
        chosen, access = self._check_access(principal, purpose, what, 1, None)
        key = validate_person_key(person_key)
        rows = await self.log.record_async(principal, [key], chosen, access, self.now())
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
        elif access is Access.SEARCH and bulk_id is None:
            # Paging 20 at a time is still a listing: capped per member and hour.
            since = self.now() - timedelta(hours=1)
            if self.log.shown_since(principal.staff_id, since) + count > SEARCH_HOURLY_LIMIT:
                raise reasons.SEARCH_LIMIT.error(limit=SEARCH_HOURLY_LIMIT)
        return chosen, access

    def accesses_of(self, *person_keys: str) -> list[AccessSeen]:
        """For the person, under any of their keys: organisation, role, purpose, time of every look; no staff name."""
        return self.log.of_person(*person_keys)

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
