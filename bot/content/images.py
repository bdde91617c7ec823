"""Images of a post: fetching them from the network without reaching inside ours, converting
them to what the platform accepts, the cover's crop boxes, and re-hosting every body image on
the platform.

Fetching is where a catalogue row could point the service at an internal address
(``http://169.254.169.254/…``, ``http://10.0.0.5/admin``), so every hop is checked: only
http/https, the host resolved by us, every address it resolves to must be public, and the
request goes to that checked address (no second lookup that could answer differently);
redirects are followed by hand, at most three, each checked again.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import ipaddress
import math
import socket
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import aiohttp
import yarl
from PIL import Image, ImageOps, UnidentifiedImageError

from bot.content.render import image_ref
from bot.content.sanitize import (
    Attrs,
    is_uploaded_image,
    rewrite_start_tags,
    sanitize_html,
    start_tags,
    will_be_rehosted,
)
from bot.domain.errors import ContentRejectedError, TransientError

MAX_FETCH_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
FETCH_TIMEOUT = 20.0  # seconds, for the whole fetch including redirects
BODY_IMAGE_BYTES = 1024 * 1024 - 1  # media/uploadimg: jpg/png under 1 MB
THUMB_BYTES = 64 * 1024  # add_material type=thumb: JPG, 64 KB
COVER_IMAGE_BYTES = 10 * 1024 * 1024  # add_material type=image: 10 MB
THUMB_MAX_SIDE = 900  # the platform shows covers at 900x383; more pixels only cost bytes
MAX_PIXELS = 50_000_000  # refuse decompression bombs before Pillow decodes them
# A progressive JPEG is decoded scan after scan, each walking every block of the picture, and
# nothing limits how many scans a file holds: one tiny scan repeated thousands of times kept a
# 60 KB cover decoding for 6 s and a 1 MB one for 133 s, in the worker pool everyone shares
# (security re-check 13). Encoders write about ten (libjpeg's progressive script, mozjpeg's,
# Photoshop's fewer); a file with more start-of-scan markers than this is refused unread, and
# so is one whose scans times pixels pass MAX_SCAN_WORK (a 50 MP picture may have 12 scans: a
# few seconds of decoding here, as its size in bytes promises).
MAX_JPEG_SCANS = 32
MAX_SCAN_WORK = 12 * MAX_PIXELS
# The formats an image is read as (what the catalogue accepts; a JPEG with a second picture, as
# phones write them, is read by the JPEG reader as MPO). Others Pillow knows decode slowly for
# their size: JPEG 2000 and AVIF (a 2 KB file, seconds: security re-check 14), and TIFF, whose
# strips are bounded by the file's size, not its pixels (millions of one-row strips: 56 s for a
# 5 MB cover, re-check 15), and which may hold JPEG data of 99 scans a strip (re-check 14).
READ_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")
# JPEG's own limit on a side: a taller or wider picture cannot be re-encoded as one.
MAX_SIDE = 65_500
_RLE_BMP = (1, 2)  # BI_RLE8, BI_RLE4
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[Sequence[str]]]
AddressPolicy = Callable[[IPAddress], bool]
Upload = Callable[[bytes, str], Awaitable[str]]  # (data, filename) -> platform URL
Load = Callable[[str], Awaitable[bytes]]  # image ref (URL or local path) -> bytes
Run = Callable[..., Awaitable[Any]]  # runs fn(*args) somewhere: offload.run, or directly

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


# --- addresses --------------------------------------------------------------------------------


async def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, off the event loop)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address. IPv6 forms that carry an IPv4
    address (mapped, 6to4, Teredo, NAT64) are judged by the IPv4 address inside too."""
    embedded: list[IPAddress] = []
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            embedded.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            embedded.append(address.sixtofour)
        if address.teredo is not None:
            embedded.extend(address.teredo)
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return all(_is_public_one(ip) for ip in [address, *embedded])


