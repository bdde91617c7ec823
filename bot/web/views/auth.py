"""Logging in and out, and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from bot.domain.errors import TransientError, UserError
from bot.web import auth, forms, users
from bot.web.keys import IDENTITY, SERVICES
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
    except users.TooManyAttemptsError as exc:
        return render(request, "login.html", status=429, next=target, name=name, error=str(exc))
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
        )
    except UserError as exc:
        return render(request, "password.html", status=400, error=exc.message)
    await auth.start_login(request, ident.user)
    flash(request, translate(request, "Password changed; your other logins have ended."))
    return redirect("/")


async def healthz(request: web.Request) -> web.Response:
    """200 after a database round trip; 503 when the database does not answer."""
    try:
        async with request.app[SERVICES].engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        raise TransientError("the database does not answer") from exc
    return web.json_response({"status": "ok"})
