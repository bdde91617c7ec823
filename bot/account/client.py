"""The async client of one account's platform API: one method per endpoint, each mirroring its
path; tokens, retries, the lost-answer rule and call counting live here once.

Retry rules, keyed on types:

- idempotent calls (token, gets, batchgets, counts, quota, uploads, draft/update) retry
  transient failures with exponential backoff and full jitter, up to ``RetryPolicy.attempts``;
- calls with a side effect and no idempotency key (draft/add, draft/delete, freepublish/submit,
  freepublish/delete, message/mass/sendall, message/mass/preview) are never retried here: a
  failure after which the request may have reached the platform (timeout, dropped connection,
  HTTP 5xx, an unreadable answer) raises ``ApiUnknownOutcomeError``; one that proves nothing
  happened (-1 or 45011 in an answer, no connection made) raises the transient error and the
  caller decides;
- 40001/40014/42001 refresh the token (only if the rejected one is still the stored one) and
  repeat the call exactly once, whatever its kind: a refused token means nothing happened.

Every HTTP attempt is counted through ``CallCounter`` under its endpoint and Asia/Shanghai
quota day, and reported to the optional ``on_call(endpoint, errcode, latency_ms, attempt)``
observer (``errcode`` 0 on success, None when no answer was read).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import mimetypes
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import aiohttp

from bot.account.errors import (
    TOKEN_ENDPOINT,
    ApiError,
    ApiPermanentError,
    ApiTokenError,
    ApiTransientError,
    ApiUnknownOutcomeError,
    error_for,
)
from bot.account.limits import outgoing_article
from bot.account.ports import CallCounter, TokenStore
from bot.account.tokens import TokenProvider
from bot.config import AccountConfig
from bot.domain.errors import TransientError, UserError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
QUOTA_TIMEZONE = ZoneInfo("Asia/Shanghai")  # the platform's quota day

# endpoint, errcode (0 ok, None no answer), latency in ms, attempt number (1-based)
OnCall = Callable[[str, int | None, int, int], Awaitable[None] | None]


# An openid is 28 characters and starts with "o" (wechatpy tells the two apart the same way);
# anything else given for a preview is a WeChat ID.
_OPENID = re.compile(r"o[A-Za-z0-9_-]{27}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts per call (the first included) and the backoff between them, in seconds."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, rand: Callable[[], float]) -> float:
        """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt - 1)))."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return rand() * ceiling


class UploadedMaterial(NamedTuple):
    media_id: str
    url: str  # "" when the answer gives none


@dataclass(frozen=True, slots=True)
class PublishResult:
    """freepublish/get: ``status`` 0 ok, 1 publishing, 2 originality check failed, 3 failed,
    4 rejected by review, 5 deleted by the user, 6 banned by the system."""

    publish_id: str
    status: int
    article_id: str = ""
    article_urls: tuple[str, ...] = ()
    fail_idx: tuple[int, ...] = ()  # 1-based numbers of the rejected articles

    @property
    def in_progress(self) -> bool:
        return self.status == 1


@dataclass(frozen=True, slots=True)
class QuotaState:
    daily_limit: int
    used: int
    remain: int


@dataclass(frozen=True, slots=True)
class _Upload:
    filename: str
    data: bytes  # bytes, not a file object: a retry resends all of it

    def form(self) -> aiohttp.FormData:
        content_type = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        form = aiohttp.FormData()
        form.add_field("media", self.data, filename=self.filename, content_type=content_type)
        return form


@dataclass(frozen=True, slots=True)
class _Request:
    endpoint: str  # the path after /cgi-bin/, e.g. "draft/add"
    idempotent: bool
    method: str = "POST"
    body: Mapping[str, Any] | None = field(default=None, repr=False)  # may hold the secret
    upload: _Upload | None = field(default=None, repr=False)
    params: Mapping[str, str] = field(default_factory=dict)
    needs_token: bool = True


