"""The simulator as an aiohttp application: the platform's routes, the ``/_sim/`` control
routes for tests and people, the event pusher's lifecycle, and running it in-process or on its
own (``bot simulator``)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.account.simulator.api import SIM_KEY, handle_api
from bot.account.simulator.config import SimulatorConfig
from bot.account.simulator.push import CallbackPusher
from bot.account.simulator.snapshot import snapshot
from bot.account.simulator.state import Simulator
from bot.domain.errors import UserError

MAX_BODY = 64 * 1024 * 1024  # above every platform limit, so the simulator answers the errcode


async def _read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise UserError(f"{request.path}: the body is not JSON") from None
    if not isinstance(body, dict):
        raise UserError(f"{request.path}: the body must be a JSON object")
    return body


@web.middleware
async def _control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except UserError as exc:
        return web.json_response({"error": str(exc)}, status=exc.http_status)
    return response


async def get_state(request: web.Request) -> web.Response:
    return web.json_response(snapshot(request.app[SIM_KEY]))


async def post_reset(request: web.Request) -> web.Response:
    request.app[SIM_KEY].reset()
    return web.json_response({"ok": True})


async def faults(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    if request.method == "POST":
        sim.faults.update(await _read_json(request))
    return web.json_response(sim.faults.snapshot())


async def post_callback(request: web.Request) -> web.Response:
    """Body ``{"url", "token", "aes_key"}``; omitted keys keep their value, "" clears."""
    sim = request.app[SIM_KEY]
    body = await _read_json(request)
    target = sim.callback
    for key in ("url", "token", "aes_key"):
        if key in body and not isinstance(body[key], str):
            raise UserError(f"/_sim/callback: {key} must be a string")
    sim.set_callback(
        body.get("url", target.url),
        body.get("token", target.token),
        body.get("aes_key", target.aes_key),
    )
    return web.json_response(
        {"url": sim.callback.url, "mode": "aes" if sim.callback.aes_key else "plain"}
    )


async def post_time(request: web.Request) -> web.Response:
    """Body ``{"advance_seconds": N}``: moves the simulator's clock forward (token expiry,
    publish delays, quota days) without waiting."""
    sim = request.app[SIM_KEY]
    seconds = (await _read_json(request)).get("advance_seconds")
    if not isinstance(seconds, int | float) or seconds < 0:
        raise UserError("/_sim/time: advance_seconds must be a number >= 0")
    sim.advance(float(seconds))
    return web.json_response({"now": snapshot(sim)["now"]})


async def _pusher_ctx(app: web.Application) -> AsyncIterator[None]:
    pusher = CallbackPusher(app[SIM_KEY])
    await pusher.start()
    yield
    await pusher.stop()


def build_app(sim: Simulator, *, push: bool = True) -> web.Application:
    """The simulator's web application around ``sim``; without ``push`` finished jobs' events
    stay in ``sim.outbox`` for the caller to take."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_control_errors])
    app[SIM_KEY] = sim
    app.router.add_route("*", "/cgi-bin/{path:.+}", handle_api)
    app.router.add_get("/_sim/state", get_state)
    app.router.add_post("/_sim/reset", post_reset)
    app.router.add_route("*", "/_sim/faults", faults)
    app.router.add_post("/_sim/callback", post_callback)
    app.router.add_post("/_sim/time", post_time)
    if push:
        app.cleanup_ctx.append(_pusher_ctx)
    return app


@dataclass
class RunningSimulator:
    """A simulator serving on loopback: ``url`` is the ``api_base`` to give a client."""

    url: str
    sim: Simulator
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_simulator(
    config: SimulatorConfig, host: str = "127.0.0.1", port: int = 0, *, push: bool = True
) -> RunningSimulator:
    """Serve a new simulator on ``host``:``port`` (0: a free port). Call ``stop()`` when done.
    Raises OSError when the port cannot be bound."""
    sim = Simulator(config)
    # A short shutdown: a "slow" fault's handler may still be sleeping when tests stop.
    runner = web.AppRunner(build_app(sim, push=push), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown:
        shown = "[::1]" if shown == "::" else f"[{shown}]"
    return RunningSimulator(f"http://{shown}:{bound_port}", sim, runner)


async def run_forever(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 8090) -> None:
    """``bot simulator``: serve until cancelled (Ctrl-C), printing where."""
    running = await start_simulator(config, host, port)
    print(
        f"account-API simulator at {running.url} (appid {config.appid}); "
        f"state at {running.url}/_sim/state",
        file=sys.stderr,
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await running.stop()
