"""``kojin pki``: the J-LIS CA's certificates and CRLs (公的個人認証)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kojin.entrypoints.cli.console import run_command
from kojin.entrypoints.cli.system import console, open_system

pki_app = typer.Typer(help="公的個人認証 — CA certificates and CRLs.", no_args_is_help=True)


@pki_app.command("export")
def pki_export(out: Annotated[Path, typer.Option(help="Directory to write the CA certificates (PEM) to.")]) -> None:
    """Write the root and issuing CA certificates as PEM files."""
    from kojin.pki.domain import CA_NAMES

    def body() -> None:
        out.mkdir(parents=True, exist_ok=True)
        with open_system() as kojin:
            for name in CA_NAMES:
                (out / f"{name}.pem").write_bytes(kojin.ca.ca_pem(name))
                console.print(str(out / f"{name}.pem"))

    run_command(body)


@pki_app.command("crl")
def pki_crl(
    ca: Annotated[str, typer.Option(help="Issuing CA: auth or sign.")] = "auth",
    out: Annotated[Path | None, typer.Option(help="Write the DER CRL here; PEM to stdout when omitted.")] = None,
) -> None:
    """The current CRL of an issuing CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    def body() -> None:
        with open_system() as kojin:
            der = kojin.ca.crl_der(ca)
        if out:
            out.write_bytes(der)
            console.print(str(out))
        else:
            crl = x509.load_der_x509_crl(der)
            sys.stdout.write(crl.public_bytes(serialization.Encoding.PEM).decode())

    run_command(body)
