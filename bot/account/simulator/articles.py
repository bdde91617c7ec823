"""Draft articles as the platform checks and stores them (wechat-api.md §3.1): field limits,
the permanent cover, scripts stripped, images not from uploadimg filtered out."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.account.simulator.errors import ApiFault

MAX_ARTICLES = 8
CONTENT_MAX_CHARS = 20_000  # content must be shorter than this
CONTENT_MAX_BYTES = 1024 * 1024
SOURCE_URL_MAX_BYTES = 1024
DIGEST_FROM_BODY = 54  # an empty digest takes this many characters of the body
NEWSPIC_MAX_IMAGES = 20

_SCRIPT = re.compile(r"<script\b.*?</script\s*>|<script\b[^>]*/?>", re.IGNORECASE | re.DOTALL)
_EVENT_ATTR = re.compile(r"""\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.IGNORECASE)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC = re.compile(r"""\b(?:data-)?src\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")

_TEXT_FIELDS = ("title", "author", "digest", "content", "content_source_url", "thumb_media_id")
_KEPT_FIELDS = ("need_open_comment", "only_fans_can_comment", "pic_crop_235_1", "pic_crop_1_1")


@dataclass(frozen=True, slots=True)
class Limits:
    """The field limits a draft meets (the simulator's variants choose them)."""

    title: int = 32  # characters
    title_bytes: int = 0  # UTF-8 bytes; 0 for no byte limit
    author: int = 16
    digest: int = 128


def _image_srcs(tag: str) -> list[str]:
    return [next(g for g in m.groups()[1:] if g is not None) for m in _SRC.finditer(tag)]


def clean_content(content: str, is_uploaded: Callable[[str], bool]) -> str:
    """What the platform keeps of ``content``: no scripts or event handlers (JS is stripped),
    and no <img> whose source did not come from media/uploadimg (external images are
    filtered)."""
    content = _SCRIPT.sub("", content)
    content = _TAG.sub(lambda tag: _EVENT_ATTR.sub("", tag.group(0)), content)

    def keep_image(match: re.Match[str]) -> str:
        srcs = _image_srcs(match.group(0))
        return match.group(0) if srcs and all(is_uploaded(s) for s in srcs) else ""

    return _IMG.sub(keep_image, content)


def _text(article: Mapping[str, Any], name: str) -> str:
    value = article.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiFault(47001, f"{name} must be a string")
    return value


def _check_lengths(fields: Mapping[str, str], limits: Limits) -> None:
    if not fields["title"].strip():
        raise ApiFault(44003, "title is empty")
    if not fields["content"].strip():
        raise ApiFault(44003, "content is empty")
    title = fields["title"]
    if len(title) > limits.title or (
        limits.title_bytes and len(title.encode("utf-8")) > limits.title_bytes
    ):
        raise ApiFault(45003)
    if len(fields["author"]) > limits.author:
        raise ApiFault(45110)
    if len(fields["digest"]) > limits.digest:
        raise ApiFault(45004)
    content = fields["content"]
    if len(content) >= CONTENT_MAX_CHARS or len(content.encode("utf-8")) >= CONTENT_MAX_BYTES:
        raise ApiFault(45002)
    if len(fields["content_source_url"].encode("utf-8")) > SOURCE_URL_MAX_BYTES:
        raise ApiFault(45005)


def _check_newspic(article: Mapping[str, Any], is_material: Callable[[str], bool]) -> None:
    info = article.get("image_info")
    images = info.get("image_list") if isinstance(info, Mapping) else None
    if not isinstance(images, list) or not images or len(images) > NEWSPIC_MAX_IMAGES:
        raise ApiFault(40007, "newspic needs image_info.image_list with 1 to 20 images")
    for image in images:
        media_id = image.get("image_media_id") if isinstance(image, Mapping) else None
        if not isinstance(media_id, str) or not is_material(media_id):
            raise ApiFault(40007, "image_media_id is not a permanent media id")


def check_article(
    article: object,
    *,
    is_material: Callable[[str], bool],
    is_uploaded: Callable[[str], bool],
    limits: Limits = Limits(),
) -> dict[str, Any]:
    """The article as stored, or ApiFault with the platform's errcode (44003 empty, 45003
    title, 45110 author, 45004 digest, 45002 content, 45005 source url, 40007 cover)."""
    if not isinstance(article, Mapping):
        raise ApiFault(44003, "each article must be an object")
    fields = {name: _text(article, name) for name in _TEXT_FIELDS}
    article_type = _text(article, "article_type") or "news"
    if article_type not in ("news", "newspic"):
        raise ApiFault(47001, "article_type must be news or newspic")
    _check_lengths(fields, limits)
    if article_type == "news" and not is_material(fields["thumb_media_id"]):
        # The cover must be a permanent media id (temporary media is refused too).
        raise ApiFault(40007)
    if article_type == "newspic":
        _check_newspic(article, is_material)
    stored: dict[str, Any] = {"article_type": article_type, **fields}
    stored["content"] = clean_content(fields["content"], is_uploaded)
    if not stored["digest"]:
        body_text = " ".join(_TAG.sub(" ", stored["content"]).split())
        stored["digest"] = body_text[:DIGEST_FROM_BODY]
    for name in _KEPT_FIELDS:
        stored[name] = article.get(name, 0 if name.endswith("comment") else "")
    stored["show_cover_pic"] = 0
    for name in ("image_info", "product_info"):
        if name in article:
            stored[name] = article[name]
    return stored


def check_articles(
    articles: object,
    *,
    is_material: Callable[[str], bool],
    is_uploaded: Callable[[str], bool],
    limits: Limits = Limits(),
) -> list[dict[str, Any]]:
    """draft/add's ``articles``: 44003 when missing or empty, 45008 beyond eight."""
    if not isinstance(articles, list) or not articles:
        raise ApiFault(44003)
    if len(articles) > MAX_ARTICLES:
        raise ApiFault(45008)
    return [
        check_article(a, is_material=is_material, is_uploaded=is_uploaded, limits=limits)
        for a in articles
    ]
