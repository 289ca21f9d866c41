"""CLI operators (操作者): a staff member at a terminal, proved by a key file only they can read.

``kojin staff operator-key`` writes a member's Ed25519 private key to a file
(mode 0600) and keeps the public key in the staff store. A command run with
that file (``--operator`` or ``KOJIN_OPERATOR``) signs a fresh challenge with
it; the signature checked against the stored key makes the caller that
member, for this one command. The OS user running the command is kept beside
the staff id in every record the command writes.

``kojin init`` on the embedded default makes the local administrator
(``admin``, role ``local_admin``) and its key file in the data directory, and
the CLI uses that file when no operator is named — so a laptop install works
as before, and every act is still recorded under a named operator.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Engine, delete, insert, select

from kojin.core.errors import KojinError
from kojin.staff import reasons
from kojin.staff.domain import Organisation, OrganisationKind, StaffMember, StaffPrincipal
from kojin.staff.store import operator_keys

LOCAL_ADMIN_ID = "admin"
LOCAL_ADMIN_NAME = "この端末の管理者"
KEY_FILE_NAME = "operator.key"
MAX_KEY_FILE = 4096


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's arbitrary uid)
        return f"uid:{os.getuid()}"


def write_key_file(path: Path, staff_id: str, key: Ed25519PrivateKey) -> None:
    """The key file: the staff id and the PEM private key, readable by its owner only."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    text = json.dumps({"staff_id": staff_id, "key": pem.decode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)


def read_key_file(path: Path) -> tuple[str, Ed25519PrivateKey]:
    try:
        if path.stat().st_mode & 0o077:
            raise reasons.OPERATOR_KEY_OPEN.error(path=str(path))
        data = json.loads(path.read_text()[:MAX_KEY_FILE])
        key = serialization.load_pem_private_key(data["key"].encode(), password=None)
        staff_id = data["staff_id"]
    except KojinError:
        raise
    except (OSError, ValueError, KeyError, TypeError):
        raise reasons.OPERATOR_KEY_UNREADABLE.error(path=str(path)) from None
    if not isinstance(key, Ed25519PrivateKey) or not isinstance(staff_id, str):
        raise reasons.OPERATOR_KEY_UNREADABLE.error(path=str(path))
    return staff_id, key


class Operators:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def make_key(self, member: StaffMember, path: Path, now: datetime) -> None:
        """A new key file for ``member`` at ``path``; an older key of theirs stops working."""
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        with self.engine.begin() as conn:
            conn.execute(delete(operator_keys).where(operator_keys.c.staff_id == member.staff_id))
            conn.execute(insert(operator_keys).values(staff_id=member.staff_id, public_key=public, created_at=now))
        write_key_file(path, member.staff_id, key)

    def prove(self, path: Path) -> tuple[str, str]:
        """The staff id the key file proves, and the proof's id; refused unless its key is the stored one."""
        staff_id, key = read_key_file(path)
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(operator_keys.c.public_key).where(operator_keys.c.staff_id == staff_id)
            ).scalar()
        if stored is None:
            raise reasons.OPERATOR_UNKNOWN.error(staff_id=staff_id)
        challenge = secrets.token_bytes(32)
        try:
            Ed25519PublicKey.from_public_bytes(bytes(stored)).verify(key.sign(challenge), challenge)
        except InvalidSignature:
            raise reasons.OPERATOR_KEY_REPLACED.error(staff_id=staff_id) from None
        return staff_id, f"cli:{os_user()}:{secrets.token_hex(8)}"


def local_admin_organisation() -> Organisation:
    return Organisation(OrganisationKind.INSTALLATION, OrganisationKind.INSTALLATION.value)


def operator_principal(member: StaffMember, proof_id: str, expires_at: datetime) -> StaffPrincipal:
    return StaffPrincipal(member.staff_id, member.role, member.organisation, proof_id, expires_at)
