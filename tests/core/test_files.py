"""kojin.core.files: a file is replaced whole or left as it was."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import pytest

from kojin.core.files import atomic_write


def test_a_failed_write_leaves_the_file_as_it_was_and_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    atomic_write(target, lambda handle: handle.write("first\n"))
    assert target.read_text(encoding="utf-8") == "first\n"

    def half(handle: TextIO) -> None:
        handle.write("second, half of it")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, half)
    assert target.read_text(encoding="utf-8") == "first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
