"""Security review 3, S2: a flood of anonymous logins (each inside every per-address limit)
ran an Argon2 hash apiece on the loop's shared thread pool and took the CPUs the publisher
needs. Hashes now run one at a time on a thread of their own at a lower priority, and logins
beyond a few waiting are refused at once, before any database work. An API token's use is
recorded without holding its request."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
import sqlalchemy as sa

from bot.store.tables import login_attempts
from bot.web import hashing, users
from tests.integration.web_rig import (
    PASSWORD,
    WebRig,
    rig_fixture,  # noqa: F401 (a fixture)
    template_fixture,  # noqa: F401 (a fixture)
)


async def _login(rig: WebRig, name: str, password: str) -> tuple[int, str]:
    token = await rig.csrf()
    response = await rig.client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    return response.status, await response.text()


async def _attempts(rig: WebRig) -> int:
    async with rig.services.engine.connect() as conn:
        return int(
            (
                await conn.execute(sa.select(sa.func.count()).select_from(login_attempts))
            ).scalar_one()
        )


async def test_logins_beyond_the_waiting_few_are_refused_at_once_and_the_service_answers(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    lane = hashing.PasswordLane(max_waiting=2)
    monkeypatch.setattr(users, "lane", lane)
    release, hashing_started = threading.Event(), threading.Event()
    real_verify = users._verify

    def slow_verify(password_hash: str | None, password: str) -> bool:
        hashing_started.set()
        release.wait(10)  # a hash that takes as long as the test wants
        return real_verify(password_hash, password)

    monkeypatch.setattr(users, "_verify", slow_verify)
    before = await _attempts(rig)
    waiting = [asyncio.create_task(_login(rig, f"stranger{i}", "guess")) for i in range(2)]
    assert await asyncio.to_thread(hashing_started.wait, 5)
    for _ in range(500):  # both admitted: one hashing, one queued behind it
        if lane.waiting == 2:
            break
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    status, page = await _login(rig, "editor", PASSWORD)
    assert status == 429
    assert "同时登录的人太多" in page  # the zh admin's words
    assert time.perf_counter() - started < 2  # refused at once, not queued
    # The two admitted record their attempts once admitted (a write each, which may still be
    # on its way); the refused login costs the database nothing: never a third row.
    for _ in range(500):
        if await _attempts(rig) >= before + 2:
            break
        await asyncio.sleep(0.01)
    assert await _attempts(rig) == before + 2
    health = await rig.client.get("/healthz")
    assert health.status == 200
    release.set()
    assert [s for s, _ in await asyncio.gather(*waiting)] == [401, 401]
    assert lane.waiting == 0
    assert (await _login(rig, "editor", PASSWORD))[0] == 303  # the flood over, logins work


async def test_a_person_logging_in_from_a_known_place_gets_in_during_a_flood(
    rig: WebRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security re-check 4, F1: the flood's queue is full, yet someone who logged in from this
    address before has a queue of their own; someone from a new place is refused."""
    await rig.login("editor")  # the editor's usual place (the test client's address)
    rig.client.session.cookie_jar.clear()
    lane = hashing.PasswordLane(max_waiting=1)
    monkeypatch.setattr(users, "lane", lane)
    release, started = threading.Event(), threading.Event()
    real_verify = users._verify

    def slow_verify(password_hash: str | None, password: str) -> bool:
        if password == "guess":  # only the flood's hashes are slow
            started.set()
            release.wait(10)
        return real_verify(password_hash, password)

    monkeypatch.setattr(users, "_verify", slow_verify)
    flood = asyncio.create_task(_login(rig, "stranger", "guess"))
    assert await asyncio.to_thread(started.wait, 5)
    assert lane.anyone.waiting == 1  # the common queue is full
    assert (await _login(rig, "reviewer", PASSWORD))[0] == 429  # never logged in from here
    status, _ = await _login(rig, "editor", PASSWORD)
    assert status == 303  # from where the editor logged in before: in at once
    rig.client.session.cookie_jar.clear()
    release.set()
    assert (await flood)[0] == 401


async def test_the_hashing_thread_runs_at_a_lower_priority() -> None:
    lane = hashing.PasswordLane()

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    own = niceness()
    assert await lane.run(niceness) >= min(19, own + hashing.NICENESS) or own >= 19


async def test_a_tokens_use_is_recorded_without_making_its_request_wait(rig: WebRig) -> None:
    """The minute's first request of an API token records its use, a write that queues behind
    every other writer: it must not hold the request (a page probe waited 1.8 s behind an
    import's last statement)."""
    from bot.store.tables import api_tokens

    engine = rig.services.engine
    async with engine.begin() as conn:  # never used: this request is the one that records it
        await conn.execute(api_tokens.update().values(last_used_at=None))
    writer = engine.writer_turn()  # type: ignore[attr-defined]
    async with writer:  # another writer holds the database for as long as the test likes
        started = time.perf_counter()
        answer = await rig.client.get("/api/me", headers=rig.bearer("editor"))
        assert answer.status == 200
        assert time.perf_counter() - started < 2
    for _ in range(100):  # once the writer is done, the use is recorded
        async with engine.connect() as conn:
            used = (await conn.execute(sa.select(api_tokens.c.last_used_at))).scalars().all()
        if any(used):
            break
        await asyncio.sleep(0.05)
    assert any(used)


def test_in_the_known_queue_a_name_holds_one_place_at_a_time() -> None:
    """Security re-check 5, N1: an account logging in again and again from its usual place
    filled the known queue for everyone."""
    lane = hashing.PasswordLane(max_waiting=8)
    with lane.admitted(known=True, name="editor"):
        with pytest.raises(hashing.LoginsBusyError), lane.admitted(known=True, name="editor"):
            pass
        with lane.admitted(known=True, name="reviewer"):  # someone else still gets in
            assert lane.known.waiting == 2
    with lane.admitted(known=True, name="editor"):  # the first one done: in again
        assert lane.known.names == {"editor"}


async def test_counting_failed_logins_reads_the_index_not_every_kept_success(
    sqlite_url: str,
) -> None:
    """Security re-check 5 (info): successes are kept 30 days, so each login's count of the
    window's failures read every one of them; an index on (ok, at) reads only the window."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import event

    from bot.store import db
    from bot.store import users as user_store

    engine = db.open_engine(sqlite_url)
    try:
        await db.upgrade(engine)
        sent: list[tuple[str, object]] = []

        def keep(_conn: object, _cursor: object, statement: str, params: object, *_: object):
            sent.append((statement, params))

        event.listen(engine.sync_engine, "before_cursor_execute", keep)
        now = datetime(2026, 11, 30, tzinfo=UTC)
        async with engine.connect() as conn:
            await user_store.failures_since(
                conn, user_name="u", address="10.0.0.1", since=now - timedelta(minutes=15)
            )
        event.remove(engine.sync_engine, "before_cursor_execute", keep)
        statement, params = next((s, p) for s, p in sent if "login_attempts" in s)
        async with engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            )
        assert "ix_login_attempts_ok_at" in plan, plan
    finally:
        await engine.dispose()