def _is_public_one(ip: IPAddress) -> bool:
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        # Deprecated IPv6 site-local (fec0::/10), which Python still calls global.
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


# --- fetching ---------------------------------------------------------------------------------


async def fetch_image(
    url: str,
    *,
    session: aiohttp.ClientSession,
    max_bytes: int = MAX_FETCH_BYTES,
    resolver: Resolver = resolve_host,
    address_allowed: AddressPolicy = is_public_address,
    time_limit: float = FETCH_TIMEOUT,
    max_redirects: int = MAX_REDIRECTS,
) -> bytes:
    """The bytes at ``url``, at most ``max_bytes``, within ``time_limit`` seconds overall.

    Raises ContentRejectedError for a URL that is not http(s), a host that resolves to an
    address ``address_allowed`` refuses (on the first hop or any redirect), more than
    ``max_redirects`` redirects, an answer other than 200, or a body over ``max_bytes``;
    TransientError for a timeout, a network failure or HTTP 5xx."""
    current = url
    try:
        async with asyncio.timeout(time_limit):
            for _hop in range(max_redirects + 1):
                target, headers, server_hostname = await _pinned_request(
                    current, resolver, address_allowed
                )
                async with session.get(
                    target,
                    headers=headers,
                    allow_redirects=False,
                    server_hostname=server_hostname,
                ) as response:
                    if response.status in REDIRECT_STATUSES:
                        current = _redirect_target(current, response)
                        continue
                    _check_status(current, response.status)
                    return await _read_capped(response, max_bytes, current)
    except TimeoutError:
        raise TransientError(f"image {url}: no complete answer within {time_limit:g} s") from None
    except aiohttp.ClientError as exc:
        raise TransientError(f"image {url}: {type(exc).__name__}: {exc}") from exc
    raise ContentRejectedError(f"image {url}: more than {max_redirects} redirects")


async def _pinned_request(
    url: str, resolver: Resolver, address_allowed: AddressPolicy
) -> tuple[yarl.URL, dict[str, str], str | None]:
    """The request to send for ``url``: aimed at a checked address, with the original host
    in the Host header and (for https) in TLS SNI and certificate checks."""
    parsed, host = _fetched_url(url)
    address = await _checked_address(host, resolver, address_allowed, url)
    headers = {"Host": parsed.raw_authority.rpartition("@")[2], "Accept": "image/*"}
    target = parsed.with_host(str(address))
    return target, headers, host if parsed.scheme == "https" else None


def fetch_host(url: str) -> str | None:
    """The host the fetcher looks up for ``url``, as it reads it (IDNA with NFKC, so
    ``http://１２７。0。0。1/`` is fetched from ``127.0.0.1`` and ``http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/`` from
    ``localhost``); None when the fetcher refuses ``url`` before any lookup. The catalogue
    import judges a cover's host by this, so it refuses what fetching would (review 6, M1)."""
    try:
        return _fetched_url(url)[1]
    except ContentRejectedError:
        return None


