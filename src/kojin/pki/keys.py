"""CA private keys (認証局の署名鍵) behind a small backend interface.

The CA never holds a private key object itself: it asks a :class:`KeyBackend`
to generate a key, to give its public half, and to sign bytes. That is the
shape a PKCS#11 HSM offers too, so one can replace the backend here without
touching the CA. Signatures are always over SHA-256: PKCS#1 v1.5 for RSA
(sha256WithRSAEncryption, as JPKI uses) and DER-encoded ECDSA for P-256.

How keys are kept — :class:`EncryptedFileKeyBackend`
-----------------------------------------------------

Each key is an encrypted PKCS#8 blob (``BestAvailableEncryption``: PBES2,
PBKDF2-HMAC-SHA256 with cryptography's fixed 2048 rounds, AES-256-CBC) and is
decrypted only in memory, once per process. So few rounds do not slow a guesser
much: the passphrase must be long and random, which the generated one is. The blobs live in one of two places:

* :class:`StoreKeyBlobs` — rows of the CA's own store (table ``ca_keys``). This
  is the default, because kojin's web workers are stateless and may run on
  several machines that share only the database; every worker can then sign.
* :class:`DirectoryKeyBlobs` — one ``<key id>.p8`` file per key (mode 0600)
  under a directory, for a deployment that keeps keys off the database.

The passphrase comes from ``KOJIN_CA_PASSPHRASE`` when that is set (and is
then never written anywhere). Otherwise a random passphrase is created once
and kept in the CA's store (table ``ca_secrets``). With keys in files that
means a thief needs both the files and the database; with keys in the store as
well it protects nothing against a copy of the store, which is acceptable for
the embedded demo only: a deployment sets ``KOJIN_CA_PASSPHRASE`` (or uses an
HSM backend). Changing the passphrase later makes existing keys unreadable;
the backend then fails loudly rather than generating new ones.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric import utils as asym_utils
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from kojin.core.keys import row_secret
from kojin.pki.domain import Algorithm
from kojin.pki.store import ca_keys, ca_secrets

if TYPE_CHECKING:
    from cryptography.utils import Buffer

PASSPHRASE_ENV: Final = "KOJIN_CA_PASSPHRASE"

CaPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
_CaPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_KEY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


@runtime_checkable
class KeyBackend(Protocol):
    """Where CA private keys live and sign (鍵管理): files, the store, or an HSM."""

    def generate(self, key_id: str, algorithm: Algorithm) -> CaPublicKey:
        """Create a new key under ``key_id``; refuse if that id is taken."""
        ...

    def public_key(self, key_id: str) -> CaPublicKey: ...

    def sign(self, key_id: str, data: bytes) -> bytes:
        """Sign ``data`` with SHA-256 (RSA PKCS#1 v1.5, or ECDSA as DER)."""
        ...


class KeyBlobs(Protocol):
    """Storage for encrypted key blobs (暗号化鍵の保管場所)."""

    def load(self, key_id: str) -> bytes | None: ...

    def save(self, key_id: str, blob: bytes) -> None:
        """Store a new blob; raise ``FileExistsError`` if ``key_id`` exists."""
        ...


def _check_key_id(key_id: str) -> str:
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError(f"invalid key id {key_id!r}")
    return key_id


class DirectoryKeyBlobs:
    """Encrypted keys as files (鍵ファイル): ``<directory>/<key id>.p8``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key_id: str) -> Path:
        return self.directory / f"{_check_key_id(key_id)}.p8"

    def load(self, key_id: str) -> bytes | None:
        try:
            return self._path(key_id).read_bytes()
        except FileNotFoundError:
            return None

    def save(self, key_id: str, blob: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: a second generate under the same id must never replace a key
        # that certificates already depend on.
        fd = os.open(self._path(key_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)


class StoreKeyBlobs:
    """Encrypted keys as rows of the CA's store (鍵のデータベース保管)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, key_id: str) -> bytes | None:
        with self.engine.connect() as conn:
            blob = conn.execute(select(ca_keys.c.pkcs8).where(ca_keys.c.key_id == _check_key_id(key_id))).scalar()
        return None if blob is None else bytes(blob)

    def save(self, key_id: str, blob: bytes) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(ca_keys).values(key_id=_check_key_id(key_id), pkcs8=blob, created_at=datetime.now(UTC))
                )
        except IntegrityError:
            raise FileExistsError(key_id) from None


