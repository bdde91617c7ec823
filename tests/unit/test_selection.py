"""Choosing what a column features next: order, cooldown, kinds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.content.selection import choose_resources, group_into_articles
from bot.domain.models import Resource

NOW = datetime(2024, 2, 4, 1, 0, tzinfo=UTC)


def res(id_: str, kind: str = "exhibit") -> Resource:
    return Resource(id=id_, kind=kind, title=id_)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def ids(resources: list[Resource]) -> list[str]:
    return [r.id for r in resources]


def choose(candidates: list[Resource], **overrides: object) -> list[str]:
    arguments: dict = {
        "kinds": (),
        "last_featured": {},
        "now": NOW,
        "cooldown_days": 30,
        "count": 10,
    }
    arguments.update(overrides)
    return ids(choose_resources(candidates, **arguments))


def test_never_featured_first_by_id_then_least_recently_featured() -> None:
    candidates = [res("d"), res("c"), res("b"), res("a"), res("e")]
    last = {"a": ago(40), "b": ago(90), "e": ago(90)}
    assert choose(candidates, last_featured=last) == ["c", "d", "b", "e", "a"]


def test_count_limits_the_choice() -> None:
    candidates = [res("b"), res("a"), res("c")]
    assert choose(candidates, count=2) == ["a", "b"]
    assert choose(candidates, count=0) == []


def test_featured_within_the_cooldown_is_skipped() -> None:
    candidates = [res("a"), res("b"), res("c")]
    last = {"a": ago(29.9), "b": ago(30), "c": ago(31)}
    # exactly cooldown_days ago is eligible again; the older one goes first
    assert choose(candidates, last_featured=last) == ["c", "b"]


def test_returns_fewer_when_the_cooldown_leaves_too_few() -> None:
    candidates = [res("a"), res("b")]
    last = {"a": ago(1), "b": ago(2)}
    assert choose(candidates, last_featured=last, count=3) == []
    assert choose(candidates, last_featured={"a": ago(1)}, count=3) == ["b"]


def test_zero_cooldown_offers_everything_again() -> None:
    candidates = [res("a"), res("b")]
    last = {"a": ago(0), "b": ago(1)}
    assert choose(candidates, last_featured=last, cooldown_days=0) == ["b", "a"]


def test_kind_filter_and_empty_kinds_mean_all() -> None:
    candidates = [res("p1", "platform"), res("e1", "exhibit"), res("l1", "lesson")]
    assert choose(candidates, kinds=("platform", "lesson")) == ["l1", "p1"]
    assert choose(candidates, kinds=()) == ["e1", "l1", "p1"]
    assert choose(candidates, kinds=("course",)) == []


def test_order_does_not_depend_on_input_order() -> None:
    candidates = [res(f"r{i:02d}") for i in range(30)]
    last = {f"r{i:02d}": ago(40 + i % 5) for i in range(0, 30, 2)}
    expected = choose(candidates, last_featured=last, count=30)
    shuffled = candidates[:]
    random.Random(7).shuffle(shuffled)
    assert choose(shuffled, last_featured=last, count=30) == expected
    assert expected[:15] == [f"r{i:02d}" for i in range(1, 30, 2)]
    # among featured: oldest first (44 days ago: r04, r14, r24), ties by id
    assert expected[15:18] == ["r04", "r14", "r24"]


def test_duplicate_candidates_count_once() -> None:
    assert choose([res("a"), res("a"), res("b")], count=3) == ["a", "b"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"count": -1}, "count and cooldown_days must be >= 0"),
        ({"cooldown_days": -1}, "count and cooldown_days must be >= 0"),
        ({"now": datetime(2024, 2, 4)}, "now must be timezone-aware"),
    ],
)
def test_bad_arguments(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        choose([res("a")], **overrides)


@pytest.mark.parametrize(
    ("count", "articles", "per_article", "sizes"),
    [
        (3, 3, 1, [1, 1, 1]),  # three articles of one resource each
        (3, 1, 1, [3]),  # one article features every resource, as always
        (6, 3, 2, [2, 2, 2]),
        (2, 3, 1, [1, 1]),  # fewer left than articles: a shorter post
        (5, 3, 1, [2, 2, 1]),  # more named than articles: never more than ``articles``
        (0, 3, 1, []),
    ],
)
def test_resources_are_dealt_into_articles_in_order(
    count: int, articles: int, per_article: int, sizes: list[int]
) -> None:
    resources = [res(f"r{i}") for i in range(count)]
    groups = group_into_articles(resources, articles=articles, per_article=per_article)
    assert [len(g) for g in groups] == sizes
    assert [r for g in groups for r in g] == resources


def test_grouping_refuses_no_articles() -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        group_into_articles([res("a")], articles=0, per_article=1)
