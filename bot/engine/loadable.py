"""Which catalogue resources an automatic draft can feature: those whose cover loads.

Automatic drafting takes the catalogue in a fixed order (never featured first, then by id).
A resource whose cover could not be loaded (a dead link, a page instead of an image, a host
the fetcher refuses) was taken first at every draft and failed it, and every slot of every
column featuring its kind with it (security re-check 6, M1). Each candidate's cover is now
loaded before it is chosen; one that fails for good is passed over (the caller records why,
so later drafts skip it until its cover changes), one that fails for the moment (a timeout) is
passed over this time only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.domain.errors import TransientError, UserError
from bot.domain.models import Resource

Load = Callable[[str], Awaitable[bytes]]

# Candidates asked for beyond the ones a post needs, to stand in for covers that do not load.
SPARE_CANDIDATES = 8
# What one draft keeps of the images it loaded, so that its re-hosting does not fetch a cover
# a second time; past this the rest are fetched again rather than held.
MEMORY_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Passed:
    """A candidate passed over: why, and whether for good (until its cover changes)."""

    resource: Resource
    problem: str
    lasting: bool


class RememberingLoader:
    """``load`` for one draft, remembering what it loaded (up to MEMORY_BYTES)."""

    def __init__(self, load: Load) -> None:
        self._load = load
        self._loaded: dict[str, bytes] = {}
        self._held = 0

    async def __call__(self, ref: str) -> bytes:
        data = self._loaded.get(ref)
        if data is None:
            data = await self._load(ref)
            if self._held + len(data) <= MEMORY_BYTES:
                self._loaded[ref] = data
                self._held += len(data)
        return data


async def cover_problem(resource: Resource, load: Load) -> tuple[str, bool]:
    """Why ``resource``'s cover cannot be used ("" when it can, or it has none) and whether
    that lasts: the drafting checks' verdict, then a load and a look at what came back."""
    if not resource.cover:
        return "", False
    from bot.content import checks
    from bot.content.images import image_problem

    refused = [f.message for f in checks.check_cover(resource.cover) if f.severity == "error"]
    if refused:
        return refused[0], True
    try:
        data = await load(resource.cover)
    except TransientError as exc:
        return str(exc), False
    except UserError as exc:  # ContentRejectedError too: refused, unreadable, not found
        return str(exc), True
    problem = await asyncio.to_thread(image_problem, data)  # reads the header only
    return (f"image {resource.cover}: {problem}", True) if problem else ("", False)


async def with_loadable_covers(
    ordered: Sequence[Resource], count: int, load: Load
) -> tuple[list[Resource], list[Passed]]:
    """The first ``count`` of ``ordered`` whose cover loads, and those passed over."""
    chosen: list[Resource] = []
    passed: list[Passed] = []
    for resource in ordered:
        if len(chosen) == count:
            break
        problem, lasting = await cover_problem(resource, load)
        if problem:
            passed.append(Passed(resource, problem, lasting))
        else:
            chosen.append(resource)
    return chosen, passed
