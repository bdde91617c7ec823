"""Logging in and out, and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from bot.domain.errors import TransientError, UserError
from bot.web import auth, forms, users
from bot.web.hashing import LoginsBusyError
from bot.web.keys import IDENTITY, LANG, SERVICES
from bot.web.render import flash, local_target, redirect, render, translate


async def login_page(request: web.Request) -> web.Response:
    if request.get(IDENTITY) is not None:
        return redirect(local_target(request.query.get("next", "/")))
    return render(request, "login.html", next=local_target(request.query.get("next", "/")), name="")


async def login(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    form = await forms.form(request)
    name = str(form.get("name", ""))[:100]
    password = str(form.get("password", ""))[:1000]
    target = local_target(str(form.get("next", "/")))
    try:
        user = await users.authenticate_password(
            services.engine,
            name,
            password,
            address=auth.client_address(request),
            now=services.clock(),
        )
    except (users.TooManyAttemptsError, LoginsBusyError) as exc:
        error = exc.in_language(request.get(LANG, "zh"))
        return render(request, "login.html", status=429, next=target, name=name, error=error)
    if user is None:
        return render(
            request,
            "login.html",
            status=401,
            next=target,
            name=name,
            error=translate(request, "Wrong user name or password."),
        )
    await auth.start_login(request, user)
    return redirect(target)


async def logout(request: web.Request) -> web.Response:
    await auth.end_login(request)
    flash(request, translate(request, "Done."))
    return redirect("/login")


async def password_page(request: web.Request) -> web.Response:
    return render(request, "password.html")


async def password_change(request: web.Request) -> web.Response:
    """The caller's own password. Every login of theirs ends, this browser's included; it
    gets a fresh one, so whoever held a copy of the old cookie is out."""
    services = request.app[SERVICES]
    ident = auth.identity(request)
    values = await forms.fields(request)
    try:
        await users.change_password(
            services.engine,
            ident.user,
            forms.text(values, "current", max_len=1000),
            forms.text(values, "new", max_len=1000),
            confirm=forms.text(values, "confirm", max_len=1000),
            address=auth.client_address(request),
            now=services.clock(),
        )
    except UserError as exc:
        return render(request, "password.html", status=exc.http_status, error=exc.message)
    await auth.start_login(request, ident.user)
    flash(request, translate(request, "Password changed; your other logins have ended."))
    return redirect("/")


async def healthz(request: web.Request) -> web.Response:
    """200 after a database round trip: ``{"status": "ok"}``, or ``"degraded"`` with the
    ``problems`` a person should look at (failed posts, posts that need a person, a parked
    account): the service runs, its work does not. 503 when the database does not answer."""
    services = request.app[SERVICES]
    try:
        health = await services.health.read(services.clock())
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        raise TransientError("the database does not answer") from exc
    failed, attention, parked = health.failed, health.attention, health.parked
    problems = [f"{failed} failed post(s)"] if failed else []
    if attention:
        problems.append("posts need a person (see the dashboard)")
    problems += [
        f"account {name} parked until {until.isoformat()}" for name, until in parked.items()
    ]
    if problems:
        return web.json_response({"status": "degraded", "problems": problems})
    return web.json_response({"status": "ok"})
