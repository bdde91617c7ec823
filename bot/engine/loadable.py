"""Which catalogue resources an automatic draft can feature: those whose cover loads.

Automatic drafting takes the catalogue in a fixed order (never featured first, then by id).
A resource whose cover could not be loaded (a dead link, a page instead of an image, a host
the fetcher refuses, a server that never answers) was taken first at every draft and failed
it, and every slot of every column featuring its kind with it (security re-checks 6 and 7,
M1). Candidates' covers are now loaded before they are chosen, several at once and within one
time budget per draft; one that does not load is passed over, and the caller marks it so that
later drafts skip it for a while (an hour when it failed for the moment, a week when it was
refused) or until an import gives it another cover."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.errors import ContentRejectedError, TransientError, UserError
from bot.domain.models import Resource

Load = Callable[[str], Awaitable[bytes]]

# Candidates asked for beyond the ones a post needs, to stand in for covers that do not load.
SPARE_CANDIDATES = 8
# How long one draft may spend loading its candidates' covers, all rounds together: a cover
# not loaded by then counts as failing for the moment. Under the fetcher's own 20 s, so a
# server that never answers costs a draft (and a slot's pass of the scheduler) this at most.
BUDGET_SECONDS = 15.0
# How long a marked resource is passed over before drafting tries its cover again (an import
# with another cover clears the mark at once).
RETRY_AFTER = {True: timedelta(days=7), False: timedelta(hours=1)}  # keyed by ``lasting``
# What one draft keeps of the images it loaded, so that its re-hosting does not fetch a cover
# a second time; past this the rest are fetched again rather than held.
MEMORY_BYTES = 32 * 1024 * 1024
# How long an automatic draft's look at a candidate's cover may decode it: under the draft's
# budget, so a cover too slow to read is refused for it (a week) before the budget stops it.
# A 50 MP picture decodes in 0.4-2.4 s on a 2-CPU machine.
DECODE_SECONDS = 10.0
# A draft's candidates decoding (or waiting in the person's image lane) at once: a person's
# images are read one at a time anyway; more would fill their queue (IMAGES_WAITING_PER_PERSON)
# so that the draft's own looks were refused (re-check 17, L1), and when the budget ends a
# look in the lane is judged, one waiting for the draft's turn is not.
DECODES_PER_DRAFT = 2
# How long a draft goes on reading the covers it has loaded once BUDGET_SECONDS are spent:
# reading is bounded per picture (DECODE_SECONDS of CPU), and a draft whose covers are large
# pictures, or whose schedule fires beside others, needs more than the servers' budget
# (security re-check 20, M1: twelve 50 MP covers at 1.6 s each, read one at a time, made every
# slot's draft fail). A draft then takes 45 s at the most.
DECODE_ALLOWANCE_SECONDS = 30.0
# Images one person's drafts load at once (a scheduled slot counts as its schedule's): one
# editor's burst of drafts cannot take every connection of drafting's HTTP client.
LOADS_PER_PERSON = 4


@dataclass(frozen=True, slots=True)
class Passed:
    """A candidate passed over: why, and whether it was refused (``lasting``) or failed for
    the moment."""

    resource: Resource
    problem: str
    lasting: bool


_turns: weakref.WeakValueDictionary[tuple[str, asyncio.AbstractEventLoop], asyncio.Semaphore] = (
    weakref.WeakValueDictionary()
)


def _turns_of(owner: str) -> asyncio.Semaphore:
    """``owner``'s turns at loading on this loop (kept while a loader of theirs holds them)."""
    key = (owner, asyncio.get_running_loop())
    turns = _turns.get(key)
    if turns is None:
        turns = _turns[key] = asyncio.Semaphore(LOADS_PER_PERSON)
    return turns


class RememberingLoader:
    """``load`` for one draft of ``owner``'s: at most LOADS_PER_PERSON of that person's loads
    at once, and what it loaded remembered (up to MEMORY_BYTES)."""

    def __init__(self, load: Load, owner: str = "") -> None:
        self._load = load
        self._turns = _turns_of(owner)  # held for this loader's life
        self._loaded: dict[str, bytes] = {}
        self._held = 0

    async def __call__(self, ref: str) -> bytes:
        data = self._loaded.get(ref)
        if data is None:
            async with self._turns:
                data = await self._load(ref)
            if self._held + len(data) <= MEMORY_BYTES:
                self._loaded[ref] = data
                self._held += len(data)
        return data


