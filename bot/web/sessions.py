"""The session cookie: a small JSON dict, signed and encrypted with Fernet (AES-CBC +
HMAC-SHA256), so the browser can neither read nor forge it. The key comes from
``[web] session_key`` (any string; a Fernet key is derived from it), else a random key per
process, which logs everyone out on restart."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

COOKIE = "bot_session"
MAX_AGE = timedelta(hours=12)  # a login lasts this long, however active


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


class SessionCodec:
    def __init__(self, secret: str | None) -> None:
        if secret:
            raw = hashlib.sha256(b"bot-web-session\x00" + secret.encode("utf-8")).digest()
        else:
            raw = secrets.token_bytes(32)
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))

    def encode(self, session: dict[str, Any], *, now: datetime) -> str:
        data = json.dumps(session, separators=(",", ":")).encode("utf-8")
        return self._fernet.encrypt_at_time(data, int(now.timestamp())).decode("ascii")

    def decode(self, cookie: str, *, now: datetime) -> dict[str, Any] | None:
        """The session, or None when the cookie is forged, damaged or older than MAX_AGE."""
        try:
            data = self._fernet.decrypt_at_time(
                cookie.encode("ascii"), int(MAX_AGE.total_seconds()), int(now.timestamp())
            )
            value = json.loads(data)
        except (InvalidToken, UnicodeError, ValueError):
            return None
        return value if isinstance(value, dict) else None
