"""The card's command processing: one security session, four commands, both applications.

SELECT, READ BINARY and VERIFY work alike in the JPKI AP and the
券面事項入力補助AP; COMPUTE DIGITAL SIGNATURE finds key EFs only in the JPKI AP.
Where ISO 7816-4 leaves a choice:

- SELECT takes only P2 = ``0C`` (no FCI returned); SELECT of any application,
  even the current one, starts a new security session, as does ``connect()`` or
  ``disconnect()`` (card removal). A SELECT that fails leaves the selection as it was.
- An EF that has not been personalised does not exist: SELECT answers ``6A 82``.
- READ BINARY answers up to Ne bytes from the offset with ``90 00``, fewer when
  the file ends first; an offset at or past the end answers ``6B 00``. A key or
  PIN EF is not readable (``69 81``). A withdrawn EF (the number after a
  number change) answers ``69 85`` once its PIN is verified, and ``69 82`` before.
- VERIFY with no data answers ``63 Cx`` (tries left) without counting, or
  ``69 83`` once locked, even right after a successful VERIFY. A wrong PIN
  answers ``63 Cx``; the last wrong try answers ``63 C0`` and every VERIFY after
  it ``69 83``. How a try is counted is in :mod:`kojin.card.pins`.
- COMPUTE DIGITAL SIGNATURE needs the key's own PIN verified in this session
  (``69 82``); what it signs is in :mod:`kojin.card.keypairs`.
- Status words: ``90 00``; ``65 81`` save failed; ``67 00`` wrong length or
  malformed APDU; ``69 81`` command does not fit the current EF; ``69 82``
  security status; ``69 83`` locked; ``69 85`` EF withdrawn; ``69 86`` no
  current EF; ``6A 80`` bad data; ``6A 82`` not found; ``6A 86`` bad P1/P2;
  ``6B 00`` offset; ``6D 00`` INS; ``6E 00`` CLA; ``6F 00`` internal error
  (never expected).
"""

from __future__ import annotations

from collections.abc import Callable

from kojin.card.apdu import SW, APDUFormatError, CommandAPDU, ResponseAPDU, sw_tries_left
from kojin.card.files import EF, BinaryEF, FileSystem, KeyEF
from kojin.card.keypairs import sign_digest
from kojin.card.pins import PinEF, try_pin


def response(sw: int, data: bytes = b"") -> ResponseAPDU:
    return ResponseAPDU(data, sw)


class CommandProcessor:
    """Answers command APDUs over a card's files; holds the session (selection, verified PINs).

    Not thread-safe on its own: the card calls it under its lock.
    """

    def __init__(self, files: FileSystem, save: Callable[[], bool]) -> None:
        self._files = files
        self._save = save
        self._current_app: bytes | None = None
        self._current_ef: int | None = None
        self.verified: set[int] = set()
        self._handlers: dict[tuple[int, int], Callable[[CommandAPDU], ResponseAPDU]] = {
            (0x00, 0xA4): self._select,
            (0x00, 0xB0): self._read_binary,
            (0x00, 0x20): self._verify,
            (0x80, 0x2A): self._compute_digital_signature,
        }

    def reset_session(self) -> None:
        """Nothing selected, no PIN verified."""
        self._current_app = None
        self._current_ef = None
        self.verified = set()

    def dispatch(self, raw: bytes) -> ResponseAPDU:
        try:
            cmd = CommandAPDU.parse(raw)
        except APDUFormatError:
            return response(SW.WRONG_LENGTH)
        if cmd.cla not in (0x00, 0x80):
            return response(SW.CLA_NOT_SUPPORTED)
        handler = self._handlers.get((cmd.cla, cmd.ins))
        if handler is None:
            return response(SW.INS_NOT_SUPPORTED)
        return handler(cmd)

    def _current(self) -> EF | None:
        if self._current_app is None or self._current_ef is None:
            return None
        return self._files[self._current_app].get(self._current_ef)

    def _select(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.p2 != 0x0C or cmd.p1 not in (0x02, 0x04):
            return response(SW.INCORRECT_P1P2)
        if cmd.p1 == 0x04:
            if not cmd.data:
                return response(SW.WRONG_LENGTH)
            if cmd.data not in self._files:
                return response(SW.FILE_NOT_FOUND)
            self.reset_session()
            self._current_app = cmd.data
            return response(SW.OK)
        if len(cmd.data) != 2:
            return response(SW.WRONG_LENGTH)
        fid = int.from_bytes(cmd.data, "big")
        if self._current_app is None or fid not in self._files[self._current_app]:
            return response(SW.FILE_NOT_FOUND)
        self._current_ef = fid
        return response(SW.OK)

    def _read_binary(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.data or cmd.ne is None:
            return response(SW.WRONG_LENGTH)
        if cmd.p1 & 0x80:  # short-EF addressing, which the card does not offer
            return response(SW.INCORRECT_P1P2)
        ef = self._current()
        if ef is None:
            return response(SW.NO_CURRENT_EF)
        if not isinstance(ef, BinaryEF):
            return response(SW.INCOMPATIBLE_FILE)
        if ef.read_pin is not None and ef.read_pin not in self.verified:
            return response(SW.SECURITY_NOT_SATISFIED)
        if ef.withdrawn:
            return response(SW.CONDITIONS_NOT_SATISFIED)
        offset = cmd.p1p2
        if offset >= len(ef.data):
            return response(SW.WRONG_P1P2)
        return response(SW.OK, ef.data[offset : offset + cmd.ne])

    def _verify(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return response(SW.INCORRECT_P1P2)
        if cmd.ne is not None:
            return response(SW.WRONG_LENGTH)
        ef = self._current()
        if ef is None:
            return response(SW.NO_CURRENT_EF)
        if not isinstance(ef, PinEF):
            return response(SW.INCOMPATIBLE_FILE)
        if ef.tries_left == 0:
            return response(SW.AUTH_METHOD_BLOCKED)
        if not cmd.data:
            return response(sw_tries_left(ef.tries_left))
        fid = self._current_ef
        assert fid is not None
        self.verified.discard(fid)
        sw = try_pin(ef, cmd.data, self._save)
        if sw == SW.OK:
            self.verified.add(fid)
        return response(sw)

    def _compute_digital_signature(self, cmd: CommandAPDU) -> ResponseAPDU:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            return response(SW.INCORRECT_P1P2)
        if not cmd.data:
            return response(SW.WRONG_LENGTH)
        ef = self._current()
        if ef is None:
            return response(SW.NO_CURRENT_EF)
        if not isinstance(ef, KeyEF):
            return response(SW.INCOMPATIBLE_FILE)
        if ef.pin_fid not in self.verified:
            return response(SW.SECURITY_NOT_SATISFIED)
        signature = sign_digest(ef.key, cmd.data)
        if signature is None:
            return response(SW.WRONG_DATA)
        if cmd.ne is not None and cmd.ne < len(signature):
            return response(SW.WRONG_LENGTH)
        return response(SW.OK, signature)
