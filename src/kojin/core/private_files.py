"""Files only their owner reads (所有者だけが読めるファイル): the data directory, stores, keys, exports.

The data directory holds every party's store (the numbering store with its
derivation key among them), key files, card files and exports. It is made
0700 and everything in it 0600, by three means:

* :func:`restrict_umask` gives the process a umask of at least 0o077, so every
  file kojin (or SQLite, for its ``-wal`` and ``-shm``) creates is its owner's only;
* :func:`private_file` creates a store file 0600 before SQLite opens it, since
  SQLite gives a store's ``-wal`` and ``-shm`` the store file's own mode;
* :func:`tighten` fixes, at start, what an older install or another tool left
  open to group or other, and says so once.

An operator's key file (``operator.key``) is not fixed: whoever could read it
may have copied it, so using it is refused while it is open
(``staff.operator_key_open``) and the operator makes a new one.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import Final

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "private_dir", "private_file", "restrict_umask", "tighten"]

PRIVATE_DIR: Final = 0o700
PRIVATE_FILE: Final = 0o600
_OPEN: Final = 0o077
# Refused when open rather than closed (kojin.staff.operators reads them).
_REFUSED_WHEN_OPEN: Final = frozenset({"operator.key"})

log = logging.getLogger("kojin.files")
_warned: set[Path] = set()
_warned_lock = threading.Lock()


def restrict_umask() -> None:
    """Add 0o077 to this process's umask: nothing it creates from now on is readable by group or other."""
    os.umask(os.umask(_OPEN) | _OPEN)


def private_dir(path: Path) -> None:
    """``path`` (and missing parents) as a directory only its owner can enter."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) & _OPEN:
        os.chmod(path, PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (a store file before SQLite opens it)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    os.close(fd)


def tighten(directory: Path) -> list[Path]:
    """Make ``directory`` and everything under it 0700 (directories) or 0600 (files) where group or
    other could read; the paths changed. Logs one warning per directory and process when it changed any."""
    if not directory.is_dir():
        return []
    fixed = [p for p in [directory, *_walk(directory)] if _fix(p)]
    if fixed:
        with _warned_lock:
            first = directory.resolve() not in _warned
            _warned.add(directory.resolve())
        if first:
            log.warning(
                "%d file(s) under %s were readable by other users; now 0700/0600: %s",
                len(fixed),
                directory,
                ", ".join(str(p.relative_to(directory)) or "." for p in fixed[:10]),
            )
    return fixed


def _walk(directory: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        found.extend(Path(root) / name for name in dirs + files)
    return found


def _fix(path: Path) -> bool:
    """Close ``path`` to group and other if it is open to them; whether it was."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False  # removed meanwhile (a -shm closed with its last connection)
    if stat.S_ISLNK(mode) or not stat.S_IMODE(mode) & _OPEN or path.name in _REFUSED_WHEN_OPEN:
        return False
    os.chmod(path, PRIVATE_DIR if stat.S_ISDIR(mode) else PRIVATE_FILE)
    return True
