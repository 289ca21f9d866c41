"""A tiny in-process event bus (イベント通知).

Parties tell one another what happened (a resident moved, a card was lost)
through events rather than calls into each other's stores. Handlers run after
the publisher's transaction has committed; the publisher keeps an outbox so an
event whose handler failed is delivered again later, never lost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["Event"], None]


@dataclass(frozen=True)
class Event:
    """Something that happened in one party that another may act on."""

    name: str
    payload: dict[str, Any] = field(default_factory=dict)


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> None:
        self._handlers[name].append(handler)

    def publish(self, event: Event) -> None:
        for handler in list(self._handlers.get(event.name, ())):
            handler(event)

    def has_subscribers(self, name: str) -> bool:
        return bool(self._handlers.get(name))
