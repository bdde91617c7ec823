"""Images without the network: the address filter, conversion, cover crops, re-hosting."""

from __future__ import annotations

import io
import ipaddress
import os
from typing import Any, cast

import aiohttp
import pytest
from PIL import Image, PngImagePlugin

from bot.content.images import (
    BODY_IMAGE_BYTES,
    KEPT_COVER_BYTES,
    KEPT_COVER_SIDE,
    THUMB_BYTES,
    cover_crops,
    fetch_host,
    fetch_image,
    is_public_address,
    kept_cover,
    prepare_cover,
    prepare_image,
    rehost_images,
)
from bot.content.sanitize import start_tags
from bot.domain.errors import ContentRejectedError


def png(size: tuple[int, int] = (40, 30), mode: str = "RGB", colour: Any = (200, 30, 40)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG")
    return out.getvalue()


def noisy(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    """Random pixels: compresses badly, so size limits bite."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def jpeg_with_exif(size: tuple[int, int] = (60, 20), orientation: int = 6) -> bytes:
    image = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation: rotate 90° when shown
    exif[0x010F] = "SecretCam"  # Make
    exif[0x9003] = "2024:02:04 09:55:02"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


# --- the address filter -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "127.8.8.8", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1",
        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
        "2002:a00:1::",  # 6to4 around 10.0.0.1
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is True


class NoNetworkSession:
    """Stands in for aiohttp's session: any request is a test failure."""

    def get(self, *args: object, **kwargs: object) -> None:
        raise AssertionError(f"a request was sent: {args} {kwargs}")


def resolver_for(table: dict[str, list[str]]) -> Any:
    calls: list[str] = []

    async def resolve(host: str) -> list[str]:
        calls.append(host)
        if host not in table:
            raise OSError("no such host")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


async def refused(url: str, resolver: Any) -> str:
    session = cast(aiohttp.ClientSession, NoNetworkSession())
    with pytest.raises(ContentRejectedError) as caught:
        await fetch_image(url, session=session, resolver=resolver)
    return str(caught.value)


async def test_a_name_that_resolves_to_a_private_address_is_refused_before_connecting() -> None:
    resolver = resolver_for({"intranet.example.com": ["10.0.0.5"]})
    message = await refused("http://intranet.example.com/logo.png", resolver)
    assert "non-public address (10.0.0.5)" in message
    assert resolver.calls == ["intranet.example.com"]


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    resolver = resolver_for({"mixed.example.com": ["93.184.216.34", "192.168.0.10"]})
    assert "192.168.0.10" in await refused("https://mixed.example.com/a.png", resolver)


@pytest.mark.parametrize(
    ("url", "asked"),
    [
        ("http://169.254.169.254/latest/meta-data/", []),
        ("http://127.0.0.1:8080/admin", []),
        ("http://[::1]/x.png", []),
        ("http://[::ffff:10.0.0.1]/x.png", []),
        # Not an address literal to Python, so it is looked up (the C resolver reads it as
        # 127.0.0.1) and refused for what it resolves to.
        ("http://0x7f.0.0.1/x.png", ["0x7f.0.0.1"]),
    ],
)
async def test_address_literals_are_checked_without_asking_the_resolver(
    url: str, asked: list[str]
) -> None:
    resolver = resolver_for({"0x7f.0.0.1": ["127.0.0.1"]})
    message = await refused(url, resolver)
    assert "non-public address" in message, message
    assert resolver.calls == asked


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("ftp://images.example.com/a.png", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@images.example.com/a.png", "credentials"),
        ("http://nowhere.example.com/a.png", "cannot be resolved"),
        ("not a url", "only http and https"),
    ],
)
async def test_other_urls_are_refused(url: str, complaint: str) -> None:
    assert complaint in await refused(url, resolver_for({}))


# The spellings of a local host security review 6 (M1) imported, then saw refused at every
# draft: the host the fetcher looks up is the normalised one, and the catalogue judges that.
REVIEW_6_SPELLINGS = [
    ("http://１２７.0.0.1/x.png", "127.0.0.1"),  # fullwidth digits
    ("http://127。0。0。1/x.png", "127.0.0.1"),  # ideographic full stops
    ("http://①②⑦.0.0.1/x.png", "127.0.0.1"),  # circled digits
    ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/x.png", "localhost"),  # circled letters
]


@pytest.mark.parametrize(("url", "host"), REVIEW_6_SPELLINGS)
async def test_the_fetcher_looks_up_the_normalised_host_fetch_host_names(
    url: str, host: str
) -> None:
    assert fetch_host(url) == host
    resolver = resolver_for({"localhost": ["127.0.0.1"]})
    assert "non-public address (127.0.0.1)" in await refused(url, resolver)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://例子.中国/x.png", "例子.中国"),
        ("https://ｅｘａｍｐｌｅ.com/x.png", "example.com"),
        ("HTTPS://Img.Example.org:8443/x.png", "img.example.org"),
        ("http://[::1]/x.png", "::1"),
    ],
)
def test_fetch_host_is_the_host_as_the_fetcher_reads_it(url: str, host: str) -> None:
    assert fetch_host(url) == host


