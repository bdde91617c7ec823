"""Where CPU-heavy work runs: off the event loop, so one big report, import or render never
stalls the admin, the callback, the scheduler or the publisher.

``await offload.run(fn, *args)`` runs ``fn(*args)`` in a pool of worker processes (a thread
holding the GIL would still slow the loop), started lazily and shared by the whole process.
The workers run at a lower CPU priority than the service, so the loop is scheduled first when
both want the CPU. Work that cannot be pickled (a closure, a lambda, an open file) runs in a
thread instead, which keeps the loop answering but shares its CPU.

``fn`` must be a plain function: it gets copies of its arguments and returns a copy of its
result; it must not touch the database or the network (those are the loop's job).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ParamSpec, TypeVar

from bot.domain.errors import TransientError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_WORKERS = 4
WORKER_NICENESS = 5  # below the service's own priority, so the loop is served first
MODES = ("process", "thread", "inline")


class Offload:
    """Runs functions off the event loop. ``mode`` is "process" (the default), "thread" or
    "inline" (runs on the caller's thread: for a CLI that has nothing else to serve)."""

    def __init__(self, *, mode: str = "process", workers: int | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"offload mode {mode!r} is not one of {', '.join(MODES)}")
        self.mode = mode
        self.workers = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        # One per event loop (an Offload outlives a loop in tests): bulk work's lane.
        self._bulk: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` off the loop; its exceptions are raised here unchanged.
        Raises TransientError when a worker process died while running it (killed, out of
        memory), without trying again: the same input would do the same."""
        if self.mode == "inline":
            return fn(*args, **kwargs)
        if self.mode == "thread":
            return await asyncio.to_thread(fn, *args, **kwargs)
        try:
            payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return await asyncio.to_thread(fn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        pool = self._executor()
        try:
            result: T = await loop.run_in_executor(pool, _call, payload)
        except BrokenProcessPool:
            self._discard(pool)
            name = getattr(fn, "__qualname__", repr(fn))
            raise TransientError(f"a worker process stopped while running {name}") from None
        return result

    async def run_bulk(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``run`` for work a user's upload sets the size of (imports): at most all workers
        but one run such work at once, so the publisher's checks, reports and drafts always
        find a worker free however many uploads arrive."""
        loop = asyncio.get_running_loop()
        lane = self._bulk.get(loop)
        if lane is None:
            self._bulk = {k: v for k, v in self._bulk.items() if not k.is_closed()}
            lane = self._bulk[loop] = asyncio.Semaphore(max(1, self.workers - 1))
        async with lane:
            return await self.run(fn, *args, **kwargs)

    async def warm(self) -> None:
        """Start the worker processes now (and let each import what work needs), so the
        first request that offloads does not pay for it."""
        if self.mode != "process":
            return
        loop = asyncio.get_running_loop()
        pool = self._executor()
        await asyncio.gather(
            *(loop.run_in_executor(pool, _warm_up) for _ in range(self.workers)),
            return_exceptions=True,
        )

    def close(self) -> None:
        """Stops the worker processes (work still queued is dropped). ``run`` starts new
        ones if it is called again."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: a forked child would inherit the loop's sockets, the
                # database pool and locks held by other threads at that instant.
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_lower_priority,
                )
            return self._pool

    def _discard(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


def _call(payload: bytes) -> Any:
    fn, args, kwargs = pickle.loads(payload)
    return fn(*args, **kwargs)


def _warm_up() -> None:
    # The modules offloaded work lives in, imported once per worker ahead of the first job.
    import bot.engine.importing
    import bot.engine.reporting  # noqa: F401


def _lower_priority() -> None:
    # Ctrl-C in a terminal reaches the whole process group; the service stops its workers
    # itself, so a worker ignores it instead of printing a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # not permitted here: run at the same priority
        os.nice(WORKER_NICENESS)


# --- the process-wide instance ----------------------------------------------------------------

_default = Offload()


async def run(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args, **kwargs)`` on the process-wide Offload (see the module docstring)."""
    return await _default.run(fn, *args, **kwargs)


async def run_bulk(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``Offload.run_bulk`` on the process-wide Offload."""
    return await _default.run_bulk(fn, *args, **kwargs)


def use(offload: Offload) -> Offload:
    """Makes ``offload`` the process-wide one (``bot serve`` and tests); returns the old one,
    which the caller closes if it is done with it."""
    global _default
    previous, _default = _default, offload
    return previous


def current() -> Offload:
    return _default


def close() -> None:
    """Stops the process-wide workers (at shutdown)."""
    _default.close()
