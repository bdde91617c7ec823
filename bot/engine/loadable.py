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
# A draft's candidates decoding or waiting for the person's image lane at once: a person's
# images are read one at a time anyway, and more would fill their queue (IMAGES_WAITING_
# PER_PERSON) so that the draft's own looks were refused (re-check 17, L1).
DECODES_PER_DRAFT = 2
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
    resource: Resource, load: Load, decoding: asyncio.Semaphore | None = None
) -> tuple[str, bool]:
    """Why ``resource``'s cover cannot be used ("" when it can, or it has none) and whether
    that lasts: the drafting checks' verdict, then a load and a look at what came back
    (decoded in an image lane, within ``decoding``'s turns when given). Raises what says
    nothing about the cover: ImagesBusyError, TransientError."""
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
            problem = await offload.run_image_within(DECODE_SECONDS, decode_problem, data)
    except ContentRejectedError as exc:  # too slow to read, or too much memory
        problem = exc.message
    return (f"image {resource.cover}: {problem}", True) if problem else ("", False)


async def with_loadable_covers(
    ordered: Sequence[Resource], count: int, load: Load, *, budget: float | None = None
) -> tuple[list[Resource], list[Passed]]:
    """The first ``count`` of ``ordered`` whose cover loads, in that order, and those passed
    over. Covers load in rounds: each round starts one load for every place not yet filled
    and waits a fifth of the budget for them; one still loading then goes on, but a
    replacement starts beside it. When the places are filled the loads still running are
    stopped (no verdict); when ``budget`` seconds (BUDGET_SECONDS) are spent those still
    loading are stopped and passed over as failing for the moment, those loaded and waiting
    to be decoded stopped without a verdict. Candidates never started are left for a later
    draft. Raises ImagesBusyError (the person's image queue is full) and TransientError (no
    worker to decode): neither says anything about a cover."""
    budget = BUDGET_SECONDS if budget is None else budget
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    verdicts: dict[int, tuple[str, bool]] = {}
    running: dict[int, asyncio.Future[tuple[str, bool]]] = {}
    decoding = asyncio.Semaphore(DECODES_PER_DRAFT)
    loaded: set[int] = set()  # loaded: any verdict past here is about the picture's decoding
    started = 0

    def loader_noting(i: int) -> Load:
        async def load_noting(ref: str) -> bytes:
            data = await load(ref)
            loaded.add(i)
            return data

        return load_noting

    try:
        while (good := sum(1 for problem, _ in verdicts.values() if not problem)) < count:
            for i in range(started, min(len(ordered), started + count - good)):
                running[i] = asyncio.ensure_future(
                    cover_problem(ordered[i], loader_noting(i), decoding)
                )
                started = i + 1
            left = deadline - loop.time()
            if not running or left <= 0:
                break
            await asyncio.wait(running.values(), timeout=min(left, budget / 5))
            for i in [i for i, task in running.items() if task.done()]:
                verdicts[i] = running.pop(i).result()
    finally:
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)
    if loop.time() >= deadline:
        # Still loading when the budget ran out: failing for the moment. (Loads stopped because
        # the places filled first say nothing about their covers: no verdict; nor does a cover
        # loaded and waiting for its turn at decoding, re-check 17, L3.)
        for i in running:
            if i not in loaded:
                verdicts[i] = (f"image {ordered[i].cover}: not loaded within {budget:g} s", False)
    chosen = [ordered[i] for i in sorted(verdicts) if not verdicts[i][0]][:count]
    passed = [Passed(ordered[i], *verdicts[i]) for i in sorted(verdicts) if verdicts[i][0]]
    return chosen, passed
