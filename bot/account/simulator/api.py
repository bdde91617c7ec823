"""The platform's HTTP surface under /cgi-bin/: the endpoint table, request parsing (JSON rules
40033/44002/47001, multipart ``media``), the token and quota checks every call meets, and the
faults injected around them. Errors are answered with HTTP 200 like the platform."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.account.simulator.errors import ApiFault
from bot.account.simulator.faults import Decision
from bot.account.simulator.state import Call, Simulator, Upload

SIM_KEY = web.AppKey("simulator", Simulator)

# A \uXXXX escape in the raw body (an odd number of backslashes before the u): the platform
# refuses those with 40033 instead of decoding them (wechat-api.md, general conventions).
_UNICODE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[0-9a-fA-F]{4}")


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    op: Callable[[Simulator, Call], dict[str, Any]]
    body: str = "json"  # "json", "multipart" or "none"
    token: bool = True  # needs ?access_token=


ENDPOINTS: dict[str, Endpoint] = {
    "token": Endpoint("GET", Simulator.token, body="none", token=False),
    "stable_token": Endpoint("POST", Simulator.stable_token, token=False),
    "media/uploadimg": Endpoint("POST", Simulator.upload_image, body="multipart"),
    "material/add_material": Endpoint("POST", Simulator.add_material, body="multipart"),
    "draft/add": Endpoint("POST", Simulator.draft_add),
    "draft/get": Endpoint("POST", Simulator.draft_get),
    "draft/update": Endpoint("POST", Simulator.draft_update),
    "draft/delete": Endpoint("POST", Simulator.draft_delete),
    "draft/count": Endpoint("GET", Simulator.draft_count, body="none"),
    "draft/batchget": Endpoint("POST", Simulator.draft_batchget),
    "freepublish/submit": Endpoint("POST", Simulator.publish_submit),
    "freepublish/get": Endpoint("POST", Simulator.publish_get),
    "freepublish/batchget": Endpoint("POST", Simulator.publish_batchget),
    "freepublish/getarticle": Endpoint("POST", Simulator.publish_getarticle),
    "freepublish/delete": Endpoint("POST", Simulator.publish_delete),
    "message/mass/preview": Endpoint("POST", Simulator.mass_preview),
    "message/mass/sendall": Endpoint("POST", Simulator.mass_sendall),
    "message/mass/get": Endpoint("POST", Simulator.mass_get),
    "openapi/quota/get": Endpoint("POST", Simulator.quota_get),
    "clear_quota": Endpoint("POST", Simulator.clear_quota),
    "clear_quota/v2": Endpoint("POST", Simulator.clear_quota_v2, token=False),
}


# A JSON escape of a C0 control character (an odd number of backslashes before it).
_CONTROL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\(u00[01][0-9a-fA-F]|[bfnrt])")
_SHORT_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def encode_answer(answer: dict[str, Any], *, raw_control_chars: bool = False) -> bytes:
    """The answer's bytes. Like the platform: raw UTF-8, never \\uXXXX escapes of text. With
    ``raw_control_chars`` (a variant), control characters go out raw and text holding
    undecodable bytes (``\\udcXX``) goes out as those bytes, as the platform has sent them;
    otherwise such bytes become U+FFFD."""
    text = json.dumps(answer, ensure_ascii=False)
    if not raw_control_chars:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace").encode()

    def raw(match: re.Match[str]) -> str:
        code = match.group(2)
        char = _SHORT_ESCAPES.get(code) or chr(int(code[1:], 16))
        return match.group(1) + char

    return _CONTROL_ESCAPE.sub(raw, text).encode("utf-8", "surrogateescape")


def _json(answer: dict[str, Any], status: int = 200, *, raw: bool = False) -> web.Response:
    return web.Response(
        status=status,
        body=encode_answer(answer, raw_control_chars=raw),
        content_type="application/json",
        charset="utf-8",
    )


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``; ApiFault 44002 (empty), 40033 (\\uXXXX escapes) or 47001
    (not a JSON object)."""
    if not raw.strip():
        raise ApiFault(44002)
    if _UNICODE_ESCAPE.search(raw):
        raise ApiFault(40033)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiFault(47001) from None
    if not isinstance(body, dict):
        raise ApiFault(47001)
    return body


async def _receive(request: web.Request, endpoint: Endpoint) -> None:
    # Take the whole body before answering anything, as the platform's front end does: an
    # early answer to an unread upload would otherwise reset the caller's connection.
    # aiohttp keeps what was read, so the endpoint parses it later.
    if endpoint.body == "multipart" and request.content_type.startswith("multipart/"):
        await request.post()
    else:
        await request.read()


async def _read_call(request: web.Request, endpoint: Endpoint) -> Call:
    query = dict(request.query)
    if endpoint.body == "json":
        return Call(query, parse_json_body(await request.read()))
    if endpoint.body == "multipart":
        if not request.content_type.startswith("multipart/"):
            raise ApiFault(41005)
        form = await request.post()
        part = form.get("media")
        if not isinstance(part, web.FileField):
            raise ApiFault(41005)
        with part.file:
            return Call(query, upload=Upload(part.file.read(), part.filename or ""))
    return Call(query)


async def _answer(
    sim: Simulator, request: web.Request, path: str, endpoint: Endpoint
) -> dict[str, Any]:
    try:
        if request.method != endpoint.method:
            raise ApiFault(43002 if endpoint.method == "POST" else 43001)
        call = Call(dict(request.query))
        if endpoint.token:
            sim.check_token(call)
        sim.check_verified(path)
        sim.quotas.admit(path, sim.now())
        call = await _read_call(request, endpoint)
        return endpoint.op(sim, call)
    except ApiFault as fault:
        return fault.body(sim.ids.rid())


def _early(sim: Simulator, decision: Decision) -> web.Response | None:
    """The faults answered before any effect happens."""
    if decision.kind == "busy":
        return _json(ApiFault(-1).body(sim.ids.rid()))
    if decision.kind == "rate_limited":
        return _json(ApiFault(45011).body(sim.ids.rid()))
    if decision.kind == "token_invalid":
        sim.tokens.invalidate_all(sim.now())
        return _json(ApiFault(40001).body(sim.ids.rid()))
    if decision.kind == "http_5xx":
        return web.Response(status=503, text="503 Service Temporarily Unavailable")
    return None


def _lose(request: web.Request, mode: str) -> web.Response:
    """The effect happened; the caller must not learn it. "drop" closes the connection
    without an answer, "5xx" answers like a failing gateway."""
    if mode == "drop" and request.transport is not None:
        request.transport.close()
        return web.Response(status=502)  # never reaches the caller: the transport is closed
    return web.Response(status=502, text="502 Bad Gateway")


async def handle_api(request: web.Request) -> web.StreamResponse:
    """Every /cgi-bin/ path: count, settle due jobs, inject faults, check token and quota,
    run the endpoint."""
    sim = request.app[SIM_KEY]
    path = request.match_info["path"]
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        raise web.HTTPNotFound(text=f"the simulator does not offer /cgi-bin/{path}")
    sim.call_counts[path] += 1
    await _receive(request, endpoint)
    sim.settle()
    decision = sim.faults.draw(path, token_call=not endpoint.token)
    latency = sim.faults.settings.latency_ms / 1000
    if latency:
        await asyncio.sleep(latency)
    early = _early(sim, decision)
    if early is not None:
        return early
    answer = await _answer(sim, request, path, endpoint)
    if decision.kind == "slow":
        await asyncio.sleep(sim.faults.settings.slow_seconds)
    if decision.lost:
        return _lose(request, decision.lost)
    return _json(answer, raw=sim.config.raw_control_chars)
