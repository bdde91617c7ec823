"""The session cookie codec: round trip, forgery, other keys and age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.web.sessions import MAX_AGE, SessionCodec

NOW = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_round_trip_and_the_cookie_hides_its_content() -> None:
    codec = SessionCodec("secret")
    cookie = codec.encode({"uid": 7, "csrf": "abc"}, now=NOW)
    assert "abc" not in cookie and "uid" not in cookie
    assert codec.decode(cookie, now=NOW + timedelta(minutes=5)) == {"uid": 7, "csrf": "abc"}


def test_a_forged_or_foreign_cookie_is_no_session() -> None:
    codec = SessionCodec("secret")
    cookie = codec.encode({"uid": 1, "csrf": "x"}, now=NOW)
    assert codec.decode(cookie[:-8] + "AAAAAAAA", now=NOW) is None
    assert codec.decode("not a token", now=NOW) is None
    assert codec.decode("ümlaut", now=NOW) is None
    assert SessionCodec("another secret").decode(cookie, now=NOW) is None
    assert SessionCodec(None).decode(cookie, now=NOW) is None  # a random per-process key


def test_the_same_secret_reads_the_cookie_in_another_process() -> None:
    cookie = SessionCodec("shared").encode({"uid": 2, "csrf": "y"}, now=NOW)
    assert SessionCodec("shared").decode(cookie, now=NOW) == {"uid": 2, "csrf": "y"}


def test_a_session_older_than_max_age_has_ended() -> None:
    codec = SessionCodec("secret")
    cookie = codec.encode({"uid": 1, "csrf": "x"}, now=NOW)
    assert codec.decode(cookie, now=NOW + MAX_AGE - timedelta(seconds=1)) is not None
    assert codec.decode(cookie, now=NOW + MAX_AGE + timedelta(seconds=2)) is None
