"""Keys at rest sealed under KOJIN_KEY_PASSPHRASE."""

from __future__ import annotations

import pytest

from kojin.core.errors import KojinError
from kojin.core.key_passphrase import is_sealed, seal, unseal


def test_a_sealed_key_opens_only_with_its_passphrase() -> None:
    secret = bytes(range(32))
    sealed = seal(secret, b"correct horse")
    assert is_sealed(sealed) and secret not in sealed
    assert seal(secret, b"correct horse") != sealed  # a fresh salt and nonce each time
    assert unseal(sealed, b"correct horse", what="test.key") == secret
    with pytest.raises(KojinError) as wrong:
        unseal(sealed, b"battery staple", what="test.key")
    assert wrong.value.code == "key.passphrase_wrong"
    with pytest.raises(KojinError) as missing:
        unseal(sealed, None, what="test.key")
    assert missing.value.code == "key.passphrase_needed"
    assert not is_sealed(secret)
