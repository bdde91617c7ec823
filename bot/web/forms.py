"""Reading what a caller sent: form fields and JSON bodies into plain values, with one-line
errors that name the field. Pages and the JSON API share these, so both refuse the same
input the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.domain.errors import UserError
from bot.domain.times import check_day, parse_when

MAX_FIELD = 100_000


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body). Raises UserError otherwise."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise UserError("the request body is not valid JSON") from None
    except RecursionError:
        raise UserError("the request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise UserError("the request body must be a JSON object")
    try:  # "\ud800" is valid JSON but no text: nothing later could store or send it
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise UserError("the request body holds a lone surrogate (\\udXXX), not text") from None
    return body


async def form(request: web.Request) -> Mapping[str, Any]:
    """The urlencoded or multipart body (aiohttp caches it, so reading twice is free).
    Raises UserError when the body is malformed."""
    try:
        return await request.post()
    except (HttpProcessingError, ValueError, UnicodeDecodeError, LookupError) as exc:
        # LookupError: a part names a charset Python does not know
        raise UserError(f"the form body could not be read ({type(exc).__name__})") from None


async def every(request: web.Request, name: str) -> list[str]:
    """Every non-empty value of a form field sent several times (ticked checkboxes)."""
    body = await form(request)
    getall = getattr(body, "getall", None)
    found = getall(name, []) if getall is not None else []
    return [v.strip() for v in found if isinstance(v, str) and v.strip()]


async def fields(request: web.Request) -> dict[str, Any]:
    """Form fields or a JSON object, whichever the caller sent."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: v for k, v in (await form(request)).items() if isinstance(v, str)}
    return await json_body(request)


def text(
    values: Mapping[str, Any], name: str, *, default: str = "", max_len: int = MAX_FIELD
) -> str:
    value = values.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise UserError(f"{name}: must be a string")
    if len(value) > max_len:
        raise UserError(f"{name}: at most {max_len} characters")
    return value


def integer(
    values: Mapping[str, Any],
    name: str,
    *,
    default: int | None = None,
    low: int = -1_000_000,
    high: int = 1_000_000,
) -> int | None:
    value = values.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise UserError(f"{name}: must be a whole number")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise UserError(f"{name}: must be a whole number, not {value!r}") from None
    if not isinstance(value, int):
        raise UserError(f"{name}: must be a whole number")
    if not low <= value <= high:
        raise UserError(f"{name}: must be between {low} and {high}")
    return value


def boolean(values: Mapping[str, Any], name: str, *, default: bool = False) -> bool:
    value = values.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
        return False
    raise UserError(f"{name}: must be true or false")


def strings(values: Mapping[str, Any], name: str) -> list[str]:
    """A JSON array of strings, or a form field of ids separated by spaces, commas or ';'."""
    value = values.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [p for p in value.replace(",", " ").replace(";", " ").split() if p]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v]
    raise UserError(f"{name}: must be a list of strings")


def when(value: str, *, tz: ZoneInfo, now: datetime, name: str = "time") -> datetime:
    """See ``bot.domain.times.parse_when``. Raises UserError."""
    return parse_when(value, tz=tz, now=now, what=name)


def optional_when(
    values: Mapping[str, Any], name: str, *, tz: ZoneInfo, now: datetime
) -> datetime | None:
    raw = text(values, name, max_len=100).strip()
    return when(raw, tz=tz, now=now, name=name) if raw else None


def day(value: str, name: str) -> date:
    """A date in ``EARLIEST``..``LATEST`` (bot.domain.times). Raises UserError."""
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{name}: not a date (YYYY-MM-DD): {value!r}") from None
    return check_day(parsed, name)
