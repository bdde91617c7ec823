"""The simulated platform's state for one account, kept in memory, and one method per API
path that reads a parsed request and returns the platform's answer (or raises ApiFault).

When a published draft leaves the draft box is a variant (``SimulatorConfig.draft_removal``):
at submit, or only when its job succeeds (and then, in the worst case, a second submit of the
draft still in the box publishes it again). A mass-sent draft leaves at sendall.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.account.callback import MassSendJobFinish, PublishJobFinish
from bot.account.simulator.articles import Limits, check_article, check_articles
from bot.account.simulator.config import SimulatorConfig
from bot.account.simulator.errors import ApiFault
from bot.account.simulator.faults import FaultPlan
from bot.account.simulator.ids import IdMaker
from bot.account.simulator.jobs import Jobs
from bot.account.simulator.quotas import QuotaBook
from bot.account.simulator.tokens import TokenBook
from bot.domain.errors import ConfigError

KB, MB = 1024, 1024 * 1024
_FORMATS = {  # magic bytes -> format
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
    b"BM": "bmp",
}
_MATERIAL_RULES = {  # type -> (accepted formats, size limit) (wechat-api.md §2.2)
    "image": ({"jpeg", "png", "gif", "bmp"}, 10 * MB),
    "thumb": ({"jpeg"}, 64 * KB),
}
Event = PublishJobFinish | MassSendJobFinish
# Endpoints an unverified account is refused (48001) since July 2025 (wechat-api.md §4).
VERIFIED_ONLY = frozenset(
    {
        "freepublish/submit",
        "freepublish/get",
        "freepublish/batchget",
        "freepublish/getarticle",
        "freepublish/delete",
        "message/mass/preview",
        "message/mass/sendall",
        "message/mass/get",
    }
)
CLIENTMSGID_FAST_REPEAT_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    filename: str = ""


@dataclass(frozen=True, slots=True)
class Call:
    """One parsed request: query parameters, the JSON body (empty for GET), the file part."""

    query: Mapping[str, str]
    body: Mapping[str, Any] = field(default_factory=dict)
    upload: Upload | None = None


@dataclass(slots=True)
class Draft:
    media_id: str
    articles: list[dict[str, Any]]
    update_time: int
    create_time: int = 0


@dataclass(slots=True)
class CallbackTarget:
    url: str
    token: str
    aes_key: str


def image_format(data: bytes) -> str:
    return next((fmt for magic, fmt in _FORMATS.items() if data.startswith(magic)), "")


def _scheme_less(url: str) -> str:
    # Content may cite an uploadimg URL with https instead of the http it was given.
    return url.split("://", 1)[-1]


class Simulator:
    """One simulated account. Not thread-safe: used from one event loop."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.limits = Limits(
            title=config.title_max,
            title_bytes=config.title_max_bytes,
            author=config.author_max,
            digest=config.digest_max,
        )
        self.seed = config.seed if config.seed is not None else random.randrange(2**31)
        self.faults = FaultPlan(config, self.seed)
        self.reset()

    def reset(self) -> None:
        """Back to an empty account, as at start (the seed, faults and callback included)."""
        cfg = self.config
        self._offset = 0.0
        # Ten serials a second since 2024: later runs start above what earlier ones used.
        self.ids = IdMaker(
            f"{self.seed}/ids", serial_start=max(0, int(self.now()) - 1_704_067_200) * 10
        )
        self.tokens = TokenBook(cfg.appid, cfg.secret, cfg.token_ttl_seconds, self.ids)
        self.quotas = QuotaBook(cfg.daily_limit, cfg.minute_limit_of)
        self.jobs = Jobs(
            self.ids,
            rules=cfg.publish_rules,
            account_type=cfg.account_type,
            to_user=cfg.original_id,
            from_user=cfg.mphelper_openid,
            followers=cfg.followers,
        )
        self.images: dict[str, str] = {}  # scheme-less uploadimg URL -> format
        self.materials: dict[str, dict[str, Any]] = {}
        self.drafts: dict[str, Draft] = {}
        self.previews: list[dict[str, Any]] = []
        self.call_counts: Counter[str] = Counter()
        self.outbox: list[Event] = []
        self.deliveries: list[dict[str, Any]] = []
        self.sendall_attempts: dict[str, float] = {}  # clientmsgid -> last sendall (45066)
        self._delays = random.Random(f"{self.seed}/delays")
        self.callback = CallbackTarget(cfg.callback_url, cfg.callback_token, cfg.aes_key)
        self.faults.reset(self.seed)
        for n in range(cfg.console_articles):
            # A title with a raw backspace and a digest with a byte that is not UTF-8, as
            # people's pastes into the console leave them.
            self.console_publish(
                f"控制台发表\x08第{n + 1}篇", author="编辑部", digest="手工\udcff摘要"
            )

    def set_callback(self, url: str, token: str, aes_key: str = "") -> None:
        """Where finished-job events go from now on; an ``aes_key`` (43 letters and digits)
        switches pushes to safe mode. Raises ConfigError on a malformed key."""
        if aes_key and not (len(aes_key) == 43 and aes_key.isascii() and aes_key.isalnum()):
            raise ConfigError("simulator: aes_key must be 43 letters and digits")
        self.callback = CallbackTarget(url, token, aes_key)

    # --- time ---------------------------------------------------------------------------

    def now(self) -> float:
        """Epoch seconds on the simulator's clock (the injected clock plus any advance)."""
        return self.config.clock().timestamp() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds
        self.settle()

    def settle(self) -> None:
        """Finish due jobs; their events wait in ``outbox`` for the pusher. Under the
        "job_end" variants a published draft leaves the draft box now."""
        events = self.jobs.settle(self.now())
        if self.config.draft_removal != "submit":
            for event in events:
                if isinstance(event, PublishJobFinish) and event.publish_status == 0:
                    self.drafts.pop(self.jobs.job(event.publish_id).media_id, None)
        self.outbox.extend(events)

    def job_seconds(self) -> float:
        """How long the next job stays in progress."""
        low, high = self.config.publish_delay_seconds, self.config.publish_delay_max_seconds
        return self._delays.uniform(low, high) if high > low else low

    def check_verified(self, path: str) -> None:
        """48001 for an unverified account on every freepublish and mass-send endpoint."""
        if not self.config.verified and path in VERIFIED_ONLY:
            raise ApiFault(48001)

    def take_outbox(self) -> list[Event]:
        events, self.outbox = self.outbox, []
        return events

    # --- tokens -------------------------------------------------------------------------

    def token(self, call: Call) -> dict[str, Any]:
        self.tokens.check_credentials(call.query)
        return self.tokens.classic(self.now())

    def stable_token(self, call: Call) -> dict[str, Any]:
        self.tokens.check_credentials(call.body)
        force = call.body.get("force_refresh", False)
        if not isinstance(force, bool):
            raise ApiFault(47001, "force_refresh must be a boolean")
        now = self.now()
        if force and self.tokens.force_allowed(now):
            self.quotas.admit("stable_token:force_refresh", now)
        return self.tokens.stable(now, force=force)

    def check_token(self, call: Call) -> None:
        self.tokens.check(call.query.get("access_token"), self.now())

    # --- media --------------------------------------------------------------------------

    def upload_image(self, call: Call) -> dict[str, Any]:
        data = self._upload(call).data
        fmt = image_format(data)
        if fmt not in ("jpeg", "png"):
            raise ApiFault(40005)
        if len(data) >= MB:
            raise ApiFault(40009)
        short = "jpg" if fmt == "jpeg" else fmt
        url = f"http://mmbiz.qpic.cn/sz_mmbiz_{short}/{self.ids.urlsafe(42)}/0?wx_fmt={fmt}"
        self.images[_scheme_less(url)] = fmt
        return {"url": url}  # the recorded answer holds nothing else

    def add_material(self, call: Call) -> dict[str, Any]:
        kind = call.query.get("type", "")
        if kind not in _MATERIAL_RULES:
            raise ApiFault(40004, "the simulator keeps image and thumb material")
        data = self._upload(call).data
        formats, limit = _MATERIAL_RULES[kind]
        fmt = image_format(data)
        if fmt not in formats:
            raise ApiFault(40005)
        if len(data) > limit:
            raise ApiFault(40009)
        media_id = self.ids.urlsafe(48)
        url = (
            f"http://mmbiz.qpic.cn/mmbiz_{'jpg' if fmt == 'jpeg' else fmt}/{self.ids.urlsafe(42)}/0"
        )
        self.materials[media_id] = {"type": kind, "format": fmt, "url": url, "size": len(data)}
        # Recorded: image and thumb both give their url; thumb also an empty item list.
        answer: dict[str, Any] = {"media_id": media_id, "url": url}
        if kind == "thumb":
            answer["item"] = []
        return answer

    @staticmethod
    def _upload(call: Call) -> Upload:
        if call.upload is None or not call.upload.data:
            raise ApiFault(41005)
        return call.upload

    def is_material(self, media_id: str) -> bool:
        return media_id in self.materials

    def is_uploaded(self, url: str) -> bool:
        return _scheme_less(url) in self.images

    # --- drafts -------------------------------------------------------------------------

    def _draft(self, media_id: object) -> Draft:
        draft = self.drafts.get(media_id) if isinstance(media_id, str) else None
        if draft is None:
            raise ApiFault(40007)
        return draft

    def draft_add(self, call: Call) -> dict[str, Any]:
        articles = check_articles(
            call.body.get("articles"),
            is_material=self.is_material,
            is_uploaded=self.is_uploaded,
            limits=self.limits,
        )
        media_id = self.ids.urlsafe(48)
        now = int(self.now())
        self.drafts[media_id] = Draft(media_id, articles, now, now)
        return {"media_id": media_id, "item": []}

    def _news_items(self, draft: Draft, *, content: bool = True) -> list[dict[str, Any]]:
        items = []
        for article in draft.articles:
            item = dict(article)
            item["url"] = f"http://mp.weixin.qq.com/s?__biz=SIM&tempkey={draft.media_id}"
            item["thumb_url"] = self.materials.get(article["thumb_media_id"], {}).get("url", "")
            if not content:
                item.pop("content")
            items.append(item)
        return items

    def draft_get(self, call: Call) -> dict[str, Any]:
        draft = self._draft(call.body.get("media_id"))
        return {
            "news_item": self._news_items(draft),
            "create_time": draft.create_time,
            "update_time": draft.update_time,
        }

    def draft_update(self, call: Call) -> dict[str, Any]:
        draft = self._draft(call.body.get("media_id"))
        index = call.body.get("index")
        if not isinstance(index, int) or not 0 <= index < len(draft.articles):
            raise ApiFault(40097, "index must be a 0-based position in the draft")
        draft.articles[index] = check_article(
            call.body.get("articles"),
            is_material=self.is_material,
            is_uploaded=self.is_uploaded,
            limits=self.limits,
        )
        draft.update_time = int(self.now())
        return {"errcode": 0, "errmsg": "ok"}

    def draft_delete(self, call: Call) -> dict[str, Any]:
        del self.drafts[self._draft(call.body.get("media_id")).media_id]
        return {"errcode": 0, "errmsg": "ok"}

    def draft_count(self, call: Call) -> dict[str, Any]:
        return {"total_count": len(self.drafts)}

    def draft_batchget(self, call: Call) -> dict[str, Any]:
        offset, count, no_content = _page(call.body)
        drafts = sorted(self.drafts.values(), key=lambda d: d.update_time, reverse=True)
        items = [
            {
                "media_id": d.media_id,
                "content": {
                    "news_item": self._news_items(d, content=not no_content),
                    "create_time": d.create_time,
                    "update_time": d.update_time,
                },
                "update_time": d.update_time,
            }
            for d in drafts[offset : offset + count]
        ]
        return {"total_count": len(drafts), "item_count": len(items), "item": items}

    # --- freepublish --------------------------------------------------------------------

    def _publish_id(self, publish_id: str) -> str | int:
        return int(publish_id) if self.config.publish_id_type == "number" else publish_id

    def publish_submit(self, call: Call) -> dict[str, Any]:
        draft = self._draft(call.body.get("media_id"))
        removal = self.config.draft_removal
        running = self.jobs.running_for(draft.media_id)
        if removal == "job_end" and running is not None:
            # The draft is still in the box while its job runs: the platform answers the
            # running job rather than starting another.
            job = running
        else:
            job = self.jobs.submit(draft.media_id, draft.articles, self.now(), self.job_seconds())
        if removal == "submit":
            del self.drafts[draft.media_id]
        answer: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "publish_id": self._publish_id(job.publish_id),
        }
        if self.config.publish_id_type == "string":
            answer["msg_data_id"] = job.msg_data_id
        return answer

    def publish_get(self, call: Call) -> dict[str, Any]:
        job = self.jobs.job(call.body.get("publish_id"))
        answer: dict[str, Any] = {
            "publish_id": self._publish_id(job.publish_id),
            "publish_status": job.status,
        }
        if job.status in (0, 5, 6):
            answer["article_id"] = job.article_id
        if job.status == 0:
            answer["article_detail"] = {
                "count": len(job.urls),
                "item": [{"idx": i, "article_url": u} for i, u in enumerate(job.urls, 1)],
            }
        answer["fail_idx"] = list(job.fail_idx) if job.status in (2, 4) else []
        return answer

    def _published_items(self, article_id: object, *, content: bool = True) -> list[dict[str, Any]]:
        job = self.jobs.by_article(article_id)
        items = []
        for i, article in enumerate(job.articles, 1):
            item = {k: v for k, v in article.items() if k != "article_type"}
            # The draft's temporary link, never the lasting article_url (the docs:
            # "草稿的临时链接"; recorded: http://mp.weixin.qq.com/s?__biz=…&mid=…#rd).
            item["url"] = f"http://mp.weixin.qq.com/s?__biz=SIM&mid={job.publish_id}&idx={i}#rd"
            item["thumb_url"] = self.materials.get(article["thumb_media_id"], {}).get("url", "")
            item["is_deleted"] = i in job.deleted
            if not content:
                item.pop("content")
            items.append(item)
        return items

    def publish_getarticle(self, call: Call) -> dict[str, Any]:
        article_id = call.body.get("article_id")
        job = self.jobs.by_article(article_id)
        return {
            "news_item": self._published_items(article_id),
            "create_time": int(job.submitted_at),
            "update_time": int(job.publish_time or job.submitted_at),
        }

    def publish_batchget(self, call: Call) -> dict[str, Any]:
        offset, count, no_content = _page(call.body)
        jobs = self.jobs.published()
        place = self.config.update_time_place
        items = []
        for job in jobs[offset : offset + count]:
            updated = int(job.publish_time or 0)
            content: dict[str, Any] = {
                "news_item": self._published_items(job.article_id, content=not no_content)
            }
            item: dict[str, Any] = {"article_id": job.article_id, "content": content}
            if place in ("content", "both"):
                content["create_time"] = int(job.submitted_at)
                content["update_time"] = updated
            if place in ("item", "both"):
                item["update_time"] = updated
            items.append(item)
        return {"total_count": len(jobs), "item_count": len(items), "item": items}

    def publish_delete(self, call: Call) -> dict[str, Any]:
        index = call.body.get("index", 0)
        if not isinstance(index, int):
            raise ApiFault(47001, "index must be a number")
        self.jobs.delete(call.body.get("article_id"), index)
        return {"errcode": 0, "errmsg": "ok"}

    def console_publish(
        self, title: str, *, author: str = "", digest: str = "", content: str = "<p>…</p>"
    ) -> str:
        """An article a person published in the MP console, typed as they typed it (control
        characters and broken bytes, as ``\\udcXX``, included); returns its article_id."""
        article = {
            "title": title,
            "author": author,
            "digest": digest,
            "content": content,
            "content_source_url": "",
            "thumb_media_id": "",
            "need_open_comment": 0,
            "only_fans_can_comment": 0,
            "show_cover_pic": 0,
        }
        return self.jobs.console_publish([article], self.now()).article_id

    # --- mass send ----------------------------------------------------------------------

    def _mpnews_draft(self, body: Mapping[str, Any]) -> Draft:
        if body.get("msgtype") != "mpnews":
            raise ApiFault(40008, "the simulator sends mpnews")
        mpnews = body.get("mpnews")
        return self._draft(mpnews.get("media_id") if isinstance(mpnews, Mapping) else None)

    def mass_preview(self, call: Call) -> dict[str, Any]:
        draft = self._mpnews_draft(call.body)
        to = call.body.get("towxname") or call.body.get("touser")
        if not isinstance(to, str) or not to:
            raise ApiFault(40097, "touser or towxname is required")
        msg_id = self.ids.serial(3_000_000_000)
        by = "towxname" if call.body.get("towxname") else "touser"
        self.previews.append({"msg_id": msg_id, "to": to, "by": by, "media_id": draft.media_id})
        return {"errcode": 0, "errmsg": "preview success", "msg_id": msg_id}

    def mass_sendall(self, call: Call) -> dict[str, Any]:
        clientmsgid = call.body.get("clientmsgid", "")
        if not isinstance(clientmsgid, str):
            raise ApiFault(47001, "clientmsgid must be a string")
        now = self.now()
        if clientmsgid and self.config.clientmsgid_45066:
            last = self.sendall_attempts.get(clientmsgid)
            self.sendall_attempts[clientmsgid] = now
            if last is not None and now - last < CLIENTMSGID_FAST_REPEAT_SECONDS:
                raise ApiFault(45066)
        if self.config.mass_check_order == "media_first":
            draft = self._mpnews_draft(call.body)
            self.jobs.check_clientmsgid(clientmsgid, now)
        else:
            self.jobs.check_clientmsgid(clientmsgid, now)
            draft = self._mpnews_draft(call.body)
        self.jobs.check_allowance(now)
        send = self.jobs.send(draft.media_id, draft.articles, clientmsgid, now, self.job_seconds())
        del self.drafts[draft.media_id]
        return {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": send.msg_id,
            "msg_data_id": send.msg_data_id,
        }

    def mass_get(self, call: Call) -> dict[str, Any]:
        send = self.jobs.mass(call.body.get("msg_id"))
        return {"msg_id": send.msg_id, "msg_status": send.status}

    # --- quotas -------------------------------------------------------------------------

    def quota_get(self, call: Call) -> dict[str, Any]:
        cgi_path = call.body.get("cgi_path")
        if not isinstance(cgi_path, str) or not cgi_path.startswith("/"):
            raise ApiFault(76003)
        path = cgi_path.removeprefix("/cgi-bin/")
        if path == cgi_path or self.config.daily_limit(path) is None:
            raise ApiFault(76021)
        return {"errcode": 0, "errmsg": "ok", **self.quotas.info(path, self.now())}

    def clear_quota(self, call: Call) -> dict[str, Any]:
        if call.body.get("appid") != self.config.appid:
            raise ApiFault(40013)
        self.quotas.clear(self.now())
        return {"errcode": 0, "errmsg": "ok"}

    def clear_quota_v2(self, call: Call) -> dict[str, Any]:
        if call.body.get("appid") != self.config.appid:
            raise ApiFault(40013)
        if call.body.get("appsecret") != self.config.secret:
            raise ApiFault(40001, "AppSecret error")
        self.quotas.clear(self.now())
        return {"errcode": 0, "errmsg": "ok"}


def _page(body: Mapping[str, Any]) -> tuple[int, int, bool]:
    offset, count, no_content = body.get("offset", 0), body.get("count"), body.get("no_content", 0)
    if not isinstance(offset, int) or offset < 0:
        raise ApiFault(40097, "offset must be a number >= 0")
    if not isinstance(count, int) or not 1 <= count <= 20:
        raise ApiFault(40097, "count must be 1..20")
    return offset, count, bool(no_content)
