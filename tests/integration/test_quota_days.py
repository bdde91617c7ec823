"""Quota days and mass-send allowances in the running engine, on a clock the test moves across
a Beijing midnight, a month end and a year end: parking until the exact instant the platform's
day turns, un-parking after it, the call counters kept per Beijing day, the polling budget, and
the mass-send allowance (once a Beijing day for a subscription account, four times a calendar
month for a service account). The simulator reads the same clock and enforces the same limits,
so a post sent one minute too early would be refused there too."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.account.simulator import SimulatorConfig
from bot.config import DEFAULT_DAILY_QUOTAS, PublisherConfig, QuotaConfig
from bot.domain.models import Delivery, PostStatus
from bot.engine.quota import mass_send_window, next_quota_day_start, quota_day
from bot.store import accounts as account_store
from bot.store import log as log_store
from tests.conftest import FakeClock
from tests.integration.clocked_rig import beijing, clocked_rig
from tests.integration.publish_harness import FAST

# --- the rules themselves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "next_day"),
    [
        ("2026-03-10 00:00", "2026-03-11 00:00"),
        ("2026-03-10 23:59:59.999", "2026-03-11 00:00"),
        ("2026-02-28 12:00", "2026-03-01 00:00"),
        ("2028-02-28 12:00", "2028-02-29 00:00"),
        ("2026-12-31 23:00", "2027-01-01 00:00"),
    ],
)
def test_the_quota_day_turns_at_beijing_midnight(now: str, next_day: str) -> None:
    assert next_quota_day_start(beijing(now)) == beijing(next_day)
    # 16:00 UTC is already the next day in Beijing.
    assert quota_day(beijing("2026-03-10 00:00")) == date(2026, 3, 10)
    assert quota_day(beijing("2026-03-10 00:00") - timedelta(microseconds=1)) == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        ("2026-01-31 23:59", "2026-01-01 00:00", "2026-02-01 00:00"),
        ("2026-02-01 00:00", "2026-02-01 00:00", "2026-03-01 00:00"),
        ("2026-12-31 23:59", "2026-12-01 00:00", "2027-01-01 00:00"),
        ("2027-01-01 00:00", "2027-01-01 00:00", "2027-02-01 00:00"),
    ],
)
def test_a_service_accounts_allowance_is_a_beijing_calendar_month(
    now: str, start: str, end: str
) -> None:
    assert mass_send_window(beijing(now), "service") == (beijing(start), beijing(end), 4)


def test_a_subscription_accounts_allowance_is_a_beijing_day() -> None:
    now = beijing("2026-12-31 23:59")
    assert mass_send_window(now, "subscription") == (
        beijing("2026-12-31 00:00"),
        beijing("2027-01-01 00:00"),
        1,
    )


# --- in the engine ----------------------------------------------------------------------------


async def test_a_spent_daily_quota_parks_the_account_until_beijing_midnight_then_resumes(
    database_url: str, cover_file: Path
) -> None:
    clock = FakeClock(beijing("2026-03-10 23:30"))
    sim = SimulatorConfig(publish_delay_seconds=1.0, seed=3, quotas={"draft/add": 1})
    async with clocked_rig(database_url, cover_file, clock, sim_config=sim) as rig:
        worker = rig.worker()
        midnight = beijing("2026-03-11 00:00")
        first = await rig.add_post("配额内的一篇")
        await rig.drive(worker, until=midnight - timedelta(seconds=1))
        second = await rig.add_post("配额外的一篇")
        await rig.drive(worker, until=midnight - timedelta(seconds=1))

        assert (await rig.get(first.id)).status is PostStatus.PUBLISHED
        parked = await rig.get(second.id)
        assert (parked.status, parked.errcode) == (PostStatus.PUBLISHING, 45009)
        assert parked.next_attempt_at == midnight  # the instant the platform's day turns
        async with rig.engine.connect() as conn:
            accounts = await account_store.parked_accounts(conn, clock())
            today = await account_store.calls_on(conn, "acc0", date(2026, 3, 10))
        assert accounts["acc0"][0] == midnight
        assert today["draft/add"] == 2  # the accepted call and the refused one

        # One second before midnight nothing is claimed: the account is parked.
        clock.now = midnight - timedelta(seconds=1)
        assert await worker.run_once() == []
        assert (await rig.sim_state())["call_counts"]["draft/add"] == 2

        clock.now = midnight
        await rig.drive(worker, until=midnight + timedelta(minutes=5))
        done = await rig.get(second.id)
        assert done.status is PostStatus.PUBLISHED
        async with rig.engine.connect() as conn:
            assert await account_store.parked_accounts(conn, clock()) == {}
            before = await account_store.calls_on(conn, "acc0", date(2026, 3, 10))
            after = await account_store.calls_on(conn, "acc0", date(2026, 3, 11))
        assert before["draft/add"] == 2  # yesterday's counter is left alone
        assert after["draft/add"] == 1 and after["freepublish/submit"] == 1
        published = [a["title"] for a in (await rig.sim_state())["published"]]
        assert sorted(published) == sorted([first.title, second.title])


async def test_a_spent_polling_budget_waits_for_the_next_beijing_day(
    sqlite_url: str, cover_file: Path
) -> None:
    """freepublish/get limited to 4 a day with polling allowed half of it: after two polls the
    post waits for midnight instead of spending the rest (kept for people and reconciling)."""
    clock = FakeClock(beijing("2026-03-10 22:00"))
    sim = SimulatorConfig(publish_delay_seconds=3600.0, seed=4)
    quota = QuotaConfig({**DEFAULT_DAILY_QUOTAS, "freepublish/get": 4}, poll_share=0.5)
    async with clocked_rig(
        sqlite_url, cover_file, clock, sim_config=sim, account_changes={"quota": quota}
    ) as rig:
        post = await rig.add_post("轮询预算用尽")
        worker = rig.worker()
        midnight = beijing("2026-03-11 00:00")
        await rig.drive(worker, until=midnight - timedelta(seconds=1))
        waiting = await rig.get(post.id)
        assert waiting.status is PostStatus.PUBLISHING and waiting.polls == 2
        assert waiting.next_attempt_at == midnight
        assert (await rig.sim_state())["call_counts"]["freepublish/get"] == 2

        clock.now = midnight  # the job (an hour) has ended meanwhile
        await rig.drive(worker, until=midnight + timedelta(minutes=1))
        assert (await rig.get(post.id)).status is PostStatus.PUBLISHED
        assert (await rig.sim_state())["call_counts"]["freepublish/get"] == 3


async def test_a_subscription_account_mass_sends_again_at_beijing_midnight(
    sqlite_url: str, cover_file: Path
) -> None:
    clock = FakeClock(beijing("2026-03-10 23:50"))
    sim = SimulatorConfig(publish_delay_seconds=1.0, seed=5)
    async with clocked_rig(
        sqlite_url, cover_file, clock, sim_config=sim, delivery="mass_send"
    ) as rig:
        first = await rig.add_post("今日群发", delivery=Delivery.MASS_SEND)
        second = await rig.add_post("明日群发", delivery=Delivery.MASS_SEND)
        worker = rig.worker()
        midnight = beijing("2026-03-11 00:00")
        await rig.drive(worker, until=midnight - timedelta(seconds=1))
        assert (await rig.get(first.id)).status is PostStatus.PUBLISHED
        waiting = await rig.get(second.id)
        assert waiting.status is PostStatus.PUBLISHING and not waiting.msg_id
        assert waiting.next_attempt_at == midnight
        assert len((await rig.sim_state())["mass_sends"]) == 1

        clock.now = midnight
        await rig.drive(worker, until=midnight + timedelta(minutes=5))
        assert (await rig.get(second.id)).status is PostStatus.PUBLISHED
        assert len((await rig.sim_state())["mass_sends"]) == 2


@pytest.mark.parametrize(
    ("evening", "next_month"),
    [
        ("2026-01-31 20:00", "2026-02-01 00:00"),  # 12:00 UTC: still January in UTC too
        ("2026-12-31 23:30", "2027-01-01 00:00"),  # 15:30 UTC: the year turns in Beijing first
    ],
)
async def test_a_service_account_mass_sends_four_times_a_month_then_waits_for_the_next(
    sqlite_url: str, cover_file: Path, evening: str, next_month: str
) -> None:
    clock = FakeClock(beijing(evening))
    sim = SimulatorConfig(publish_delay_seconds=1.0, seed=6, account_type="service")
    async with clocked_rig(
        sqlite_url,
        cover_file,
        clock,
        sim_config=sim,
        delivery="mass_send",
        account_changes={"account_type": "service"},
        publisher=PublisherConfig(
            **{**FAST.__dict__, "poll_first_seconds": 1.0, "poll_max_seconds": 2.0}
        ),
    ) as rig:
        posts = [await rig.add_post(f"月度群发{i}", delivery=Delivery.MASS_SEND) for i in range(5)]
        worker = rig.worker()
        turn = beijing(next_month)
        await rig.drive(worker, until=turn - timedelta(seconds=1), rounds=100)
        states = [await rig.get(p.id) for p in posts]
        sent = [p for p in states if p.status is PostStatus.PUBLISHED]
        left = [p for p in states if p.status is PostStatus.PUBLISHING]
        assert (len(sent), len(left)) == (4, 1)
        assert left[0].next_attempt_at == turn and not left[0].msg_id
        assert len((await rig.sim_state())["mass_sends"]) == 4

        clock.now = turn
        await rig.drive(worker, until=turn + timedelta(minutes=5))
        assert (await rig.get(left[0].id)).status is PostStatus.PUBLISHED
        assert len((await rig.sim_state())["mass_sends"]) == 5
        async with rig.engine.connect() as conn:
            entries = await log_store.list_entries(conn, post_ids=[left[0].id])
        assert any("mass-send allowance used" in e.detail for e in entries)
