"""Counters: exact under threads, shown in the Prometheus text format."""

from __future__ import annotations

import threading

import pytest

from kojin.core.metrics import Counter, render


def test_counts_from_many_threads_add_up() -> None:
    counter = Counter("kojin_test_total", "A test.", ("reason",))

    def work() -> None:
        for _ in range(5000):
            counter.add(("a",))
        counter.add(("b",), 3)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.snapshot() == {("a",): 40_000, ("b",): 24}
    assert counter.value(("c",)) == 0


def test_the_text_format_escapes_label_values_and_sorts() -> None:
    counter = Counter("kojin_test_total", "Line one\nline two.", ("endpoint", "reason"))
    counter.add(("batch", 'x"y'))
    counter.add(("exchange", "a\\b"), 2)
    assert render([counter]).splitlines() == [
        "# HELP kojin_test_total Line one\\nline two.",
        "# TYPE kojin_test_total counter",
        'kojin_test_total{endpoint="batch",reason="x\\"y"} 1',
        'kojin_test_total{endpoint="exchange",reason="a\\\\b"} 2',
    ]
    plain = Counter("kojin_plain_total", "No labels.", ())
    plain.add(())
    assert render([plain]).endswith("kojin_plain_total 1\n")


def test_bad_names_and_label_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        Counter("not a name", "x", ())
    counter = Counter("kojin_ok_total", "x", ("reason",))
    with pytest.raises(ValueError):
        counter.add(("a", "b"))
