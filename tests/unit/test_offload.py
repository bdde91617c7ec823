"""The offload interface: work runs in another process (or a thread where it cannot be
pickled), errors come back whole, and a worker's death is reported, not hidden."""

from __future__ import annotations

import asyncio
import os
import pickle
import threading
import time
from collections.abc import Iterator

import pytest

from bot.domain.errors import ContentRejectedError, TransientError, UserError
from bot.engine import offload
from bot.engine.offload import Offload


def whose_pid(extra: int = 0) -> tuple[int, int]:
    return os.getpid(), extra


def refuse(message: str) -> None:
    raise ContentRejectedError(message, findings=["one", "two"])


def die() -> None:
    os._exit(3)


def busy(seconds: float) -> int:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


@pytest.fixture(scope="module")
def pool() -> Iterator[Offload]:
    value = Offload(workers=1)
    yield value
    value.close()


async def test_work_runs_in_another_process(pool: Offload) -> None:
    pid, extra = await pool.run(whose_pid, extra=7)
    assert pid != os.getpid()
    assert extra == 7


async def test_errors_come_back_with_their_fields(pool: Offload) -> None:
    with pytest.raises(ContentRejectedError) as caught:
        await pool.run(refuse, "too long")
    assert caught.value.message == "too long"
    assert caught.value.findings == ["one", "two"]
    assert caught.value.http_status == 422


def test_errors_pickle_with_every_field() -> None:
    error = TransientError("busy", retry_after=3.0, errcode=-1)
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.message, again.retry_after, again.fields) == (
        TransientError,
        "busy",
        3.0,
        {"errcode": -1},
    )


async def test_what_cannot_be_pickled_runs_in_a_thread(pool: Offload) -> None:
    lock = threading.Lock()  # cannot be pickled
    main_thread = threading.get_ident()

    def inner(held: threading.Lock) -> tuple[int, int]:
        with held:
            return os.getpid(), threading.get_ident()

    pid, thread = await pool.run(inner, lock)
    assert pid == os.getpid()
    assert thread != main_thread


async def test_a_dead_worker_is_reported_and_the_next_call_gets_a_new_one() -> None:
    pool = Offload(workers=1)
    try:
        with pytest.raises(TransientError, match="worker process stopped"):
            await pool.run(die)
        pid, _ = await pool.run(whose_pid)
        assert pid != os.getpid()
    finally:
        pool.close()


async def test_the_loop_keeps_turning_while_work_runs(pool: Offload) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await pool.run(busy, 0.5)
    finally:
        ticker.cancel()
    assert ticks >= 5  # on the loop, the busy loop would have allowed none


async def test_thread_and_inline_modes_and_the_process_wide_instance() -> None:
    assert await Offload(mode="thread").run(whose_pid) == (os.getpid(), 0)
    assert await Offload(mode="inline").run(whose_pid, 1) == (os.getpid(), 1)
    with pytest.raises(ValueError):
        Offload(mode="fork")
    previous = offload.use(Offload(mode="inline"))
    try:
        assert await offload.run(whose_pid) == (os.getpid(), 0)
        with pytest.raises(UserError):
            await offload.run(refuse, "x")
    finally:
        offload.use(previous)


async def test_bulk_work_leaves_a_worker_free() -> None:
    pool = Offload(mode="thread", workers=2)
    started, release = threading.Event(), threading.Event()
    running = 0
    most = 0
    lock = threading.Lock()

    def bulk() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        started.set()
        release.wait(5)
        with lock:
            running -= 1

    jobs = [asyncio.create_task(pool.run_bulk(bulk)) for _ in range(3)]
    assert await asyncio.to_thread(started.wait, 5)
    assert await pool.run(whose_pid) == (os.getpid(), 0)  # not queued behind the uploads
    release.set()
    await asyncio.gather(*jobs)
    assert most == 1  # two workers: bulk work takes at most one
