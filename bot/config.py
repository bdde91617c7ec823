"""The one configuration loader: TOML into frozen dataclasses, secrets only from the environment
(or, where a user insists, from the file), every error naming its key path.

The file is found at ``--config PATH``, else ``$BOT_CONFIG``, else ``./config.toml``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.account.limits import DEFAULT_LIMITS, PlatformLimits
from bot.domain.errors import ConfigError
from bot.domain.models import BUILTIN_KINDS, MAX_ARTICLES, Delivery

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = "sqlite+aiosqlite:///var/bot.db"
DEFAULT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Secret:
    """A secret value that never shows itself in a repr, a log line or an error.

    A secret named by an environment variable that is not set is still loaded: ``missing``
    says so, and reading ``value`` raises ``ConfigError`` with it. So each command needs only
    the secrets it uses (``bot db upgrade`` or ``bot report`` need no app secret)."""

    stored: str = field(repr=False)
    source: str = ""  # "env:WX_SECRET_MAIN" or "file": safe to show
    missing: str = ""  # "accounts[0].secret_env: environment variable … is not set"

    @property
    def value(self) -> str:
        """Raises ConfigError when the environment variable was not set."""
        if self.missing:
            raise ConfigError(self.missing)
        return self.stored

    def __bool__(self) -> bool:
        return bool(self.stored) or bool(self.missing)

    def __repr__(self) -> str:
        return f"Secret(<hidden>, source={self.source!r})"

    __str__ = __repr__


# What to do about a secret that is not set, by its key.
_HINTS = {
    "session_key": " — make one with: python3 -c 'import secrets;print(secrets.token_urlsafe(32))'",
    "secret": " — the app secret is on mp.weixin.qq.com under 设置与开发 → 基本配置",
}


@dataclass(frozen=True)
class QuotaConfig:
    """Daily call limits per endpoint (the official table for a new account), and how much of
    the freepublish/get budget polling may use so submits keep room."""

    daily: Mapping[str, int]
    poll_share: float = 0.8


DEFAULT_DAILY_QUOTAS: dict[str, int] = {
    "draft/add": 1000,
    "draft/get": 500,
    "draft/delete": 1000,
    "draft/update": 1000,
    "draft/count": 1000,
    "draft/batchget": 1000,
    "freepublish/submit": 100,
    "freepublish/get": 100,
    "freepublish/delete": 10,
    "freepublish/getarticle": 100,
    "freepublish/batchget": 100,
    "message/mass/sendall": 100,
    "message/mass/preview": 100,
    "message/mass/get": 1000,
    "media/uploadimg": 1000,
    "material/add_material": 1000,
}


@dataclass(frozen=True)
class AccountConfig:
    name: str
    appid: str
    secret: Secret
    api_base: str = DEFAULT_API_BASE
    timezone: str = DEFAULT_TIMEZONE
    token: Secret | None = None  # callback token
    aes_key: Secret | None = None  # EncodingAESKey (43 letters and digits) for safe mode
    account_type: str = "subscription"  # or "service": decides the mass-send allowance
    quota: QuotaConfig = field(default_factory=lambda: QuotaConfig(DEFAULT_DAILY_QUOTAS))
    preview_openid: str = ""  # a reviewer's openid for message/mass/preview
    limits: PlatformLimits = DEFAULT_LIMITS  # what draft/add accepts ([accounts.limits])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ColumnConfig:
    name: str
    account: str
    template: str = "posts/default.md.j2"
    kinds: tuple[str, ...] = ()  # empty: every kind
    author: str = ""
    cover: str = ""  # empty: the project's default cover
    require_review: bool = False
    delivery: Delivery = Delivery.PUBLISH
    cooldown_days: int = 30
    resources_per_post: int = 1  # resources each article features
    articles_per_post: int = 1  # 1..8: a post of N articles (多图文), sent as one draft
    # Names written in Traditional characters the column may use (a warning, not an error).
    traditional_allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    base_url: str = "http://127.0.0.1:8080"
    session_key: Secret | None = None
    language: str = "zh"
    # Proxies (addresses or networks) whose X-Forwarded-For is believed; from anyone else
    # the header is ignored and the connection's own address is the client's.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allow_self_approval: bool = False  # may a reviewer approve a post they drafted or edited?


@dataclass(frozen=True)
class Campaign:
    """A named period a report can ask for (``--period theme-education``)."""

    name: str
    start: date
    end: date


@dataclass(frozen=True)
class PublisherConfig:
    concurrency: int = 0  # accounts published at once; 0: every account (one post each)
    lease_seconds: int = 300
    max_attempts: int = 5
    poll_first_seconds: float = 30.0
    poll_max_seconds: float = 1800.0
    # How long an unclear submit is only watched for in the published list. Set it longer
    # than the platform's longest publish job: only after it may a draft still in the box
    # prove the submit never became an article (bot.engine.reconcile).
    reconcile_window_seconds: float = 21600.0
    tick_seconds: float = 5.0
    # How long before a slot its posts are drafted on the platform (0: at the slot).
    stage_ahead_seconds: float = 600.0


@dataclass(frozen=True)
class Config:
    path: Path | None
    database_url: str
    accounts: tuple[AccountConfig, ...]
    columns: tuple[ColumnConfig, ...]
    web: WebConfig = field(default_factory=WebConfig)
    schedules_dir: Path = PROJECT_ROOT / "schedules"
    templates_dir: Path = PROJECT_ROOT / "templates"
    media_dir: Path = Path("media")  # imported local images, by content hash
    extra_kinds: tuple[str, ...] = ()
    misfire_grace_seconds: int = 600
    publisher: PublisherConfig = field(default_factory=PublisherConfig)
    campaigns: tuple[Campaign, ...] = ()
    report_timezone: str = DEFAULT_TIMEZONE

    @property
    def kinds(self) -> tuple[str, ...]:
        return BUILTIN_KINDS + tuple(k for k in self.extra_kinds if k not in BUILTIN_KINDS)

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        raise ConfigError(f"no account named {name!r} in the configuration")

    def column(self, name: str) -> ColumnConfig:
        for column in self.columns:
            if column.name == name:
                return column
        raise ConfigError(f"no column named {name!r} in the configuration")


# --- loading ------------------------------------------------------------------------------


def find_config_path(explicit: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    if explicit:
        return Path(explicit)
    if environ.get("BOT_CONFIG"):
        return Path(environ["BOT_CONFIG"])
    return Path("config.toml")


def load_config(path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    """Read and validate the file. Raises ``ConfigError`` naming the file and key path."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:  # a directory, no permission
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, path=path, environ=environ)