def store_passphrase(engine: Engine) -> bytes:
    """``KOJIN_CA_PASSPHRASE`` if set, else the store's own (created on first use)."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env.encode("utf-8")
    # Sealed under KOJIN_KEY_PASSPHRASE when that is set, like the other parties' secrets.
    return row_secret(engine, ca_secrets, "passphrase", secrets.token_urlsafe(32).encode("ascii"))


class EncryptedFileKeyBackend:
    """CA keys as passphrase-encrypted PKCS#8 (暗号化PKCS#8鍵), in files or store rows."""

    def __init__(self, blobs: KeyBlobs, passphrase: bytes) -> None:
        if not passphrase:
            raise ValueError("an empty passphrase would store CA keys in the clear")
        self.blobs = blobs
        self._passphrase = passphrase
        self._keys: dict[str, _CaPrivateKey] = {}
        self._lock = threading.Lock()

    @classmethod
    def in_store(cls, engine: Engine) -> EncryptedFileKeyBackend:
        """Keys in the CA's store; the passphrase from the environment or the store."""
        return cls(StoreKeyBlobs(engine), store_passphrase(engine))

    @classmethod
    def in_directory(cls, directory: Path, passphrase: bytes | None = None) -> EncryptedFileKeyBackend:
        """Keys as files; the passphrase given, or from ``KOJIN_CA_PASSPHRASE``."""
        if passphrase is None:
            env = os.environ.get(PASSPHRASE_ENV)
            if not env:
                raise RuntimeError(f"set {PASSPHRASE_ENV} to keep CA keys in {directory}")
            passphrase = env.encode("utf-8")
        return cls(DirectoryKeyBlobs(directory), passphrase)

    def generate(self, key_id: str, algorithm: Algorithm) -> CaPublicKey:
        key: _CaPrivateKey
        if algorithm == "rsa2048":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif algorithm == "p256":
            key = ec.generate_private_key(ec.SECP256R1())
        else:
            raise ValueError(f"unknown algorithm {algorithm!r}")
        blob = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        self.blobs.save(key_id, blob)
        with self._lock:
            self._keys[key_id] = key
        return key.public_key()

    def _key(self, key_id: str) -> _CaPrivateKey:
        with self._lock:
            cached = self._keys.get(key_id)
        if cached is not None:
            return cached
        blob = self.blobs.load(key_id)
        if blob is None:
            raise KeyError(f"no CA key {key_id!r}")
        try:
            key = serialization.load_der_private_key(blob, password=self._passphrase)
        except ValueError:
            raise RuntimeError(
                f"CA key {key_id!r} cannot be decrypted: is {PASSPHRASE_ENV} the one it was created with?"
            ) from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise RuntimeError(f"CA key {key_id!r} is neither RSA nor EC")
        with self._lock:
            self._keys[key_id] = key
        return key

    def public_key(self, key_id: str) -> CaPublicKey:
        return self._key(key_id).public_key()

    def sign(self, key_id: str, data: bytes) -> bytes:
        key = self._key(key_id)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, asym_padding.PKCS1v15(), hashes.SHA256())
        return key.sign(data, ec.ECDSA(hashes.SHA256()))


# -- a private-key object that signs through a backend --------------------------
#
# cryptography's certificate, CRL and OCSP builders sign by calling ``sign`` on
# whatever RSAPrivateKey / EllipticCurvePrivateKey they are given. These
# adapters pass that call to the backend, so the builders work unchanged and
# the private key never needs to leave the backend.


def _check_sha256(algorithm: object) -> None:
    if isinstance(algorithm, asym_utils.Prehashed) or not isinstance(algorithm, hashes.SHA256):
        raise ValueError("CA keys sign with SHA-256 only")


class _BackendRSAKey(rsa.RSAPrivateKey):
    """An RSA CA key (認証局のRSA鍵) as the builders see it; signing goes to the backend."""

    def __init__(self, backend: KeyBackend, key_id: str, public: rsa.RSAPublicKey) -> None:
        self._backend = backend
        self._key_id = key_id
        self._public = public

    def sign(
        self,
        data: bytes,
        padding: asym_padding.AsymmetricPadding,
        algorithm: asym_utils.Prehashed | hashes.HashAlgorithm | asym_utils.NoDigestInfo,
    ) -> bytes:
        if not isinstance(padding, asym_padding.PKCS1v15):
            raise ValueError("CA keys sign with PKCS#1 v1.5 only")
        _check_sha256(algorithm)
        return self._backend.sign(self._key_id, bytes(data))

    def decrypt(self, ciphertext: bytes, padding: asym_padding.AsymmetricPadding) -> bytes:
        raise NotImplementedError("CA keys only sign")

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        raise NotImplementedError("CA keys do not leave their backend")

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        raise NotImplementedError("CA keys do not leave their backend")

    def __copy__(self) -> _BackendRSAKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _BackendRSAKey:
        return self


class _BackendECKey(ec.EllipticCurvePrivateKey):
    """A P-256 CA key (認証局の楕円曲線鍵) as the builders see it; signing goes to the backend."""

    def __init__(self, backend: KeyBackend, key_id: str, public: ec.EllipticCurvePublicKey) -> None:
        self._backend = backend
        self._key_id = key_id
        self._public = public

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise ValueError("CA keys sign with ECDSA only")
        _check_sha256(signature_algorithm.algorithm)
        return self._backend.sign(self._key_id, bytes(data))

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise NotImplementedError("CA keys only sign")

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise NotImplementedError("CA keys do not leave their backend")

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        raise NotImplementedError("CA keys do not leave their backend")

    def __copy__(self) -> _BackendECKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _BackendECKey:
        return self


def signing_key(backend: KeyBackend, key_id: str) -> CertificateIssuerPrivateKeyTypes:
    """A private-key stand-in for cryptography's builders that signs through ``backend``."""
    public = backend.public_key(key_id)
    if isinstance(public, rsa.RSAPublicKey):
        return _BackendRSAKey(backend, key_id, public)
    return _BackendECKey(backend, key_id, public)
