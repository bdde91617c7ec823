"""Properties of rendering for any catalogue text: no <style>, <script>, class, id or on*
attribute ever comes out, and after re-hosting every <img> points at a URL the upload
callable returned."""

from __future__ import annotations

import asyncio
import io
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.content.images import rehost_images
from bot.content.render import render_markdown, render_post
from bot.content.sanitize import will_be_rehosted
from bot.domain.models import Resource

PROJECT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

METACHARACTERS = [
    *"<>&\"'`*_[]()!#|~\\{}%=-+.:/;? \n\t\r",
    "<script>", "</script>", "<style>", "<img src=x onerror=alert(1)>", 'class="x"', "id=y",
    "javascript:", "data:image/png;base64,AAAA", "](", "![", "](javascript:alert(1))",
    "{{", "}}", "{%", "&lt;", "&#x3C;", "```", "    ", "\n\n", "- ", "1. ", "> ", "# ",
    "<https://a.example/x>", "https://mp.weixin.qq.com/s/x", "团", "學", "（", "）", "\u0000",
]  # fmt: skip
catalogue_text = st.lists(
    st.one_of(st.sampled_from(METACHARACTERS), st.text(max_size=6)), max_size=12
).map("".join)
urls = st.one_of(
    catalogue_text,
    st.builds("https://example.com/{}".format, catalogue_text),
    st.builds("https://mp.weixin.qq.com/s/{}".format, catalogue_text),
    st.sampled_from(
        [
            "",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "//evil.example/x.png",
            "file:///etc/passwd",
            "covers/封面 1.png",
            "http://169.254.169.254/latest/meta-data",
        ]
    ),
)
resources = st.builds(
    Resource,
    id=st.just("r1"),
    kind=st.sampled_from(["platform", "exhibit", "course", "lesson", "article", "other"]),
    title=catalogue_text.map(lambda text: ("题" + text)[:32]),  # a title the platform takes
    summary=catalogue_text,
    url=urls,
    cover=urls,
    tags=st.lists(catalogue_text, max_size=3).map(tuple),
)


class Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.images: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        if tag == "img":
            self.images.append(dict(attrs).get("src"))


def inspect(html: str) -> Inspector:
    inspector = Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


def assert_platform_safe(html: str) -> Inspector:
    found = inspect(html)
    assert not {"style", "script"} & set(found.tags), html
    assert not [a for a in found.attributes if a in ("class", "id") or a.startswith("on")], html
    lowered = html.lower()
    assert "<script" not in lowered and "<style" not in lowered
    return found


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2)).save(out, format="PNG")
    return out.getvalue()


PNG = tiny_png()


async def rehost(html: str) -> tuple[str, set[str]]:
    returned: set[str] = set()

    async def upload(data: bytes, name: str) -> str:
        url = f"http://mmbiz.qpic.cn/mmbiz_png/test{len(returned)}/0?wx_fmt=png"
        returned.add(url)
        return url

    async def load(ref: str) -> bytes:
        return PNG

    return await rehost_images(html, upload=upload, load=load), returned


@SETTINGS
@given(resource=resources, column_name=catalogue_text)
def test_any_catalogue_text_renders_platform_safe_html(
    resource: Resource, column_name: str
) -> None:
    context = {
        "column": {"name": column_name, "author": ""},
        "resource": resource,
        "resources": [resource],
        "now": None,
    }
    post = render_post("posts/default.md.j2", templates_dir=PROJECT_TEMPLATES, context=context)
    rendered = assert_platform_safe(post.html)
    assert all(src is not None and will_be_rehosted(src) for src in rendered.images)
    assert len(rendered.images) <= 1  # catalogue text adds no image; only the cover can
    final, returned = asyncio.run(rehost(post.html))
    after = assert_platform_safe(final)
    assert all(src in returned for src in after.images)


@SETTINGS
@given(markdown=catalogue_text)
def test_any_edited_markdown_renders_platform_safe_html(markdown: str) -> None:
    html = render_markdown(markdown)
    rendered = assert_platform_safe(html)
    assert all(src is not None and will_be_rehosted(src) for src in rendered.images)
    final, returned = asyncio.run(rehost(html))
    assert all(src in returned for src in assert_platform_safe(final).images)


@SETTINGS
@given(
    after=catalogue_text,
    alt=st.from_regex(r"[a-z0-9 ]{0,12}", fullmatch=True),
    name=st.from_regex(r"[a-z]{1,12}", fullmatch=True),
)
def test_edited_markdown_with_an_image_has_every_image_rehosted(
    after: str, alt: str, name: str
) -> None:
    """The two tests above hold vacuously when an example has no image (most do): here every
    example starts with one (any catalogue text after it), so "every image was re-hosted" is
    checked on real images."""
    markdown = f"![{alt}](https://example.org/{name}.png)\n\n{after}\n"
    final, returned = asyncio.run(rehost(render_markdown(markdown)))
    images = assert_platform_safe(final).images
    assert images, final
    assert returned and all(src in returned for src in images)
