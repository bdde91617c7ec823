"""Fetching images over real HTTP on loopback: redirects re-checked on every hop, the size
cap while streaming, timeouts. A test resolver maps public-looking names to 127.0.0.1 (the
address policy lets exactly that one loopback address through) and a name to a private
address that must be refused before any connection is made."""

from __future__ import annotations

import asyncio
import io
import ipaddress
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from bot.content.images import fetch_image, is_public_address
from bot.domain.errors import ContentRejectedError, TransientError

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
PUBLIC_NAME = "images.example.com"
PRIVATE_NAME = "intranet.example.com"


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class ImageServer:
    port: int
    hits: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)

    def url(self, path: str, host: str = PUBLIC_NAME) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def server() -> AsyncIterator[ImageServer]:
    state = ImageServer(port=0)

    @web.middleware
    async def record(request: web.Request, handler: Callable) -> web.StreamResponse:
        state.hits.append((request.path, request.headers.get("Host", "")))
        return await handler(request)

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=tiny_png(), content_type="image/png")

    def redirect_to(target: Callable[[], str]) -> Callable:
        async def handler(request: web.Request) -> web.Response:
            raise web.HTTPFound(target())

        return handler

    async def endless(request: web.Request) -> web.Response:
        hop = int(request.query.get("n", "0"))
        raise web.HTTPFound(f"/endless?n={hop + 1}")

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to trust
        await response.prepare(request)
        for _ in range(40):
            await response.write(b"\0" * 65536)
        return response

    async def declared_big(request: web.Request) -> web.Response:
        return web.Response(body=b"\0" * 300_000, content_type="image/png")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(body=b"late")

    app = web.Application(middlewares=[record])
    app.router.add_get("/img.png", image)
    app.router.add_get("/to-public", redirect_to(lambda: state.url("/img.png")))
    app.router.add_get("/to-relative", redirect_to(lambda: "/img.png"))
    app.router.add_get("/to-private", redirect_to(lambda: f"http://{PRIVATE_NAME}/admin.png"))
    app.router.add_get("/to-metadata", redirect_to(lambda: "http://169.254.169.254/latest/"))
    app.router.add_get("/to-mapped", redirect_to(lambda: "http://[::ffff:10.0.0.1]/x.png"))
    app.router.add_get("/to-loopback-alias", redirect_to(lambda: "http://127.0.0.2/x.png"))
    app.router.add_get("/to-ftp", redirect_to(lambda: "ftp://images.example.com/x.png"))
    app.router.add_get("/endless", endless)
    app.router.add_get("/big", big)
    app.router.add_get("/declared-big", declared_big)
    app.router.add_get("/slow", slow)
    app.router.add_get("/busy", redirect_to(lambda: "/503"))
    app.router.add_get("/503", unavailable)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = runner.addresses[0][1]
    try:
        yield state
    finally:
        await runner.cleanup()


async def unavailable(request: web.Request) -> web.Response:
    return web.Response(status=503)


async def resolve(host: str) -> list[str]:
    table = {PUBLIC_NAME: ["127.0.0.1"], PRIVATE_NAME: ["10.0.0.8"]}
    if host not in table:
        raise OSError(f"unknown test host {host}")
    return table[host]


def only_our_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address == LOOPBACK or is_public_address(address)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def fetch(url: str, session: aiohttp.ClientSession, **options: object) -> bytes:
    return await fetch_image(
        url,
        session=session,
        resolver=resolve,
        address_allowed=only_our_loopback,
        **options,  # type: ignore[arg-type]
    )


async def test_fetches_through_the_checked_address_with_the_original_host(
    server: ImageServer, session: aiohttp.ClientSession
) -> None:
    assert await fetch(server.url("/img.png"), session) == tiny_png()
    assert server.hits == [("/img.png", f"{PUBLIC_NAME}:{server.port}")]


async def test_follows_checked_redirects(
    server: ImageServer, session: aiohttp.ClientSession
) -> None:
    assert await fetch(server.url("/to-public"), session) == tiny_png()
    assert await fetch(server.url("/to-relative"), session) == tiny_png()
    assert [path for path, _ in server.hits] == [
        "/to-public",
        "/img.png",
        "/to-relative",
        "/img.png",
    ]


@pytest.mark.parametrize(
    ("path", "address"),
    [
        ("/to-private", "10.0.0.8"),
        ("/to-metadata", "169.254.169.254"),
        ("/to-mapped", "::ffff:a00:1"),  # ::ffff:10.0.0.1 as yarl writes it
        ("/to-loopback-alias", "127.0.0.2"),
    ],
)
async def test_a_redirect_to_a_non_public_address_is_refused(
    server: ImageServer, session: aiohttp.ClientSession, path: str, address: str
) -> None:
    with pytest.raises(ContentRejectedError, match="non-public address") as caught:
        await fetch(server.url(path), session)
    assert address in str(caught.value)
    assert [hit for hit, _ in server.hits] == [path]  # nothing was requested after the check


async def test_a_redirect_to_another_scheme_is_refused(
    server: ImageServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ContentRejectedError, match="only http and https"):
        await fetch(server.url("/to-ftp"), session)


async def test_at_most_three_redirects(server: ImageServer, session: aiohttp.ClientSession) -> None:
    with pytest.raises(ContentRejectedError, match="more than 3 redirects"):
        await fetch(server.url("/endless"), session)
    assert len(server.hits) == 4  # the first request and three redirects


async def test_the_size_cap_holds_while_streaming(
    server: ImageServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ContentRejectedError, match="more than 1000000 bytes"):
        await fetch(server.url("/big"), session, max_bytes=1_000_000)
    with pytest.raises(ContentRejectedError, match="300000 bytes, more than 100000"):
        await fetch(server.url("/declared-big"), session, max_bytes=100_000)


async def test_a_slow_server_times_out_as_transient(
    server: ImageServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(TransientError, match=r"within 0\.5 s"):
        await fetch(server.url("/slow"), session, time_limit=0.5)


async def test_server_errors_are_transient_and_missing_images_are_not(
    server: ImageServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(TransientError, match="HTTP 503"):
        await fetch(server.url("/busy"), session)
    with pytest.raises(ContentRejectedError, match="HTTP 404"):
        await fetch(server.url("/missing.png"), session)


async def test_the_real_policy_refuses_the_loopback_test_server(
    server: ImageServer, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(ContentRejectedError, match=r"non-public address \(127\.0\.0\.1\)"):
        await fetch_image(server.url("/img.png"), session=session, resolver=resolve)
    assert server.hits == []
