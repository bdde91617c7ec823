"""Where CPU-heavy work runs: off the event loop, so one big report, import or render never
stalls the admin, the callback, the scheduler or the publisher.

``await offload.run(fn, *args)`` runs ``fn(*args)`` in a pool of worker processes (a thread
holding the GIL would still slow the loop), started lazily and shared by the whole process.
The workers run at a lower CPU priority than the service, so the loop is scheduled first when
both want the CPU. Work that cannot be pickled (a closure, a lambda, an open file) runs in a
thread instead, which keeps the loop answering but shares its CPU.

``await offload.run_limited(fn, *args)`` is for work a person's input sets the size of and
waits for (an edit's render, re-hosting and checks): it runs in a lane of its own, one worker
process apart from the pool, one job at a time (the others wait their turn), and a job that
runs past ``limited_seconds`` has its worker killed and replaced and raises TooSlowError. So
however slow an editor's text is to check, the publisher's checks, reports and scheduled
drafting, which use the pool, always find their workers; and the editor learns within the
limit that the text was refused.

``await offload.run_image(fn, *args)`` is for reading an image the service did not make (a
cover or a body image an editor named, a catalogue's cover): how long decoding takes is not
bounded by the file's size (reviews 13-16 found a new picture that costs minutes for a few KB
in each format's decoder in turn), so it is bounded by time instead. Image lanes are worker
processes apart from the pool, as many as it has workers, each job at most ``image_seconds``
of CPU time (then its worker is killed and replaced and ImageTooSlowError raised; a job held
longer on the clock by a busy machine is stopped as the machine's slowness) and within a
memory ceiling; each person has one image read at a time, so one person's pictures hold at
most one lane and never the pool; and the service's own work (schedules, the publisher, the
start-up, the CLI: owner "") has as many lanes again, which no person can take.

``fn`` must be a plain function: it gets copies of its arguments and returns a copy of its
result; it must not touch the database or the network (those are the loop's job).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, ParamSpec, TypeVar

from bot.domain.errors import ContentRejectedError, TransientError, UserError
from bot.engine.turns import BusyError, PersonsTurns, Turns, current_owner
from bot.engine.turns import owned_by as owned_by  # where callers find it
from bot.i18n import Text

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_WORKERS = 4
WORKER_NICENESS = 5  # below the service's own priority, so the loop is served first
MODES = ("process", "thread", "inline")
# An edit's slowest step on a real post (a long article with a dozen images) takes well under
# a second; text that needs twenty is built to be slow, and the editor learns it in time.
LIMITED_SECONDS = 20.0
# Jobs waiting for the lane beyond the one it runs: a few editors saving at once wait their
# turn; a flood of slow texts is refused at once instead of queueing for minutes.
LANE_WAITING = 4


class TooSlowError(UserError):
    """Work a person's text set the size of ran past its time limit and was stopped."""

    http_status = 422

    def __init__(self, seconds: float) -> None:
        super().__init__(
            Text(
                "checking this text took over {seconds} s and was stopped; split or simplify it",
                {"seconds": f"{seconds:g}"},
            ),
            seconds=seconds,
        )


class LaneBusyError(BusyError):
    """Too many texts are waiting to be checked, or this person's previous one still is."""

    sentence = "too many texts are waiting to be checked; try again in a moment"
    own_sentence = "your previous text is still being checked; try again when it is done"


# Reading one image: a 50 MP photo is kept as a cover in about 3 s and re-encoded for an
# article's body in about 5 s on a 2-CPU machine; twenty leaves room for a busy machine, and a
# picture built to decode slowly costs the lane no more than that.
IMAGE_SECONDS = 20.0
# The limit above is CPU time the image's reading used (read from /proc, where there is one):
# a legitimate picture slowed by everyone else's work on a busy machine is not refused for it
# (security re-check 19, L1). Its lane is held at most this many times the limit in time on
# the clock; past it the reading is stopped as the machine's slowness, no verdict on the image.
IMAGE_WALL_FACTOR = 3
# How often a reading's CPU time is looked at.
CPU_POLL_SECONDS = 0.1
# What an image lane's process may map: a 50 MP lossless WebP takes about 1.8 GB to keep as a
# cover; past this a decoder's allocation fails (the image is refused) instead of the machine
# swapping (security re-check 16, L1).
IMAGE_MEMORY_BYTES = 3 * 1024**3
# Images of a person's waiting for their one lane: two drafts choosing among eight candidates
# each, or a preview of eight articles.
IMAGES_WAITING_PER_PERSON = 16


