"""The access token shared through the database by two real processes, on SQLite and
PostgreSQL: each process has its own client and its own ``DatabaseTokenStore`` (with its
minute-long cache) on the one database, and they call at the same moment. One token is
fetched for both; after the platform invalidates it, one refresh serves both (the other
process reads the new token from the store instead of fetching its own)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.account.simulator import SimulatorConfig, start_simulator
from bot.config import PROJECT_ROOT
from bot.store import db

CALLS = 5

# One process: waits for a line on stdin, makes CALLS concurrent calls that need the token,
# prints what it got and the token it holds; again for each line, until stdin closes.
CHILD = """
import asyncio, json, sys
from datetime import UTC, datetime
import aiohttp
from bot.account.client import AccountClient, RetryPolicy
from bot.engine.shared_state import DatabaseCallRecorder, DatabaseTokenStore
from bot.store import db
from tests.integration.publish_harness import make_config

url, sim_url, calls, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def now():
    return datetime.now(UTC)

async def main():
    engine = db.open_engine(url)
    account = make_config(url, sim_url).account("acc0")
    tokens = DatabaseTokenStore(engine, now)
    async with aiohttp.ClientSession() as session:
        client = AccountClient(
            account, session, tokens=tokens, counter=DatabaseCallRecorder(engine, now),
            clock=now, owner=name, retry=RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2),
        )
        print("ready", flush=True)
        while (await asyncio.to_thread(sys.stdin.readline)).strip():
            counts = await asyncio.gather(*[client.draft_count() for _ in range(calls)])
            held = await tokens.load_token("acc0")
            print(json.dumps({"counts": counts, "token": held.access_token}), flush=True)
    await engine.dispose()

asyncio.run(main())
"""


class Child:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        if not raw:
            assert self.proc.stderr is not None
            error = (await self.proc.stderr.read()).decode()
            raise AssertionError(f"the child process ended: {error}")
        return raw.decode().strip()

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")

    async def result(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(await self.line())
        return found


async def _child(url: str, sim_url: str, name: str) -> Child:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        url,
        sim_url,
        str(CALLS),
        name,
        cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    child = Child(proc)
    assert await child.line() == "ready"
    return child


async def _sim(session: aiohttp.ClientSession, url: str, path: str, body: Any = None) -> Any:
    method = session.post if body is not None else session.get
    async with method(f"{url}{path}", json=body) as answer:
        assert answer.status == 200, await answer.text()
        return await answer.json()


async def test_two_processes_share_one_token_and_refresh_it_once(
    database_url: str, tmp_path: Path
) -> None:
    sim = await start_simulator(SimulatorConfig(publish_delay_seconds=0.2, seed=31, latency_ms=20))
    engine = db.open_engine(database_url)
    await db.upgrade(engine)
    await engine.dispose()
    children: list[Child] = []
    try:
        async with aiohttp.ClientSession() as session:
            children = [await _child(database_url, sim.url, f"proc-{i}") for i in range(2)]
            for child in children:
                child.go()  # both at once
            first = [await child.result() for child in children]
            assert [r["counts"] for r in first] == [[0] * CALLS] * 2
            assert first[0]["token"] == first[1]["token"]
            state = await _sim(session, sim.url, "/_sim/state")
            assert state["call_counts"]["stable_token"] == 1
            assert state["call_counts"]["draft/count"] == 2 * CALLS

            # The platform stops accepting the token; both processes still hold it (cached).
            await _sim(
                session,
                sim.url,
                "/_sim/faults",
                {"next": [{"kind": "token_invalid", "path": "draft/count"}]},
            )
            for child in children:
                child.go()
            second = [await child.result() for child in children]
            assert [r["counts"] for r in second] == [[0] * CALLS] * 2
            assert second[0]["token"] == second[1]["token"] != first[0]["token"]
            state = await _sim(session, sim.url, "/_sim/state")
            assert state["faults"]["injected"] == {"token_invalid": 1}
            assert state["call_counts"]["stable_token"] == 2  # one refresh for both
    finally:
        for child in children:
            if child.proc.stdin is not None:
                child.proc.stdin.close()
            try:
                await asyncio.wait_for(child.proc.wait(), 10)
            except TimeoutError:
                child.proc.kill()
                await child.proc.wait()
        await sim.stop()


async def test_a_process_whose_cached_token_was_replaced_elsewhere_does_not_fetch_again(
    database_url: str,
) -> None:
    """Process B still holds the rejected token in its store's minute-long cache while process
    A has already fetched and saved its successor (which frees the refresh lease). B must find
    that successor once it holds the lease, not fetch a third token."""
    from datetime import UTC, datetime

    from bot.account.tokens import TokenProvider
    from bot.engine.shared_state import DatabaseTokenStore

    engine = db.open_engine(database_url)
    await db.upgrade(engine)
    fetched: list[str] = []

    async def fetch() -> tuple[str, float]:
        fetched.append(f"token-{len(fetched) + 1}")
        return fetched[-1], 7200.0

    def now() -> datetime:
        return datetime.now(UTC)

    try:
        a, b = (
            TokenProvider("acc0", DatabaseTokenStore(engine, now), fetch, owner=name, clock=now)
            for name in ("proc-a", "proc-b")
        )
        assert await a.current() == "token-1"
        assert await b.current() == "token-1"  # B now has it in its cache
        assert await a.replace("token-1") == "token-2"  # the platform refused it; A refreshes
        assert await b.replace("token-1") == "token-2"  # B is refused too: it reuses A's
        assert fetched == ["token-1", "token-2"]
    finally:
        await engine.dispose()
