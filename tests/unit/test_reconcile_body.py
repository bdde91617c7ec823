"""Reconciliation compares bodies as the platform keeps them (bot.engine.reconcile): markup,
entities, white space and control characters the platform rewrites do not matter, the text
does; an article another post in flight may own proves nothing for this one."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.models import Article
from bot.engine.reconcile import ATTENTION, WAIT, Evidence, body_text, same_article

WINDOW = 21600.0
SENT = '<p style="color:red">第一段&nbsp;文字</p>\n<script>alert(1)</script><p>二 &amp; 三</p>'


def _news(content: Any) -> dict[str, Any]:
    return {
        "title": "每周课程",
        "author": "团区委",
        "digest": "摘要",
        "content_source_url": "https://www.xuexi.cn/",
        "content": content,
    }


def _article(content_html: str) -> Article:
    return Article(
        title="每周课程",
        author="团区委",
        digest="摘要",
        content_html=content_html,
        content_source_url="https://www.xuexi.cn/",
    )


@pytest.mark.parametrize(
    "kept",
    [
        SENT,
        "<p>第一段\u00a0文字</p><p>二 &amp; 三</p>",  # script stripped, entity decoded
        "<section><span>第一段 文字</span></section>\n<p>二 & 三</p>",  # markup rewritten
        "<p>第一段\x0c文字</p><p>二 &#38; 三</p>",  # a control character dropped
    ],
)
def test_a_body_as_the_platform_keeps_it_matches_what_was_sent(kept: str) -> None:
    assert body_text(kept) == body_text(SENT)
    assert same_article(_news(kept), _article(SENT))


@pytest.mark.parametrize("kept", ["<p>第一段文字</p><p>二 & 四</p>", "<p>另一周的正文</p>", ""])
def test_another_body_is_another_article(kept: str) -> None:
    assert not same_article(_news(kept), _article(SENT))


def test_a_listing_without_the_body_proves_nothing() -> None:
    news = _news(None)
    del news["content"]
    assert not same_article(news, _article(SENT))


@pytest.mark.parametrize(("age", "verdict"), [(5, WAIT), (WINDOW, ATTENTION)])
def test_a_contested_article_never_publishes_the_post(age: float, verdict: str) -> None:
    evidence = Evidence(age, WINDOW, listed_items=20, contested="a1")
    assert evidence.verdict() == verdict
    assert "a1" in evidence.describe() and "another post" in evidence.describe()
