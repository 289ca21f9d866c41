from __future__ import annotations

import base64
import hmac
import secrets

import pytest

from kojin.auth.domain import make_challenge, parse_challenge
from kojin.core.errors import KojinError


def test_the_mac_is_hmac_sha256_of_the_body() -> None:
    # Challenges already handed out must still verify whatever computes the MAC.
    key = secrets.token_bytes(32)
    for _ in range(20):
        issued = make_challenge(key, "portal", 1_900_000_000)
        body, mac = issued.value.rsplit(".", 1)
        expected = base64.urlsafe_b64encode(hmac.digest(key, body.encode(), "sha256")).decode().rstrip("=")
        assert mac == expected
        assert parse_challenge(key, issued.value, "portal", 1_800_000_000).nonce == issued.nonce
    with pytest.raises(KojinError) as err:
        parse_challenge(secrets.token_bytes(32), issued.value, "portal", 1_800_000_000)
    assert err.value.code == "auth.challenge_forged"


def test_a_challenge_with_a_trailing_newline_or_full_width_digits_is_malformed() -> None:
    key = secrets.token_bytes(32)
    issued = make_challenge(key, "portal", 1_900_000_000)
    wide = issued.value.replace(".1900000000.", ".１９００００００００.")
    for value in (issued.value + "\n", wide):
        with pytest.raises(KojinError) as err:
            parse_challenge(key, value, "portal", 1_800_000_000)
        assert err.value.code == "auth.challenge_malformed"