def parse_config(
    raw: Mapping[str, Any], *, path: Path | None = None, environ: Mapping[str, str] = os.environ
) -> Config:
    reader = _Reader(path, environ)
    return reader.config(raw)


_KNOWN_TOP = {
    "database",
    "accounts",
    "columns",
    "web",
    "bot",
    "catalogue",
    "publisher",
    "campaigns",
    "reports",
}


class _Reader:
    def __init__(self, path: Path | None, environ: Mapping[str, str]) -> None:
        self.path = path
        self.environ = environ
        self.base_dir = path.resolve().parent if path else Path.cwd()

    def fail(self, key: str, problem: str) -> ConfigError:
        where = f"{self.path}: " if self.path else ""
        return ConfigError(f"{where}{key}: {problem}")

    # typed getters -------------------------------------------------------------------------

    def table(self, raw: Mapping[str, Any], key: str, name: str) -> Mapping[str, Any]:
        value = raw.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return value

    def str_(self, raw: Mapping[str, Any], key: str, name: str, default: str | None = None) -> str:
        if name not in raw:
            if default is None:
                raise self.fail(f"{key}.{name}", "is required")
            return default
        value = raw[name]
        if not isinstance(value, str):
            raise self.fail(f"{key}.{name}", f"must be a string, not {type(value).__name__}")
        return value

    def int_(
        self,
        raw: Mapping[str, Any],
        key: str,
        name: str,
        default: int,
        low: int = 0,
        high: int | None = None,
    ) -> int:
        value = raw.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"{key}.{name}", "must be a whole number")
        if value < low:
            raise self.fail(f"{key}.{name}", f"must be at least {low}")
        if high is not None and value > high:
            raise self.fail(f"{key}.{name}", f"must be at most {high}")
        return value

    def float_(self, raw: Mapping[str, Any], key: str, name: str, default: float) -> float:
        value = raw.get(name, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise self.fail(f"{key}.{name}", "must be a non-negative number")
        return float(value)

    def bool_(self, raw: Mapping[str, Any], key: str, name: str, default: bool) -> bool:
        value = raw.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(f"{key}.{name}", "must be true or false")
        return value

    def strs(self, raw: Mapping[str, Any], key: str, name: str) -> tuple[str, ...]:
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{key}.{name}", "must be a list of strings")
        return tuple(value)

    def networks(
        self, raw: Mapping[str, Any], key: str, name: str
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        found = []
        for value in self.strs(raw, key, name):
            try:
                found.append(ipaddress.ip_network(value.strip(), strict=False))
            except ValueError:
                raise self.fail(
                    f"{key}.{name}", f"{value!r} is not an IP address or network"
                ) from None
        return tuple(found)

    def unknown(self, raw: Mapping[str, Any], key: str, allowed: set[str]) -> None:
        for name in raw:
            if name not in allowed:
                raise self.fail(f"{key}.{name}" if key else name, "unknown key")

    def timezone(self, raw: Mapping[str, Any], key: str, name: str, default: str) -> str:
        value = self.str_(raw, key, name, default)
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(f"{key}.{name}", f"unknown timezone {value!r}") from None
        return value

    def secret(
        self, raw: Mapping[str, Any], key: str, name: str, *, required: bool
    ) -> Secret | None:
        """``name_env = "VAR"`` names an environment variable; ``name = "…"`` is the value."""
        env_name = raw.get(f"{name}_env")
        if env_name is not None:
            if not isinstance(env_name, str) or not env_name:
                raise self.fail(f"{key}.{name}_env", "must name an environment variable")
            value = self.environ.get(env_name)
            if not value:
                # Said when the secret is first needed, not by commands that never use it.
                problem = self.fail(
                    f"{key}.{name}_env", f"environment variable {env_name} is not set"
                )
                return Secret("", f"env:{env_name}", missing=f"{problem}{_HINTS.get(name, '')}")
            return Secret(value, f"env:{env_name}")
        if name in raw:
            value = raw[name]
            if not isinstance(value, str) or not value:
                raise self.fail(f"{key}.{name}", "must be a non-empty string")
            return Secret(value, "file")
        if required:
            raise self.fail(f"{key}.{name}_env", "is required (or give the value as " + name + ")")
        return None

    # sections ------------------------------------------------------------------------------

    def config(self, raw: Mapping[str, Any]) -> Config:
        self.unknown(raw, "", _KNOWN_TOP)
        database = self.table(raw, "database", "database")
        self.unknown(database, "database", {"url"})
        url = self.str_(database, "database", "url", DEFAULT_DB_URL)
        url = self.resolve_sqlite_url(url)

        accounts = tuple(
            self.account(a, f"accounts[{i}]")
            for i, a in enumerate(self.array(raw, "accounts", required=True))
        )
        names = [a.name for a in accounts]
        if len(set(names)) != len(names):
            raise self.fail("accounts", "account names must be unique")
        bot = self.table(raw, "bot", "bot")
        self.unknown(
            bot, "bot", {"schedules_dir", "templates_dir", "media_dir", "misfire_grace_seconds"}
        )
        catalogue = self.table(raw, "catalogue", "catalogue")
        self.unknown(catalogue, "catalogue", {"kinds"})
        extra_kinds = self.strs(catalogue, "catalogue", "kinds")
        kinds = BUILTIN_KINDS + extra_kinds
        columns = tuple(
            self.column(c, f"columns[{i}]", {a.name: a for a in accounts}, kinds)
            for i, c in enumerate(self.array(raw, "columns", required=True))
        )
        if len({c.name for c in columns}) != len(columns):
            raise self.fail("columns", "column names must be unique")
        reports = self.table(raw, "reports", "reports")
        self.unknown(reports, "reports", {"timezone"})
        return Config(
            path=self.path,
            database_url=url,
            accounts=accounts,
            columns=columns,
            web=self.web(self.table(raw, "web", "web")),
            # Schedules live beside the config file; templates fall back to the project's own.
            schedules_dir=self.dir(bot, "bot", "schedules_dir", self.base_dir / "schedules"),
            templates_dir=self.dir(bot, "bot", "templates_dir", self._templates_default()),
            media_dir=self.dir(bot, "bot", "media_dir", self.base_dir / "media"),
            extra_kinds=extra_kinds,
            misfire_grace_seconds=self.int_(bot, "bot", "misfire_grace_seconds", 600),
            publisher=self.publisher(self.table(raw, "publisher", "publisher")),
            campaigns=tuple(
                self.campaign(c, f"campaigns[{i}]")
                for i, c in enumerate(self.array(raw, "campaigns", required=False))
            ),
            report_timezone=self.timezone(reports, "reports", "timezone", DEFAULT_TIMEZONE),
        )

    def array(self, raw: Mapping[str, Any], name: str, *, required: bool) -> list[Any]:
        value = raw.get(name)
        if value is None:
            if required:
                raise self.fail(f"[[{name}]]", "at least one is required")
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(name, "must be an array of tables ([[" + name + "]])")
        if required and not value:
            raise self.fail(f"[[{name}]]", "at least one is required")
        return value

    def resolve_sqlite_url(self, url: str) -> str:
        """A relative SQLite path is relative to the working directory, as SQLAlchemy reads it;
        we keep it so, and only check the URL's shape."""
        if "://" not in url:
            raise self.fail("database.url", f"not a SQLAlchemy URL: {url!r}")
        scheme = url.split("://", 1)[0]
        if scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
            raise self.fail(
                "database.url",
                f"unsupported driver {scheme!r} (use sqlite+aiosqlite or postgresql+asyncpg)",
            )
        return url

    def dir(self, raw: Mapping[str, Any], key: str, name: str, default: Path) -> Path:
        """A directory key, relative to the config file; ``default`` when absent."""
        if name not in raw:
            return default
        value = Path(self.str_(raw, key, name))
        return value if value.is_absolute() else self.base_dir / value

    def _templates_default(self) -> Path:
        beside = self.base_dir / "templates"
        return beside if beside.is_dir() else PROJECT_ROOT / "templates"

    def aes_key(self, raw: Mapping[str, Any], key: str) -> Secret | None:
        """The EncodingAESKey, refused here unless the callback can use it: a key the decoder
        refuses would answer every safe-mode push 400 (security review 6, I2). Errors name
        the setting, never the key."""
        from bot.account.callback import is_encoding_aes_key  # cryptography: only when needed

        aes_key = self.secret(raw, key, "aes_key", required=False)
        if aes_key is None:
            return None
        setting = f"{key}.aes_key_env" if aes_key.source.startswith("env:") else f"{key}.aes_key"
        if len(aes_key.value) != 43:
            raise self.fail(setting, "an EncodingAESKey has 43 characters")
        if not is_encoding_aes_key(aes_key.value):
            raise self.fail(
                setting,
                "an EncodingAESKey has only letters and digits (A-Z, a-z, 0-9), as the "
                "platform's console gives it; this one has other characters (such as + or /)",
            )
        return aes_key

    def account(self, raw: Mapping[str, Any], key: str) -> AccountConfig:
        self.unknown(
            raw,
            key,
            {
                "name",
                "appid",
                "secret",
                "secret_env",
                "api_base",
                "timezone",
                "token",
                "token_env",
                "aes_key",
                "aes_key_env",
                "account_type",
                "quota",
                "preview_openid",
                "limits",
            },
        )
        name = self.str_(raw, key, "name")
        if not name or "/" in name:
            raise self.fail(f"{key}.name", "must be non-empty and contain no '/'")
        api_base = self.str_(raw, key, "api_base", DEFAULT_API_BASE).rstrip("/")
        if not api_base.startswith(("http://", "https://")):
            raise self.fail(f"{key}.api_base", "must start with http:// or https://")
        account_type = self.str_(raw, key, "account_type", "subscription")
        if account_type not in {"subscription", "service"}:
            raise self.fail(f"{key}.account_type", "must be 'subscription' or 'service'")
        aes_key = self.aes_key(raw, key)
        quota_raw = self.table(raw, f"{key}.quota", "quota")
        daily = dict(DEFAULT_DAILY_QUOTAS)
        for endpoint, limit in quota_raw.items():
            if endpoint == "poll_share":
                continue
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                raise self.fail(f"{key}.quota.{endpoint}", "must be a whole number >= 0")
            daily[endpoint] = limit
        poll_share = self.float_(quota_raw, f"{key}.quota", "poll_share", 0.8)
        if poll_share > 1:
            raise self.fail(f"{key}.quota.poll_share", "must be between 0 and 1")
        return AccountConfig(
            name=name,
            appid=self.str_(raw, key, "appid"),
            secret=self.secret(raw, key, "secret", required=True),  # type: ignore[arg-type]
            api_base=api_base,
            timezone=self.timezone(raw, key, "timezone", DEFAULT_TIMEZONE),
            token=self.secret(raw, key, "token", required=False),
            aes_key=aes_key,
            account_type=account_type,
            quota=QuotaConfig(daily, poll_share),
            preview_openid=self.str_(raw, key, "preview_openid", ""),
            limits=self.limits(raw, key),
        )

    def limits(self, raw: Mapping[str, Any], key: str) -> PlatformLimits:
        """``[accounts.limits]``: any of PlatformLimits' fields, whole numbers."""
        table = self.table(raw, f"{key}.limits", "limits")
        self.unknown(table, f"{key}.limits", set(PlatformLimits.names()))
        values = {
            name: self.int_(table, f"{key}.limits", name, getattr(DEFAULT_LIMITS, name), low=1)
            for name in PlatformLimits.names()
            if name != "title_bytes"
        }
        values["title_bytes"] = self.int_(
            table, f"{key}.limits", "title_bytes", DEFAULT_LIMITS.title_bytes, low=0
        )
        return PlatformLimits(**values)

    def column(
        self,
        raw: Mapping[str, Any],
        key: str,
        accounts: Mapping[str, AccountConfig],
        kinds: tuple[str, ...],
    ) -> ColumnConfig:
        self.unknown(
            raw,
            key,
            {
                "name",
                "account",
                "template",
                "kinds",
                "author",
                "cover",
                "require_review",
                "delivery",
                "cooldown_days",
                "resources_per_post",
                "articles_per_post",
                "traditional_allowed",
            },
        )
        account = self.str_(raw, key, "account")
        if account not in accounts:
            raise self.fail(f"{key}.account", f"no account named {account!r}")
        column_kinds = self.strs(raw, key, "kinds")
        for kind in column_kinds:
            if kind not in kinds:
                raise self.fail(
                    f"{key}.kinds", f"unknown kind {kind!r} (known: {', '.join(kinds)})"
                )
        delivery = self.str_(raw, key, "delivery", "publish")
        if delivery not in {d.value for d in Delivery}:
            raise self.fail(f"{key}.delivery", "must be 'publish' or 'mass_send'")
        author = self.str_(raw, key, "author", "")
        problem = accounts[account].limits.author_problem(author)
        if problem:
            raise self.fail(
                f"{key}.author",
                f"{problem}, so every post of this column would fail; shorten it (or set "
                f"author_chars in the account's [accounts.limits] if the platform accepts more)",
            )
        return ColumnConfig(
            name=self.str_(raw, key, "name"),
            account=account,
            template=self.str_(raw, key, "template", "posts/default.md.j2"),
            kinds=column_kinds,
            author=author,
            cover=self.str_(raw, key, "cover", ""),
            require_review=self.bool_(raw, key, "require_review", False),
            delivery=Delivery(delivery),
            cooldown_days=self.int_(raw, key, "cooldown_days", 30),
            resources_per_post=self.int_(raw, key, "resources_per_post", 1, low=1),
            articles_per_post=self.int_(raw, key, "articles_per_post", 1, low=1, high=MAX_ARTICLES),
            traditional_allowed=self.strs(raw, key, "traditional_allowed"),
        )

    def web(self, raw: Mapping[str, Any]) -> WebConfig:
        self.unknown(
            raw,
            "web",
            {
                "host",
                "port",
                "base_url",
                "session_key",
                "session_key_env",
                "language",
                "trusted_proxies",
                "allow_self_approval",
            },
        )
        port = self.int_(raw, "web", "port", 8080)
        if port > 65535:
            raise self.fail("web.port", "must be at most 65535")
        host = self.str_(raw, "web", "host", "127.0.0.1")
        language = self.str_(raw, "web", "language", "zh")
        if language not in {"zh", "en"}:
            raise self.fail("web.language", "must be 'zh' or 'en'")
        return WebConfig(
            host=host,
            port=port,
            base_url=self.str_(raw, "web", "base_url", f"http://{host}:{port}").rstrip("/"),
            session_key=self.secret(raw, "web", "session_key", required=False),
            language=language,
            trusted_proxies=self.networks(raw, "web", "trusted_proxies"),
            allow_self_approval=self.bool_(raw, "web", "allow_self_approval", False),
        )

    def publisher(self, raw: Mapping[str, Any]) -> PublisherConfig:
        key = "publisher"
        self.unknown(raw, key, {f.name for f in PublisherConfig.__dataclass_fields__.values()})
        defaults = PublisherConfig()
        return PublisherConfig(
            concurrency=self.int_(raw, key, "concurrency", defaults.concurrency, low=0),
            lease_seconds=self.int_(raw, key, "lease_seconds", defaults.lease_seconds, low=10),
            max_attempts=self.int_(raw, key, "max_attempts", defaults.max_attempts, low=1),
            poll_first_seconds=self.float_(
                raw, key, "poll_first_seconds", defaults.poll_first_seconds
            ),
            poll_max_seconds=self.float_(raw, key, "poll_max_seconds", defaults.poll_max_seconds),
            reconcile_window_seconds=self.float_(
                raw, key, "reconcile_window_seconds", defaults.reconcile_window_seconds
            ),
            stage_ahead_seconds=self.float_(
                raw, key, "stage_ahead_seconds", defaults.stage_ahead_seconds
            ),
            tick_seconds=self.float_(raw, key, "tick_seconds", defaults.tick_seconds),
        )

    def campaign(self, raw: Mapping[str, Any], key: str) -> Campaign:
        self.unknown(raw, key, {"name", "start", "end"})
        start, end = raw.get("start"), raw.get("end")
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, date):
                raise self.fail(f"{key}.{name}", "must be a date (2023-09-01)")
        assert isinstance(start, date) and isinstance(end, date)
        if end < start:
            raise self.fail(f"{key}.end", "is before start")
        return Campaign(self.str_(raw, key, "name"), start, end)