class ImageTooSlowError(ContentRejectedError):
    """Reading an image ran past its time limit (IMAGE_SECONDS) and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"reading the image took over {seconds:g} s and was stopped: "
            "save it again as a JPEG or PNG of fewer pixels"
        )


class ImagesBusyError(UserError):
    """Too many of this person's images are waiting to be read."""

    http_status = 429

    def __init__(self) -> None:
        super().__init__(
            Text("too many of your images are waiting to be read; try again in a moment", {})
        )


BULK_WAITING = 4  # imports waiting for the bulk lane beyond those it runs


class BulkBusyError(BusyError):
    """Too many files are waiting to be imported, or this person's previous one still is."""

    sentence = "too many files are waiting to be imported; try again in a moment"
    own_sentence = "your previous file is still being imported; try again when it is done"


class Offload:
    """Runs functions off the event loop. ``mode`` is "process" (the default), "thread" or
    "inline" (runs on the caller's thread: for a CLI that has nothing else to serve)."""

    def __init__(
        self,
        *,
        mode: str = "process",
        workers: int | None = None,
        limited_seconds: float = LIMITED_SECONDS,
        image_seconds: float = IMAGE_SECONDS,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"offload mode {mode!r} is not one of {', '.join(MODES)}")
        self.mode = mode
        self.workers = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self.limited_seconds = limited_seconds
        self.image_seconds = image_seconds
        self._lane = _Lane()
        self._images = _ImageLanes(self.workers)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        # Bulk work's lane: all workers but one, so the publisher always finds one free.
        self._bulk = Turns(max(1, self.workers - 1), BULK_WAITING, BulkBusyError)

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
        # One file of a person's at a time, a few waiting, then 429 (six slow workbooks
        # from one editor held an admin's import 47 s; re-check 5, N3).
        async with self._bulk.taken():
            return await self.run(fn, *args, **kwargs)

    async def run_limited(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` in the interactive lane (see the module docstring), at most
        ``limited_seconds``, counted from when its turn comes. Raises TooSlowError (its worker
        is killed and replaced), TransientError when the worker died on its own, and what
        ``fn`` raises. Only the process mode can stop work: in the thread and inline modes
        (tests, the CLI) and for work that cannot be pickled this is ``run``, without a limit."""
        if self.mode != "process":
            return await self.run(fn, *args, **kwargs)
        try:
            payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return await asyncio.to_thread(fn, *args, **kwargs)
        status, value = await self._lane.run(payload, self.limited_seconds)
        if status == "ok":
            result: T = value
            return result
        if status == "raised":
            raise value
        name = getattr(fn, "__qualname__", repr(fn))
        raise TransientError(f"a worker process stopped while running {name}")

    async def run_image(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, which reads an image the service did not make, in an image
        lane (see the module docstring): at most ``image_seconds`` from when its turn comes.
        Raises ImageTooSlowError past it (a ContentRejectedError: the image is refused),
        ContentRejectedError when the worker ran out of its memory or died reading it,
        ImagesBusyError, TransientError when no worker could be started, and what ``fn``
        raises. In the thread and inline modes this is ``run``, without a limit."""
        return await self.run_image_within(self.image_seconds, fn, *args, **kwargs)

    async def run_image_within(
        self, seconds: float, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``run_image`` within ``seconds`` (or ``image_seconds``, if that is less) of CPU
        time, and IMAGE_WALL_FACTOR times that on the clock: past the second, TransientError
        (the machine is too busy; no verdict on the image)."""
        if self.mode != "process":
            return await self.run(fn, *args, **kwargs)
        limit = min(seconds, self.image_seconds)
        payload = pickle.dumps((fn, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            status, value = await self._images.run(payload, limit, limit * IMAGE_WALL_FACTOR)
        except TooSlowError:
            raise ImageTooSlowError(limit) from None
        except _OverdueError:
            raise TransientError(
                "the machine was too busy to read the image in time; try again in a moment",
                retry_after=limit,
            ) from None
        if status == "unstarted":
            # Not the image's doing: no verdict on it (re-check 17, I1).
            raise TransientError(f"no worker process could be started to read the image: {value}")
        if status == "ok":
            result: T = value
            return result
        if status == "raised" and isinstance(value, MemoryError):
            raise ContentRejectedError("reading the image needed more memory than is allowed")
        if status == "raised":
            raise value
        # The worker died reading it (a decoder's crash, the kernel's OOM killer): the image
        # is what did it, and the same image would do it again.
        raise ContentRejectedError("the image stopped the process reading it, so it is refused")

    async def warm(self) -> None:
        """Start the worker processes now (and let each import what work needs), so the
        first request that offloads does not pay for it."""
        if self.mode != "process":
            return
        loop = asyncio.get_running_loop()
        pool = self._executor()
        await asyncio.gather(
            *(loop.run_in_executor(pool, _warm_up) for _ in range(self.workers)),
            # The lane's worker too: its first edit's time limit would count the imports.
            self._lane.run(_WARM_UP, seconds=max(60.0, self.limited_seconds)),
            return_exceptions=True,
        )

    def close(self) -> None:
        """Stops the worker processes (work still queued is dropped). ``run`` starts new
        ones if it is called again."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self._lane.close()
        self._images.close()

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


class _OverdueError(Exception):
    """A job with a CPU-time limit ran past its time on the clock (the machine is busy)."""


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class _Lane:
    """The editors' lane: one killable worker (``_Worker``), one job at a time, a few waiting,
    one of a person's at a time (``Turns``)."""

    def __init__(self, max_waiting: int = LANE_WAITING) -> None:
        self.worker = _Worker()
        self.turns = Turns(1, max_waiting, LaneBusyError)  # one job at a time

    async def run(self, payload: bytes, seconds: float) -> tuple[str, Any]:
        """See ``_Worker.run``; raises LaneBusyError when ``max_waiting`` jobs already wait."""
        async with self.turns.taken():
            return await self.worker.run(payload, seconds)

    def close(self) -> None:
        self.worker.close()


# Told when an image's reading starts in a lane (see ``reading_starts``).
_reading_starts: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "reading_starts", default=None
)


@contextlib.contextmanager
def reading_starts(callback: Callable[[], None]) -> Iterator[None]:
    """Within this block, ``callback()`` is called when an image's reading (``run_image``)
    has a lane and starts, after any wait for the person's turn or a free lane: a caller with
    a budget can tell waiting from reading."""
    token = _reading_starts.set(callback)
    try:
        yield
    finally:
        _reading_starts.reset(token)


class _LanePool:
    """``count`` killable image workers, one job each at a time; a job waits for a free one."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._workers = [_Worker(setup=_image_worker_setup) for _ in range(count)]
        self._idle = list(self._workers)
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    async def run(self, payload: bytes, cpu_seconds: float, wall_seconds: float) -> tuple[str, Any]:
        async with self._here(asyncio.get_running_loop()):
            worker = self._idle.pop() if self._idle else self._spare()
            try:
                if started := _reading_starts.get():
                    started()
                return await worker.run(payload, wall_seconds, cpu_seconds=cpu_seconds)
            finally:
                self._idle.append(worker)

    def close(self) -> None:
        for worker in self._workers:
            worker.close()

    def _spare(self) -> _Worker:
        # Only when two event loops share this Offload at once (its slots are per loop).
        worker = _Worker(setup=_image_worker_setup)
        self._workers.append(worker)
        return worker

    def _here(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        slots = self._slots.get(loop)
        if slots is None:
            self._slots = {k: v for k, v in self._slots.items() if not k.is_closed()}
            slots = self._slots[loop] = asyncio.Semaphore(self.count)
        return slots


class _ImageLanes:
    """Lanes for reading images: ``count`` for people's, each person's one at a time, at most
    ``per_person_waiting`` more of a person's waiting; and ``count`` more for the service's
    own work (owner "": schedules, the publisher, the start-up, the CLI), which no person can
    hold and which is never refused (security re-check 19, M1: on a 1-CPU host one editor's
    slow pictures made a schedule's look at a good cover wait out its draft's budget; re-check
    20, M1: with one service lane, schedules firing together read their covers one at a time).
    Workers start when first needed: a service that reads no image pays nothing for them."""

    def __init__(self, count: int, per_person_waiting: int = IMAGES_WAITING_PER_PERSON) -> None:
        self.count = count
        self.turns = PersonsTurns(1, per_person_waiting, ImagesBusyError)
        self._people = _LanePool(count)
        self._service = _LanePool(count)

    async def run(self, payload: bytes, cpu_seconds: float, wall_seconds: float) -> tuple[str, Any]:
        """See ``_Worker.run``; raises ImagesBusyError when this person already has
        ``per_person_waiting`` images waiting (the service is never refused)."""
        who = current_owner()
        if not who:
            return await self._service.run(payload, cpu_seconds, wall_seconds)
        async with self.turns.taken(who):
            return await self._people.run(payload, cpu_seconds, wall_seconds)

    def close(self) -> None:
        """Stops every worker (a read still running is lost); the next read starts one."""
        self._people.close()
        self._service.close()


class _Worker:
    """One worker process that runs one job at a time and can be killed in the middle of one.

    Why not a one-worker ProcessPoolExecutor: Python 3.11 has no public way to stop a job a
    pool is running, and killing the pool's process (through its private ``_processes``)
    breaks the whole pool, whose recovery is shaped for failures, not for a routine limit.
    A Process and a Pipe of our own are a few lines, and killing is ``Process.kill``.

    Sending and receiving block, so each job's exchange runs on a thread of its own, never
    on the loop nor in the loop's default thread pool (logins hash passwords there). Each
    exchange keeps the process and pipe it started with: when a job is killed, the next job
    starts a fresh worker at once, while the old exchange sees the end of its pipe, closes it
    and reaps its process. A fresh worker imports what jobs need before its first job, so the
    job's time limit does not count the imports."""

    def __init__(self, setup: Callable[[], None] | None = None) -> None:
        self._setup = setup or _lower_priority
        self._guard = threading.Lock()
        self._process: tuple[BaseProcess, Connection] | None = None

    async def run(
        self, payload: bytes, seconds: float, *, cpu_seconds: float | None = None
    ) -> tuple[str, Any]:
        """("ok", result), ("raised", exception), ("died", None) or ("unstarted", exception)
        when no worker process could be started. Raises TooSlowError past ``seconds`` (its
        worker then killed); the caller turns it into its own error. With ``cpu_seconds``,
        TooSlowError is for the job's CPU time past it (where it can be read: on the clock
        otherwise), and ``seconds`` on the clock raises _OverdueError."""
        loop = asyncio.get_running_loop()
        if not self._ready():
            # A worker that does not start, starts too slowly or died while idle is no verdict
            # on the job sent next (re-check 18, I1).
            try:
                warmed = await self._exchange_within(loop, _WARM_UP, max(60.0, seconds))
            except TooSlowError:
                return ("unstarted", "the worker process took over a minute to start")
            if warmed[0] != "ok":
                return ("unstarted", warmed[1] or "the worker process stopped as it started")
        return await self._exchange_within(loop, payload, seconds, cpu_seconds=cpu_seconds)

    def _ready(self) -> bool:
        """Whether a started worker is alive; one that died while idle is forgotten."""
        with self._guard:
            if self._process is None:
                return False
            process, conn = self._process
            if process.is_alive():
                return True
            self._process = None
        conn.close()
        process.join(timeout=5)
        return False

    async def _exchange_within(
        self,
        loop: asyncio.AbstractEventLoop,
        payload: bytes,
        seconds: float,
        *,
        cpu_seconds: float | None = None,
    ) -> tuple[str, Any]:
        answer: asyncio.Future[tuple[str, Any]] = loop.create_future()
        threading.Thread(
            target=self._exchange,
            args=(payload, loop, answer),
            name="offload-lane",
            daemon=True,
        ).start()
        cpu_before = None if cpu_seconds is None else self._cpu_time()
        try:
            if cpu_seconds is not None and cpu_before is None:  # no CPU time to read here
                seconds = cpu_seconds
            async with asyncio.timeout(seconds):
                if cpu_seconds is None or cpu_before is None:
                    return await asyncio.shield(answer)
                return await self._within_cpu(answer, cpu_before, cpu_seconds)
        except TimeoutError:
            self._kill()
            if cpu_seconds is not None and cpu_before is not None:
                raise _OverdueError() from None
            raise TooSlowError(cpu_seconds or seconds) from None
        except TooSlowError:
            self._kill()
            raise
        except asyncio.CancelledError:
            self._kill()  # nobody waits for the result any more: free the lane now
            raise

    async def _within_cpu(
        self, answer: asyncio.Future[tuple[str, Any]], before: float, cpu_seconds: float
    ) -> tuple[str, Any]:
        """``answer`` once it comes; TooSlowError as soon as the worker has used more than
        ``cpu_seconds`` of CPU since ``before``."""
        while True:
            done, _ = await asyncio.wait({answer}, timeout=CPU_POLL_SECONDS)
            if done:
                return answer.result()
            now = self._cpu_time()
            if now is not None and now - before > cpu_seconds:
                raise TooSlowError(cpu_seconds)

    def _cpu_time(self) -> float | None:
        """The CPU time (user and system) the worker process has used, in seconds; None
        where it cannot be read (no /proc), or before the process is there."""
        with self._guard:
            worker = self._process
        if worker is None:
            return None
        try:
            with open(f"/proc/{worker[0].pid}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            return None
        # After the command's name: state, ppid, ... utime (14th of the line), stime (15th).
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def close(self) -> None:
        """Stops the worker (a job still running is lost); the next job starts a new one."""
        self._kill()

    def _exchange(
        self,
        payload: bytes,
        loop: asyncio.AbstractEventLoop,
        answer: asyncio.Future[tuple[str, Any]],
    ) -> None:
        outcome: tuple[str, Any]
        try:
            process, conn = self._current()
        except Exception as exc:  # no process (out of memory or processes): told at once
            outcome = ("unstarted", exc)
        else:
            outcome = self._sent(process, conn, payload)

        def deliver() -> None:
            if not answer.done():
                answer.set_result(outcome)

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(deliver)

    def _sent(self, process: BaseProcess, conn: Connection, payload: bytes) -> tuple[str, Any]:
        try:
            conn.send_bytes(payload)
            outcome: tuple[str, Any] = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):  # killed for its time, or died on its own
            self._forget(process)
            conn.close()
            process.join(timeout=5)
            return ("died", None)
        except Exception as exc:  # an answer that does not unpickle here
            return ("raised", exc)
        return outcome

    def _current(self) -> tuple[BaseProcess, Connection]:
        with self._guard:
            if self._process is None:
                context = multiprocessing.get_context("spawn")  # not fork: see _executor
                ours, theirs = context.Pipe()
                process = context.Process(
                    target=_serve_lane, args=(theirs, self._setup), name="offload-lane", daemon=True
                )
                process.start()
                theirs.close()
                self._process = (process, ours)
            return self._process

    def _forget(self, process: BaseProcess) -> None:
        with self._guard:
            if self._process is not None and self._process[0] is process:
                self._process = None

    def _kill(self) -> None:
        with self._guard:
            worker, self._process = self._process, None
        if worker is not None:
            with contextlib.suppress(OSError, ValueError):  # already gone
                worker[0].kill()


def _serve_lane(conn: Connection, setup: Callable[[], None]) -> None:
    """A lane worker's life: run each job sent and send back its outcome, until the pipe
    closes."""
    setup()
    while True:
        try:
            payload = conn.recv_bytes()
        except EOFError:
            return
        outcome: tuple[str, Any]
        try:
            fn, args, kwargs = pickle.loads(payload)
            outcome = ("ok", fn(*args, **kwargs))
        except Exception as exc:
            outcome = ("raised", exc)
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a result or an exception that cannot cross processes
            failure = TypeError(f"the outcome could not be sent back: {type(exc).__name__}: {exc}")
            data = pickle.dumps(("raised", failure), protocol=pickle.HIGHEST_PROTOCOL)
        conn.send_bytes(data)


def _image_worker_setup() -> None:
    """An image lane's process: below the service's priority, and within IMAGE_MEMORY_BYTES
    of address space, so a decoder that asks for more fails with MemoryError."""
    _lower_priority()
    with contextlib.suppress(OSError, ValueError):  # not permitted here: no ceiling
        resource.setrlimit(resource.RLIMIT_AS, (IMAGE_MEMORY_BYTES, IMAGE_MEMORY_BYTES))


def _call(payload: bytes) -> Any:
    fn, args, kwargs = pickle.loads(payload)
    return fn(*args, **kwargs)


def _warm_up() -> None:
    # The modules offloaded work lives in, imported once per worker ahead of the first job.
    import bot.content.checks
    import bot.content.covers
    import bot.content.images
    import bot.content.render
    import bot.engine.drafting
    import bot.engine.importing
    import bot.engine.reporting  # noqa: F401


_WARM_UP = pickle.dumps((_warm_up, (), {}), protocol=pickle.HIGHEST_PROTOCOL)


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


async def run_limited(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``Offload.run_limited`` on the process-wide Offload."""
    return await _default.run_limited(fn, *args, **kwargs)


async def run_image(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """``Offload.run_image`` on the process-wide Offload."""
    return await _default.run_image(fn, *args, **kwargs)


async def run_image_within(
    seconds: float, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``Offload.run_image_within`` on the process-wide Offload."""
    return await _default.run_image_within(seconds, fn, *args, **kwargs)


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
