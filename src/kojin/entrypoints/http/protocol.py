"""uvicorn's HTTP/1.1 protocol with a deadline for a request's headers (slow clients).

uvicorn closes a connection idle between requests (``timeout_keep_alive``), but
not one that opens and then sends its request line and headers a byte at a time:
1,100 of those held the server. Here each connection has :data:`HEADER_TIMEOUT`
seconds, from its opening and from the end of each answer, to send a complete
request head; otherwise it is closed. A request's body and a slow answer are not
limited by it (the JSON body limit bounds the body; a proxy bounds the rest).
At ``limit_concurrency`` open connections, the one that has waited longest for
its request head is closed to make room, so that slow clients cannot take every
file the process may open and shut people out.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

HEADER_TIMEOUT = 10.0


# Waiting connections stay this far under the cap, where uvicorn answers every request 503.
_HEADROOM = 16

# Per server: the connections waiting for a request head, oldest first.
_waiting: WeakKeyDictionary[ServerState, dict[DeadlineH11Protocol, None]] = WeakKeyDictionary()


class DeadlineH11Protocol(H11Protocol):
    """:class:`H11Protocol` that closes a connection whose next request head is late,
    and at the connection cap makes room by closing the one that has waited longest."""

    _waiting_after: object = None

    def _queue(self) -> dict[DeadlineH11Protocol, None]:
        return _waiting.setdefault(self.server_state, {})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn's cap answers 503 only to a request; a client that never sends
        # one would hold a file each. At the cap the connection that has waited
        # longest for its head gives way: a person's request, whose head comes at
        # once, still gets in, while slow clients only push each other out.
        cap = self.config.limit_concurrency
        if cap is not None and len(self.connections) > cap - _HEADROOM and not self._evict_oldest():
            transport.close()
            return
        self._arm()

    def _evict_oldest(self) -> bool:
        queue = self._queue()
        for oldest in queue:
            del queue[oldest]
            oldest.transport.close()
            return True
        return False

    def handle_events(self) -> None:
        super().handle_events()
        if self.cycle is not self._waiting_after:
            self._queue().pop(self, None)

    def connection_lost(self, exc: Exception | None) -> None:
        self._queue().pop(self, None)
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def _arm(self) -> None:
        queue = self._queue()
        queue.pop(self, None)
        queue[self] = None
        self._waiting_after = waiting_after = self.cycle
        self.loop.call_later(HEADER_TIMEOUT, self._late, waiting_after)

    def _late(self, waiting_after: object) -> None:
        # No new request began since the deadline was set: its head is late.
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()