def _fetched_url(url: str) -> tuple[yarl.URL, str]:
    """``url`` parsed as the fetcher reads it, and the host it looks up. Raises
    ContentRejectedError for a URL that is not a valid http(s) URL with a host, one with
    credentials, or a host with a percent-escape."""
    try:
        parsed = yarl.URL(url)
        host = parsed.host
    except (ValueError, TypeError):
        raise ContentRejectedError(f"image {url}: not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not host:
        raise ContentRejectedError(f"image {url}: only http and https URLs are fetched")
    if parsed.user is not None or parsed.password is not None:
        raise ContentRejectedError(f"image {url}: URLs with credentials are not fetched")
    if "%" in host and ":" not in host:  # an IPv6 zone (fe80::1%eth0) is judged as an address
        # yarl keeps "%31%32%37.0.0.1" as written: a resolver would look the "%" up as it
        # is, a browser would decode it to 127.0.0.1. Neither is a name worth looking up.
        raise ContentRejectedError(f"image {url}: the host has a percent-escape")
    return parsed, host


async def _checked_address(
    host: str, resolver: Resolver, address_allowed: AddressPolicy, url: str
) -> IPAddress:
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            resolved = await resolver(host)
        except OSError as exc:
            raise ContentRejectedError(f"image {url}: host {host} cannot be resolved") from exc
        try:
            addresses = [ipaddress.ip_address(str(a).split("%")[0]) for a in resolved]
        except ValueError:
            raise ContentRejectedError(f"image {url}: host {host} resolved oddly") from None
    if not addresses:
        raise ContentRejectedError(f"image {url}: host {host} has no address")
    refused = [a for a in addresses if not address_allowed(a)]
    if refused:
        # One private answer is enough to refuse: the connection could land on any of them.
        raise ContentRejectedError(
            f"image {url}: host {host} resolves to a non-public address ({refused[0]})"
        )
    return addresses[0]


def _redirect_target(current: str, response: aiohttp.ClientResponse) -> str:
    location = response.headers.get("Location", "")
    if not location:
        raise ContentRejectedError(f"image {current}: redirect without a Location")
    return str(yarl.URL(current).join(yarl.URL(location)))


def _check_status(url: str, status: int) -> None:
    # 408 and 429 say "not now" as a 5xx does (security re-check 7, L1: a short outage must not
    # mark a good cover as refused).
    if status >= 500 or status in (408, 429):
        raise TransientError(f"image {url}: the server answered HTTP {status}")
    if status != 200:
        raise ContentRejectedError(f"image {url}: the server answered HTTP {status}")


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int, url: str) -> bytes:
    if response.content_length is not None and response.content_length > max_bytes:
        raise ContentRejectedError(
            f"image {url}: {response.content_length} bytes, more than {max_bytes}"
        )
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > max_bytes:  # a lying or missing Content-Length
            raise ContentRejectedError(f"image {url}: more than {max_bytes} bytes")
    return bytes(data)


# --- converting -------------------------------------------------------------------------------

ImageFormat = Literal["jpeg", "png"]
_JPEG_QUALITIES = (88, 78, 68, 58, 48)


# A PNG of more pixels than this is seldom under a body image's 1 MB, and compressing one
# takes seconds (47 s for 50 MP): past it only JPEG is tried, at scales until it fits.
PNG_TRY_PIXELS = 4_000_000
# A JPEG this many times over the limit at the best quality will not fit at a lower one (the
# lowest is about a third of the best): the scale drops at once instead.
_HOPELESS = 4


def prepare_image(
    data: bytes,
    *,
    max_bytes: int,
    formats: Sequence[ImageFormat] = ("jpeg", "png"),
    max_side: int | None = None,
) -> tuple[bytes, ImageFormat]:
    """``data`` re-encoded as one of ``formats`` in at most ``max_bytes``: turned upright by
    its EXIF orientation, all metadata (EXIF, GPS, text chunks) dropped, recompressed and
    downscaled as needed. PNG is kept for PNG sources and transparency when it fits.

    Raises ContentRejectedError for data that is not an image, too many pixels, or an image
    that cannot be made small enough."""
    return _prepared(open_image(data, fit=max_side), max_bytes, formats, max_side)


def _prepared(
    image: Image.Image, max_bytes: int, formats: Sequence[ImageFormat], max_side: int | None
) -> tuple[bytes, ImageFormat]:
    source_format = image.format
    image = ImageOps.exif_transpose(image)
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    try_png = "png" in formats and (source_format == "PNG" or transparent or "jpeg" not in formats)
    scale = 1.0
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
    while True:
        candidate = _scaled(image, scale)
        shrink = 0.7
        if try_png and (
            candidate.width * candidate.height <= PNG_TRY_PIXELS or "jpeg" not in formats
        ):
            encoded = _encode_png(candidate)
            if len(encoded) <= max_bytes:
                return encoded, "png"
        if "jpeg" in formats:
            for quality in _JPEG_QUALITIES:
                encoded = _encode_jpeg(candidate, quality)
                if len(encoded) <= max_bytes:
                    return encoded, "jpeg"
                if len(encoded) > _HOPELESS * max_bytes:
                    # Bytes go with pixels: aim straight at a scale that may fit.
                    shrink = min(shrink, (max_bytes / len(encoded)) ** 0.5)
                    break
        if min(candidate.size) <= 16:
            raise ContentRejectedError(f"the image cannot be made smaller than {max_bytes} bytes")
        scale *= shrink