@pytest.mark.parametrize(
    "url",
    [
        "http://%31%32%37.0.0.1/x.png",
        "http://user:secret@images.example.com/a.png",
        "ftp://images.example.com/a.png",
        "http://[zz]/x.png",
        "http:///x.png",
    ],
)
async def test_fetch_host_is_none_for_what_the_fetcher_refuses_before_a_lookup(url: str) -> None:
    assert fetch_host(url) is None
    resolver = resolver_for({})
    await refused(url, resolver)
    assert resolver.calls == []


async def test_a_host_with_a_percent_escape_is_refused_not_looked_up() -> None:
    resolver = resolver_for({"%31%32%37.0.0.1": ["127.0.0.1"]})
    message = await refused("http://%31%32%37.0.0.1/x.png", resolver)
    assert "percent-escape" in message
    assert resolver.calls == []


async def test_a_resolver_with_no_answer_is_refused() -> None:
    assert "no address" in await refused(
        "http://empty.example.com/", resolver_for({"empty.example.com": []})
    )


# --- conversion -------------------------------------------------------------------------------


def test_a_small_png_stays_png() -> None:
    data, fmt = prepare_image(png(), max_bytes=BODY_IMAGE_BYTES)
    assert fmt == "png"
    assert Image.open(io.BytesIO(data)).size == (40, 30)


def test_transparency_stays_png_and_a_jpeg_only_target_flattens_it() -> None:
    source = png(mode="RGBA", colour=(0, 0, 0, 0))
    data, fmt = prepare_image(source, max_bytes=BODY_IMAGE_BYTES)
    assert fmt == "png" and Image.open(io.BytesIO(data)).mode == "RGBA"
    data, fmt = prepare_image(source, max_bytes=BODY_IMAGE_BYTES, formats=("jpeg",))
    flat = Image.open(io.BytesIO(data))
    assert fmt == "jpeg" and flat.format == "JPEG"
    assert flat.convert("RGB").getpixel((5, 5)) == (255, 255, 255)


def test_a_large_image_is_recompressed_and_downscaled_under_the_limit() -> None:
    source = noisy((900, 700))
    assert len(source) > 1_500_000
    data, fmt = prepare_image(source, max_bytes=BODY_IMAGE_BYTES)
    assert len(data) <= BODY_IMAGE_BYTES
    assert fmt == "jpeg"  # noise does not fit as PNG
    data, fmt = prepare_image(source, max_bytes=30_000)
    image = Image.open(io.BytesIO(data))
    assert len(data) <= 30_000 and image.width < 900


def test_exif_is_applied_then_stripped() -> None:
    data, fmt = prepare_image(jpeg_with_exif(), max_bytes=BODY_IMAGE_BYTES)
    image = Image.open(io.BytesIO(data))
    assert fmt == "jpeg"
    assert image.size == (20, 60)  # turned upright by the orientation tag
    assert dict(image.getexif()) == {}
    assert b"SecretCam" not in data and b"Exif" not in data


def test_png_text_chunks_are_not_carried_over() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "internal path /home/editor/secret")
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="PNG", pnginfo=info)
    data, _ = prepare_image(out.getvalue(), max_bytes=BODY_IMAGE_BYTES)
    assert b"secret" not in data


def test_not_an_image_is_refused() -> None:
    with pytest.raises(ContentRejectedError, match="not a readable image"):
        prepare_image(b"<html>oops</html>", max_bytes=BODY_IMAGE_BYTES)


def test_too_many_pixels_are_refused_before_decoding() -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 7000)).save(out, format="PNG")
    with pytest.raises(ContentRejectedError, match="pixels"):
        prepare_image(out.getvalue(), max_bytes=BODY_IMAGE_BYTES)


def test_a_png_only_target_that_cannot_fit_is_refused() -> None:
    with pytest.raises(ContentRejectedError, match="smaller"):
        prepare_image(noisy((64, 64)), max_bytes=100, formats=("png",))


