"""A catalogue import killed with SIGKILL leaves the SQLite catalogue with none or all of the
file's rows, and the next import works: killed while ``bot catalogue import`` stages the file,
and killed at a sweep of moments inside ``upsert_staged``'s one transaction (a subprocess that
runs only that step on a pre-staged 50,000-row file, so the sweep is cheap)."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from bot.store import catalogue as catalogue_store
from tests.e2e.conftest import Project, bot_env, kill_group

BOT = Path(sys.executable).parent / "bot"
SEED = 100
BIG = 50_000


def catalogue(db_file: Path) -> dict[str, str]:
    """id -> title, read by a fresh connection (which recovers the WAL of a killed writer)."""
    con = sqlite3.connect(db_file)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return dict(con.execute("SELECT id, title FROM resources"))
    finally:
        con.close()


def write_csv(path: Path, count: int, title: str) -> Path:
    lines = "".join(f"r{i:06},platform,{title} {i},简介\n" for i in range(count))
    path.write_text("id,kind,title,summary\n" + lines, encoding="utf-8")
    return path


def test_a_cli_import_killed_while_staging_leaves_nothing_and_the_next_import_works(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path / "project", "http://127.0.0.1:9")
    project.write_config()
    assert project.run("db", "upgrade").code == 0
    seed = write_csv(tmp_path / "seed.csv", SEED, "旧")
    first = project.run("catalogue", "import", str(seed))
    assert first.code == 0, first.stderr
    db_file = project.root / "bot.db"
    before = catalogue(db_file)
    big = write_csv(tmp_path / "big.csv", BIG, "新")
    scratch = tmp_path / "scratch"  # the import's TemporaryDirectory lands here
    scratch.mkdir()
    proc = subprocess.Popen(
        [str(BOT), "--config", str(project.config), "catalogue", "import", str(big)],
        cwd=project.root,
        env=bot_env(TMPDIR=str(scratch)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not list(scratch.glob("bot-import-*/staged.sqlite")):
            assert proc.poll() is None, "the import ended before it staged anything"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(0.5)  # some thousands of rows staged, far from the end of 50,000
        assert proc.poll() is None
    finally:
        kill_group(proc, signal.SIGKILL)
    assert catalogue(db_file) == before
    again = project.run("catalogue", "import", str(seed))
    assert again.code == 0, again.stderr
    assert f"0 created, {SEED} updated" in again.stdout
    assert catalogue(db_file) == before


# Runs only the final step: one transaction moving the staged file into the catalogue.
FINAL_STEP = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from bot.store import catalogue, db

    async def main() -> None:
        engine = db.open_engine(sys.argv[1])
        print("go", flush=True)
        print(await catalogue.upsert_staged(
            engine, Path(sys.argv[2]), now=datetime.now(UTC), max_total=10**9
        ), flush=True)
        await engine.dispose()

    asyncio.run(main())
    """
)


def stage(path: Path, count: int, title: str) -> Path:
    con = sqlite3.connect(path)
    con.execute(catalogue_store.STAGED_SCHEMA)
    con.executemany(
        "INSERT INTO staged VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ((f"r{i:06}", "platform", f"{title} {i}", "", "", "", "[]", "s.csv") for i in range(count)),
    )
    con.commit()
    con.close()
    return path


def test_killed_inside_the_final_transaction_the_catalogue_has_none_or_all_of_the_file(
    tmp_path: Path,
) -> None:
    project = Project(tmp_path / "project", "http://127.0.0.1:9")
    project.write_config()
    assert project.run("db", "upgrade").code == 0
    db_file = project.root / "bot.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    outcomes: list[tuple[str, str, int]] = []
    # When to kill, after the subprocess says it starts: at once (ATTACH, BEGIN, the counts),
    # at the first uncommitted page of the INSERT in the WAL, with 1 MB of it there, and after
    # the subprocess finished (the commit must then be whole).
    for n, moment in enumerate(("at-once", "first-page", "one-mb", "finished")):
        # Each round starts from the same catalogue: SEED rows, then a 50,000-row file.
        con = sqlite3.connect(db_file)
        con.execute("DELETE FROM resources")
        con.executemany(
            "INSERT INTO resources (id, kind, title, summary, url, cover, tags, source, "
            "created_at, updated_at) VALUES (?, 'platform', ?, '', '', '', '[]', '', "
            "'2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000')",
            ((f"r{i:06}", f"旧 {i}") for i in range(SEED)),
        )
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # an empty WAL: what grows is this round's
        con.close()
        before = catalogue(db_file)
        staged = stage(tmp_path / f"staged{n}.sqlite", BIG, "新")
        wal = db_file.with_name("bot.db-wal")
        proc = subprocess.Popen(
            [sys.executable, "-c", FINAL_STEP, url, str(staged)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "go"
            least = {"at-once": -1, "first-page": 1, "one-mb": 1 << 20}.get(moment)
            deadline = time.monotonic() + 20
            if least is None:
                proc.wait(20)
            while least is not None and (wal.stat().st_size if wal.exists() else 0) < least:
                assert time.monotonic() < deadline and proc.poll() is None, moment
                time.sleep(0.001)
            wal_size = wal.stat().st_size if wal.exists() else 0
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            finished = proc.stdout.read()
        finally:
            kill_group(proc)
            if proc.stdout is not None:
                proc.stdout.close()
        after = catalogue(db_file)
        if after == before:
            outcomes.append((moment, "none", wal_size))
        else:  # all of it: every id, every title the file's
            assert len(after) == BIG and all(t.startswith("新 ") for t in after.values())
            outcomes.append((moment, "all", wal_size))
        if finished:
            assert outcomes[-1][1] == "all", finished
    assert outcomes[-1][1] == "all", outcomes  # the round left to finish committed it whole
    # After three kills the next run went in whole (no lock, nothing left attached), and the
    # sweep did reach inside the transaction: some kill found uncommitted pages of the
    # INSERT already in the WAL and still left nothing (printed for whoever reads a failure).
    assert any(kind == "none" and size > 0 for _, kind, size in outcomes), outcomes
