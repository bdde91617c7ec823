"""The configuration loader: the example file loads and documents every key, errors name
their key path, secrets never show."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from bot.account.limits import PlatformLimits
from bot.config import (
    DEFAULT_DAILY_QUOTAS,
    AccountConfig,
    Campaign,
    ColumnConfig,
    Config,
    PublisherConfig,
    WebConfig,
    find_config_path,
    load_config,
    parse_config,
)
from bot.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
ENV = {
    "WX_SECRET_MAIN": "s3cret-value",
    "WX_CALLBACK_TOKEN_MAIN": "tok",
    "WX_AES_KEY_MAIN": "a" * 43,
    "BOT_SESSION_KEY": "k",
}
MINIMAL = {
    "database": {"url": "sqlite+aiosqlite:///var/bot.db"},
    "accounts": [{"name": "main", "appid": "wx1", "secret_env": "WX_SECRET_MAIN"}],
    "columns": [{"name": "学习平台", "account": "main"}],
}


def test_the_example_file_loads() -> None:
    config = load_config(EXAMPLE, environ=ENV)
    assert config.accounts[0].secret.value == "s3cret-value"
    assert config.columns[0].name == "学习平台"
    assert config.campaigns[0].name == "theme-education"


def test_the_example_documents_every_key_in_its_own_table() -> None:
    """Every field of the config dataclasses appears as a key of config.example.toml, in the
    table that configures it (a key in the wrong table would not be read there)."""
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    renamed = {
        "secret": "secret_env",
        "token": "token_env",
        "aes_key": "aes_key_env",
        "session_key": "session_key_env",
    }

    def keys(tables: object) -> set[str]:
        rows = tables if isinstance(tables, list) else [tables]
        return {key for row in rows for key in row}

    where = {
        AccountConfig: keys(example["accounts"]),
        PlatformLimits: keys([a["limits"] for a in example["accounts"] if "limits" in a]),
        ColumnConfig: keys(example["columns"]),
        WebConfig: keys(example["web"]),
        PublisherConfig: keys(example["publisher"]),
        Campaign: keys(example["campaigns"]),
    }
    for cls, found in where.items():
        for field in dataclasses.fields(cls):
            assert renamed.get(field.name, field.name) in found, f"{cls.__name__}.{field.name}"
    # Config's own fields live in tables of their own.
    assert "url" in example["database"]  # database_url
    assert "timezone" in example["reports"]  # report_timezone
    assert "kinds" in example["catalogue"]  # extra_kinds
    assert {"schedules_dir", "templates_dir", "media_dir", "misfire_grace_seconds"} <= set(
        example["bot"]
    )
    assert {"poll_share"} | set(DEFAULT_DAILY_QUOTAS) >= set(example["accounts"][0]["quota"])
    assert "poll_share" in example["accounts"][0]["quota"]
    top = {f.name for f in dataclasses.fields(Config)}
    assert top - {"path", "accounts", "columns", "web", "publisher", "campaigns"} == {
        "database_url",
        "report_timezone",
        "extra_kinds",
        "schedules_dir",
        "templates_dir",
        "media_dir",
        "misfire_grace_seconds",
    }, "a new top-level setting: add it to the example and to this test"


def test_a_minimal_file_is_valid() -> None:
    config = parse_config(MINIMAL, environ=ENV)
    assert config.columns[0].template == "posts/default.md.j2"
    assert config.accounts[0].api_base == "https://api.weixin.qq.com"
    assert config.accounts[0].timezone == "Asia/Shanghai"


def _with(**changes: object) -> dict:
    raw = {k: (list(v) if isinstance(v, list) else dict(v)) for k, v in MINIMAL.items()}
    raw["accounts"] = [dict(raw["accounts"][0])]
    raw["columns"] = [dict(raw["columns"][0])]
    for path, value in changes.items():
        section, _, key = path.partition("__")
        target = raw[section][0] if isinstance(raw[section], list) else raw[section]
        target[key] = value
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"accounts__timezone": "Mars/Base"}, "accounts[0].timezone: unknown timezone 'Mars/Base'"),
        ({"columns__account": "other"}, "columns[0].account: no account named 'other'"),
        ({"columns__kinds": ["planet"]}, "columns[0].kinds: unknown kind 'planet'"),
        ({"columns__delivery": "fax"}, "columns[0].delivery: must be 'publish' or 'mass_send'"),
        (
            {"columns__author": "一" * 9},
            "columns[0].author: the author '一一一一一一一一一' has 9 characters; the platform "
            "refuses more than 8 (errcode 45110), so every post of this column would fail",
        ),
        ({"columns__colour": "red"}, "columns[0].colour: unknown key"),
        ({"database__url": "mysql://x"}, "database.url: unsupported driver 'mysql'"),
        (
            {"accounts__api_base": "ftp://x"},
            "accounts[0].api_base: must start with http:// or https://",
        ),
        (
            {"accounts__aes_key": "short"},
            "accounts[0].aes_key: an EncodingAESKey has 43 characters",
        ),
        ({"columns__require_review": "yes"}, "columns[0].require_review: must be true or false"),
        ({"columns__articles_per_post": 9}, "columns[0].articles_per_post: must be at most 8"),
        ({"columns__articles_per_post": 0}, "columns[0].articles_per_post: must be at least 1"),
        (
            {"columns__articles_per_post": "3"},
            "columns[0].articles_per_post: must be a whole number",
        ),
    ],
)
def test_bad_values_name_their_key(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_with(**changes), environ=ENV)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "aes_key",
    [
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN+/1",  # base64's alphabet, made by hand
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN-_1",  # URL-safe base64
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP=",  # padded
        "ａbcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",  # a fullwidth letter
    ],
)
@pytest.mark.parametrize("given", ["file", "env"])
def test_an_aes_key_the_callback_cannot_use_is_refused_without_showing_it(
    aes_key: str, given: str
) -> None:
    """Security review 6, I2: such a key loaded, then every safe-mode push was answered 400
    ("the EncodingAESKey must be 43 letters and digits") and the account's events lost."""
    assert len(aes_key) == 43
    if given == "file":
        raw, environ, setting = _with(accounts__aes_key=aes_key), ENV, "accounts[0].aes_key"
    else:
        raw = _with(accounts__aes_key_env="WX_AES_KEY_ODD")
        environ = {**ENV, "WX_AES_KEY_ODD": aes_key}
        setting = "accounts[0].aes_key_env"
    with pytest.raises(ConfigError) as info:
        parse_config(raw, environ=environ)
    message = str(info.value)
    assert f"{setting}: an EncodingAESKey has only letters and digits" in message
    assert aes_key not in message and aes_key[:8] not in message


