"""The errcode table of the account API and the client's backoff."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.account.client import RetryPolicy
from bot.account.errors import (
    ERRCODE_KINDS,
    ApiError,
    ApiPermanentError,
    ApiPermissionError,
    ApiQuotaError,
    ApiRateLimitedError,
    ApiSetupError,
    ApiTokenError,
    ApiTransientError,
    DuplicateMassSendError,
    display_errmsg,
    error_for,
    explain,
)
from bot.domain.errors import (
    PermanentError,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
    TransientError,
)

NOW = datetime(2025, 3, 3, 4, 0, 45, 500_000, tzinfo=UTC)

# Every code of wechat-api.md §7 (and the token codes of §1.3), with the class it must raise.
EXPECTED: dict[int, type[ApiError]] = {
    -1: ApiTransientError,
    -1000: ApiTransientError,
    53501: ApiTransientError,
    45011: ApiRateLimitedError,
    45066: ApiRateLimitedError,
    40001: ApiTokenError,
    40014: ApiTokenError,
    42001: ApiTokenError,
    45009: ApiQuotaError,
    45028: ApiQuotaError,
    45047: ApiQuotaError,
    48006: ApiQuotaError,
    41001: ApiPermanentError,
    40005: ApiPermanentError,
    40006: ApiPermanentError,
    40007: ApiPermanentError,
    40009: ApiPermanentError,
    40033: ApiPermanentError,
    44002: ApiPermanentError,
    44003: ApiPermanentError,
    45001: ApiPermanentError,
    45002: ApiPermanentError,
    45003: ApiPermanentError,
    45004: ApiPermanentError,
    45008: ApiPermanentError,
    45067: ApiPermanentError,
    45166: ApiPermanentError,
    47001: ApiPermanentError,
    53502: ApiPermanentError,
    53503: ApiPermanentError,
    53504: ApiPermanentError,
    53505: ApiPermanentError,
    53600: ApiPermanentError,
    76003: ApiPermanentError,
    76021: ApiPermanentError,
    76022: ApiPermanentError,
    40002: ApiSetupError,
    40013: ApiSetupError,
    40125: ApiSetupError,
    40164: ApiSetupError,
    61004: ApiSetupError,
    40243: ApiSetupError,
    48001: ApiPermissionError,
    48004: ApiPermissionError,
    50002: ApiPermissionError,
    53500: ApiPermissionError,
    89501: ApiPermissionError,
    89503: ApiPermissionError,
    89506: ApiPermissionError,
    89507: ApiPermissionError,
    45065: DuplicateMassSendError,
}

DOMAIN_TYPE: dict[type[ApiError], type[Exception]] = {
    ApiTransientError: TransientError,
    ApiRateLimitedError: RateLimitedError,
    ApiTokenError: TokenError,
    ApiQuotaError: QuotaExhaustedError,
    ApiPermanentError: PermanentError,
    ApiSetupError: PermanentError,
    ApiPermissionError: PermanentError,
    DuplicateMassSendError: PermanentError,
}


@pytest.mark.parametrize(("errcode", "expected"), sorted(EXPECTED.items()))
def test_each_code_raises_its_class_and_domain_type(errcode: int, expected: type) -> None:
    error = error_for("draft/add", errcode, f"whatever text rid: 67a1-{errcode}", now=NOW)
    assert type(error) is expected
    assert isinstance(error, DOMAIN_TYPE[expected])
    assert (error.errcode, error.endpoint) == (errcode, "draft/add")
    assert error.errmsg == "whatever text"
    assert str(errcode) in str(error) and "draft/add" in str(error)


@pytest.mark.parametrize("errcode", sorted(EXPECTED))
def test_each_code_has_a_plain_explanation_in_its_message(errcode: int) -> None:
    assert explain(errcode)
    assert explain(errcode) in str(error_for("freepublish/submit", errcode, "", now=NOW))


def test_every_reference_code_is_in_the_table() -> None:
    assert set(EXPECTED) <= set(ERRCODE_KINDS)


def test_retryable_and_permanent_types_never_overlap() -> None:
    for errcode in EXPECTED:
        error = error_for("draft/get", errcode, "", now=NOW)
        assert not (isinstance(error, TransientError) and isinstance(error, PermanentError))


def test_quota_is_permanent_and_rate_limit_is_transient() -> None:
    assert isinstance(error_for("freepublish/get", 45009, "", now=NOW), PermanentError)
    assert isinstance(error_for("freepublish/get", 45011, "", now=NOW), TransientError)


def test_the_decision_never_reads_errmsg() -> None:
    busy_text = error_for("draft/add", 45009, "system error", now=NOW)
    quota_text = error_for("draft/add", -1, "reach max api daily quota limit", now=NOW)
    assert isinstance(busy_text, ApiQuotaError)
    assert type(quota_text) is ApiTransientError


def test_unknown_codes_are_permanent_not_retried() -> None:
    error = error_for("draft/add", 99999, "something new", now=NOW)
    assert type(error) is ApiPermanentError
    assert error.errcode == 99999 and "something new" in str(error)


def test_45011_waits_until_the_next_minute() -> None:
    error = error_for("draft/get", 45011, "api minute-quota reach limit rid: x", now=NOW)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == pytest.approx(14.5)


def test_45011_at_the_minute_boundary_still_waits_a_little() -> None:
    late = NOW.replace(second=59, microsecond=999_000)
    error = error_for("draft/get", 45011, "", now=late)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == pytest.approx(1.0)


def test_45066_waits_a_minute() -> None:
    error = error_for("message/mass/sendall", 45066, "", now=NOW)
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 60.0


def test_duplicate_mass_send_carries_the_existing_msg_id() -> None:
    answer: dict[str, object] = {"errcode": 45065, "errmsg": "clientmsgid exist", "msg_id": 1000001}
    error = error_for("message/mass/sendall", 45065, "clientmsgid exist", now=NOW, answer=answer)
    assert isinstance(error, DuplicateMassSendError)
    assert error.msg_id == "1000001"
    assert error.fields["msg_id"] == "1000001"


def test_duplicate_mass_send_without_msg_id() -> None:
    error = error_for("message/mass/sendall", 45065, "", now=NOW, answer={"errcode": 45065})
    assert isinstance(error, DuplicateMassSendError) and error.msg_id is None


def test_40001_from_the_token_endpoint_is_a_wrong_secret_not_a_token_to_refresh() -> None:
    error = error_for("stable_token", 40001, "AppSecret error rid: 1-2-3", now=NOW)
    assert type(error) is ApiSetupError
    assert not isinstance(error, TokenError)
    assert "secret is wrong" in str(error)


@pytest.mark.parametrize("errcode", [40014, 42001])
def test_other_token_codes_at_the_token_endpoint_are_setup_errors(errcode: int) -> None:
    assert type(error_for("stable_token", errcode, "", now=NOW)) is ApiSetupError


def test_48001_explains_the_verification_rule() -> None:
    error = error_for("freepublish/submit", 48001, "api unauthorized rid: 6a-7b", now=NOW)
    assert "since July 2025 only verified accounts may publish through the API" in str(error)
    assert "rid" not in str(error)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("invalid media_id rid: 67a1b2c3-4d5e6f70-1a2b3c4d", "invalid media_id"),
        ("invalid args hint: [abc] rid: 1-2-3", "invalid args hint: [abc]"),
        ("no tail", "no tail"),
        ("rid: only", ""),
        ("", ""),
    ],
)
def test_display_errmsg_strips_the_request_id(raw: str, shown: str) -> None:
    assert display_errmsg(raw) == shown


def test_error_fields_are_in_the_fields_mapping_too() -> None:
    error = error_for("draft/get", 40007, "invalid media_id rid: 1", now=NOW)
    assert error.fields == {"endpoint": "draft/get", "errcode": 40007, "errmsg": "invalid media_id"}


# --- backoff ------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempt", "ceiling"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)])
def test_backoff_ceiling_doubles_per_attempt(attempt: int, ceiling: float) -> None:
    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=30.0)
    assert policy.delay(attempt, lambda: 1.0) == pytest.approx(ceiling)


def test_backoff_is_full_jitter_between_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    assert policy.delay(3, lambda: 0.0) == 0.0
    assert policy.delay(3, lambda: 0.25) == pytest.approx(1.0)


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    assert policy.delay(10, lambda: 1.0) == pytest.approx(5.0)
    assert policy.delay(10, lambda: 0.5) == pytest.approx(2.5)
