"""A helper process that ends when the process that started it ends (子プロセスの後始末).

A child that outlives a killed parent keeps whatever it held: a numbering
child killed mid-batch would hold the numbering store's write lock, and every
later run would fail with "database is locked". On Linux the kernel sends the
child SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a
daemon thread watches the parent's pid. Either way the child also checks once
that its parent is still the one that started it, since the parent may have
died before the child asked to follow it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` (the process that started it) ends."""
    if not (sys.platform.startswith("linux") and _linux_death_signal()):
        threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before we could follow it


def _linux_death_signal() -> bool:
    """Ask the kernel for SIGKILL when the parent dies; whether it agreed."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)
