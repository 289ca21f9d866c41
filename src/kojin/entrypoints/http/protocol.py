"""uvicorn's HTTP/1.1 protocol with a deadline for a request's headers (slow clients).

uvicorn closes a connection idle between requests (``timeout_keep_alive``), but
not one that opens and then sends its request line and headers a byte at a time:
1,100 of those held the server. Here each connection has :data:`HEADER_TIMEOUT`
seconds, from its opening and from the end of each answer, to send a complete
request head; otherwise it is closed. A request's body and a slow answer are not
limited by it (the JSON body limit bounds the body; a proxy bounds the rest).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0


class DeadlineH11Protocol(H11Protocol):
    """:class:`H11Protocol` that closes a connection whose next request head is late."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def _arm(self) -> None:
        waiting_after = self.cycle
        self.loop.call_later(HEADER_TIMEOUT, self._late, waiting_after)

    def _late(self, waiting_after: object) -> None:
        # No new request began since the deadline was set: its head is late.
        if self.cycle is waiting_after and not self.transport.is_closing():
            self.transport.close()
