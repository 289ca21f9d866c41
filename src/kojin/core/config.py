"""Settings read from the environment (設定).

Everything that differs between a laptop, CI and a deployment is here, and only
here: where the embedded databases live, which server database to use, and the
schema prefix that lets several test runs share one PostgreSQL server.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
DEMO_CARDS_ENV = "KOJIN_DEMO_CARDS"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, brackets allowed) is this machine only: localhost, 127.0.0.0/8, ::1."""
    name = host.strip().lower().strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def env_flag(name: str) -> bool:
    """A yes/no setting from the environment: 1, true, yes or on."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _allowed_hosts() -> frozenset[str]:
    """The Host names the web server answers for: ``KOJIN_ALLOWED_HOSTS`` (comma-separated, ``*`` for any),
    else the loopback names; and the address ``kojin up --host`` binds (``KOJIN_BIND_HOST``)."""
    listed = os.environ.get("KOJIN_ALLOWED_HOSTS", "")
    names = [n.strip().lower() for n in listed.split(",") if n.strip()] or list(LOCAL_HOSTS)
    bound = os.environ.get("KOJIN_BIND_HOST", "").strip().lower().strip("[]")
    if bound:
        names.append(bound)
    return frozenset(names)


@dataclass(frozen=True)
class Settings:
    """How this kojin process finds its stores."""

    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("KOJIN_DATA_DIR", "kojin-data")))
    # None means the embedded default: one SQLite file per party under data_dir.
    database_url: str | None = field(default_factory=lambda: os.environ.get("KOJIN_DATABASE_URL") or None)
    schema_prefix: str = field(default_factory=lambda: os.environ.get("KOJIN_SCHEMA_PREFIX", ""))
    # The demo municipality: 文京区, where the seed's assembly met.
    municipality_code: str = field(default_factory=lambda: os.environ.get("KOJIN_MUNICIPALITY", "13105"))

    # Where relying parties fetch CRLs and ask OCSP: written into certificates.
    base_url: str = field(default_factory=lambda: os.environ.get("KOJIN_BASE_URL", "http://127.0.0.1:8000"))
    # "rsa2048" as on real cards; "p256" for fast bulk demos.
    card_algorithm: str = field(default_factory=lambda: os.environ.get("KOJIN_CARD_ALGORITHM", "rsa2048"))
    # DNS rebinding: a request whose Host is not one of these is refused (kojin.web.limits).
    allowed_hosts: frozenset[str] = field(default_factory=_allowed_hosts)
    # The address the server listens on, as ``kojin up --host`` sets it; "" when not known.
    bind_host: str = field(default_factory=lambda: os.environ.get("KOJIN_BIND_HOST", "").strip())
    # Asked for: the reader lists every card file (``KOJIN_DEMO_CARDS=1``, ``kojin up --demo-cards``).
    demo_cards: bool = field(default_factory=lambda: env_flag(DEMO_CARDS_ENV))

    @property
    def reader_lists_cards(self) -> bool:
        """The reader lists every card only when asked and only on a loopback address.

        Anyone who can see the list can insert any card, and every demo card has
        the same PIN; so on an address others reach (or one not known) the list is
        off whatever was asked, and a card goes in only by its id.
        """
        return self.demo_cards and is_loopback(self.bind_host)

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url is None or self.database_url.startswith("sqlite")

    @property
    def cards_dir(self) -> Path:
        return self.data_dir / "cards"
