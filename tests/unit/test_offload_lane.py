"""The interactive lane (``Offload.run_limited``): results and errors come back whole, a job
past its time limit has its worker process killed and replaced, a worker that dies is
replaced, and the refusal reads in both languages."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest

from bot.domain.errors import ContentRejectedError, TransientError, UserError
from bot.engine.offload import Offload, TooSlowError


def refuse(message: str) -> None:
    raise ContentRejectedError(message, findings=["one", "two"])


def die() -> None:
    os._exit(3)


def sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@pytest.fixture(scope="module")
def lane() -> Iterator[Offload]:
    value = Offload(workers=1, limited_seconds=2.0)
    yield value
    value.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _gone(pid: int) -> bool:
    for _ in range(50):
        if not _alive(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def test_results_and_errors_come_back_from_another_process(lane: Offload) -> None:
    # A fresh worker imports its modules within the limit only when warmed first.
    await lane.warm()
    assert await lane.run_limited(sleep_then_pid, 0) != os.getpid()
    assert await lane.run_limited(sorted, [3, 1, 2]) == [1, 2, 3]
    with pytest.raises(ContentRejectedError) as caught:
        await lane.run_limited(refuse, "too long")
    assert caught.value.findings == ["one", "two"]


async def test_a_job_past_its_limit_is_stopped_and_its_worker_replaced(lane: Offload) -> None:
    await lane.warm()
    before = await lane.run_limited(sleep_then_pid, 0)
    started = time.monotonic()
    with pytest.raises(TooSlowError) as caught:
        await lane.run_limited(sleep_then_pid, 30)
    assert time.monotonic() - started < 3.5
    assert isinstance(caught.value, UserError) and caught.value.http_status == 422
    assert await _gone(before), "the slow job's worker process was killed"
    await lane.warm()  # a new worker imports its modules first
    after = await lane.run_limited(sleep_then_pid, 0)
    assert after != before


async def test_jobs_wait_their_turn_and_each_gets_the_whole_limit(lane: Offload) -> None:
    await lane.warm()
    started = time.monotonic()
    pids = await asyncio.gather(*(lane.run_limited(sleep_then_pid, 0.8) for _ in range(3)))
    assert time.monotonic() - started >= 2.4  # one at a time, none stopped though 3 x 0.8 > 2
    assert len(set(pids)) == 1


async def test_a_worker_that_dies_is_reported_and_replaced(lane: Offload) -> None:
    await lane.warm()
    before = await lane.run_limited(sleep_then_pid, 0)
    with pytest.raises(TransientError, match="die"):
        await lane.run_limited(die)
    await lane.warm()
    assert await lane.run_limited(sleep_then_pid, 0) not in (before, os.getpid())


async def test_without_processes_there_is_no_limit_to_enforce() -> None:
    inline = Offload(mode="inline", limited_seconds=0.1)
    assert await inline.run_limited(sleep_then_pid, 0.3) == os.getpid()


def test_the_refusal_names_the_limit_in_both_languages() -> None:
    error = TooSlowError(20.0)
    assert error.message == (
        "checking this text took over 20 s and was stopped; split or simplify it"
    )
    assert error.in_language("zh") == "检查这段正文超过 20 秒，已停止；请拆分或简化正文"


async def test_beyond_a_few_waiting_jobs_the_lane_refuses_at_once() -> None:
    from bot.engine.offload import LaneBusyError

    lane = Offload(workers=1, limited_seconds=5.0)
    lane._lane.turns.max_waiting = 2
    try:
        running = asyncio.create_task(lane.run_limited(sleep_then_pid, 1.0))
        await asyncio.sleep(0.2)  # the first has the lane
        queued = [asyncio.create_task(lane.run_limited(sleep_then_pid, 0.0)) for _ in range(2)]
        await asyncio.sleep(0)
        started = time.perf_counter()
        with pytest.raises(LaneBusyError) as refused:
            await lane.run_limited(sleep_then_pid, 0.0)
        assert time.perf_counter() - started < 0.5  # at once, not after the queue
        assert refused.value.http_status == 429
        assert refused.value.in_language("zh") == "等待检查的正文太多，请稍后再试"
        pids = await asyncio.gather(running, *queued)  # the waiting ones still run in turn
        assert len(set(pids)) == 1
        assert await lane.run_limited(sleep_then_pid, 0.0) == pids[0]  # the queue drained
    finally:
        lane.close()


async def test_one_job_of_a_persons_at_a_time() -> None:
    from bot.engine.offload import LaneBusyError, owned_by

    lane = Offload(workers=1, limited_seconds=5.0)

    async def as_(owner: str, seconds: float) -> int:
        with owned_by(owner):
            return await lane.run_limited(sleep_then_pid, seconds)

    try:
        first = asyncio.create_task(as_("api:mallory", 1.0))
        await asyncio.sleep(0.2)
        with pytest.raises(LaneBusyError) as refused:  # the same person again, meanwhile
            await as_("api:mallory", 0.0)
        assert refused.value.in_language("zh") == "你上一段正文还在检查中，请等它完成后再试"
        other = asyncio.create_task(as_("web:alice", 0.0))  # someone else waits their turn
        await first
        await other
        assert await as_("api:mallory", 0.0)  # done: the person's next text is taken
    finally:
        lane.close()


async def test_the_import_lane_takes_one_file_of_a_persons_at_a_time() -> None:
    """Security re-check 5, N3: six slow workbooks from one editor held an admin's import."""
    from bot.engine.offload import BulkBusyError, owned_by

    lane = Offload(mode="thread", workers=2)  # the bulk lane: one job at a time here

    async def import_as(owner: str, seconds: float) -> int:
        with owned_by(owner):
            return await lane.run_bulk(sleep_then_pid, seconds)

    first = asyncio.create_task(import_as("web:mallory", 0.5))
    await asyncio.sleep(0.1)
    with pytest.raises(BulkBusyError) as refused:
        await import_as("web:mallory", 0.0)
    assert refused.value.http_status == 429
    assert refused.value.in_language("zh") == "你上一个文件还在导入中，请等它完成后再试"
    assert await import_as("web:alice", 0.0)  # someone else's file waits its turn, then runs
    await first
    assert await import_as("web:mallory", 0.0)  # done: the next file is taken
