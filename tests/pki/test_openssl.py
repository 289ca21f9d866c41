"""openssl as an independent client: chain + CRL checks, OCSP over real HTTP, SAN OIDs.

The CA's HTTP endpoints are served by uvicorn on a free 127.0.0.1 port in a
background thread, and its certificates' CRL and OCSP URLs point there.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from kojin.pki.api import make_router
from kojin.pki.service import CertificateAuthority, IssuedCertificate

from . import ADULT_BIRTH, CODE, PERSON, authority, card_key

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture(scope="module")
def base_url(listener: socket.socket) -> str:
    host, port = listener.getsockname()
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory, base_url: str) -> Iterator[CertificateAuthority]:
    with authority(tmp_path_factory.mktemp("pki-openssl"), algorithm="rsa2048", base_url=base_url) as made:
        yield made


@pytest.fixture(scope="module")
def server(ca: CertificateAuthority, listener: socket.socket, base_url: str) -> Iterator[str]:
    app = FastAPI()
    app.include_router(make_router(ca))
    # No websockets: nothing here needs them, and importing them can warn.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="none")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield base_url
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def files(ca: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pem")
    for name in ("root", "sign", "auth"):
        (directory / f"{name}.pem").write_bytes(ca.ca_pem(name))
    return directory


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=30, check=False)


def _write_cert(directory: Path, issued: IssuedCertificate) -> Path:
    path = directory / f"{issued.serial:x}.pem"
    path.write_bytes(issued.pem)
    return path


def _fetch_crl_pem(server: str, ca_name: str, directory: Path) -> Path:
    """The CRL as a relying party gets it: over HTTP, DER, then PEM for openssl."""
    reply = httpx.get(f"{server}/pki/crl/{ca_name}.crl")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(reply.content)
    path = directory / f"{ca_name}-crl.pem"
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return path


def _verify(files: Path, issuing: str, cert: Path, crl: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _openssl(
        "verify",
        "-crl_check",
        *extra,
        "-CAfile",
        files / "root.pem",
        "-untrusted",
        files / f"{issuing}.pem",
        "-CRLfile",
        crl,
        cert,
    )


def test_openssl_verify_accepts_valid_and_rejects_revoked(ca: CertificateAuthority, server: str, files: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = ca.issue_signature_certificate(rsa_key.public_key(), juminhyo_code=CODE, **PERSON)
    bad = ca.issue_signature_certificate(card_key().public_key(), juminhyo_code=CODE, **PERSON)
    ca.revoke(bad.serial, "key_compromise")
    crl = _fetch_crl_pem(server, "sign", files)
    good_path, bad_path = _write_cert(files, good), _write_cert(files, bad)

    accepted = _verify(files, "sign", good_path, crl, "-x509_strict")
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip() == f"{good_path}: OK"

    rejected = _verify(files, "sign", bad_path, crl)
    assert rejected.returncode != 0
    assert "certificate revoked" in rejected.stdout + rejected.stderr

    # the wrong issuing CA cannot complete the chain
    wrong = _verify(files, "auth", good_path, crl)
    assert wrong.returncode != 0


def test_openssl_verify_auth_certificate_for_client_auth(ca: CertificateAuthority, server: str, files: Path) -> None:
    issued = ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)
    crl = _fetch_crl_pem(server, "auth", files)
    result = _verify(files, "auth", _write_cert(files, issued), crl, "-x509_strict", "-purpose", "sslclient")
    assert result.returncode == 0, result.stdout + result.stderr


def test_openssl_checks_the_crl_itself(ca: CertificateAuthority, server: str, files: Path) -> None:
    issued = ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)
    ca.revoke(issued.serial, "superseded")
    crl = _fetch_crl_pem(server, "auth", files)
    result = _openssl("crl", "-in", crl, "-noout", "-text", "-CAfile", files / "auth.pem")
    assert result.returncode == 0, result.stderr
    assert "verify OK" in result.stdout + result.stderr
    assert "X509v3 CRL Number" in result.stdout
    assert f"{issued.serial:X}" in result.stdout.replace(":", "")
    assert "Superseded" in result.stdout


def _ocsp(server: str, files: Path, issuing: str, cert: Path) -> subprocess.CompletedProcess[str]:
    return _openssl(
        "ocsp",
        "-issuer",
        files / f"{issuing}.pem",
        "-cert",
        cert,
        "-url",
        f"{server}/pki/ocsp",
        "-CAfile",
        files / "root.pem",
        "-resp_text",
    )


def test_openssl_ocsp_good_and_revoked(ca: CertificateAuthority, server: str, files: Path) -> None:
    good = ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)
    bad = ca.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)
    ca.revoke(bad.serial, "key_compromise")
    good_path, bad_path = _write_cert(files, good), _write_cert(files, bad)

    answer = _ocsp(server, files, "auth", good_path)
    output = answer.stdout + answer.stderr
    assert answer.returncode == 0, output
    assert "Response verify OK" in output
    assert f"{good_path}: good" in output
    assert "WARNING" not in output  # openssl warns on bad thisUpdate/nextUpdate or nonce
    assert "OCSP Nonce" in output  # openssl sent a nonce and the responder echoed it
    assert "Next Update:" in output

    answer = _ocsp(server, files, "auth", bad_path)
    output = answer.stdout + answer.stderr
    assert answer.returncode == 0, output
    assert "Response verify OK" in output
    assert f"{bad_path}: revoked" in output
    assert "Reason: keyCompromise" in output


def test_openssl_ocsp_signature_certificate(ca: CertificateAuthority, server: str, files: Path) -> None:
    issued = ca.issue_signature_certificate(card_key().public_key(), juminhyo_code=CODE, **PERSON)
    answer = _ocsp(server, files, "sign", _write_cert(files, issued))
    output = answer.stdout + answer.stderr
    assert "Response verify OK" in output
    assert ": good" in output


def test_openssl_ocsp_foreign_issuer_is_unauthorized(
    ca: CertificateAuthority, server: str, files: Path, tmp_path: Path
) -> None:
    with authority(tmp_path / "other") as other:
        stranger = other.issue_auth_certificate(card_key().public_key(), juminhyo_code=CODE, birth_date=ADULT_BIRTH)
        (tmp_path / "other-auth.pem").write_bytes(other.ca_pem("auth"))
        cert = tmp_path / "stranger.pem"
        cert.write_bytes(stranger.pem)
        answer = _openssl(
            "ocsp",
            "-issuer",
            tmp_path / "other-auth.pem",
            "-cert",
            cert,
            "-url",
            f"{server}/pki/ocsp",
            "-CAfile",
            files / "root.pem",
        )
    output = answer.stdout + answer.stderr
    assert "unauthorized" in output.lower()


def test_openssl_shows_the_basic_items_in_the_san(ca: CertificateAuthority, files: Path) -> None:
    issued = ca.issue_signature_certificate(card_key().public_key(), juminhyo_code=CODE, **PERSON)
    result = _openssl("x509", "-in", _write_cert(files, issued), "-noout", "-text")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "X509v3 Subject Alternative Name" in text
    for oid in ("1.2.392.200149.8.5.5.1", "1.2.392.200149.8.5.5.3", "1.2.392.200149.8.5.5.4", "1.2.392.200149.8.5.5.5"):
        assert oid in text
    assert "Digital Signature, Non Repudiation" in text
    assert "sha256WithRSAEncryption" in text
    assert f"CN = {issued.subject_ref}" in text


def test_openssl_chains_a_staff_certificate_to_the_root_through_its_staff_ca(
    ca: CertificateAuthority, server: str, files: Path
) -> None:
    staff_ca = ca.staff_ca("municipality:131016")
    (files / f"{staff_ca.name}.pem").write_bytes(staff_ca.pem)
    good = ca.issue_staff_certificate(card_key().public_key(), staff_id="c.tanaka", organisation="municipality:131016")
    bad = ca.issue_staff_certificate(card_key().public_key(), staff_id="c.sato", organisation="municipality:131016")
    ca.revoke(bad.serial, "key_compromise")
    crl = _fetch_crl_pem(server, staff_ca.name, files)
    good_path, bad_path = _write_cert(files, good), _write_cert(files, bad)

    accepted = _verify(files, staff_ca.name, good_path, crl, "-x509_strict", "-purpose", "sslclient")
    assert accepted.returncode == 0, accepted.stderr
    rejected = _verify(files, staff_ca.name, bad_path, crl)
    assert rejected.returncode != 0 and "revoked" in (rejected.stdout + rejected.stderr)
    # Through a resident issuing CA instead, the chain does not hold.
    foreign = _verify(files, "auth", good_path, crl)
    assert foreign.returncode != 0