# Awaited right before an effectful request (one that is never retried blindly: submit,
# sendall, draft/add, …) leaves, by whoever holds the post it acts for: a holder that lost its
# claim while it was stalled raises there instead of sending. Set per task (a ContextVar), so
# the client stays ignorant of claims and leases.
before_effect: ContextVar[Callable[[], Awaitable[None]] | None] = ContextVar(
    "before_effect", default=None
)


class AccountClient:
    """The platform API of one account. The ``aiohttp.ClientSession`` belongs to the caller
    (one per process); ``tokens`` and ``counter`` are shared through the store so several
    processes agree on one token and one count. Every method raises the ``ApiError`` family of
    ``bot.account.errors`` (each also a domain ``TransientError``/``PermanentError``/
    ``TokenError``/``UnknownOutcomeError``)."""

    def __init__(
        self,
        account: AccountConfig,
        session: aiohttp.ClientSession,
        *,
        tokens: TokenStore,
        counter: CallCounter,
        clock: Callable[[], datetime],
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        on_call: OnCall | None = None,
        owner: str | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.account = account
        self._session = session
        self._counter = counter
        self._clock = clock
        self._timeout = timeout
        self._retry = retry
        self._sleep = sleep
        self._rand = rand
        self._on_call = on_call
        self._timer = timer
        self.tokens = TokenProvider(
            account.name,
            tokens,
            self._fetch_token,
            owner=owner or f"{account.name}:{uuid.uuid4().hex}",
            clock=clock,
            sleep=sleep,
        )

    def __repr__(self) -> str:
        return f"AccountClient(account={self.account.name!r}, api_base={self.account.api_base!r})"

    # --- media ----------------------------------------------------------------------------

    async def upload_content_image(self, data: bytes, filename: str) -> str:
        """media/uploadimg: an image for article bodies (jpg/png under 1 MB); returns its URL."""
        answer = await self._call(
            _Request("media/uploadimg", idempotent=True, upload=_Upload(filename, data))
        )
        return _text(answer, "url", "media/uploadimg")

    async def add_material(
        self, data: bytes, filename: str, type: str = "image"
    ) -> UploadedMaterial:
        """material/add_material: permanent material, ``type`` "image" or "thumb" (covers)."""
        if type not in {"image", "thumb"}:
            raise UserError(f"add_material: type must be 'image' or 'thumb', not {type!r}")
        answer = await self._call(
            _Request(
                "material/add_material",
                idempotent=True,
                upload=_Upload(filename, data),
                params={"type": type},
            )
        )
        media_id = _text(answer, "media_id", "material/add_material")
        return UploadedMaterial(media_id, str(answer.get("url") or ""))

    # --- drafts ---------------------------------------------------------------------------

    async def draft_add(self, articles: Sequence[Mapping[str, Any]]) -> str:
        """draft/add: returns the draft's media_id. Not retried (see the module docstring).
        Control characters are taken out of every text field first."""
        body = {"articles": [outgoing_article(a) for a in articles]}
        answer = await self._call(_Request("draft/add", idempotent=False, body=body))
        return _text(answer, "media_id", "draft/add", effect=True)

    async def draft_get(self, media_id: str) -> dict[str, Any]:
        """draft/get: the platform's answer, ``{"news_item": [...]}``."""
        return await self._call(_Request("draft/get", idempotent=True, body={"media_id": media_id}))

    async def draft_update(self, media_id: str, index: int, article: Mapping[str, Any]) -> None:
        """draft/update: replaces article ``index`` (0-based) with the full ``article``."""
        body = {"media_id": media_id, "index": index, "articles": outgoing_article(article)}
        await self._call(_Request("draft/update", idempotent=True, body=body))

    async def draft_delete(self, media_id: str) -> None:
        await self._call(_Request("draft/delete", idempotent=False, body={"media_id": media_id}))

    async def draft_count(self) -> int:
        answer = await self._call(_Request("draft/count", idempotent=True, method="GET"))
        return _int(answer, "total_count", "draft/count")

    async def draft_batchget(
        self, offset: int = 0, count: int = 20, no_content: bool = False
    ) -> dict[str, Any]:
        """draft/batchget: ``{"total_count", "item_count", "item": [...]}``."""
        body = {"offset": offset, "count": count, "no_content": int(no_content)}
        return await self._call(_Request("draft/batchget", idempotent=True, body=body))

    # --- free publish ---------------------------------------------------------------------

    async def freepublish_submit(self, media_id: str) -> str:
        """freepublish/submit: returns the publish_id as a string (the platform sends an int
        or a string). Not retried (see the module docstring)."""
        answer = await self._call(
            _Request("freepublish/submit", idempotent=False, body={"media_id": media_id})
        )
        return _text(answer, "publish_id", "freepublish/submit", effect=True)

    async def freepublish_get(self, publish_id: str) -> PublishResult:
        answer = await self._call(
            _Request("freepublish/get", idempotent=True, body={"publish_id": str(publish_id)})
        )
        detail = answer.get("article_detail") or {}
        items = (detail.get("item") or []) if isinstance(detail, dict) else []
        return PublishResult(
            publish_id=str(answer.get("publish_id", publish_id)),
            status=_int(answer, "publish_status", "freepublish/get"),
            article_id=str(answer.get("article_id") or "").strip(),
            article_urls=tuple(str(i.get("article_url", "")) for i in items if isinstance(i, dict)),
            fail_idx=_whole_numbers(answer.get("fail_idx")),
        )

    async def freepublish_batchget(
        self, offset: int = 0, count: int = 20, no_content: bool = False
    ) -> dict[str, Any]:
        """freepublish/batchget: ``{"total_count", "item_count", "item": [...]}``."""
        body = {"offset": offset, "count": count, "no_content": int(no_content)}
        return await self._call(_Request("freepublish/batchget", idempotent=True, body=body))

    async def freepublish_getarticle(self, article_id: str) -> dict[str, Any]:
        """freepublish/getarticle: ``{"news_item": [...]}``."""
        body = {"article_id": article_id}
        return await self._call(_Request("freepublish/getarticle", idempotent=True, body=body))

    async def freepublish_delete(self, article_id: str, index: int) -> None:
        """freepublish/delete: ``index`` is 1-based; 0 deletes every article of the id, so it
        has no default."""
        body = {"article_id": article_id, "index": index}
        await self._call(_Request("freepublish/delete", idempotent=False, body=body))

    # --- mass send ------------------------------------------------------------------------

    async def mass_preview(self, media_id: str, touser: str) -> str:
        """message/mass/preview to one reviewer: ``touser`` is an openid, or else the
        reviewer's WeChat ID (微信号, sent as ``towxname``), which people can find themselves.
        Returns the msg_id ("" when none is given)."""
        key = "touser" if _OPENID.fullmatch(touser) else "towxname"
        body = {key: touser, "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
        answer = await self._call(_Request("message/mass/preview", idempotent=False, body=body))
        return str(answer.get("msg_id") or "")

    async def mass_sendall(
        self,
        media_id: str,
        clientmsgid: str,
        is_to_all: bool = True,
        tag_id: int | None = None,
        send_ignore_reprint: int = 0,
    ) -> str:
        """message/mass/sendall; returns the msg_id. ``clientmsgid`` (at most 64 bytes) makes a
        repeat within 24 h fail with ``DuplicateMassSendError`` carrying the first msg_id."""
        if not clientmsgid or len(clientmsgid.encode()) > 64:
            raise UserError("mass_sendall: clientmsgid is required and at most 64 bytes")
        if not is_to_all and tag_id is None:
            raise UserError("mass_sendall: tag_id is required when is_to_all is false")
        send_filter: dict[str, Any] = {"is_to_all": is_to_all}
        if tag_id is not None:
            send_filter["tag_id"] = tag_id
        body = {
            "filter": send_filter,
            "mpnews": {"media_id": media_id},
            "msgtype": "mpnews",
            "send_ignore_reprint": send_ignore_reprint,
            "clientmsgid": clientmsgid,
        }
        answer = await self._call(_Request("message/mass/sendall", idempotent=False, body=body))
        return _text(answer, "msg_id", "message/mass/sendall", effect=True)

    async def mass_get(self, msg_id: str) -> dict[str, Any]:
        """message/mass/get: ``{"msg_id", "msg_status"}``."""
        body = {"msg_id": int(msg_id) if str(msg_id).isdigit() else msg_id}
        return await self._call(_Request("message/mass/get", idempotent=True, body=body))

    # --- quota ----------------------------------------------------------------------------

    async def quota_get(self, cgi_path: str) -> QuotaState:
        """openapi/quota/get for ``cgi_path``: "/cgi-bin/draft/add" or just "draft/add"."""
        if not cgi_path.startswith("/"):
            cgi_path = f"/cgi-bin/{cgi_path}"
        answer = await self._call(
            _Request("openapi/quota/get", idempotent=True, body={"cgi_path": cgi_path})
        )
        quota = answer.get("quota") or {}
        return QuotaState(
            daily_limit=_int(quota, "daily_limit", "openapi/quota/get"),
            used=_int(quota, "used", "openapi/quota/get"),
            remain=_int(quota, "remain", "openapi/quota/get"),
        )

    # --- machinery ------------------------------------------------------------------------

    async def _fetch_token(self) -> tuple[str, float]:
        """POST stable_token in normal mode: never force_refresh, which would invalidate the
        token every other process holds."""
        body = {
            "grant_type": "client_credential",
            "appid": self.account.appid,
            "secret": self.account.secret.value,
            "force_refresh": False,
        }
        request = _Request(TOKEN_ENDPOINT, idempotent=True, body=body, needs_token=False)
        answer = await self._with_retries(request, token=None)
        token = _text(answer, "access_token", TOKEN_ENDPOINT)
        try:
            expires_in = float(answer.get("expires_in", 7200))
        except (TypeError, ValueError):
            expires_in = 7200.0
        return token, expires_in

    async def _call(self, request: _Request) -> dict[str, Any]:
        token = await self.tokens.current()
        fence = None if request.idempotent else before_effect.get()
        if fence is not None:
            await fence()
        try:
            return await self._with_retries(request, token)
        except ApiTokenError:
            # Refused before it took effect, so one retry is safe for every kind of call.
            token = await self.tokens.replace(token)
            return await self._with_retries(request, token)

    async def _with_retries(self, request: _Request, token: str | None) -> dict[str, Any]:
        attempts = self._retry.attempts if request.idempotent else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._attempt(request, token, attempt)
            except TransientError as exc:
                if attempt == attempts:
                    raise
                delay = max(self._retry.delay(attempt, self._rand), exc.retry_after or 0.0)
                await self._sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _attempt(self, request: _Request, token: str | None, attempt: int) -> dict[str, Any]:
        started = self._timer()
        errcode: int | None = None
        try:
            answer = await self._send(request, token)
            errcode = _errcode(answer)
            if errcode is None:
                raise self._lost(request, "the answer's errcode was unreadable")
            if errcode:
                raise error_for(
                    request.endpoint,
                    errcode,
                    self._scrub(str(answer.get("errmsg", ""))),
                    now=self._clock(),
                    answer=answer,
                )
            return answer
        finally:
            latency_ms = round((self._timer() - started) * 1000)
            await self._record(request.endpoint, errcode, latency_ms, attempt)

    async def _send(self, request: _Request, token: str | None) -> dict[str, Any]:
        url = f"{self.account.api_base}/cgi-bin/{request.endpoint}"
        params = dict(request.params)
        if token is not None:
            params["access_token"] = token
        data: bytes | aiohttp.FormData | None = None
        headers: dict[str, str] = {}
        if request.upload is not None:
            data = request.upload.form()  # rebuilt per attempt from the kept bytes
        elif request.body is not None:
            # Raw UTF-8: the platform refuses \uXXXX escapes (40033).
            data = json.dumps(request.body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with self._session.request(
                request.method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                status = response.status
                payload = await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # No connection was made, so nothing was sent.
            raise ApiTransientError(
                f"{request.endpoint}: could not connect to {self.account.api_base} "
                f"({type(exc).__name__}); nothing was sent",
                endpoint=request.endpoint,
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._lost(request, f"no answer ({type(exc).__name__})") from exc
        return self._parse(request, status, payload)

    def _parse(self, request: _Request, status: int, payload: bytes) -> dict[str, Any]:
        if status >= 500:
            raise self._lost(request, f"HTTP {status}")
        answer = read_answer(payload)
        if isinstance(answer, dict) and (status == 200 or "errcode" in answer):
            return answer
        if status != 200:
            raise ApiPermanentError(
                f"{request.endpoint}: HTTP {status} (is api_base {self.account.api_base} right?)",
                endpoint=request.endpoint,
            )
        raise self._lost(request, "the answer was not a JSON object")

    def _lost(self, request: _Request, what: str) -> ApiError:
        if request.idempotent:
            return ApiTransientError(f"{request.endpoint}: {what}", endpoint=request.endpoint)
        return ApiUnknownOutcomeError(
            f"{request.endpoint}: {what}; the request may have taken effect, reconcile before"
            " sending it again",
            endpoint=request.endpoint,
        )

    def _scrub(self, text: str) -> str:
        secret = self.account.secret.value
        return text.replace(secret, "<hidden>") if secret else text

    async def _record(
        self, endpoint: str, errcode: int | None, latency_ms: int, attempt: int
    ) -> None:
        # Never let bookkeeping lose a call's result: a draft/add whose media_id is lost
        # because a counter failed would have to be reconciled.
        quota_day = self._clock().astimezone(QUOTA_TIMEZONE).date()
        try:
            await self._counter.count_call(
                self.account.name,
                endpoint,
                quota_day,
                error=errcode != 0,
                errcode=errcode,
                latency_ms=latency_ms,
                attempt=attempt,
            )
        except Exception:
            log.exception("counting a call of %s failed", endpoint)
        if self._on_call is None:
            return
        try:
            result = self._on_call(endpoint, errcode, latency_ms, attempt)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("the on_call observer failed for %s", endpoint)


def read_answer(payload: bytes) -> Any:
    """The JSON in an answer, read tolerantly: the platform has sent raw control characters
    inside strings and bytes that are not UTF-8 (platform-fidelity.md §1 #5), so both are
    accepted (a broken byte becomes U+FFFD). None when it is not JSON at all."""
    try:
        return json.loads(payload.decode("utf-8", "replace"), strict=False)
    except ValueError:
        return None


def _whole_numbers(value: Any) -> tuple[int, ...]:
    """A list of numbers (or numeric strings); anything else in it is skipped."""
    numbers = []
    for item in value if isinstance(value, list) else []:
        try:
            numbers.append(int(item))
        except (TypeError, ValueError):
            continue
    return tuple(numbers)


def _errcode(answer: Mapping[str, Any]) -> int | None:
    """The answer's errcode (absent means 0, as in successful answers); None if unreadable."""
    value = answer.get("errcode", 0)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return None


def _text(answer: Mapping[str, Any], name: str, endpoint: str, *, effect: bool = False) -> str:
    """A required string (or number) field of a successful answer. When the call had an
    effect, a missing field means the outcome is unknown, not that nothing happened."""
    value = answer.get(name)
    if value is None or value == "":
        message = f"{endpoint}: the answer had no {name}"
        if effect:
            raise ApiUnknownOutcomeError(message, endpoint=endpoint)
        raise ApiPermanentError(message, endpoint=endpoint)
    return str(value)


def _int(answer: Mapping[str, Any], name: str, endpoint: str) -> int:
    value = answer.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ApiPermanentError(
            f"{endpoint}: the answer had no whole number {name}", endpoint=endpoint
        )
    try:
        return int(value)
    except ValueError:
        raise ApiPermanentError(
            f"{endpoint}: {name} is not a whole number", endpoint=endpoint
        ) from None