def test_thumb_covers_are_jpeg_within_64_kb_and_900_px() -> None:
    data = prepare_cover(noisy((1600, 680), "JPEG"))
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and len(data) <= THUMB_BYTES
    assert max(image.size) <= 900


def test_image_covers_are_jpeg_and_keep_their_size() -> None:
    data = prepare_cover(png((1000, 425)), kind="image")
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (1000, 425)


def test_a_kept_cover_within_the_limits_is_kept_as_it_is() -> None:
    small = png((900, 383))
    assert kept_cover(small) == small


def test_a_kept_cover_padded_with_junk_costs_what_the_picture_is_worth() -> None:
    """Security re-check 10, M1: a 2 KB PNG padded to 5 MB passed the header check and was
    kept as 5 MB. It is re-encoded: the copy is the picture, not what the server sent."""
    padded = png((240, 102)) + os.urandom(5 * 1024 * 1024)
    kept = kept_cover(padded)
    assert len(kept) < 100 * 1024
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG" and image.size == (240, 102)


def test_a_large_kept_cover_is_made_a_jpeg_within_both_limits() -> None:
    kept = kept_cover(noisy((3000, 1277), "PNG"))
    image = Image.open(io.BytesIO(kept))
    assert image.format == "JPEG" and len(kept) <= KEPT_COVER_BYTES
    assert max(image.size) <= KEPT_COVER_SIDE


def test_a_kept_cover_that_is_no_image_is_refused() -> None:
    with pytest.raises(ContentRejectedError):
        kept_cover(b"<html>moved</html>")


# --- cover crops ------------------------------------------------------------------------------


def crop_box(text: str) -> list[float]:
    parts = text.split("_")
    assert len(parts) == 4
    for part in parts:
        assert len(part.partition(".")[2]) <= 6
    return [float(part) for part in parts]


@pytest.mark.parametrize("size", [(900, 383), (1000, 1000), (3000, 500), (383, 900), (1, 1)])
def test_cover_crops_are_centred_with_the_right_ratios(size: tuple[int, int]) -> None:
    width, height = size
    crops = cover_crops(width, height)
    for key, ratio in (("pic_crop_235_1", 2.35), ("pic_crop_1_1", 1.0)):
        x1, y1, x2, y2 = crop_box(crops[key])
        assert 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
        assert abs(((x2 - x1) * width) / ((y2 - y1) * height) - ratio) < 0.01
        assert abs((x1 + x2) / 2 - 0.5) < 1e-6 and abs((y1 + y2) / 2 - 0.5) < 1e-6
        assert min(x1, y1) == 0 and max(x2, y2) == 1  # as large as the image allows


def test_cover_crops_examples() -> None:
    assert cover_crops(1000, 1000) == {
        "pic_crop_235_1": "0_0.287234_1_0.712766",
        "pic_crop_1_1": "0_0_1_1",
    }
    assert cover_crops(2350, 1000)["pic_crop_235_1"] == "0_0_1_1"


def test_cover_crops_refuse_an_empty_size() -> None:
    with pytest.raises(ContentRejectedError):
        cover_crops(0, 10)


# --- re-hosting -------------------------------------------------------------------------------


class Platform:
    def __init__(self) -> None:
        self.uploads: list[tuple[bytes, str]] = []
        self.loads: list[str] = []

    async def upload(self, data: bytes, name: str) -> str:
        self.uploads.append((data, name))
        return f"http://mmbiz.qpic.cn/mmbiz_png/test{len(self.uploads)}/0?wx_fmt=png&from=appmsg"

    async def load(self, ref: str) -> bytes:
        self.loads.append(ref)
        return png() if not ref.endswith(".txt") else b"not an image"


async def test_rehost_uploads_each_distinct_image_once_and_rewrites_src() -> None:
    platform = Platform()
    html = (
        '<p><img src="covers/%E5%B0%81%E9%9D%A2.png" alt="封面" style="max-width:100%">'
        '<img src="https://example.com/b.png"><img src="covers/%E5%B0%81%E9%9D%A2.png">'
        '<img src="https://mmbiz.qpic.cn/already/0"><img src="data:image/png;base64,AAAA"></p>'
    )
    out = await rehost_images(html, upload=platform.upload, load=platform.load)
    assert platform.loads == ["covers/封面.png", "https://example.com/b.png"]
    assert [name.rsplit(".", 1)[1] for _, name in platform.uploads] == ["png", "png"]
    assert all(name.startswith("image-") for _, name in platform.uploads)
    srcs = [attrs["src"] for tag, attrs, _ in start_tags(out) if tag == "img"]
    assert srcs == [
        "http://mmbiz.qpic.cn/mmbiz_png/test1/0?wx_fmt=png&from=appmsg",
        "http://mmbiz.qpic.cn/mmbiz_png/test2/0?wx_fmt=png&from=appmsg",
        "http://mmbiz.qpic.cn/mmbiz_png/test1/0?wx_fmt=png&from=appmsg",
        "https://mmbiz.qpic.cn/already/0",
    ]
    assert 'alt="封面" style="max-width:100%"' in out


