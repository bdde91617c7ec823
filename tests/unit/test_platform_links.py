"""Security review 3, S1: a link is the platform's article only when every URL reader agrees
(Python's urlsplit and a browser's WHATWG parser differ on backslashes and user parts)."""

from __future__ import annotations

import pytest

from bot.content.sanitize import is_weixin_link
from bot.domain.links import is_platform_article_url
from bot.engine.publishing import _event_settles
from bot.web.render import article_url


@pytest.mark.parametrize(
    "url",
    [
        "https://mp.weixin.qq.com/s/AbC123",
        "http://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1&sn=ab#rd",
        "HTTPS://MP.WEIXIN.QQ.COM/s/x",
    ],
)
def test_the_platforms_article_links_are_taken(url: str) -> None:
    assert is_platform_article_url(url)
    assert article_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example\\@mp.weixin.qq.com/s/x",  # the review's: a browser goes to evil
        "https://evil.example@mp.weixin.qq.com/s/x",
        "https://mp.weixin.qq.com\\@evil.example/s/x",
        "https://mp.weixin.qq.com:8443/s/x",
        "https://mp.weixin.qq.com.evil.example/s/x",
        "https://mp.weixin.qq.com /s/x",
        "https://mp.weixin.qq.com/s/x\n",
        "https://mp.weixin.qq.com\t/s/x",
        "javascript://mp.weixin.qq.com/%0aalert(1)",
        "//mp.weixin.qq.com/s/x",
        "https://[::1]/s/x",
        "",
    ],
)
def test_links_a_browser_could_read_otherwise_are_not(url: str) -> None:
    assert not is_platform_article_url(url)
    assert article_url(url) == "#"
    if url == url.strip():  # an href's outer white space is dropped by every reader
        assert not is_weixin_link(url)


def test_a_pushed_success_with_such_a_link_is_confirmed_with_the_platform_first() -> None:
    def event(url: str) -> dict[str, object]:
        return {"publish_status": 0, "article_detail": {"item": [{"idx": 1, "article_url": url}]}}

    assert _event_settles(event("https://mp.weixin.qq.com/s/ok"))
    assert not _event_settles(event("https://evil.example\\@mp.weixin.qq.com/s/x"))
