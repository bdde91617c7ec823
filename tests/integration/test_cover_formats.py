"""Covers in formats the platform refuses (40005) are converted before they are uploaded;
a cover that is not an image fails the post naming the cover, without a call."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from bot.domain.models import PostStatus
from tests.integration.publish_harness import publish_rig
from tests.integration.test_publishing import publish_all, published_counts


def _image(path: Path, fmt: str, size: tuple[int, int] = (900, 383)) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", size, (176, 32, 36)).save(buffer, fmt)
    path.write_bytes(buffer.getvalue())
    return path


async def test_a_webp_cover_named_jpg_is_converted_and_published(
    sqlite_url: str, tmp_path: Path
) -> None:
    cover = _image(tmp_path / "cover.jpg", "WEBP")  # WebP inside, as the field report made it
    async with publish_rig(sqlite_url, cover) as rig:
        post = await rig.add_post("封面测试")
        await publish_all(rig)
        assert (await rig.get(post.id)).status is PostStatus.PUBLISHED
        state = await rig.sim_state()
        assert published_counts(state)["封面测试"] == 1
        assert {m["format"] for m in state["materials"]} == {"jpeg"}


async def test_a_webp_cover_is_converted_and_a_png_is_kept(sqlite_url: str, tmp_path: Path) -> None:
    async with publish_rig(sqlite_url, _image(tmp_path / "c.webp", "WEBP")) as rig:
        await rig.add_post("WebP 封面")
        await publish_all(rig)
        assert {m["format"] for m in (await rig.sim_state())["materials"]} == {"jpeg"}
    async with publish_rig(sqlite_url, _image(tmp_path / "c.png", "PNG")) as rig:
        await rig.add_post("PNG 封面")
        await publish_all(rig)
        assert {m["format"] for m in (await rig.sim_state())["materials"]} == {"png"}


async def test_a_cover_that_is_not_an_image_fails_naming_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"<html>not an image</html>")
    async with publish_rig(sqlite_url, cover) as rig:
        post = await rig.add_post("坏封面")
        await publish_all(rig)
        failed = await rig.get(post.id)
        assert failed.status is PostStatus.FAILED
        assert "cover" in failed.error and "cover.jpg" in failed.error
        assert "image" in failed.error
        assert (await rig.sim_state())["call_counts"].get("material/add_material", 0) == 0
