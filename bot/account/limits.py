"""The platform's field limits for draft/add, in one place, and the cleaning every outgoing
text gets. Each account may set its own (``[accounts.limits]``); the defaults follow the
evidence in platform-fidelity.md §1 #3–#4, strictest where the sources disagree:

- author: 8 characters. The docs say 16; the MP console, a staff answer ("和公众号后台限制一致")
  and every field report say 8, answered with 45110. Refused.
- title: 32 characters (the docs) and 64 UTF-8 bytes (the console's 64, field reports of
  "64 字节 / ≈21 汉字"). Both refused: a title the platform refuses fails its post for good,
  one refused at drafting is fixed by the editor in a minute.
- digest: 120 characters (the console; the docs say 128). Refused.

Outgoing text never carries C0 control characters: the platform refuses the ``\\u000b``-style
escapes JSON must use for them (40033), or garbles them. Titles, authors and digests lose
them all; bodies keep tab, newline and carriage return.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_BODY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_FIELDS = ("title", "author", "digest", "content_source_url", "thumb_media_id")


@dataclass(frozen=True, slots=True)
class PlatformLimits:
    """What draft/add accepts per article; 0 for ``title_bytes`` means no byte limit."""

    author_chars: int = 8
    title_chars: int = 32
    title_bytes: int = 64
    digest_chars: int = 120

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def author_problem(self, author: str) -> str:
        """Why the platform would refuse ``author`` (45110), or ""."""
        if len(author) <= self.author_chars:
            return ""
        return (
            f"the author {author!r} has {len(author)} characters; the platform refuses more "
            f"than {self.author_chars} (errcode 45110)"
        )

    def title_problem(self, title: str) -> str:
        """Why the platform would refuse ``title`` (45003), or ""."""
        if len(title) > self.title_chars:
            return (
                f"the title has {len(title)} characters; the platform refuses more than "
                f"{self.title_chars} (errcode 45003)"
            )
        size = len(title.encode("utf-8"))
        if self.title_bytes and size > self.title_bytes:
            return (
                f"the title is {size} UTF-8 bytes (a Chinese character is 3); the platform "
                f"refuses more than {self.title_bytes} (errcode 45003)"
            )
        return ""

    def digest_problem(self, digest: str) -> str:
        """Why the platform would refuse ``digest`` (45004), or ""."""
        if len(digest) <= self.digest_chars:
            return ""
        return (
            f"the digest has {len(digest)} characters; the platform refuses more than "
            f"{self.digest_chars} (errcode 45004)"
        )


DEFAULT_LIMITS = PlatformLimits()


def clean_line(text: str) -> str:
    """``text`` without C0 control characters (or DEL): what a title, author or digest is
    sent as."""
    return _CONTROL.sub("", text)


def clean_body(html: str) -> str:
    """An article body without C0 control characters other than tab, newline and return."""
    return _CONTROL_IN_BODY.sub("", html)


def outgoing_article(article: Mapping[str, Any]) -> dict[str, Any]:
    """The article as sent: its text fields without control characters."""
    cleaned = dict(article)
    for name in _LINE_FIELDS:
        if isinstance(cleaned.get(name), str):
            cleaned[name] = clean_line(cleaned[name])
    if isinstance(cleaned.get("content"), str):
        cleaned["content"] = clean_body(cleaned["content"])
    return cleaned
