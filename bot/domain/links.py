"""Which links point at the platform's own articles.

A link is taken for an article on mp.weixin.qq.com only when every reader of URLs agrees on its
host. Python's ``urlsplit`` reads ``https://evil.example\\@mp.weixin.qq.com/s/x`` as user
``evil.example\\`` at mp.weixin.qq.com, while a browser turns the backslash into a slash and
goes to evil.example (security review 3, S1): so a backslash, a user part, a port, white space
or a control character anywhere makes a link not the platform's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

PLATFORM_ARTICLE_HOST = "mp.weixin.qq.com"


def is_platform_article_url(url: str) -> bool:
    """``http(s)://mp.weixin.qq.com/…`` with nothing that different URL readers take
    differently (see the module's note)."""
    if not url or "\\" in url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme.lower() in ("http", "https")
        and parts.netloc.lower() == PLATFORM_ARTICLE_HOST
        and port is None
    )
