"""Card transports (カードとの通信路): how APDUs reach a card.

The reader software only ever calls :class:`CardTransport`; whether an
emulated card in the same process or a real card on a PC/SC reader answers is
the transport's business. ``connect()`` means the card is placed on the reader
(power-on, a fresh session) and ``disconnect()`` that it is taken away.

A transport raises only for link failures (no card, no reader:
:class:`~kojin.card.errors.CardCommunicationError`); whatever the card says,
errors included, comes back as response bytes ending in SW1 SW2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from kojin.card import reasons
from kojin.card.apdu import CommandAPDU
from kojin.card.emulator import MyNumberCard

__all__ = ["CardTransport", "InProcessTransport", "PcscTransport", "exchange_with_t0_recovery"]


@runtime_checkable
class CardTransport(Protocol):
    """A channel to one card slot (カードスロット)."""

    def connect(self) -> None:
        """The card is inserted: power it on and start a fresh session."""
        ...

    def disconnect(self) -> None:
        """The card is removed: its security state is gone."""
        ...

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return the response data followed by SW1 SW2."""
        ...


class InProcessTransport:
    """A slot holding an emulated :class:`~kojin.card.emulator.MyNumberCard` (エミュレータ接続).

    ``insert`` puts a (different) card in the slot; taking a card out always
    ends its session, so a new card never inherits the previous holder's PIN.
    """

    def __init__(self, card: MyNumberCard | None = None) -> None:
        self._card = card
        self._connected = False

    @property
    def card(self) -> MyNumberCard | None:
        return self._card

    @property
    def connected(self) -> bool:
        return self._connected

    def insert(self, card: MyNumberCard | None) -> None:
        """Swap the card in the slot (None: empty); the old one is removed first."""
        self.disconnect()
        self._card = card

    def connect(self) -> None:
        if self._card is None:
            raise reasons.NOT_PRESENT.error()
        if not self._connected:
            self._card.connect()
            self._connected = True

    def disconnect(self) -> None:
        if self._connected and self._card is not None:
            self._card.disconnect()
        self._connected = False

    def transmit(self, apdu: bytes) -> bytes:
        if not self._connected or self._card is None:
            raise reasons.NOT_PRESENT.error()
        return self._card.transmit(apdu)


def exchange_with_t0_recovery(send: Callable[[bytes], bytes], apdu: bytes) -> bytes:
    """Send ``apdu`` and hide the T=0 transport status words from the caller.

    ``61 xx`` (more data waiting) is followed by GET RESPONSE until the card is
    done, and ``6C xx`` (wrong Le, exact length xx) by one resend with that Le.
    PC/SC drivers usually do this on T=1 but not always on T=0.
    """
    response = send(apdu)
    if len(response) >= 2 and response[-2] == 0x6C:
        try:
            cmd = CommandAPDU.parse(apdu)
        except ValueError:
            return response
        retry = CommandAPDU(cmd.cla, cmd.ins, cmd.p1, cmd.p2, cmd.data, response[-1] or 256)
        response = send(retry.to_bytes())
    data = bytearray()
    for _ in range(256):  # a card that never stops sending 61xx is broken, not patient
        if len(response) < 2 or response[-2] != 0x61:
            break
        data += response[:-2]
        response = send(bytes((0x00, 0xC0, 0x00, 0x00, response[-1])))
    return bytes(data) + response


class PcscTransport:
    """A real card on a PC/SC reader through pyscard (実カード接続).

    pyscard is optional (``pip install 'kojin[pcsc]'``); it is imported only on
    :meth:`connect`, so this module imports without it.
    """

    def __init__(self, reader: str | None = None) -> None:
        """``reader``: a substring of the reader's name; None takes the first reader."""
        self._reader_name = reader
        self._connection: Any = None

    @staticmethod
    def _pyscard() -> Any:
        try:
            import smartcard.System
        except ImportError as exc:
            raise reasons.READER_UNAVAILABLE.error(
                detail_en="pyscard is not installed (pip install 'kojin[pcsc]')"
            ) from exc
        return smartcard

    @classmethod
    def reader_names(cls) -> list[str]:
        """The names of the PC/SC readers attached to this machine."""
        pyscard = cls._pyscard()
        try:
            return [str(r) for r in pyscard.System.readers()]
        except Exception as exc:  # pyscard raises its own types, or OS errors
            raise reasons.READER_UNAVAILABLE.error(detail_en=str(exc)) from exc

    def connect(self) -> None:
        if self._connection is not None:
            return
        pyscard = self._pyscard()
        from smartcard.Exceptions import NoCardException

        try:
            readers = pyscard.System.readers()
        except Exception as exc:
            raise reasons.READER_UNAVAILABLE.error(detail_en=str(exc)) from exc
        chosen = [r for r in readers if self._reader_name is None or self._reader_name in str(r)]
        if not chosen:
            raise reasons.READER_UNAVAILABLE.error(detail_en=f"no PC/SC reader matches {self._reader_name!r}")
        connection = chosen[0].createConnection()
        try:
            connection.connect()
        except NoCardException as exc:
            raise reasons.NOT_PRESENT.error() from exc
        except Exception as exc:
            raise reasons.IO_ERROR.error() from exc
        self._connection = connection

    def disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.disconnect()
            except Exception as exc:
                raise reasons.IO_ERROR.error() from exc

    def transmit(self, apdu: bytes) -> bytes:
        if self._connection is None:
            raise reasons.NOT_PRESENT.error()
        return exchange_with_t0_recovery(self._send, bytes(apdu))

    def _send(self, apdu: bytes) -> bytes:
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except Exception as exc:
            raise reasons.IO_ERROR.error() from exc
        return bytes(data) + bytes((sw1, sw2))
