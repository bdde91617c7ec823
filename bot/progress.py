"""A progress line on stderr for long imports (only when stderr is a terminal)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, *, enabled: bool = True, every: float = 0.2) -> None:
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()
        self.every = every
        self.last = 0.0
        self.count = 0

    def update(self, rows: int) -> None:
        self.count = rows
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            sys.stderr.write(f"\r{self.label}: {rows:,} rows")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{self.label}: {self.count:,} rows\n")
            sys.stderr.flush()
