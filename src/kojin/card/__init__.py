"""The My Number card (個人番号カード) at the APDU level.

- :mod:`kojin.card.apdu` — ISO/IEC 7816-4 command and response APDUs, status
  words, BER-TLV, and the card profile (AIDs, file IDs) shared by both ends.
- :mod:`kojin.card.emulator` — the emulated card: the JPKI application (公的個人認証AP)
  and the 券面事項入力補助AP, answering the real APDUs; plus the issuer-side
  personalisation API standing for the issuer's secure channel. Its parts:
  :mod:`~kojin.card.files` (EFs and read rules), :mod:`~kojin.card.commands`
  (APDU processing), :mod:`~kojin.card.pins`, :mod:`~kojin.card.keypairs`,
  :mod:`~kojin.card.basic_items` (EF 0002 of the 券面事項入力補助AP) and
  :mod:`~kojin.card.snapshot` (the state :mod:`~kojin.card.storage` encrypts).
- :mod:`kojin.card.issuance` — the counter: issuing cards, loss, PIN resets.
- :mod:`kojin.card.storage` — the card's state in an encrypted file, rewritten
  atomically whenever a PIN counter moves.
- :mod:`kojin.card.transport` — how APDUs reach a card: in-process to the
  emulator, or PC/SC to a real reader (pyscard, optional).
- :mod:`kojin.card.reader` — the reader software: speaks only APDUs through a
  transport, so it works the same on the emulator and on a real card.
- :mod:`kojin.card.errors` — the domain errors the reader and the issuer API raise.
"""
