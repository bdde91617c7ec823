"""A gate in front of work any user can start many of at once: at most ``at_once`` run, at
most ``waiting`` more wait for their turn, and beyond that a request is refused at once (429).

A catalogue search is a scan (``LIKE '%…%'`` over every resource): 200 of them at once over
400,000 resources held every pooled database connection, and a "draft now" waited 20 s for
one (security re-check 4, F3). Waiting here holds no connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.domain.errors import UserError


class BusyError(UserError):
    """Too many requests of one kind at once; try again in a moment."""

    http_status = 429


class Gate:
    def __init__(self, what: str, *, at_once: int, waiting: int) -> None:
        self.what, self.at_once, self.max_waiting = what, at_once, waiting
        self.waiting = 0
        # One per event loop (the process serves one; tests run several in turn).
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    @contextlib.asynccontextmanager
    async def entered(self) -> AsyncIterator[None]:
        """Raises BusyError when the gate's queue is full."""
        slots = self._slots_here()
        if slots.locked() and self.waiting >= self.max_waiting:
            raise BusyError(f"too many {self.what} at once; try again in a moment")
        self.waiting += 1
        try:
            await slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            slots.release()

    def _slots_here(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            self._slots = {k: v for k, v in self._slots.items() if not k.is_closed()}
            slots = self._slots[loop] = asyncio.Semaphore(self.at_once)
        return slots
