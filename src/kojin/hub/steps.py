"""The points where an exchange waits, and the two ways of running an exchange through them.

An exchange is written once, as a generator that yields an :class:`Op` each
time it must wait (the provider's answer, the leaf, the provider's record).
:func:`drive` blocks a thread on each; :func:`drive_async` awaits them on an
event loop. Kept apart from the checks and records so both callers share one
code path and neither knows which one runs it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

from kojin.core.aio import Resolver, resolver, until_done
from kojin.hub.transport import IntermediateTransport, Settlement


class Receipt(Protocol):
    @property
    def index(self) -> int: ...


IndexRow = tuple[bytes, str, str]
"""A leaf's row in the log's person index: the person's tag, the requester, the provider."""


class ExchangeLogPort(Protocol):
    """What the hub needs of the audit party's exchange log."""

    def append(self, leaf_data: bytes, tag: IndexRow | None = None) -> Receipt: ...

    def append_then(
        self, leaf_data: bytes, done: Callable[[Any, BaseException | None], None], tag: IndexRow | None = None
    ) -> None: ...

    def append_many(
        self, leaf_data: Sequence[bytes], tags: Sequence[IndexRow | None] | None = None
    ) -> Sequence[Receipt]: ...

    def append_many_then(
        self,
        leaf_data: Sequence[bytes],
        done: Callable[[Any, BaseException | None], None],
        tags: Sequence[IndexRow | None] | None = None,
    ) -> None: ...

    def size(self) -> int: ...

    def leaf_data(self, index: int) -> bytes: ...

    def sign_tree_head(self) -> object: ...


class Links:
    """What the waits reach: the providers' intermediate servers and the exchange log (made once per hub)."""

    __slots__ = ("log", "transport")

    def __init__(self, transport: IntermediateTransport, log: Callable[[], ExchangeLogPort]) -> None:
        self.transport = transport
        self.log = log


class Op:
    """A point where an exchange waits: what to do, blocking (:meth:`run`) or on a loop (:meth:`run_async`)."""

    __slots__ = ()

    def run(self, links: Links) -> Any:
        raise NotImplementedError

    async def run_async(self, links: Links, wake: Resolver) -> Any:
        raise NotImplementedError


class Append(Op):
    """Append a leaf (and its row in the person index, if it is about one) to the exchange log; the receipt once
    it is durable."""

    __slots__ = ("leaf", "tag")

    def __init__(self, leaf: bytes, tag: IndexRow | None = None) -> None:
        self.leaf = leaf
        self.tag = tag

    def run(self, links: Links) -> Receipt:
        return links.log().append(self.leaf, self.tag)

    async def run_async(self, links: Links, wake: Resolver) -> Receipt:
        future: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        links.log().append_then(self.leaf, lambda receipt, error: wake.settle(future, receipt, error), self.tag)
        return await future


class AppendMany(Op):
    """Append leaves to the exchange log in one commit (``tags`` one per leaf); their receipts once durable."""

    __slots__ = ("leaves", "tags")

    def __init__(self, leaves: list[bytes], tags: list[IndexRow | None] | None = None) -> None:
        self.leaves = leaves
        self.tags = tags

    def run(self, links: Links) -> list[Receipt]:
        return list(links.log().append_many(self.leaves, self.tags))

    async def run_async(self, links: Links, wake: Resolver) -> list[Receipt]:
        future: asyncio.Future[list[Receipt]] = asyncio.get_running_loop().create_future()
        links.log().append_many_then(
            self.leaves, lambda receipts, error: wake.settle(future, receipts, error), self.tags
        )
        return await future


class Settle(Op):
    """Wait until the provider's §23 record is durable."""

    __slots__ = ("settlement",)

    def __init__(self, settlement: Settlement) -> None:
        self.settlement = settlement

    def run(self, links: Links) -> None:
        self.settlement.wait()

    async def run_async(self, links: Links, wake: Resolver) -> None:
        await until_done(self.settlement.then)


def drive(links: Links, steps: Generator[Op, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run an exchange's steps on this thread, blocking at each wait."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            op = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result
        try:
            value, error = op.run(links), None
        except Exception as exc:
            value, error = None, exc


async def drive_async(links: Links, steps: Generator[Op, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run an exchange's steps on the event loop, awaiting each wait."""
    wake = resolver()
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            op = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as done:
            result: dict[str, Any] = done.value
            return result
        try:
            value, error = await op.run_async(links, wake), None
        except Exception as exc:
            value, error = None, exc
