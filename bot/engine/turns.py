"""Turns at work anyone can start many of at once: the editors' lane, the import lane,
catalogue searches, reports and previews (``Turns``: a few run, a few more wait, one job of
a person's at a time), and a person's own drafts and image reads (``PersonsTurns``: a few of
theirs run, more of theirs wait). Beyond that a request is refused at once (429) with a
sentence saying why, instead of queueing for minutes behind a flood."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import weakref
from collections.abc import AsyncIterator, Callable, Iterator

from bot.domain.errors import UserError
from bot.i18n import Text

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


class BusyError(UserError):
    """Refused at once for want of a turn: too many jobs of this kind wait (``sentence``), or
    this person's previous one still runs (``own_sentence``). A kind of work subclasses it
    with its two sentences."""

    http_status = 429
    sentence = ""
    own_sentence = ""

    def __init__(self, *, own: bool = False) -> None:
        super().__init__(Text(self.own_sentence if own else self.sentence, {}))


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


class _Persons:
    """One person's turns on one event loop."""

    def __init__(self, at_once: int) -> None:
        self.running = asyncio.Semaphore(at_once)
        self.waiting = 0


class PersonsTurns:
    """Each person's own turns at one kind of work: ``at_once`` of theirs run, ``max_waiting``
    more of theirs wait, beyond that ``busy()`` is raised at once; other people's never wait
    for them, and "" (nobody's: schedules, the CLI) has no turns to wait for.
    ``async with turns.taken(person): ...``."""

    def __init__(self, at_once: int, max_waiting: int, busy: Callable[[], UserError]) -> None:
        self.at_once, self.max_waiting, self.busy = at_once, max_waiting, busy
        # Kept while someone holds or waits for them; one per event loop (tests run several).
        self._persons: weakref.WeakValueDictionary[
            tuple[str, asyncio.AbstractEventLoop], _Persons
        ] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def taken(self, person: str) -> AsyncIterator[None]:
        if not person:
            yield
            return
        key = (person, asyncio.get_running_loop())
        turns = self._persons.get(key)
        if turns is None:
            turns = self._persons[key] = _Persons(self.at_once)
        if turns.running.locked() and turns.waiting >= self.max_waiting:
            raise self.busy()
        turns.waiting += 1
        try:
            await turns.running.acquire()
        finally:
            turns.waiting -= 1
        try:
            yield
        finally:
            turns.running.release()
