"""A progress line on stderr for long commands (only when stderr is a terminal)."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(
        self, label: str, *, enabled: bool = True, every: float = 0.2, rows: str = "rows"
    ) -> None:
        self.label = label
        self.rows = rows  # the word after the count, in the command's language
        self.enabled = enabled and sys.stderr.isatty()
        self.every = every
        self.last = 0.0
        self.count = 0
        self.text = ""

    def update(self, rows: int) -> None:
        self.count = rows
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            sys.stderr.write(f"\r{self.label}: {rows:,} {self.rows}")
            sys.stderr.flush()

    def show(self, text: str) -> None:
        """Replace the line with ``text`` (at most every ``every`` seconds)."""
        self.text = text
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every:
            self.last = now
            sys.stderr.write(f"\r{self.label}: {text}\x1b[K")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            shown = self.text or f"{self.count:,} {self.rows}"
            sys.stderr.write(f"\r{self.label}: {shown}\x1b[K\n")
            sys.stderr.flush()
