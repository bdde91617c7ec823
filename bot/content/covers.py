"""Generating the project's small cover images with Pillow, deterministically.

The sample catalogue's covers (one per kind) and the default cover a column uses when it has
none are plain colour bands with an ASCII label, drawn with Pillow's built-in font so that no
CJK font needs to be installed. They are generated once and committed; regenerate them with
``python -m bot.content.covers [DIRECTORY]``. WeChat wants a cover of 2.35:1 and a thumbnail
under 64 KB, so each is a 900x383 baseline JPEG of a few kilobytes.
"""

from __future__ import annotations

import base64
import io
import sys
from collections.abc import Iterable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from bot.content.sample import DEFAULT_COVER, SAMPLE_DIR
from bot.domain.errors import ContentRejectedError
from bot.domain.models import BUILTIN_KINDS

COVER_SIZE = (900, 383)  # 2.35:1, the platform's cover ratio
MAX_COVER_BYTES = 64 * 1024  # the platform's limit for a thumbnail
JPEG_QUALITY = 85
DEFAULT_COVER_NAME = DEFAULT_COVER.name
DEFAULT_LABEL = "LEARNING"
DEFAULT_COLOUR = (176, 32, 36)  # League red

Colour = tuple[int, int, int]

KIND_COLOURS: dict[str, Colour] = {
    "platform": (176, 32, 36),
    "exhibit": (150, 84, 28),
    "course": (28, 94, 150),
    "lesson": (36, 124, 74),
    "article": (90, 64, 140),
}
_FALLBACK_COLOUR = (96, 96, 96)  # kinds a configuration adds


def default_cover_path() -> Path:
    """The cover the project uses for a column that names none."""
    return DEFAULT_COVER


def kind_cover_name(kind: str) -> str:
    """File name of the sample cover for ``kind`` (``cover-exhibit.jpg``)."""
    return f"cover-{kind}.jpg"


def kind_colour(kind: str) -> Colour:
    return KIND_COLOURS.get(kind, _FALLBACK_COLOUR)


def render_cover(label: str, colour: Colour, *, size: tuple[int, int] = COVER_SIZE) -> bytes:
    """A JPEG: a band of ``colour`` with ``label`` centred on it in white.

    Same arguments, same Pillow: same bytes (no timestamps, no randomness).
    Raises ``ValueError`` for a label that is not printable ASCII, which the built-in font
    cannot draw.
    """
    if not label or not label.isascii() or not label.isprintable():
        raise ValueError(f"cover label must be printable ASCII, got {label!r}")
    width, height = size
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    # A lighter stripe across the lower third gives the band some structure.
    stripe = tuple(min(255, c + 40) for c in colour)
    draw.rectangle((0, height * 2 // 3, width, height), fill=stripe)
    draw.rectangle((0, height * 2 // 3 - 4, width, height * 2 // 3), fill=(255, 255, 255))
    font = ImageFont.load_default(size=height // 4)
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    origin = ((width - (right - left)) // 2 - left, (height * 2 // 3 - (bottom - top)) // 2 - top)
    draw.text(origin, label, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, subsampling=2)
    return out.getvalue()


def thumbnail_data_uri(data: bytes, size: tuple[int, int]) -> str:
    """The image cropped to fill ``size`` (width, height in pixels) as a small JPEG data URI,
    for the list view a push shows on a phone (the preview page allows no other origin).
    Raises ``ValueError`` when the bytes are not an image the service reads (the checks of
    ``bot.content.images.open_image``)."""
    from bot.content.images import open_image

    try:
        source = open_image(data, fill=size)
    except ContentRejectedError as exc:
        raise ValueError(f"not an image: {exc}") from None
    image = ImageOps.fit(source.convert("RGB"), size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def write_sample_covers(directory: Path, kinds: Iterable[str] = BUILTIN_KINDS) -> list[Path]:
    """Writes ``cover-<kind>.jpg`` for each kind and the default cover; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    covers = [(kind_cover_name(k), k.upper(), kind_colour(k)) for k in kinds]
    covers.append((DEFAULT_COVER_NAME, DEFAULT_LABEL, DEFAULT_COLOUR))
    written = []
    for name, label, colour in covers:
        path = directory / name
        path.write_bytes(render_cover(label, colour))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for path in write_sample_covers(Path(args[0]) if args else SAMPLE_DIR):
        print(f"{path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
