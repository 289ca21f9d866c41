"""Export files (一括出力ファイル): rows as JSON lines, encrypted to the recipient, written for the owner only.

The encryption is CMS EnvelopedData (RFC 5652, PKCS #7) to the recipient's
certificate, made by ``cryptography``: an AES-256 content key wrapped with the
recipient's RSA key, so ``openssl cms -decrypt`` with the private key reads it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

SUFFIX = ".p7m"


def json_lines(records: Iterable[Mapping[str, object]]) -> bytes:
    """One JSON object a line, UTF-8: what the recipient decrypts."""
    return b"".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() + b"\n" for r in records)


def seal(data: bytes, certificate: x509.Certificate) -> bytes:
    """``data`` as DER CMS EnvelopedData to ``certificate``'s RSA key."""
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(data)
        .set_content_encryption_algorithm(algorithms.AES256)
        .add_recipient(certificate)
        # Binary: the rows as they are, no MIME header and no line-ending conversion.
        .encrypt(Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )


def write_private(directory: Path, name: str, data: bytes) -> Path:
    """Write a new file readable by the owner only (0600); never over an existing one."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
