"""Every command group fails the same way: the shared runner in kojin.entrypoints.cli.console."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
import typer
from typer.testing import CliRunner

from kojin.core.errors import InvalidInput
from kojin.entrypoints.cli.console import run_command
from kojin.linkage.members import MemberFileError, Problem


def _app(body: Callable[[], object]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def go() -> None:
        run_command(body)

    return app


def test_a_users_mistake_is_its_line_and_exit_2() -> None:
    def body() -> None:
        raise InvalidInput("resident.bad", "誤りです。", "wrong.", field="name")

    result = CliRunner().invoke(_app(body), [])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["error resident.bad [name]: 誤りです。"]


def test_an_unexpected_failure_is_one_line_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOJIN_DEBUG", raising=False)

    def body() -> None:
        raise RuntimeError("the database went away with 1234-5678-9012")

    result = CliRunner().invoke(_app(body), [])
    assert result.exit_code == 1
    assert result.stderr.strip() == "内部エラー: RuntimeError"
    assert "Traceback" not in result.output
    assert "1234" not in result.stderr  # the exception's text is not printed: it may hold anything


def test_kojin_debug_shows_the_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOJIN_DEBUG", "1")

    def body() -> None:
        raise RuntimeError("boom")

    result = CliRunner().invoke(_app(body), [])
    assert isinstance(result.exception, RuntimeError)


def test_a_member_file_error_lists_every_problem() -> None:
    problems = [Problem(n, "birth_date", "日付ではありません。", "not a date.") for n in (2, 5, 9)]
    error = MemberFileError(problems, total=7)

    def body() -> None:
        raise error

    result = CliRunner().invoke(_app(body), [])
    assert result.exit_code == 2
    lines = result.stderr.rstrip("\n").splitlines()
    assert lines[0] == error.one_line()
    assert lines[1:4] == ["  " + p.one_line() for p in problems]
    assert lines[4] == "  …ほか 4 件"


def test_a_reader_that_goes_away_is_not_an_error() -> None:
    # `kojin … | head -1`: the pipe closes while the command still writes.
    code = textwrap.dedent(
        """
        import sys
        import typer
        from kojin.entrypoints.cli.console import run_command

        app = typer.Typer()

        @app.command()
        def spew() -> None:
            def body() -> None:
                for _ in range(200_000):
                    sys.stdout.write("x" * 99 + "\\n")
                sys.stdout.flush()
            run_command(body)

        app()
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "KOJIN_DEBUG"}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1000)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""
