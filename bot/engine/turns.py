"""Turns at work anyone can start many of at once: the editors' lane, the import lane and
catalogue searches. A few run, a few more wait, one job of a person's at a time, and beyond
that a request is refused at once (429) with a sentence saying why, instead of queueing for
minutes behind a flood."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Callable, Iterator

from bot.domain.errors import UserError

# Whose work is being done (a user name; "" for nobody in particular).
_lane_owner: contextvars.ContextVar[str] = contextvars.ContextVar("lane_owner", default="")


@contextlib.contextmanager
def owned_by(owner: str) -> Iterator[None]:
    """Within this block, work taken through ``Turns`` is ``owner``'s: one job of theirs at a
    time (a second, meanwhile, is refused), so one person cannot fill a queue for everyone."""
    token = _lane_owner.set(owner)
    try:
        yield
    finally:
        _lane_owner.reset(token)


def current_owner() -> str:
    """Whose work is being done here (see ``owned_by``); "" for nobody in particular."""
    return _lane_owner.get()


class Turns:
    """Turns at one kind of work: ``at_once`` run, ``max_waiting`` more wait, one job of a
    person's at a time (see ``owned_by``); beyond that ``busy`` is raised at once, so a flood
    is refused instead of queueing for minutes (security re-checks 4 and 5, F2, F3 and N3).
    ``async with turns.taken(): ...``; waiting holds nothing but its place."""

    def __init__(self, at_once: int, max_waiting: int, busy: Callable[..., UserError]) -> None:
        self.at_once, self.max_waiting, self.busy = at_once, max_waiting, busy
        self.waiting = 0  # jobs waiting for their turn (touched on the loop only)
        self._owners: set[str] = set()  # whose jobs wait or run
        # One per event loop (an Offload outlives a loop in tests).
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def taken(self) -> AsyncIterator[None]:
        slots = self._here()
        owner = _lane_owner.get()
        if owner and owner in self._owners:
            raise self.busy(own=True)
        if slots.locked() and self.waiting >= self.max_waiting:
            raise self.busy()
        if owner:
            self._owners.add(owner)
        try:
            self.waiting += 1
            try:
                await slots.acquire()
            finally:
                self.waiting -= 1
            try:
                yield
            finally:
                slots.release()
        finally:
            self._owners.discard(owner)

    def _here(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            self._slots = {k: v for k, v in self._slots.items() if not k.is_closed()}
            slots = self._slots[loop] = asyncio.Semaphore(self.at_once)
        return slots
