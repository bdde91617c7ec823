"""The account API's errcodes, mapped to the service's typed errors.

Every code is classified once, in ``ERRCODE_KINDS``; the client never looks at ``errmsg`` to
decide anything. Each error raised here is one of the domain's types (so retry policy can key on
``TransientError``/``PermanentError``/…) and also an ``ApiError`` carrying ``errcode``,
``endpoint`` and the platform's ``errmsg`` with its ``rid:`` tail removed.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import (
    BotError,
    PermanentError,
    QuotaExhaustedError,
    RateLimitedError,
    TokenError,
    TransientError,
    UnknownOutcomeError,
    describe_errcode,
)

TOKEN_ENDPOINT = "stable_token"


class ApiError(BotError):
    """Fields every error from the account API carries. ``errcode`` is None when no JSON
    answer was read (network errors, HTTP errors)."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        errcode: int | None = None,
        errmsg: str = "",
        **fields: object,
    ) -> None:
        super().__init__(message, endpoint=endpoint, errcode=errcode, errmsg=errmsg, **fields)
        self.endpoint = endpoint
        self.errcode = errcode
        self.errmsg = errmsg


class ApiTransientError(ApiError, TransientError):
    """Busy, HTTP 5xx, network trouble, 53501: may succeed later."""


class ApiRateLimitedError(ApiError, RateLimitedError):
    """45011 (per-minute limit) or 45066 (mass send retried within a minute)."""


class ApiTokenError(ApiError, TokenError):
    """40001/40014/42001 from a business call, still refused after one refresh and retry."""


class ApiQuotaError(ApiError, QuotaExhaustedError):
    """45009 daily quota, 45028 mass-send allowance, 48006 clear_quota allowance."""


class ApiPermanentError(ApiError, PermanentError):
    """The platform refused the request as it stands (content, bad id, bug on our side)."""


class ApiSetupError(ApiPermanentError):
    """The account's configuration is wrong: app id or secret, IP whitelist, frozen secret.
    A person must fix it; nothing is retried."""


class ApiPermissionError(ApiPermanentError):
    """The account may not use this API (unverified, banned, admin confirmation pending)."""


