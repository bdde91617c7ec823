"""Ids the simulated platform hands out, drawn from one seeded generator so a run is
repeatable under a seed."""

from __future__ import annotations

import base64
import random


class IdMaker:
    def __init__(self, seed: str, serial_start: int = 0) -> None:
        """``serial_start``: where serial numbers begin, so a simulator started again later
        never hands out a publish_id or msg_id of an earlier run (the platform never does)."""
        self._rng = random.Random(seed)
        self._serial = serial_start

    def urlsafe(self, nbytes: int) -> str:
        """Like the platform's media_id and article_id: base64url without padding."""
        raw = self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def hex(self, nchars: int) -> str:
        return f"{self._rng.getrandbits(nchars * 4):0{nchars}x}"

    def serial(self, base: int) -> int:
        """Increasing numbers (publish_id, msg_id): the platform's are large and growing."""
        self._serial += 1
        return base + self._serial * 7 + self._rng.randrange(7)

    def rid(self) -> str:
        return f"{self.hex(8)}-{self.hex(8)}-{self.hex(8)}"