async def test_rehost_names_the_image_that_is_not_an_image() -> None:
    platform = Platform()
    with pytest.raises(ContentRejectedError, match=r"image notes\.txt: not a readable image"):
        await rehost_images('<img src="notes.txt">', upload=platform.upload, load=platform.load)
    assert platform.uploads == []


async def test_rehost_without_images_changes_nothing() -> None:
    platform = Platform()
    html = '<section style="color:#333"><p>正文 &amp; <sup>[1]</sup></p></section>'
    assert await rehost_images(html, upload=platform.upload, load=platform.load) == html
    assert platform.loads == []


def scan_bomb(side: int, scans: int) -> bytes:
    """A progressive JPEG whose last scan (with the Huffman tables before it) is repeated until
    the file holds ``scans`` scans: libjpeg decodes every one, each walking the whole picture
    (security re-check 13: a 60 KB cover took 6 s, a 1 MB one 133 s)."""
    out = io.BytesIO()
    Image.effect_noise((side, side), 40).save(out, "JPEG", progressive=True, quality=30)
    data = out.getvalue()
    last = data.rindex(b"\xff\xda")
    tables = data.rfind(b"\xff\xc4", 0, last)
    start = tables if tables > data.rfind(b"\xff\xda", 0, last) else last
    have = data.count(b"\xff\xda")
    return data[:-2] + data[start:-2] * (scans - have) + b"\xff\xd9"


def test_a_jpeg_with_too_many_scans_is_refused_before_decoding() -> None:
    from bot.content.covers import thumbnail_data_uri
    from bot.content.images import MAX_JPEG_SCANS, decode_problem, image_problem, scan_problem

    bomb = scan_bomb(64, MAX_JPEG_SCANS + 1)
    assert "scans" in scan_problem(bomb)
    assert "scans" in image_problem(bomb)
    assert "scans" in decode_problem(bomb)
    with pytest.raises(ContentRejectedError, match="scans"):
        kept_cover(bomb)
    with pytest.raises(ValueError, match="scans"):
        thumbnail_data_uri(bomb, (56, 56))


def test_ordinary_progressive_jpegs_are_kept() -> None:
    out = io.BytesIO()
    Image.effect_noise((900, 383), 40).convert("RGB").save(
        out, "JPEG", progressive=True, quality=85
    )
    data = out.getvalue()
    assert 1 < data.count(b"\xff\xda") <= 12
    assert kept_cover(data) == data


