"""Which faults the simulator injects into which call: random at configured rates (repeatable
under a seed), or scripted one by one for tests, and switchable at run time.

Kinds: ``busy`` (-1), ``rate_limited`` (45011), ``http_5xx`` (before any effect),
``token_invalid`` (every token stops working, 40001), ``slow`` (the answer comes
``slow_seconds`` late, after the effect), ``lost_answer`` (the effect happens, then the
connection is dropped or a 5xx is answered).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.account.simulator.config import FAULT_KINDS, LOST_ANSWER_MODES, SimulatorConfig
from bot.domain.errors import UserError

# The calls whose effect a lost answer hides: the ones without an idempotency key (§10.3).
EFFECTFUL_PATHS = frozenset({"draft/add", "freepublish/submit", "message/mass/sendall"})
# Token calls cannot meet a token fault.
_NOT_ON_TOKEN_CALLS = frozenset({"token_invalid"})


@dataclass(frozen=True, slots=True)
class FaultSettings:
    fault_rate: float
    lost_answer_rate: float
    latency_ms: int
    kinds: tuple[str, ...]
    slow_seconds: float
    lost_answer_mode: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one call: ``kind`` is a fault kind or None; ``lost`` is "drop" or
    "5xx" when the answer is lost after the effect."""

    kind: str | None = None
    lost: str | None = None


@dataclass(frozen=True, slots=True)
class _Scripted:
    kind: str
    path: str  # "" matches any path
    mode: str  # for lost_answer


class FaultPlan:
    def __init__(self, config: SimulatorConfig, seed: int) -> None:
        self._initial = FaultSettings(
            fault_rate=config.fault_rate,
            lost_answer_rate=config.lost_answer_rate,
            latency_ms=config.latency_ms,
            kinds=tuple(config.fault_kinds),
            slow_seconds=config.slow_seconds,
            lost_answer_mode=config.lost_answer_mode,
        )
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self.settings = self._initial
        self._rng = random.Random(f"{seed}/faults")
        self._script: list[_Scripted] = []
        self.injected: Counter[str] = Counter()

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply ``POST /_sim/faults``: any of the settings' fields, ``seed`` (restart the
        random sequence), ``next`` (a list of ``{"kind", "path"?, "mode"?}`` consumed in
        order by the first matching calls) and ``clear_next``. Raises UserError naming the
        bad key; nothing changes then."""
        known = {*FaultSettings.__dataclass_fields__, "seed", "next", "clear_next"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise UserError(f"/_sim/faults: unknown key {unknown[0]!r}")
        fields = {k: v for k, v in changes.items() if k in FaultSettings.__dataclass_fields__}
        if "kinds" in fields:
            fields["kinds"] = tuple(fields["kinds"])
        settings = replace(self.settings, **fields)
        _validate(settings)
        script = [_scripted(item) for item in changes.get("next", [])]
        if "seed" in changes and not isinstance(changes["seed"], int):
            raise UserError("/_sim/faults: seed must be a whole number")
        self.settings = settings
        if "seed" in changes:
            self._rng = random.Random(f"{changes['seed']}/faults")
        if changes.get("clear_next"):
            self._script = []
        self._script.extend(script)

    def draw(self, path: str, *, token_call: bool) -> Decision:
        """The fault for one call of ``path``; one random draw per call (two for effectful
        paths) keeps a run repeatable under a seed."""
        decision = self._from_script(path) or self._random(path, token_call=token_call)
        if decision.kind:
            self.injected[decision.kind] += 1
        return decision

    def _from_script(self, path: str) -> Decision | None:
        for i, item in enumerate(self._script):
            if item.path in ("", path):
                del self._script[i]
                if item.kind == "lost_answer":
                    return Decision("lost_answer", self._mode(item.mode))
                return Decision(item.kind)
        return None

    def _random(self, path: str, *, token_call: bool) -> Decision:
        settings = self.settings
        roll = self._rng.random()
        kinds = [
            k
            for k in settings.kinds
            if k != "lost_answer" and not (token_call and k in _NOT_ON_TOKEN_CALLS)
        ]
        if roll < settings.fault_rate and kinds:
            return Decision(self._rng.choice(kinds))
        if path in EFFECTFUL_PATHS and self._rng.random() < settings.lost_answer_rate:
            return Decision("lost_answer", self._mode(settings.lost_answer_mode))
        return Decision()

    def _mode(self, mode: str) -> str:
        return self._rng.choice(("drop", "5xx")) if mode == "mixed" else mode

    def snapshot(self) -> dict[str, Any]:
        return {
            **asdict(self.settings),
            "kinds": list(self.settings.kinds),
            "next": [asdict(item) for item in self._script],
            "injected": dict(sorted(self.injected.items())),
        }


def _validate(settings: FaultSettings) -> None:
    for name in ("fault_rate", "lost_answer_rate"):
        value = getattr(settings, name)
        if not isinstance(value, int | float) or not 0 <= value <= 1:
            raise UserError(f"/_sim/faults: {name} must be a number between 0 and 1")
    for name in ("latency_ms", "slow_seconds"):
        value = getattr(settings, name)
        if not isinstance(value, int | float) or value < 0:
            raise UserError(f"/_sim/faults: {name} must be a number >= 0")
    bad = [k for k in settings.kinds if k not in FAULT_KINDS]
    if bad:
        raise UserError(f"/_sim/faults: unknown fault kind {bad[0]!r}; known: {FAULT_KINDS}")
    if settings.lost_answer_mode not in LOST_ANSWER_MODES:
        raise UserError(f"/_sim/faults: lost_answer_mode must be one of {LOST_ANSWER_MODES}")


def _scripted(item: object) -> _Scripted:
    if not isinstance(item, Mapping) or item.get("kind") not in FAULT_KINDS:
        raise UserError(f"/_sim/faults: each 'next' item needs a kind from {FAULT_KINDS}")
    mode = item.get("mode", "mixed")
    if mode not in LOST_ANSWER_MODES:
        raise UserError(f"/_sim/faults: mode must be one of {LOST_ANSWER_MODES}")
    return _Scripted(str(item["kind"]), str(item.get("path", "")), str(mode))
