"""The simulator's settings: one frozen dataclass, with the platform's documented defaults."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.account.callback import is_encoding_aes_key
from bot.config import DEFAULT_DAILY_QUOTAS as SERVICE_DAILY_QUOTAS
from bot.domain.errors import ConfigError


def system_clock() -> datetime:
    """The real time, aware UTC: the one place the simulator reads the wall clock."""
    return datetime.now(UTC)


# Daily quotas of a newly registered account (wechat-api.md §8). Keys are paths below
# /cgi-bin/. uploadimg and add_material are not in the official table; 1000 follows the one
# community report.
DEFAULT_DAILY_QUOTAS: Mapping[str, int] = {
    # The business endpoints' table is the one the service budgets with; the simulator adds
    # the token calls, which the service does not budget (stable_token is plentiful).
    **SERVICE_DAILY_QUOTAS,
    "token": 2000,
    "stable_token": 500_000,
    "stable_token:force_refresh": 20,
}

# Per-minute limits that the reference documents (§1.2, §6.3); every other path gets
# ``SimulatorConfig.minute_limit``.
DEFAULT_MINUTE_LIMITS: Mapping[str, int] = {
    "stable_token": 10_000,
    "message/mass/sendall": 60,
    "message/mass/preview": 60,
}

# Title markers that make a publish job end in a given publish_status, so tests can trigger
# the platform's rejections deterministically. Short, because a title holds 32 characters.
DEFAULT_PUBLISH_RULES: Mapping[str, int] = {
    "[sim-original]": 2,
    "[sim-fail]": 3,
    "[sim-reject]": 4,
}

FAULT_KINDS = ("busy", "rate_limited", "http_5xx", "slow", "token_invalid", "lost_answer")
# What ``fault_rate`` draws from; lost answers have their own rate (``lost_answer_rate``).
RANDOM_FAULT_KINDS = ("busy", "rate_limited", "http_5xx", "slow", "token_invalid")
LOST_ANSWER_MODES = ("drop", "5xx", "mixed")

# The platform's undocumented or disputed behaviours (platform-fidelity.md §1), one setting
# each; every value is a behaviour the real platform may have.
DRAFT_REMOVALS = ("submit", "job_end", "job_end_republish")
PUBLISH_ID_TYPES = ("string", "number")
UPDATE_TIME_PLACES = ("item", "content", "both")
MASS_CHECK_ORDERS = ("clientmsgid_first", "media_first")
PUSH_MODES = ("safe", "compatible")
VARIANTS: Mapping[str, str] = {
    "draft_removal": (
        "when a submitted draft leaves the draft box: 'submit' (at once), 'job_end' (only "
        "when its job succeeds; a second submit meanwhile answers the running job), "
        "'job_end_republish' (the same, but a second submit publishes it again)"
    ),
    "author_max": "the longest author in characters (docs 16, console and field reports 8)",
    "title_max": "the longest title in characters (docs 32, console 64)",
    "title_max_bytes": "the longest title in UTF-8 bytes, 0 for no byte limit (field: 64)",
    "digest_max": "the longest digest in characters (docs 128, console 120)",
    "publish_id_type": (
        "'string' (docs, with msg_data_id) or 'number' (recorded answers, no msg_data_id)"
    ),
    "update_time_place": (
        "where freepublish/batchget puts update_time: 'item' (docs), 'content' (recorded) or 'both'"
    ),
    "raw_control_chars": (
        "true: answers carry control characters and invalid UTF-8 raw, as the platform has "
        "sent them, instead of JSON escapes"
    ),
    "clientmsgid_45066": "true: a clientmsgid repeated within a minute gets 45066",
    "mass_check_order": (
        "'clientmsgid_first' (a repeat gets 45065) or 'media_first' (a repeat whose draft "
        "was used up gets 40007)"
    ),
    "push_mode": (
        "with an aes_key: 'safe' (only <Encrypt>) or 'compatible' (plain fields and "
        "<Encrypt>, encrypt_type=aes)"
    ),
    "verified": "false: every freepublish and mass-send endpoint answers 48001",
}
# The documented behaviour, and the strictest plausible one of every variant.
PROFILES: Mapping[str, Mapping[str, object]] = {
    "documented": {
        "draft_removal": "submit",
        "author_max": 16,
        "title_max": 32,
        "title_max_bytes": 0,
        "digest_max": 128,
        "publish_id_type": "string",
        "update_time_place": "item",
        "raw_control_chars": False,
        "clientmsgid_45066": False,
        "mass_check_order": "clientmsgid_first",
        "push_mode": "safe",
    },
    "realistic": {
        "draft_removal": "job_end_republish",
        "author_max": 8,
        "title_max": 32,
        "title_max_bytes": 64,
        "digest_max": 120,
        "publish_id_type": "number",
        "update_time_place": "content",
        "raw_control_chars": True,
        "clientmsgid_45066": True,
        "mass_check_order": "media_first",
        "push_mode": "compatible",
    },
}


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulator is told at start. Faults and the callback can also be changed
    at run time (``POST /_sim/faults``, ``POST /_sim/callback``)."""

    appid: str = "wxsim0000000000001"
    secret: str = "simulator-secret"
    latency_ms: int = 0  # added to every API answer
    fault_rate: float = 0.0  # share of API calls answered with a fault from ``fault_kinds``
    lost_answer_rate: float = 0.0  # share of draft/add, submit, sendall whose answer is lost
    seed: int | None = None  # fixes faults and ids; None draws a fresh seed
    publish_delay_seconds: float = 2.0  # how long a publish or mass-send job stays in progress
    # Above publish_delay_seconds: each job's time is drawn between the two (seeded).
    publish_delay_max_seconds: float = 0.0
    callback_url: str = ""  # where PUBLISHJOBFINISH/MASSSENDJOBFINISH are pushed; "" = nowhere
    callback_token: str = ""
    aes_key: str = ""  # EncodingAESKey; set = pushes in safe mode
    account_type: str = "subscription"  # or "service": decides the mass-send allowance
    quotas: Mapping[str, int] = field(default_factory=dict)  # overrides DEFAULT_DAILY_QUOTAS
    clock: Callable[[], datetime] = system_clock
    minute_limit: int = 6000  # per path and minute, unless DEFAULT_MINUTE_LIMITS says less
    minute_limits: Mapping[str, int] = field(default_factory=dict)  # overrides per path
    fault_kinds: tuple[str, ...] = RANDOM_FAULT_KINDS
    slow_seconds: float = 6.0  # a "slow" answer arrives this late (after the effect)
    lost_answer_mode: str = "mixed"  # "drop" the connection, answer "5xx", or either
    token_ttl_seconds: int = 7200
    publish_rules: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PUBLISH_RULES))
    verified: bool = True  # unverified accounts get 48001 from freepublish (since July 2025)
    original_id: str = "gh_51a0000000001"  # the account's gh_ id (ToUserName of pushes)
    mphelper_openid: str = "oSIMmphelper0000000000000000"  # FromUserName of job events
    followers: int = 1000  # what a mass send reaches
    callback_timeout_seconds: float = 5.0
    callback_attempts: int = 3  # in total, like the platform (§5.2)
    callback_retry_delay_seconds: float = 1.0
    tick_seconds: float = 0.05  # how often finished jobs are looked for
    # The variants (VARIANTS says what each means); the defaults are the documented profile.
    draft_removal: str = "submit"
    author_max: int = 16
    title_max: int = 32
    title_max_bytes: int = 0
    digest_max: int = 128
    publish_id_type: str = "string"
    update_time_place: str = "item"
    raw_control_chars: bool = False
    clientmsgid_45066: bool = False
    mass_check_order: str = "clientmsgid_first"
    push_mode: str = "safe"
    profile: str = "documented"  # the name shown in /_sim/state; set by ``for_profile``
    # Articles published by hand in the console before the simulator starts, each with a raw
    # control character in its title and a byte that is not UTF-8 in its digest.
    console_articles: int = 0

    def __post_init__(self) -> None:
        for name in ("fault_rate", "lost_answer_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"simulator: {name} must be between 0 and 1, got {value}")
        for name in ("latency_ms", "publish_delay_seconds", "slow_seconds"):
            if getattr(self, name) < 0:
                raise ConfigError(f"simulator: {name} must not be negative")
        if self.account_type not in ("subscription", "service"):
            raise ConfigError(
                f"simulator: account_type must be 'subscription' or 'service', "
                f"got {self.account_type!r}"
            )
        if self.aes_key and not is_encoding_aes_key(self.aes_key):
            raise ConfigError("simulator: aes_key must be 43 letters and digits")
        if self.aes_key and not self.callback_token:
            raise ConfigError("simulator: safe mode (aes_key) needs a callback_token")
        unknown = set(self.fault_kinds) - set(FAULT_KINDS)
        if unknown:
            raise ConfigError(f"simulator: unknown fault kind {sorted(unknown)[0]!r}")
        if self.lost_answer_mode not in LOST_ANSWER_MODES:
            raise ConfigError(f"simulator: lost_answer_mode must be one of {LOST_ANSWER_MODES}")
        if self.callback_attempts < 1 or self.token_ttl_seconds < 300:
            raise ConfigError("simulator: callback_attempts >= 1 and token_ttl_seconds >= 300")
        for name, allowed in (
            ("draft_removal", DRAFT_REMOVALS),
            ("publish_id_type", PUBLISH_ID_TYPES),
            ("update_time_place", UPDATE_TIME_PLACES),
            ("mass_check_order", MASS_CHECK_ORDERS),
            ("push_mode", PUSH_MODES),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"simulator: {name} must be one of {', '.join(allowed)}, "
                    f"got {getattr(self, name)!r}"
                )
        for name in ("author_max", "title_max", "digest_max"):
            if getattr(self, name) < 1:
                raise ConfigError(f"simulator: {name} must be at least 1")
        if self.title_max_bytes < 0:
            raise ConfigError("simulator: title_max_bytes must not be negative")

    @classmethod
    def for_profile(cls, profile: str, **overrides: Any) -> SimulatorConfig:
        """The settings of ``profile`` ("documented" or "realistic"), then ``overrides``.
        Raises ConfigError for an unknown profile or value."""
        if profile not in PROFILES:
            raise ConfigError(
                f"simulator: unknown profile {profile!r}; known: {', '.join(PROFILES)}"
            )
        return cls(**{**PROFILES[profile], "profile": profile, **overrides})

    def variants(self) -> dict[str, object]:
        """The chosen behaviour of every variant (what /_sim/state shows)."""
        return {name: getattr(self, name) for name in VARIANTS}

    def daily_limit(self, path: str) -> int | None:
        """The daily quota of ``path`` (below /cgi-bin/), None when it has none."""
        if path in self.quotas:
            return self.quotas[path]
        return DEFAULT_DAILY_QUOTAS.get(path)

    def minute_limit_of(self, path: str) -> int:
        if path in self.minute_limits:
            return self.minute_limits[path]
        return min(DEFAULT_MINUTE_LIMITS.get(path, self.minute_limit), self.minute_limit)


_BOOL_WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def variant_override(text: str) -> tuple[str, object]:
    """``NAME=VALUE`` for ``bot simulator --variant``: the value typed as the setting is.
    Raises ValueError naming the problem."""
    name, sep, value = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in VARIANTS:
        raise ValueError(
            f"expected NAME=VALUE with NAME one of {', '.join(VARIANTS)}, got {text!r}"
        )
    default = getattr(SimulatorConfig(), name)
    if isinstance(default, bool):
        if value.lower() not in _BOOL_WORDS:
            raise ValueError(f"{name} takes true or false, got {value!r}")
        return name, _BOOL_WORDS[value.lower()]
    if isinstance(default, int):
        if not value.isdigit():
            raise ValueError(f"{name} takes a whole number, got {value!r}")
        return name, int(value)
    return name, value


def simulator_config_from_args(
    *,
    appid: str | None = None,
    secret: str | None = None,
    latency_ms: int = 0,
    fault_rate: float = 0.0,
    seed: int | None = None,
) -> SimulatorConfig:
    """The config for ``bot simulator --appid A --secret S --latency-ms N --fault-rate R
    --seed S``; unset flags keep the defaults. Raises ConfigError on an out-of-range value."""
    base = SimulatorConfig()
    return SimulatorConfig(
        appid=appid or base.appid,
        secret=secret or base.secret,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        seed=seed,
    )