async def cover_problem(
    resource: Resource,
    load: Load,
    decoding: asyncio.Semaphore | None = None,
    on_decoding: Callable[[], None] | None = None,
) -> tuple[str, bool]:
    """Why ``resource``'s cover cannot be used ("" when it can, or it has none) and whether
    that lasts: the drafting checks' verdict, then a load and a look at what came back
    (decoded in an image lane, within ``decoding``'s turns when given; ``on_decoding`` is told
    when a lane starts reading it). Raises what says nothing about the cover: ImagesBusyError,
    TransientError."""
    decoding = decoding or asyncio.Semaphore()
    if not resource.cover:
        return "", False
    from bot.content import checks
    from bot.content.images import decode_problem
    from bot.engine import offload

    refused = [f.message for f in checks.check_cover(resource.cover) if f.severity == "error"]
    if refused:
        return refused[0], True
    try:
        data = await load(resource.cover)
    except TransientError as exc:
        return str(exc), False
    except UserError as exc:  # ContentRejectedError too: refused, unreadable, not found
        return str(exc), True
    # Decoded whole, as keeping the copy and re-hosting will: a picture cut short passes a look
    # at its header, and was then chosen first by every draft and failed it (re-check 11, M2).
    # In an image lane, within DECODE_SECONDS: a picture built to decode slowly is refused.
    # ImagesBusyError and TransientError (a worker that did not start) go up: they say nothing
    # about the picture, and a verdict would mark a good cover (re-check 17, M1).
    try:
        async with decoding:
            with offload.reading_starts(on_decoding or _nothing):
                problem = await offload.run_image_within(DECODE_SECONDS, decode_problem, data)
    except ContentRejectedError as exc:  # too slow to read, or too much memory
        problem = exc.message
    return (f"image {resource.cover}: {problem}", True) if problem else ("", False)


def _nothing() -> None:
    return None


class _Looks:
    """Where each candidate's look at its cover is, for the verdict on those still running
    when a draft's budget ends: a look waits for one of the draft's turns to load, loads,
    waits for a turn to decode, decodes."""

    def __init__(self, load: Load, budget: float, reading_ends: float) -> None:
        self._load = load
        self._budget = budget
        self._reading_ends = reading_ends  # seconds after the start: the allowance's end
        self._loading = asyncio.Semaphore(LOADS_PER_PERSON)
        self.decoding = asyncio.Semaphore(DECODES_PER_DRAFT)
        self._phase: dict[int, str] = {}
        self._load_took: dict[int, float] = {}

    def loader(self, i: int) -> Load:
        async def load_one(ref: str) -> bytes:
            loop = asyncio.get_running_loop()
            async with self._loading:
                self._phase[i], began = "loading", loop.time()
                data = await self._load(ref)
            self._phase[i], self._load_took[i] = "loaded", loop.time() - began
            return data

        return load_one

    def loaded(self, i: int) -> bool:
        return self._phase.get(i) in ("loaded", "decoding")

    def decoding_begins(self, i: int) -> Callable[[], None]:
        return lambda: self._phase.__setitem__(i, "decoding")

    def unfinished(self, i: int, cover: str) -> tuple[str, bool] | None:
        """The verdict on look ``i`` stopped by the budget: failing for the moment when its
        server was slow (still loading, or loaded late: marked, it goes last, re-check 18, M1)
        or its picture was being decoded; none when the draft's own turns kept it waiting (to
        load; or, loaded at once, to be decoded, in the draft's turn or the image lanes':
        re-checks 17, L3, 18, L1 and 19, M1)."""
        phase = self._phase.get(i, "waiting")
        if phase == "loading" or (phase == "loaded" and self._load_took[i] > self._budget / 5):
            return f"image {cover}: not loaded within {self._budget:g} s", False
        if phase == "decoding":
            return f"image {cover}: not read within {self._reading_ends:g} s", False
        return None


