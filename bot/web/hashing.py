"""Password hashing: off the loop, one hash at a time, at a lower CPU priority.

Argon2 is made to be expensive: the library's defaults take 64 MiB and four threads per hash.
Run on the loop's shared thread pool, 400 anonymous login attempts (one per address, inside
every per-address limit) kept both CPUs busy for two minutes: ``/healthz`` waited 2.2 s, a real
login 112 s, and a post went out 75 s late (security review 3, S2). Here hashes run one at a
time on a thread of their own whose CPU priority is lowered (Argon2's threads inherit it), and
when ``MAX_WAITING`` logins already wait for it, the next one is refused at once (429),
before it costs the database or the CPU anything. A flood then delays logins, not the
publisher, the callback or the people already logged in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

from bot.domain.errors import UserError

P = ParamSpec("P")
T = TypeVar("T")

MAX_WAITING = 8  # logins waiting for (or in) a hash; a real person's login needs one
NICENESS = 10  # the hashing thread's CPU priority below the service's


class LoginsBusyError(UserError):
    """Too many logins are being checked at once; try again in a few seconds."""

    http_status = 429


class PasswordLane:
    """``with lane.admitted(): ... await lane.run(fn, *args)``."""

    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self.max_waiting = max_waiting
        self.waiting = 0  # only touched on the event loop
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """A place in the queue for one login, or LoginsBusyError when it is full."""
        if self.waiting >= self.max_waiting:
            raise LoginsBusyError("too many logins at once; try again in a few seconds")
        self.waiting += 1
        try:
            yield
        finally:
            self.waiting -= 1

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), lambda: fn(*args, **kwargs))

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    1, thread_name_prefix="password", initializer=_lower_priority
                )
            return self._executor


def _lower_priority() -> None:
    # On Linux a thread has its own nice value, and the threads it starts inherit it.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


lane = PasswordLane()
