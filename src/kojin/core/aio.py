"""Handing results from writer threads to an event loop (非同期の受け渡し).

A store's group-commit writer (or the exchange log's) finishes a batch for
many callers at once. Callers on an event loop wait on futures; each
``call_soon_threadsafe`` costs a wake-up of the loop (a write to its
self-pipe, a context switch), so a :class:`Resolver` gathers the futures a
writer settles in a burst and wakes the loop once for all of them.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["Resolver", "resolver", "until_done"]


class Resolver:
    """Settles futures of one event loop from any thread, one wake-up per burst."""

    __slots__ = ("__weakref__", "_lock", "_loop", "_ready", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._ready: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        self._scheduled = False

    def settle(self, future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        """Give ``future`` its result (or ``error``) on its loop; callable from any thread."""
        with self._lock:
            self._ready.append((future, result, error))
            if self._scheduled:
                return  # the loop is already due to drain; this one goes with it
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop was closed: nobody is left waiting
            with self._lock:
                self._ready.clear()
                self._scheduled = False

    def _drain(self) -> None:
        with self._lock:
            ready, self._ready, self._scheduled = self._ready, [], False
        for future, result, error in ready:
            if future.done():
                continue  # cancelled meanwhile
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)


_resolvers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Resolver] = weakref.WeakKeyDictionary()
_resolvers_lock = threading.Lock()


# The last loop asked about and its resolver: asked several times per
# exchange, almost always by the same loop, where a weak-dictionary look-up
# (a new weak reference each time) would cost more than the rest.
_last: tuple[weakref.ref[asyncio.AbstractEventLoop], Resolver] | None = None


def resolver(loop: asyncio.AbstractEventLoop | None = None) -> Resolver:
    """The resolver of ``loop`` (default: the running one)."""
    global _last
    loop = loop or asyncio.get_running_loop()
    last = _last
    if last is not None and last[0]() is loop:
        return last[1]
    with _resolvers_lock:
        found = _resolvers.get(loop)
        if found is None:
            found = _resolvers[loop] = Resolver(loop)
        _last = (weakref.ref(loop), found)
    return found


async def until_done(register: Callable[[Callable[[BaseException | None], None]], None]) -> None:
    """Await what another thread finishes: ``register(done)`` hands over the callback it will call.

    ``await until_done(ticket.then)`` waits for a group-commit ticket without
    blocking the loop; ``done(error)`` raises ``error`` here.
    """
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    wake = resolver()
    register(lambda error: wake.settle(future, None, error))
    await future
