"""Post statuses: the one table of legal transitions."""

from __future__ import annotations

import pytest

from bot.domain.models import TRANSITIONS, PostStatus, can_transition


def test_published_and_cancelled_are_final() -> None:
    assert TRANSITIONS[PostStatus.PUBLISHED] == frozenset()
    assert TRANSITIONS[PostStatus.CANCELLED] == frozenset()


@pytest.mark.parametrize(
    "status", [PostStatus.DRAFT, PostStatus.REVIEW, PostStatus.QUEUED, PostStatus.FAILED]
)
def test_cancel_is_possible_before_publishing(status: PostStatus) -> None:
    assert can_transition(status, PostStatus.CANCELLED)


def test_publishing_cannot_be_cancelled_or_skipped() -> None:
    assert not can_transition(PostStatus.PUBLISHING, PostStatus.CANCELLED)
    assert not can_transition(PostStatus.QUEUED, PostStatus.PUBLISHED)
    assert not can_transition(PostStatus.DRAFT, PostStatus.PUBLISHING)


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(PostStatus)
