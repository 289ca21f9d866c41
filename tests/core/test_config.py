"""Settings: the reader's list of every card is demo mode on a loopback address only."""

from __future__ import annotations

import pytest

from kojin.core.config import DEMO_CARDS_ENV, Settings, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost", " LOCALHOST "])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::", "192.0.2.7", "10.0.0.1", "kojin.example", "localhost.evil"])
def test_addresses_others_may_reach_or_not_known(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(
    ("asked", "bound", "listed"),
    [
        ("1", "127.0.0.1", True),
        ("true", "::1", True),
        ("1", "0.0.0.0", False),
        ("1", "192.0.2.7", False),
        ("1", "", False),  # not started by kojin up: where it listens is not known
        ("0", "127.0.0.1", False),
        ("", "127.0.0.1", False),
    ],
)
def test_the_reader_lists_cards_only_when_asked_on_loopback(
    monkeypatch: pytest.MonkeyPatch, asked: str, bound: str, listed: bool
) -> None:
    monkeypatch.setenv(DEMO_CARDS_ENV, asked)
    monkeypatch.setenv("KOJIN_BIND_HOST", bound)
    settings = Settings()
    assert settings.demo_cards is (asked in ("1", "true"))
    assert settings.reader_lists_cards is listed
