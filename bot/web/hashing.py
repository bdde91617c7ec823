"""Password hashing: off the loop, one hash at a time, at a lower CPU priority.

Argon2 is made to be expensive: the library's defaults take 64 MiB and four threads per hash.
Run on the loop's shared thread pool, 400 anonymous login attempts (one per address, inside
every per-address limit) kept both CPUs busy for two minutes: ``/healthz`` waited 2.2 s, a real
login 112 s, and a post went out 75 s late (security review 3, S2). Here hashes run one at a
time on a thread of their own whose CPU priority is lowered (Argon2's threads inherit it), and
when ``MAX_WAITING`` logins already wait for it, the next one is refused at once (429),
before it costs the database or the CPU anything. A flood then delays logins, not the
publisher, the callback or the people already logged in; and people logging in from where they
did before have a queue and a thread of their own, which a flood from elsewhere cannot fill.
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


class HashQueue:
    """One thread that hashes, and how many logins may wait for it."""

    def __init__(self, name: str, max_waiting: int) -> None:
        self.name, self.max_waiting = name, max_waiting
        self.waiting = 0  # only touched on the event loop
        self.names: set[str] = set()  # whose logins wait (the known queue: one each)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), lambda: fn(*args, **kwargs))

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    1, thread_name_prefix=self.name, initializer=_lower_priority
                )
            return self._executor


class PasswordLane:
    """``with lane.admitted(known=...) as queue: ... await queue.run(fn, *args)``.

    Logins from a place the person logged in from before (``known``) have a queue of their
    own: a flood from other addresses, however many, fills only the other one, so people
    keep logging in from where they usually do (security re-check 4, F1). A login from a new
    place may be refused while a flood lasts."""

    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self.anyone = HashQueue("password", max_waiting)
        self.known = HashQueue("password-known", max_waiting)

    @property
    def waiting(self) -> int:
        return self.anyone.waiting + self.known.waiting

    @contextlib.contextmanager
    def admitted(self, *, known: bool = False, name: str = "") -> Iterator[HashQueue]:
        """A place in a queue for one login, or LoginsBusyError when it is full. In the
        known queue a name holds one place at a time: one account logging in again and again
        with its own password cannot fill it for everyone (security re-check 5, N1)."""
        queue = self.known if known else self.anyone
        if queue.waiting >= queue.max_waiting or (known and name in queue.names):
            raise LoginsBusyError("too many logins at once; try again in a few seconds")
        queue.waiting += 1
        if known:
            queue.names.add(name)
        try:
            yield queue
        finally:
            queue.waiting -= 1
            if known:
                queue.names.discard(name)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Hash outside a login (creating a user, changing a password): the common queue's
        thread, without a place in its queue."""
        return await self.anyone.run(fn, *args, **kwargs)


def _lower_priority() -> None:
    # On Linux a thread has its own nice value, and the threads it starts inherit it.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


lane = PasswordLane()
