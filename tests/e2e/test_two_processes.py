"""Two processes, one database, one simulator: every post is published exactly once.

On PostgreSQL two ``bot serve`` processes start together on a fresh database (so they also
race to create the schema) and publish 100 posts; on SQLite two ``bot publish --due`` loops
run at once over 20 posts. The posts are inserted through the store (drafting a hundred
through the CLI would take minutes), queued and due now."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.models import Post, PostStatus
from bot.store import db
from bot.store import log as log_store
from bot.store import posts as post_store
from tests.e2e.conftest import (
    APPID,
    COLUMN,
    SECRET_ENV,
    Project,
    ServeProcess,
    Simulator,
    free_port,
    simulator_process,
    write_cover,
)
from tests.integration.pg import fresh_pg_database

PUBLISHER = {
    "poll_first_seconds": 0.3,
    "poll_max_seconds": 1,
    "reconcile_window_seconds": 2,
    "tick_seconds": 0.2,
}
# A new account may submit and poll 100 times a day; a hundred posts need a little more.
QUOTAS = {
    "freepublish/submit": 1000,
    "freepublish/get": 2000,
    "freepublish/batchget": 1000,
    "draft/add": 2000,
}


SECOND_COLUMN = "第二栏目"


def second_account(api_base: str, cover: Path) -> str:
    """Config tables for a second account and its column (appended to the project's)."""
    return (
        f'[[accounts]]\nname = "second"\nappid = "{APPID}"\nsecret_env = "{SECRET_ENV}"\n'
        f'api_base = "{api_base}"\n\n[[columns]]\nname = "{SECOND_COLUMN}"\n'
        f'account = "second"\nauthor = "团区委"\ncover = "{cover}"\n'
    )


async def insert_due_posts(
    url: str,
    count: int,
    cover: Path,
    label: str,
    accounts: Sequence[tuple[str, str]] = ((COLUMN, "main"),),
) -> set[str]:
    """``count`` queued posts, due now, in one transaction, dealt to the (column, account)
    pairs in turn; returns their titles."""
    engine = db.open_engine(url)
    now = datetime.now(UTC)
    titles = {f"{label}第{i:03d}篇" for i in range(count)}
    try:
        async with engine.begin() as conn:
            for i, title in enumerate(sorted(titles)):
                column, account = accounts[i % len(accounts)]
                new = post_store.NewPost(
                    column=column,
                    account=account,
                    title=title,
                    author="团区委",
                    digest="两个进程同时发布",
                    markdown="",
                    content_html=f"<p>{title}</p>",
                    content_source_url="https://www.xuexi.cn/",
                    cover=str(cover),
                    delivery="publish",
                    status=PostStatus.QUEUED,
                    resources=[],
                    scheduled_for=now,
                )
                await post_store.create(conn, new, now=now)
    finally:
        await engine.dispose()
    return titles


async def all_posts(url: str) -> list[Post]:
    engine = db.open_engine(url)
    try:
        async with engine.connect() as conn:
            return await post_store.list_posts(conn)
    finally:
        await engine.dispose()


async def wait_until_settled(url: str, seconds: float) -> list[Post]:
    """Poll the database until no post is queued or publishing; fail on a stuck post."""
    deadline = time.monotonic() + seconds
    while True:
        posts = await all_posts(url)
        stuck = [p for p in posts if p.needs_attention or p.status is PostStatus.FAILED]
        assert not stuck, [(p.id, p.status, p.error) for p in stuck]
        if all(p.status is PostStatus.PUBLISHED for p in posts):
            return posts
        open_count = sum(p.status is not PostStatus.PUBLISHED for p in posts)
        assert time.monotonic() < deadline, f"{open_count} posts still open after {seconds}s"
        await asyncio.sleep(0.5)


async def history(url: str, posts: list[Post], titles: set[str]) -> str:
    """The publish log of the posts with these titles, for a failure message."""
    ids = [p.id for p in posts if p.title in titles]
    engine = db.open_engine(url)
    try:
        async with engine.connect() as conn:
            entries = await log_store.list_entries(conn, post_ids=ids, limit=10_000)
    finally:
        await engine.dispose()
    return "\n".join(
        f"{e.at.isoformat()} post {e.post_id} {e.step} {e.outcome} {e.detail}" for e in entries
    )


async def assert_published_once(
    url: str, sim: Simulator, posts: list[Post], titles: set[str]
) -> None:
    state = sim.state()
    counts = Counter(a["title"] for a in state["published"])
    duplicates = {t: n for t, n in counts.items() if n != 1}
    assert not duplicates, (
        f"published more than once: {duplicates}\n{await history(url, posts, set(duplicates))}"
    )
    assert set(counts) == titles
    article_ids = {a["title"]: a["article_id"] for a in state["published"]}
    assert {p.title: p.article_id for p in posts} == article_ids
    assert state["call_counts"]["freepublish/submit"] == len(titles)


# Above its own deadlines (45 s to start, 100 s to settle).
@pytest.mark.timeout(300)
@pytest.mark.postgres
async def test_two_serve_processes_on_postgresql_publish_100_posts_once(tmp_path: Path) -> None:
    cover = write_cover(tmp_path / "cover.jpg")
    async with fresh_pg_database() as url:
        with simulator_process(tmp_path, publish_delay=0.2, seed=100, quotas=QUOTAS) as sim:
            project = Project(tmp_path / "project", sim.url, database_url=url)
            project.write_config(publisher=PUBLISHER, quotas=QUOTAS, cover=str(cover))
            # Both start at once on the empty database: one creates the schema, both serve.
            serves = await asyncio.gather(
                asyncio.to_thread(ServeProcess.start, project, free_port(), log_name="serve-a"),
                asyncio.to_thread(ServeProcess.start, project, free_port(), log_name="serve-b"),
                return_exceptions=True,
            )
            try:
                for serve in serves:
                    assert isinstance(serve, ServeProcess), serve
                titles = await insert_due_posts(url, 100, cover, "并发")
                posts = await wait_until_settled(url, seconds=100)
                for serve in serves:
                    assert isinstance(serve, ServeProcess)
                    assert serve.proc.poll() is None, serve.output()
                    assert "Traceback" not in serve.output(), serve.output()
            finally:
                for serve in serves:
                    if isinstance(serve, ServeProcess):
                        serve.stop()
            await assert_published_once(url, sim, posts, titles)


@pytest.mark.parametrize("profile", ["documented", "realistic"])
async def test_two_publish_due_loops_on_sqlite_publish_20_posts_once(
    tmp_path: Path, profile: str
) -> None:
    cover = write_cover(tmp_path / "cover.jpg")
    with simulator_process(tmp_path, publish_delay=0.2, seed=20, profile=profile) as sim:
        project = Project(tmp_path / "project", sim.url)
        # One post in flight per process, over two accounts: a single run publishing one
        # account's whole backlog (which pipelining lets it do) leaves the other account's
        # posts to the other run, so both really take part.
        project.write_config(
            publisher={**PUBLISHER, "concurrency": 1},
            cover=str(cover),
            extra=second_account(sim.url, cover),
        )
        assert project.run("db", "upgrade").code == 0
        titles = await insert_due_posts(
            project.database_url,
            20,
            cover,
            "双进程",
            accounts=((COLUMN, "main"), (SECOND_COLUMN, "second")),
        )

        async def publish_loop() -> set[int]:
            """``bot publish --due`` again and again until nothing is open; the posts that
            this loop's runs reported."""
            reported: set[int] = set()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                result = await asyncio.to_thread(project.run, "publish", "--due", "--json")
                reported |= {p["id"] for p in result.json()}
                posts = await all_posts(project.database_url)
                if all(p.status is PostStatus.PUBLISHED for p in posts):
                    return reported
            raise AssertionError("posts still open after 60 s of publish --due")

        first, second = await asyncio.gather(publish_loop(), publish_loop())
        posts = await wait_until_settled(project.database_url, seconds=5)
        await assert_published_once(project.database_url, sim, posts, titles)
        # Both really took part: each claimed some of the posts while the other ran.
        assert first and second, (first, second)
        assert first | second == {p.id for p in posts}


async def test_a_queued_post_claimed_by_one_process_is_not_claimed_by_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the 100-post run once lost: B looked for busy accounts before A's claim
    committed, then found A's post still ``queued`` and claimed it as well."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    engine = db.open_engine(url)
    try:
        await db.upgrade(engine)
        await insert_due_posts(url, 1, write_cover(tmp_path / "cover.jpg"), "竞争")
        now = datetime.now(UTC)
        lease = timedelta(seconds=60)
        async with engine.begin() as conn:
            first = await post_store.claim_due(conn, now=now, owner="a", lease=lease)

        async def nothing_busy(conn: object, now: datetime) -> set[str]:
            return set()

        monkeypatch.setattr(post_store, "_accounts_with_live_lease", nothing_busy)
        async with engine.begin() as conn:
            second = await post_store.claim_due(conn, now=now, owner="b", lease=lease)
        assert len(first) == 1 and second == []
    finally:
        await engine.dispose()
