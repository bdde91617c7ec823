"""The generated cover images: format, size, determinism, and the committed files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from bot.content import covers
from bot.domain.models import BUILTIN_KINDS


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


def test_render_cover_is_a_small_jpeg_of_the_platform_ratio() -> None:
    data = covers.render_cover("EXHIBIT", covers.kind_colour("exhibit"))
    image = open_jpeg(data)
    assert image.size == covers.COVER_SIZE == (900, 383)
    assert image.mode == "RGB"
    assert len(data) < covers.MAX_COVER_BYTES
    # the band is the kind's colour, the label white
    r, g, b = image.getpixel((5, 5))  # type: ignore[misc]
    assert max(abs(r - 150), abs(g - 84), abs(b - 28)) <= 4
    low, high = image.convert("L").getextrema()
    assert isinstance(high, int)
    assert high >= 250 > low


def test_render_cover_is_deterministic() -> None:
    first = covers.render_cover("LESSON", (36, 124, 74))
    assert covers.render_cover("LESSON", (36, 124, 74)) == first
    assert covers.render_cover("COURSE", (36, 124, 74)) != first


@pytest.mark.parametrize("label", ["展馆", "", "TAB\tBED"])
def test_render_cover_refuses_labels_the_builtin_font_cannot_draw(label: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII"):
        covers.render_cover(label, (0, 0, 0))


def test_unknown_kind_gets_a_fallback_colour() -> None:
    assert covers.kind_colour("video") not in covers.KIND_COLOURS.values()
    assert covers.kind_colour("platform") == covers.KIND_COLOURS["platform"]


def test_write_sample_covers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    covers.main([str(tmp_path)])
    names = sorted(p.name for p in tmp_path.iterdir())
    expected = sorted([*(covers.kind_cover_name(k) for k in BUILTIN_KINDS), "default-cover.jpg"])
    assert names == expected
    assert capsys.readouterr().out.count("bytes)") == len(expected)


@pytest.mark.parametrize("kind", [*BUILTIN_KINDS, None])
def test_committed_covers_match_what_the_generator_draws(tmp_path: Path, kind: str | None) -> None:
    if kind is None:
        committed = covers.default_cover_path()
        fresh = covers.render_cover(covers.DEFAULT_LABEL, covers.DEFAULT_COLOUR)
    else:
        committed = covers.SAMPLE_DIR / covers.kind_cover_name(kind)
        fresh = covers.render_cover(kind.upper(), covers.kind_colour(kind))
    data = committed.read_bytes()
    assert len(data) < covers.MAX_COVER_BYTES
    old, new = open_jpeg(data), open_jpeg(fresh)
    assert old.size == new.size == covers.COVER_SIZE
    # Identical with the same Pillow/libjpeg; another encoder may differ by rounding only.
    difference = ImageStat.Stat(ImageChops.difference(old.convert("RGB"), new.convert("RGB")))
    assert max(difference.mean) < 1.0