class DuplicateMassSendError(ApiPermanentError):
    """45065: a mass send with this clientmsgid was already made; ``msg_id`` is the existing
    send's id when the platform gave it (a string), else None."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        errcode: int | None = None,
        errmsg: str = "",
        msg_id: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint, errcode=errcode, errmsg=errmsg, msg_id=msg_id)
        self.msg_id = msg_id


class ApiUnknownOutcomeError(ApiError, UnknownOutcomeError):
    """A call with a side effect may have reached the platform but its answer was lost."""


class Kind(StrEnum):
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    TOKEN = "token"
    QUOTA = "quota"
    PERMANENT = "permanent"
    SETUP = "setup"
    PERMISSION = "permission"
    DUPLICATE_MASS_SEND = "duplicate_mass_send"


ERRCODE_KINDS: dict[int, Kind] = {
    -1: Kind.TRANSIENT,  # system busy
    -1000: Kind.TRANSIENT,  # system error; the reference says try again once, then alert
    40001: Kind.TOKEN,  # token invalid or not the latest (a bad secret at the token endpoint)
    40014: Kind.TOKEN,
    42001: Kind.TOKEN,
    41001: Kind.PERMANENT,  # access_token missing: a bug in forming the request
    40002: Kind.SETUP,  # grant_type wrong
    41002: Kind.SETUP,  # appid missing
    41004: Kind.SETUP,  # appsecret missing
    40004: Kind.PERMANENT,  # invalid media type
    40008: Kind.PERMANENT,  # invalid message type
    41005: Kind.PERMANENT,  # media data missing
    43001: Kind.PERMANENT,  # GET required
    43002: Kind.PERMANENT,  # POST required
    45005: Kind.PERMANENT,  # content_source_url too long
    45110: Kind.PERMANENT,  # author too long
    40005: Kind.PERMANENT,  # file type
    40006: Kind.PERMANENT,  # file size
    40007: Kind.PERMANENT,  # invalid media_id
    40009: Kind.PERMANENT,  # image size
    40013: Kind.SETUP,  # app id
    40033: Kind.PERMANENT,  # \uXXXX escapes in the request
    40097: Kind.PERMANENT,  # invalid arguments
    40125: Kind.SETUP,  # app secret
    40164: Kind.SETUP,  # IP whitelist
    61004: Kind.SETUP,  # IP whitelist (newer code)
    40243: Kind.SETUP,  # app secret frozen
    44002: Kind.PERMANENT,  # empty POST body
    44003: Kind.PERMANENT,  # empty news data
    45001: Kind.PERMANENT,  # media file too large
    45002: Kind.PERMANENT,  # content too long
    45003: Kind.PERMANENT,  # title too long
    45004: Kind.PERMANENT,  # digest too long
    45008: Kind.PERMANENT,  # too many articles
    45009: Kind.QUOTA,  # daily quota
    45011: Kind.RATE_LIMITED,  # per-minute quota
    45028: Kind.QUOTA,  # no mass-send allowance
    45047: Kind.QUOTA,  # customer-service downlink limit
    45065: Kind.DUPLICATE_MASS_SEND,
    45066: Kind.RATE_LIMITED,  # mass send retried within a minute
    45067: Kind.PERMANENT,  # clientmsgid too long
    45166: Kind.PERMANENT,  # invalid content (links)
    47001: Kind.PERMANENT,  # body could not be parsed
    48001: Kind.PERMISSION,  # api unauthorized (unverified account since July 2025)
    48004: Kind.PERMISSION,  # API banned
    48006: Kind.QUOTA,  # clear_quota allowance used up
    50002: Kind.PERMISSION,  # account limited
    53500: Kind.PERMISSION,  # publish function banned
    53501: Kind.TRANSIENT,  # publishing too frequently
    53502: Kind.PERMANENT,  # invalid publish_id
    53503: Kind.PERMANENT,  # draft failed the publish check
    53504: Kind.PERMANENT,  # draft must be used from the web console
    53505: Kind.PERMANENT,  # save the draft manually first
    53600: Kind.PERMANENT,  # invalid article_id
    76003: Kind.PERMANENT,  # quota/get: cgi_path lacks the leading /
    76021: Kind.PERMANENT,  # quota/get: cgi_path not found
    76022: Kind.PERMANENT,  # quota/get: token does not own that API
    89501: Kind.PERMISSION,  # admin confirmation pending
    89503: Kind.PERMISSION,  # call needs admin confirmation
    89506: Kind.PERMISSION,  # IP rejected by the admin (24 h)
    89507: Kind.PERMISSION,  # IP rejected by the admin (1 h)
}

# Codes the shared domain table does not explain; kept here so every message says something.
_MORE_EXPLANATIONS: dict[int, str] = {
    -1000: "the platform reported a system error",
    40002: "the grant_type is wrong",
    40004: "the media type is not accepted",
    40008: "the message type is not accepted",
    41002: "the app id was missing from the token request",
    41004: "the app secret was missing from the token request",
    41005: "the media data was missing",
    43001: "the API requires GET",
    43002: "the API requires POST",
    45005: "the content_source_url is too long (at most 1 KB)",
    45110: "the author is too long (at most 16 characters)",
    40006: "the file size is not accepted",
    40097: "the request had invalid arguments",
    41001: "the access token was missing from the request",
    42001: "the access token has expired",
    40014: "the access token is invalid",
    44002: "the request body was empty",
    45001: "the media file is too large",
    45047: "the customer-service message limit was reached",
    45066: "a mass send was retried within a minute; wait a minute",
    45067: "the clientmsgid is too long (at most 64 bytes)",
    48006: "the monthly clear_quota allowance is used up",
    50002: "the account is limited",
    53502: "the publish_id is invalid",
    53600: "the article_id is invalid",
    76003: "the cgi_path must start with /",
    76021: "the cgi_path was not found",
    76022: "the access token does not own that API",
    89501: "the account has an unprocessed admin confirmation request",
    89503: "this call needs the administrator's confirmation",
    89506: "the administrator rejected this IP; try again after 24 hours",
    89507: "the administrator rejected this IP; try again after 1 hour",
}

_SETUP_AT_TOKEN_ENDPOINT = "the app secret is wrong (or the app id does not match it)"

_RID_TAIL = re.compile(r"\s*\brid:.*$", re.DOTALL)


def display_errmsg(errmsg: str) -> str:
    """The platform's errmsg without the ``rid: …`` request-id tail."""
    return _RID_TAIL.sub("", errmsg).strip()