def prepare_cover(data: bytes, *, kind: Literal["thumb", "image"] = "thumb") -> bytes:
    """A cover as JPEG: ``thumb`` (add_material type=thumb) at most 64 KB and 900 px on its
    longest side, ``image`` (type=image) at most 10 MB. Raises ContentRejectedError."""
    if kind == "thumb":
        encoded, _ = prepare_image(
            data, max_bytes=THUMB_BYTES, formats=("jpeg",), max_side=THUMB_MAX_SIDE
        )
    else:
        encoded, _ = prepare_image(data, max_bytes=COVER_IMAGE_BYTES, formats=("jpeg",))
    return encoded


# What add_material (type=image) takes as it is; anything else is converted to JPEG.
PLATFORM_COVER_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "BMP": "bmp"}


def platform_cover(data: bytes) -> tuple[bytes, str]:
    """A cover as the platform takes it, and the file name to send it under: a JPEG, PNG,
    GIF or BMP within 10 MB unchanged (whatever its file name said), anything else (WebP,
    an oversized image …) converted to JPEG within the limit. Raises
    ContentRejectedError for data that is not a readable image."""
    image = open_image(data)
    suffix = PLATFORM_COVER_FORMATS.get(str(image.format))
    if suffix and len(data) <= COVER_IMAGE_BYTES:
        return data, f"cover.{suffix}"
    return prepare_cover(data, kind="image"), "cover.jpg"


# A cover kept with its post (bot.store.cover_copies) is what publishing will upload: at most
# this size and this many pixels on its longest side. The chat list shows a headline cover at
# most 900 px wide (2.35:1); 1,280 px leaves room for the platform's own crops.
KEPT_COVER_BYTES = 1024 * 1024
KEPT_COVER_SIDE = 1280


def kept_cover(data: bytes) -> bytes:
    """A cover as it is kept with its post: a JPEG or PNG within KEPT_COVER_BYTES and
    KEPT_COVER_SIDE as it is; anything else (another format, a bigger image, one padded with
    bytes after the picture) re-encoded as a JPEG within both, so a copy costs what the picture
    is worth and not what the server sent (security re-check 10, M1). Decoded once, a large
    JPEG at the smallest scale its decoder offers above the copy's size. Raises
    ContentRejectedError for data that is not a readable image."""
    header = open_image(data, decode=False)
    if (
        header.format in ("JPEG", "PNG")
        and len(data) <= KEPT_COVER_BYTES
        and max(header.size) <= KEPT_COVER_SIDE
    ):
        open_image(data)  # decoded whole all the same: a picture cut short is refused here
        return data
    image = open_image(data, fit=KEPT_COVER_SIDE)
    encoded, _ = _prepared(image, KEPT_COVER_BYTES, ("jpeg",), KEPT_COVER_SIDE)
    return encoded


def image_format(path: str) -> str | None:
    """The format of the image file at ``path`` by its contents ("JPEG", "WEBP" …), or None
    when it is not an image Pillow can read. Reads the header only."""
    try:
        with Image.open(path, formats=READ_FORMATS) as image:
            return str(image.format)
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError):
        return None


def decode_problem(data: bytes) -> str:
    """Why ``data`` cannot be used as an image once decoded whole ("" when it can): what
    ``image_problem`` finds, and a picture cut short or damaged past its header, which only
    decoding finds (CPU work: run it off the loop)."""
    try:
        open_image(data)
    except ContentRejectedError as exc:
        return str(exc)
    return ""


