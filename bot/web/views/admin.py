"""Users (admin only): list, add, change a role, delete, and API tokens (shown once)."""

from __future__ import annotations

from aiohttp import web

from bot.web import auth, forms, users
from bot.web.keys import SERVICES
from bot.web.render import flash, redirect, render, translate


def _user_id(request: web.Request) -> int:
    value = forms.integer(request.match_info, "id", low=1, high=2**31)
    assert value is not None
    return value


async def users_page(
    request: web.Request, *, new_token: str = "", token_user: str = ""
) -> web.Response:
    return render(
        request,
        "users.html",
        users=await users.list_users(request.app[SERVICES].engine),
        roles=users.ROLES,
        new_token=new_token,
        token_user=token_user,
    )


async def user_add(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    values = await forms.fields(request)
    await users.create_user(
        services.engine,
        forms.text(values, "name", max_len=100),
        forms.text(values, "role", max_len=20),
        forms.text(values, "password", max_len=1000),
        now=services.clock(),
    )
    flash(request, translate(request, "Saved."))
    return redirect("/users")


async def user_role(request: web.Request) -> web.Response:
    values = await forms.fields(request)
    await users.set_role(
        request.app[SERVICES].engine, _user_id(request), forms.text(values, "role", max_len=20)
    )
    flash(request, translate(request, "Saved."))
    return redirect("/users")


async def user_token(request: web.Request) -> web.Response:
    """Shows the new token in this answer only (never stored, never redirected with)."""
    services = request.app[SERVICES]
    found = await users.user_by_id(services.engine, _user_id(request))
    if found is None:
        raise web.HTTPNotFound()
    token = await users.create_api_token(services.engine, found.name, now=services.clock())
    return await users_page(request, new_token=token, token_user=found.name)


async def user_revoke(request: web.Request) -> web.Response:
    await users.revoke_tokens(request.app[SERVICES].engine, _user_id(request))
    flash(request, translate(request, "Done."))
    return redirect("/users")


async def user_delete(request: web.Request) -> web.Response:
    ident = auth.identity(request)
    await users.delete_user(
        request.app[SERVICES].engine, _user_id(request), acting_user_id=ident.user.id
    )
    flash(request, translate(request, "Done."))
    return redirect("/users")
