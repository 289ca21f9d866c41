"""``kojin up``: the reader's list of every card only when asked, and never on an address others reach."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from kojin.core.config import DEMO_CARDS_ENV
from kojin.entrypoints.cli import app

GROUPED_ID = re.compile(r"\b((?:[0-9a-f]{4} ){7}[0-9a-f]{4})\b")


@pytest.fixture
def up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``kojin up`` up to the point it would serve: its output, and the reader setting the server would read."""
    monkeypatch.setenv("KOJIN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KOJIN_CARD_ALGORITHM", "p256")
    monkeypatch.delenv("KOJIN_DATABASE_URL", raising=False)
    # Set here so that what ``up`` writes into the environment is undone after the test.
    monkeypatch.setenv("KOJIN_BIND_HOST", "")
    monkeypatch.setenv(DEMO_CARDS_ENV, "")
    served: dict[str, Any] = {}

    def serve(*_args: Any, **kwargs: Any) -> None:
        # Not serving: the server process would read these from the environment.
        served.update(host=kwargs["host"], demo_cards=os.environ[DEMO_CARDS_ENV])

    monkeypatch.setattr(uvicorn, "run", serve)

    def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
        served.clear()
        result = CliRunner().invoke(app, ["up", "--residents", "3", *args], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output, dict(served)

    return invoke


def test_the_list_is_off_unless_asked_and_forced_off_off_loopback(up: Any, tmp_path: Path) -> None:
    output, served = up("--host", "127.0.0.1")
    assert served == {"host": "127.0.0.1", "demo_cards": "0"}
    # The demo card's id is printed in groups of four, to be typed into the reader.
    printed = GROUPED_ID.findall(output)
    assert printed and (tmp_path / "data" / "cards" / f"{printed[0].replace(' ', '')}.card").exists()
    assert "/reader/" in output

    output, served = up("--host", "127.0.0.1", "--demo-cards")
    assert served["demo_cards"] == "1" and "デモモード" in output

    output, served = up("--host", "0.0.0.0", "--demo-cards")
    assert served == {"host": "0.0.0.0", "demo_cards": "0"} and "警告" in output
    # Left in the shell, the variable asks too, and is refused the same way.
    output, served = up("--host", "192.0.2.7", env={DEMO_CARDS_ENV: "1"})
    assert served["demo_cards"] == "0" and "警告" in output