def image_problem(data: bytes) -> str:
    """Why ``data`` is not an image the service can use ("" when it is). Reads the header
    and checks the size and the number of scans, without decoding the pixels."""
    try:
        open_image(data, decode=False)
    except ContentRejectedError as exc:
        return str(exc)
    return ""


def scan_problem(data: bytes, pixels: int = 0) -> str:
    """Why a JPEG's decoding would take far longer than its size says ("" when it would not):
    more than MAX_JPEG_SCANS scans, or scans times ``pixels`` (when known) past MAX_SCAN_WORK.
    Counts start-of-scan markers without decoding (inside a JPEG's compressed data the byte
    0xFF is never followed by 0xDA, so each is a marker; one in an embedded thumbnail counts
    too, which only errs on the safe side)."""
    if not data.startswith(b"\xff\xd8"):
        return ""
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        return f"the JPEG has {scans} scans, more than {MAX_JPEG_SCANS}"
    if scans * pixels > MAX_SCAN_WORK:
        return f"the JPEG has {scans} scans of {pixels} pixels, too many to decode"
    return ""


def codec_problem(image: Image.Image) -> str:
    """Why an opened (not yet decoded) image cannot be used: a side longer than JPEG allows
    (re-encoding it failed with an error, security re-check 15, L1), or a BMP compressed with
    RLE, which Pillow decodes a pixel at a time in Python (a 4 KB file: 17 s, re-check 16)."""
    if image.format == "BMP" and image.info.get("compression") in _RLE_BMP:
        return "a BMP compressed with RLE, which is read too slowly: save it as a PNG"
    if max(image.size) > MAX_SIDE:
        return f"the image is {image.width}x{image.height} pixels, more than {MAX_SIDE} on a side"
    return ""