def explain(errcode: int | None) -> str:
    """A plain explanation of ``errcode`` for people; empty when none is known."""
    return describe_errcode(errcode) or _MORE_EXPLANATIONS.get(errcode or 0, "")


def kind_of(errcode: int, endpoint: str) -> Kind:
    """How the service treats ``errcode`` from ``endpoint``. Unknown codes are permanent: an
    answer the platform gave means it refused, and retrying blindly could loop."""
    kind = ERRCODE_KINDS.get(errcode, Kind.PERMANENT)
    if endpoint == TOKEN_ENDPOINT and kind is Kind.TOKEN:
        # At the token endpoint itself these mean the credentials are wrong, not the token.
        return Kind.SETUP
    return kind


def seconds_to_next_minute(now: datetime) -> float:
    """At least one second, so a caller never spins at the minute boundary."""
    return max(1.0, 60.0 - now.second - now.microsecond / 1_000_000)


_CLASSES: dict[Kind, type[ApiError]] = {
    Kind.TRANSIENT: ApiTransientError,
    Kind.RATE_LIMITED: ApiRateLimitedError,
    Kind.TOKEN: ApiTokenError,
    Kind.QUOTA: ApiQuotaError,
    Kind.PERMANENT: ApiPermanentError,
    Kind.SETUP: ApiSetupError,
    Kind.PERMISSION: ApiPermissionError,
    Kind.DUPLICATE_MASS_SEND: DuplicateMassSendError,
}


def error_for(
    endpoint: str,
    errcode: int,
    errmsg: str,
    *,
    now: datetime,
    answer: dict[str, object] | None = None,
) -> ApiError:
    """The typed error for a non-zero ``errcode`` answered by ``endpoint`` (e.g.
    ``"draft/add"``). ``now`` (aware) sets ``retry_after`` for rate limits; ``answer`` is the
    whole JSON answer, read for the existing ``msg_id`` of a duplicate mass send."""
    kind = kind_of(errcode, endpoint)
    shown = display_errmsg(errmsg)
    if kind is Kind.SETUP and endpoint == TOKEN_ENDPOINT and errcode == 40001:
        reason = _SETUP_AT_TOKEN_ENDPOINT
    else:
        reason = explain(errcode) or "the platform refused the request"
    message = f"{endpoint}: errcode {errcode}: {reason}"
    if shown:
        message += f" (platform said: {shown})"
    if kind is Kind.RATE_LIMITED:
        # 45011 resets at the next minute; 45066 asks for a minute's wait.
        wait = seconds_to_next_minute(now) if errcode == 45011 else 60.0
        return ApiRateLimitedError(
            message, endpoint=endpoint, errcode=errcode, errmsg=shown, retry_after=wait
        )
    if kind is Kind.DUPLICATE_MASS_SEND:
        msg_id = (answer or {}).get("msg_id")
        return DuplicateMassSendError(
            message,
            endpoint=endpoint,
            errcode=errcode,
            errmsg=shown,
            msg_id=None if msg_id in (None, "", 0) else str(msg_id),
        )
    return _CLASSES[kind](message, endpoint=endpoint, errcode=errcode, errmsg=shown)
