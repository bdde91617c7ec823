"""The simulator's settings: one frozen dataclass, with the platform's documented defaults."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

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

_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")


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
        if self.aes_key and not _AES_KEY.fullmatch(self.aes_key):
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

    def daily_limit(self, path: str) -> int | None:
        """The daily quota of ``path`` (below /cgi-bin/), None when it has none."""
        if path in self.quotas:
            return self.quotas[path]
        return DEFAULT_DAILY_QUOTAS.get(path)

    def minute_limit_of(self, path: str) -> int:
        if path in self.minute_limits:
            return self.minute_limits[path]
        return min(DEFAULT_MINUTE_LIMITS.get(path, self.minute_limit), self.minute_limit)


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
