"""What reconciliation concludes from what the platform shows (bot.engine.reconcile): the
verdict for each kind of evidence, when it looks again, and where a list item keeps its
time."""

from __future__ import annotations

import itertools

import pytest

from bot.engine.reconcile import (
    ATTENTION,
    MAX_RECHECK_SECONDS,
    PUBLISHED,
    RESUBMIT,
    WAIT,
    Evidence,
    recheck_seconds,
    update_time,
)

WINDOW = 21600.0


@pytest.mark.parametrize(
    ("age", "article_id", "draft", "verdict"),
    [
        (5, "a1", "not checked", PUBLISHED),  # listed: published, whatever the age
        (WINDOW + 1, "a1", "gone", PUBLISHED),
        (5, "", "not checked", WAIT),  # the job may still run
        (WINDOW - 1, "", "present", WAIT),  # a draft in the box proves nothing yet
        (WINDOW, "", "present", RESUBMIT),  # no job runs this long: it was never submitted
        (WINDOW, "", "gone", ATTENTION),  # gone, not listed: a person decides
        (WINDOW, "", "not checked", ATTENTION),
    ],
)
def test_the_verdict_for_each_kind_of_evidence(
    age: float, article_id: str, draft: str, verdict: str
) -> None:
    evidence = Evidence(age, WINDOW, article_id=article_id, listed_items=20, draft=draft)
    assert evidence.verdict() == verdict


def test_the_evidence_reads_as_one_line_for_the_person_who_decides() -> None:
    line = Evidence(21700, WINDOW, listed_items=60, draft="gone").describe()
    assert line == (
        "submit 21700s ago (window 21600s); not among the 60 newest published items; draft gone"
    )


def test_rechecks_grow_with_age_and_never_pass_the_window() -> None:
    ages = [0.0]
    while ages[-1] < WINDOW:
        ages.append(ages[-1] + recheck_seconds(ages[-1], WINDOW))
    assert ages[-1] == WINDOW  # the last look is when the draft box may speak
    assert len(ages) < 40  # of a freepublish/batchget budget of 100 a day
    gaps = [b - a for a, b in itertools.pairwise(ages)]
    assert max(gaps) <= MAX_RECHECK_SECONDS and gaps[0] == 60.0
    assert recheck_seconds(0, 1.0) == 1.0  # tests with a window of a second


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"update_time": 1634961672, "content": {}}, 1634961672),  # the docs
        ({"content": {"create_time": 1, "update_time": 1634961672}}, 1634961672),  # recorded
        ({"update_time": "1634961672"}, 1634961672),  # a number sent as a string
        ({"content": {"news_item": []}}, None),
        ({"update_time": "", "content": None}, None),
    ],
)
def test_a_list_items_time_is_read_wherever_it_sits(item: dict, expected: int | None) -> None:
    assert update_time(item) == expected
