"""The weekly chart counted by the database per local week (zones without daylight saving)
agrees with counting every post in Python, on SQLite and PostgreSQL, at the edges of days
and ISO weeks; a zone with daylight saving takes the per-post path."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.engine import reporting
from bot.engine.reporting import Period, count_per_week, posts_per_week
from bot.store import db
from bot.store import reports as report_store
from bot.store.tables import posts

PERIOD = Period(date(2024, 12, 1), date(2025, 2, 28), "winter")


async def test_per_day_counting_agrees_with_per_post_counting(database_url: str) -> None:
    engine = db.open_engine(database_url)
    try:
        await db.upgrade(engine)
        # Around Beijing midnight (16:00 UTC) on the Sunday/Monday that starts 2025-W01.
        edge = datetime(2024, 12, 29, 16, 0, tzinfo=UTC)
        moments = [edge + timedelta(minutes=m) for m in (-61, -1, 0, 1, 59)]
        moments += [
            datetime(2025, 1, 1, 0, 0, tzinfo=UTC) + timedelta(hours=7 * i) for i in range(40)
        ]
        # Counted per week by the database now: a spread over the period (inside both zones' windows),
        # every minute of a week equally likely; the ISO year turns inside it (2024-12-30 is 2025-W01).
        spread = random.Random(7)
        moments += [
            datetime(2024, 12, 1, 0, 0, tzinfo=UTC) + timedelta(minutes=spread.randrange(128_700))
            for _ in range(300)
        ]
        async with engine.begin() as conn:
            await conn.execute(
                posts.insert(),
                [
                    {
                        "column_name": f"c{i % 3}",
                        "account": "main",
                        "title": "t",
                        "status": "published",
                        "delivery": "publish",
                        "stage": "new",
                        "created_at": at,
                        "updated_at": at,
                        "published_at": at,
                    }
                    for i, at in enumerate(moments)
                ],
            )
        tz = ZoneInfo("Asia/Shanghai")
        start, end = PERIOD.window(tz)
        async with engine.connect() as conn:
            rows = await report_store.published_times(conn, start, end)
        expected = count_per_week(rows, PERIOD, "Asia/Shanghai")
        assert reporting._fixed_offset_minutes(tz, PERIOD) == 480
        assert await posts_per_week(engine, PERIOD, "Asia/Shanghai") == expected
        assert sum(w["count"] for w in expected) == len(moments)
        assert (
            reporting._fixed_offset_minutes(
                ZoneInfo("Europe/Berlin"), Period(date(2025, 1, 1), date(2025, 6, 30), "h1")
            )
            is None
        )
        berlin = await posts_per_week(engine, PERIOD, "Europe/Berlin")
        assert sum(w["count"] for w in berlin) == len(moments)
    finally:
        await engine.dispose()
