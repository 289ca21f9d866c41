"""Counters a party keeps in memory and shows in the Prometheus text format (計測値).

Meant for what must be counted but not written anywhere durable: a refusal
that leaves no trace elsewhere (an unsigned request to the hub, say) still
shows up here, so an operator sees a flood without the flood filling a store.

A counter's labels must come from a closed set (reason codes, endpoint names),
never from what a caller sent: every distinct label set is kept for the life of
the process. Counting takes one uncontended lock, a fraction of a microsecond.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

__all__ = ["Counter", "render"]

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


class Counter:
    """A monotonic counter per label set, safe to add to from any thread."""

    def __init__(self, name: str, help_text: str, labels: tuple[str, ...]) -> None:
        if not _NAME.match(name) or not all(_NAME.match(label) for label in labels):
            raise ValueError(f"not a metric name: {name} {labels}")
        self.name = name
        self.help_text = help_text
        self.labels = labels
        self._counts: dict[tuple[str, ...], int] = {}
        self._lock = threading.Lock()

    def add(self, values: tuple[str, ...], amount: int = 1) -> None:
        if len(values) != len(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}")
        with self._lock:
            self._counts[values] = self._counts.get(values, 0) + amount

    def value(self, values: tuple[str, ...]) -> int:
        with self._lock:
            return self._counts.get(values, 0)

    def snapshot(self) -> dict[tuple[str, ...], int]:
        with self._lock:
            return dict(self._counts)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(counters: Iterable[Counter]) -> str:
    """The counters in the Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []
    for counter in counters:
        lines.append(f"# HELP {counter.name} {_escape(counter.help_text)}")
        lines.append(f"# TYPE {counter.name} counter")
        for values, count in sorted(counter.snapshot().items()):
            pairs = ",".join(f'{label}="{_escape(v)}"' for label, v in zip(counter.labels, values, strict=True))
            lines.append(f"{counter.name}{{{pairs}}} {count}" if pairs else f"{counter.name} {count}")
    return "\n".join(lines) + "\n"
