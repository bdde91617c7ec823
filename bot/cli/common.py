"""What every command group shares: reading the configuration, opening the database or the
whole service, argument types and JSON output. Kept light: it is imported by ``bot --help``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.config import Config, find_config_path, load_config
from bot.domain.times import parse_when as parse_time

if TYPE_CHECKING:
    from typing import TypeAlias

    from sqlalchemy.ext.asyncio import AsyncEngine

    # What each group's ``register`` receives: the top-level parser's ``add_subparsers()``.
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

Handler = Callable[[argparse.Namespace], Awaitable[int]]


def language(args: argparse.Namespace | None = None) -> str:
    """The language of what a command prints: ``--lang``, else ``$BOT_LANG``, else Chinese.
    JSON output never changes with it."""
    from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES

    asked = (getattr(args, "lang", None) or os.environ.get("BOT_LANG", "")).strip().lower()
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


def say(args: argparse.Namespace, english: str, /, **fields: object) -> str:
    """``english`` (with its ``{fields}``) in the command's language."""
    from bot.i18n import translate

    return translate(language(args), english, **fields)


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (a Chinese character takes
    two), so columns of mixed Chinese and Latin text line up."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def read_config(args: argparse.Namespace) -> Config:
    return load_config(find_config_path(args.config))


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, so a bad one is a usage error, not a traceback at bind."""
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (1-65535)")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def parse_when(text: str, tz: ZoneInfo) -> datetime:
    """See ``bot.domain.times.parse_when``; "now" is this moment."""
    return parse_time(text, tz=tz, now=datetime.now(UTC))


def services(config: Config, **kwargs: Any) -> Any:
    """The whole service (HTTP session, account clients, publisher, drafting, review): for
    commands that act. Reading commands use ``database`` and start faster."""
    from bot.app import open_services

    return open_services(config, **kwargs)


@contextlib.asynccontextmanager
async def database(config: Config) -> AsyncIterator[AsyncEngine]:
    """Only the database engine, for commands that read what is stored."""
    from bot.store import db

    engine = db.open_engine(config.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()
