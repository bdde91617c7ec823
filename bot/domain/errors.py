"""One error hierarchy for the whole service.

Retry policy keys on the *type* of an error, never on its message: a ``TransientError`` may be
tried again, a ``PermanentError`` must not, an ``UnknownOutcomeError`` means a side effect may
or may not have happened and must be reconciled before anything is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Text, translate_sentence


class BotError(Exception):
    """Root of every error the service raises on purpose. ``http_status`` is what the web
    layer answers with when the error reaches it."""

    http_status = 500

    def __init__(self, message: str | Text, **fields: object) -> None:
        super().__init__(str(message))
        self.message = str(message)  # English
        self.text = message if isinstance(message, Text) else None
        self.fields = fields

    def __str__(self) -> str:
        return self.message

    def in_language(self, lang: str) -> str:
        """The message in ``lang``: a ``Text`` message is rendered, a plain one matched
        against the table's templates (``bot/i18n/zh/errors.py``)."""
        if self.text is not None:
            return self.text.render(lang)
        return translate_sentence(lang, self.message)

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (bot.engine.offload): rebuild them with every
        # field (ContentRejectedError's findings, retry_after, ...), not just the message.
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(
    cls: type[BotError], args: tuple[object, ...], state: dict[str, object]
) -> BotError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


# --- user-facing errors (bad input, unknown ids, forbidden actions) -----------------------


class UserError(BotError):
    """Bad input from a person or a file: shown as one line, exit status 1, HTTP 400."""

    http_status = 400


class ConfigError(UserError):
    """The configuration file (or an environment variable it names) is wrong."""


class ImportFileError(UserError):
    """A catalogue file could not be imported; names file, line and field."""


class NotFoundError(UserError):
    http_status = 404


class ConflictError(UserError):
    """The action is not legal in the object's current state (e.g. approving a published post)."""

    http_status = 409


class DuplicateError(ConflictError):
    """A resource the column featured within its cooldown, named again without --force."""


class ForbiddenError(UserError):
    http_status = 403


class ContentRejectedError(UserError):
    """Checks refused a post; ``findings`` holds what they found."""

    http_status = 422

    def __init__(self, message: str, findings: Sequence[object] | None = None) -> None:
        super().__init__(message)
        self.findings = list(findings or [])


# --- errors from the platform or the network ----------------------------------------------


class TransientError(BotError):
    """May succeed if tried again later (busy, rate limit, network, HTTP 5xx)."""

    http_status = 503

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: object):
        super().__init__(message, **fields)
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    """45011: the per-minute limit; wait for the next minute."""


class PermanentError(BotError):
    """Will fail again the same way: do not retry."""

    http_status = 502


class QuotaExhaustedError(PermanentError):
    """45009: the daily quota for an endpoint is used up; park the account until the quota day
    rolls over (midnight Asia/Shanghai)."""


class TokenError(BotError):
    """40001/40014/42001 from a business call: the access token must be refreshed."""

    http_status = 502


class UnknownOutcomeError(BotError):
    """A call with a side effect was sent but its answer was lost (timeout, dropped connection,
    HTTP 5xx after sending). The effect may have happened: reconcile, never resend blindly."""

    http_status = 504


def describe_errcode(errcode: int | None) -> str:
    """A plain explanation for the platform's errcodes that people meet most."""
    return ERRCODE_EXPLANATIONS.get(errcode or 0, "")


ERRCODE_EXPLANATIONS: dict[int, str] = {
    -1: "the platform is busy; it will be tried again",
    40001: "the access token is invalid or not the latest, or the app secret is wrong",
    40005: "the file type is not accepted",
    40007: "invalid media_id (unknown, temporary, deleted or already-published draft)",
    40009: "the image size is not accepted",
    40013: "the app id is invalid (a `bot simulator` accepts only its --appid and --secret)",
    40033: "the request contained \\uXXXX escapes; the service sends raw UTF-8",
    40125: "the app secret is invalid",
    40164: "this server's IP address is not on the account's API IP whitelist",
    61004: "this server's IP address is not on the account's API IP whitelist",
    40243: "the app secret is frozen",
    44003: "the draft had no articles",
    45002: "the content is too long for the platform",
    45003: "the title is too long (at most 32 characters)",
    45004: "the digest is too long (at most 128 characters)",
    45008: "too many articles in one draft (at most 8)",
    45009: "the daily quota for this API is used up; it resets at midnight Beijing time",
    45011: "the per-minute limit was hit; it will be tried again next minute",
    45028: "the account has no mass-send allowance left",
    45065: "a mass send with this clientmsgid was already made",
    45166: "the content was refused as invalid (check links)",
    47001: "the request body could not be parsed",
    48001: (
        "api unauthorized: since July 2025 only verified accounts may publish through the API"
        " (or the account lacks this permission)"
    ),
    48004: "the API is banned for this account",
    53500: "the publish function is banned for this account",
    53501: "publishing too frequently",
    53503: "the draft failed the platform's publish check",
    53504: "the draft must be used from the official-account web console",
    53505: "save the draft manually in the web console first, then publish",
}