def test_an_aes_key_of_43_letters_and_digits_is_taken() -> None:
    key = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN789"
    config = parse_config(_with(accounts__aes_key=key), environ=ENV)
    assert config.accounts[0].aes_key is not None
    assert config.accounts[0].aes_key.value == key


def test_a_secret_not_set_is_said_when_it_is_needed() -> None:
    """bot db upgrade, catalogue import and report use no app secret or session key: a
    configuration naming unset variables loads, and reading the secret says what is wrong."""
    raw = _with(accounts__secret_env="NOPE")
    raw["web"] = {"session_key_env": "NOPE_TOO"}
    config = parse_config(raw, environ=ENV)
    secret = config.accounts[0].secret
    assert secret and "NOPE" not in repr(secret.stored)
    with pytest.raises(ConfigError) as info:
        _ = secret.value
    assert "accounts[0].secret_env: environment variable NOPE is not set" in str(info.value)
    assert "设置与开发" in str(info.value)
    assert config.web.session_key is not None
    with pytest.raises(ConfigError) as info:
        _ = config.web.session_key.value
    assert "secrets.token_urlsafe(32)" in str(info.value)
    assert "环境变量 NOPE_TOO 没有设置" in info.value.in_language("zh")


def test_articles_per_post_defaults_to_one_and_takes_up_to_eight() -> None:
    assert parse_config(_with(), environ=ENV).columns[0].articles_per_post == 1
    column = parse_config(_with(columns__articles_per_post=8), environ=ENV).columns[0]
    assert column.articles_per_post == 8


def test_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[database\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "missing.toml")


def test_secrets_never_show_in_reprs() -> None:
    config = parse_config(MINIMAL, environ=ENV)
    assert "s3cret-value" not in repr(config)
    assert "s3cret-value" not in str(config.accounts[0].secret)


def test_config_path_precedence(tmp_path: Path) -> None:
    assert find_config_path("x.toml", {"BOT_CONFIG": "y.toml"}) == Path("x.toml")
    assert find_config_path(None, {"BOT_CONFIG": "y.toml"}) == Path("y.toml")
    assert find_config_path(None, {}) == Path("config.toml")


def test_schedules_live_beside_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[accounts]]\nname="m"\nappid="a"\nsecret="s"\n[[columns]]\nname="c"\naccount="m"\n',
        encoding="utf-8",
    )
    assert load_config(path).schedules_dir == tmp_path / "schedules"
