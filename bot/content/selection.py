"""Which catalogue resources a column features next: a pure function of what was featured when.

The rule: resources never featured come first, then the least recently featured; a resource
featured within the cooldown is not offered again yet. Ties are broken by id, so the same
inputs always give the same choice. When the cooldown leaves fewer eligible resources than
asked for, fewer are returned (possibly none): the caller decides whether to skip the slot or
to say that the catalogue has run dry, rather than this function quietly repeating itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.domain.models import Resource


def choose_resources(
    candidates: Sequence[Resource],
    *,
    kinds: Sequence[str],
    last_featured: Mapping[str, datetime],
    now: datetime,
    cooldown_days: int,
    count: int,
) -> list[Resource]:
    """Up to ``count`` resources of ``kinds`` (every kind when empty) to feature at ``now``.

    ``last_featured`` maps a resource id to when it was last featured (aware datetimes); a
    resource featured less than ``cooldown_days`` days before ``now`` is skipped, one featured
    exactly that long ago is eligible again. A candidate id that appears twice counts once.
    Raises ``ValueError`` for a negative ``count`` or ``cooldown_days`` or a naive ``now``.
    """
    if count < 0 or cooldown_days < 0:
        raise ValueError(f"count and cooldown_days must be >= 0, got {count}, {cooldown_days}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cooldown_start = now - timedelta(days=cooldown_days)
    eligible: dict[str, Resource] = {}
    for resource in candidates:
        if kinds and resource.kind not in kinds:
            continue
        featured = last_featured.get(resource.id)
        if featured is not None and cooldown_days and featured > cooldown_start:
            continue
        eligible.setdefault(resource.id, resource)

    def order(resource: Resource) -> tuple[bool, datetime, str]:
        featured = last_featured.get(resource.id)
        # Never featured sorts first; the placeholder time only matters among those.
        return (featured is not None, featured or now, resource.id)

    return sorted(eligible.values(), key=order)[:count]


def group_into_articles(
    resources: Sequence[Resource], *, articles: int, per_article: int
) -> list[list[Resource]]:
    """Deal ``resources`` (in order) into at most ``articles`` articles of a post, at least
    ``per_article`` to an article: three resources for a column of three articles of one
    resource each make three articles; with one article per post, one article features them
    all. Raises ``ValueError`` when ``articles`` or ``per_article`` is below 1."""
    if articles < 1 or per_article < 1:
        raise ValueError(f"articles and per_article must be >= 1, got {articles}, {per_article}")
    size = max(per_article, -(-len(resources) // articles))
    return [list(resources[i : i + size]) for i in range(0, len(resources), size)]