async def with_loadable_covers(
    ordered: Sequence[Resource], count: int, load: Load, *, budget: float | None = None
) -> tuple[list[Resource], list[Passed]]:
    """The first ``count`` of ``ordered`` whose cover loads, in that order, and those passed
    over. Covers load in rounds: each round starts one look for every place not yet filled
    and waits a fifth of the budget for them; one still running then goes on, but a
    replacement starts beside it. When the places are filled the looks still running are
    stopped (no verdict). When ``budget`` seconds (BUDGET_SECONDS, for slow servers) are
    spent, the looks still loading are stopped, and those loaded go on being read for up to
    DECODE_ALLOWANCE_SECONDS more (each within its own limit, DECODE_SECONDS): a draft's
    reading is bounded per picture by the image lanes, not by the servers' budget (security
    re-check 20, M1). What is stopped is judged by what held it (``_Looks.unfinished``).
    Candidates never started are left for a later draft. Raises ImagesBusyError (the
    person's image queue is full), TransientError (no worker to decode) and
    CoversUnjudgedError (too few places filled for want of turns): none says anything about a
    cover."""
    budget = BUDGET_SECONDS if budget is None else budget
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    verdicts: dict[int, tuple[str, bool]] = {}
    running: dict[int, asyncio.Future[tuple[str, bool]]] = {}
    looks = _Looks(load, budget, budget + DECODE_ALLOWANCE_SECONDS)
    stopped: list[int] = []  # stopped by the budget or the allowance, to be judged
    started = 0

    def good() -> int:
        return sum(1 for problem, _ in verdicts.values() if not problem)

    async def collect(seconds: float) -> None:
        await asyncio.wait(running.values(), timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for i in [i for i, task in running.items() if task.done()]:
            verdicts[i] = running.pop(i).result()

    try:
        while good() < count and (left := deadline - loop.time()) > 0:
            for i in range(started, min(len(ordered), started + count - good())):
                look = cover_problem(
                    ordered[i], looks.loader(i), looks.decoding, looks.decoding_begins(i)
                )
                running[i] = asyncio.ensure_future(look)
                started = i + 1
            if not running:
                break
            round_ends = loop.time() + min(left, budget / 5)
            while running and (wait := round_ends - loop.time()) > 0 and good() < count:
                await collect(wait)
        if good() < count and running:
            # The servers' budget is spent: stop what is still loading; what has loaded is
            # read on, within the allowance.
            for i in [i for i in running if not looks.loaded(i)]:
                stopped.append(i)
                running.pop(i).cancel()
            allowance_ends = deadline + DECODE_ALLOWANCE_SECONDS
            while running and good() < count and (wait := allowance_ends - loop.time()) > 0:
                await collect(wait)
            stopped += running if good() < count else []
    finally:
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
    unjudged = 0
    for i in stopped:
        if verdict := looks.unfinished(i, ordered[i].cover):
            verdicts[i] = verdict
        else:
            unjudged += 1
    chosen = [ordered[i] for i in sorted(verdicts) if not verdicts[i][0]][:count]
    passed = [Passed(ordered[i], *verdicts[i]) for i in sorted(verdicts) if verdicts[i][0]]
    if unjudged and len(chosen) < count:
        # Not the covers' fault, and not a reason for a post short of resources: try again.
        spent = round(loop.time() - deadline + budget, 1)
        raise CoversUnjudgedError(unjudged, spent, passed)
    return chosen, passed


class CoversUnjudgedError(TransientError):
    """An automatic draft's budget ended before enough covers could be looked at, for want of
    a turn to load or decode them (other images were being read). ``passed``: the candidates
    judged meanwhile, to be marked all the same."""

    def __init__(self, count: int, budget: float, passed: Sequence[Passed] = ()) -> None:
        super().__init__(
            f"{count} candidate covers could not be looked at within {budget:g} s, "
            "waiting for a turn to load or read them; try again in a moment",
            retry_after=budget,
        )
        self.passed = list(passed)