def test_scans_times_pixels_have_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A big picture may have fewer scans than a small one: 12 for 50 MP, not 32."""
    from bot.content import images
    from bot.content.images import image_problem

    bomb = scan_bomb(64, 12)
    assert image_problem(bomb) == ""
    monkeypatch.setattr(images, "MAX_SCAN_WORK", 64 * 64 * 11)
    assert "too many to decode" in image_problem(bomb)
    with pytest.raises(ContentRejectedError, match="too many to decode"):
        kept_cover(bomb)


def test_tiff_is_not_read() -> None:
    """Security re-checks 14 and 15: a TIFF strip of JPEG data was decoded with up to 99 scans,
    and a plain TIFF of millions of one-row strips (bounded by the file's size, not its pixels)
    took 56 s to keep. TIFF is not read at all."""
    from bot.content.covers import thumbnail_data_uri
    from bot.content.images import decode_problem, image_problem

    for compression in ("jpeg", "raw"):
        out = io.BytesIO()
        Image.new("RGB", (64, 64), (10, 20, 30)).save(out, "TIFF", compression=compression)
        data = out.getvalue()
        assert "not a format it knows" in image_problem(data)
        assert "not a format it knows" in decode_problem(data)
        with pytest.raises(ContentRejectedError, match="not a format it knows"):
            kept_cover(data)
        with pytest.raises(ValueError):
            thumbnail_data_uri(data, (56, 56))


def test_a_picture_longer_than_jpeg_allows_is_refused_not_an_error() -> None:
    """Re-check 15, L1: a picture 70,000 px tall made re-encoding fail with an error (500)."""
    from bot.content.images import image_problem

    out = io.BytesIO()
    Image.new("L", (2, 70_000), 0).save(out, "PNG")
    assert "on a side" in image_problem(out.getvalue())
    with pytest.raises(ContentRejectedError, match="on a side"):
        kept_cover(out.getvalue())


def test_formats_outside_the_catalogues_are_not_read() -> None:
    """Formats Pillow knows but the service does not take (JPEG 2000 and AVIF decode for
    seconds from a few KB, re-check 14 L1) are not read at all."""
    from bot.content.images import decode_problem, image_problem

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(out, "PCX")
    assert "not a format it knows" in image_problem(out.getvalue())
    assert "not a format it knows" in decode_problem(out.getvalue())


def rle8_bmp(width: int, height: int) -> bytes:
    """A BMP compressed with RLE8: each row one run of ``width`` pixels, then end of line."""
    palette = b"".join(bytes((i, i, i, 0)) for i in range(256))
    rows = b"".join(bytes((width, 5, 0, 0)) for _ in range(height)) + b"\x00\x01"
    header = (
        (40).to_bytes(4, "little")
        + width.to_bytes(4, "little", signed=True)
        + height.to_bytes(4, "little", signed=True)
        + (1).to_bytes(2, "little")
        + (8).to_bytes(2, "little")
        + (1).to_bytes(4, "little")  # BI_RLE8
        + len(rows).to_bytes(4, "little")
        + bytes(8)
        + (256).to_bytes(4, "little")
        + bytes(4)
    )
    offset = 14 + len(header) + len(palette)
    size = offset + len(rows)
    return (
        b"BM"
        + size.to_bytes(4, "little")
        + bytes(4)
        + offset.to_bytes(4, "little")
        + (header + palette + rows)
    )


def test_a_bmp_compressed_with_rle_is_refused_before_decoding() -> None:
    """Security re-check 16: Pillow decodes an RLE BMP a pixel at a time in Python; a 4 KB
    one of 65,500 x 763 pixels kept a worker busy 17 s."""
    from bot.content.images import decode_problem, image_problem

    data = rle8_bmp(16, 4)
    assert Image.open(io.BytesIO(data)).info.get("compression") == 1
    assert "RLE" in image_problem(data)
    assert "RLE" in decode_problem(data)
    with pytest.raises(ContentRejectedError, match="RLE"):
        kept_cover(data)
    plain = io.BytesIO()
    Image.new("RGB", (16, 4), (1, 2, 3)).save(plain, "BMP")
    assert image_problem(plain.getvalue()) == ""


@pytest.mark.parametrize(
    ("size", "asked", "decoded"),
    [
        ((4000, 3000), {"fit": 1280}, (2000, 1500)),  # 1/2: the smallest still 1,280 long
        ((4000, 3000), {"fill": (300, 128)}, (500, 375)),  # 1/8 fills a 300 x 128 box
        ((4000, 500), {"fill": (300, 128)}, (2000, 250)),  # a wide picture: its height decides
        ((1000, 800), {"fit": 1280}, (1000, 800)),  # smaller than asked: whole
    ],
)
def test_a_large_jpeg_is_decoded_at_the_smallest_scale_still_as_large_as_asked(
    size: tuple[int, int], asked: dict[str, Any], decoded: tuple[int, int]
) -> None:
    from bot.content.images import open_image

    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(buffer, "JPEG")
    assert open_image(buffer.getvalue(), **asked).size == decoded
    assert open_image(noisy((600, 400)), **asked).size == (600, 400)  # a PNG: always whole


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose chunks are whole and whose CRCs hold, claiming ``width`` x ``height``."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_a_copied_cover_gets_every_check_an_image_read_gets(tmp_path: Any) -> None:
    """An imported local cover was checked by its own copy of the header checks, which left
    out the pixel limit: a whole, CRC-true PNG of 81 MP was copied into media."""
    from bot.domain.errors import ImportFileError
    from bot.engine.importing import copy_into_media

    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header_only(9_000, 9_000))
    with pytest.raises(ImportFileError, match=r"huge\.png: the image has 9000x9000 pixels"):
        copy_into_media(huge, tmp_path / "media", "c.csv:2")
    cut = tmp_path / "cut.png"
    cut.write_bytes(png((300, 200))[:-20])
    with pytest.raises(ImportFileError, match=r"c\.csv:2: field 'cover': cut\.png"):
        copy_into_media(cut, tmp_path / "media", "c.csv:2")
    good = tmp_path / "good.png"
    good.write_bytes(png((300, 200)))
    assert copy_into_media(good, tmp_path / "media", "c.csv:2").read_bytes() == good.read_bytes()
    assert not (tmp_path / "media" / "huge.png").exists()