def open_image(
    data: bytes, *, decode: bool = True, fit: int | None = None, fill: tuple[int, int] = (0, 0)
) -> Image.Image:
    """``data`` opened as an image the service can use, and decoded unless ``decode`` is
    false (then only its header is read). ``fit``: the longest side the caller will scale it
    to; ``fill``: a box (width, height) the caller will crop it to fill. A JPEG is then
    decoded at the smallest of its decoder's scales (1/2, 1/4, 1/8) still that large, which
    reads every byte of it in a fraction of the time. Raises ContentRejectedError saying why
    not."""
    if problem := scan_problem(data):
        raise ContentRejectedError(f"not a usable image ({problem})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=READ_FORMATS)
            if problem := codec_problem(image):
                raise ContentRejectedError(f"not a usable image ({problem})")
            if image.width * image.height > MAX_PIXELS:
                raise ContentRejectedError(
                    f"the image has {image.width}x{image.height} pixels, more than {MAX_PIXELS}"
                )
            if problem := scan_problem(data, image.width * image.height):
                raise ContentRejectedError(f"not a usable image ({problem})")
            ratio = max(fill[0] / image.width, fill[1] / image.height)
            if fit:
                ratio = max(ratio, fit / max(image.size))
            if image.format == "JPEG" and 0 < ratio < 1:
                size = (math.ceil(image.width * ratio), math.ceil(image.height * ratio))
                image.draft("RGB", size)
            if decode:
                image.load()
    except UnidentifiedImageError:
        # PIL's own message names the in-memory buffer's address: keep it out of answers.
        raise ContentRejectedError("not a readable image (not a format it knows)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ContentRejectedError(f"not a readable image ({exc})") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ContentRejectedError("the image has too many pixels") from None
    return image


def _scaled(image: Image.Image, scale: float) -> Image.Image:
    if scale >= 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode_png(image: Image.Image) -> bytes:
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    clean = image.copy()
    clean.info.clear()  # no text chunks, EXIF or ICC carried over
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _encode_jpeg(image: Image.Image, quality: int) -> bytes:
    if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True)  # no exif= / icc_profile=
    return out.getvalue()


# --- cover crops ------------------------------------------------------------------------------


def cover_crops(width: int, height: int) -> dict[str, str]:
    """Centre crops of a ``width`` x ``height`` cover for draft/add: ``pic_crop_235_1`` and
    ``pic_crop_1_1`` as normalised ``X1_Y1_X2_Y2`` (0–1, at most 6 decimals).
    Raises ContentRejectedError for a size that is not positive."""
    if width <= 0 or height <= 0:
        raise ContentRejectedError(f"a cover of {width}x{height} pixels cannot be cropped")
    return {
        "pic_crop_235_1": _centre_crop(width, height, 2.35),
        "pic_crop_1_1": _centre_crop(width, height, 1.0),
    }


def _centre_crop(width: int, height: int, ratio: float) -> str:
    if width / height > ratio:
        part = height * ratio / width
        box = ((1 - part) / 2, 0.0, (1 + part) / 2, 1.0)
    else:
        part = width / ratio / height
        box = (0.0, (1 - part) / 2, 1.0, (1 + part) / 2)
    return "_".join(_fraction(value) for value in box)


def _fraction(value: float) -> str:
    text = f"{min(1.0, max(0.0, value)):.6f}".rstrip("0").rstrip(".")
    return text or "0"


# --- re-hosting -------------------------------------------------------------------------------


async def rehost_images(
    html: str, *, upload: Upload, load: Load, run: Run | None = None, convert: Run | None = None
) -> str:
    """``html`` with every ``<img>`` re-hosted: each distinct src is loaded (``load`` gets a
    URL or a local path), converted to JPEG/PNG under 1 MB without metadata, uploaded once
    (``upload`` returns the platform URL) and the src rewritten. Images already on the
    platform stay; an image that cannot be re-hosted (data:, file:) is removed. ``run`` runs
    the CPU parts (parsing, sanitising), ``convert`` the images' conversion (``run`` unless
    given): the service passes offloaders, so only loading and uploading, which are network
    I/O, stay on its event loop.

    Raises what ``load`` and ``upload`` raise, and ContentRejectedError naming the image
    when its data is not a usable image."""
    call = run or _direct
    hosted: dict[str, str] = {}
    for src in await call(image_sources, html):
        if is_uploaded_image(src):
            hosted[src] = src
        elif will_be_rehosted(src):
            hosted[src] = await _rehost_one(src, upload, load, convert or call)
    result: str = await call(with_hosted_images, html, hosted)
    return result


def image_sources(html: str) -> list[str]:
    """Each distinct ``<img>`` src of ``html``, in order."""
    return list(dict.fromkeys(a.get("src", "") for tag, a, _ in start_tags(html) if tag == "img"))


def with_hosted_images(html: str, hosted: dict[str, str]) -> str:
    """``html`` sanitised, each ``<img>`` src swapped for its platform URL in ``hosted``; an
    image ``hosted`` does not name is removed."""

    def swap(tag: str, attrs: Attrs, ancestors: Sequence[str]) -> Attrs | None:
        if tag != "img":
            return attrs
        src = next((value for name, value in attrs if name == "src"), None)
        if src is None or src not in hosted:
            return None
        return [(name, hosted[src] if name == "src" else value) for name, value in attrs]

    platform_urls = set(hosted.values())
    return sanitize_html(rewrite_start_tags(html, swap), img_src_allowed=platform_urls.__contains__)


async def _rehost_one(src: str, upload: Upload, load: Load, call: Run) -> str:
    ref = image_ref(src)
    data = await load(ref)
    try:
        encoded, image_format = await call(prepare_image, data, max_bytes=BODY_IMAGE_BYTES)
    except ContentRejectedError as exc:
        raise ContentRejectedError(f"image {ref}: {exc.message}") from None
    extension = "jpg" if image_format == "jpeg" else "png"
    name = f"image-{hashlib.sha256(encoded).hexdigest()[:16]}.{extension}"
    return await upload(encoded, name)


async def _direct(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)
