"""Publish jobs (freepublish, wechat-api.md §4) and mass sends (§6): accepted at once, in
progress for a while, then finished with the outcome the title markers decided; each finish
yields the event the platform pushes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.account.callback import ArticleLink, MassSendJobFinish, PublishJobFinish
from bot.account.simulator.errors import ApiFault
from bot.account.simulator.ids import IdMaker
from bot.account.simulator.quotas import quota_day

IN_PROGRESS = 1
SUCCESS = 0
DELETED = 5
CLIENTMSGID_WINDOW_SECONDS = 24 * 3600
CLIENTMSGID_MAX_BYTES = 64


@dataclass(slots=True)
class PublishJob:
    publish_id: str
    msg_data_id: str
    media_id: str
    articles: list[dict[str, Any]]
    submitted_at: float
    due_at: float
    outcome: int  # the publish_status it will end in
    fail_idx: list[int]
    status: int = IN_PROGRESS
    article_id: str = ""
    urls: list[str] = field(default_factory=list)
    publish_time: float | None = None
    deleted: set[int] = field(default_factory=set)  # 1-based indexes deleted afterwards


@dataclass(slots=True)
class MassSend:
    msg_id: int
    msg_data_id: int
    media_id: str
    clientmsgid: str
    articles: list[dict[str, Any]]
    sent_at: float
    due_at: float
    status: str = "SENDING"
    urls: list[str] = field(default_factory=list)


class Jobs:
    def __init__(
        self,
        ids: IdMaker,
        *,
        rules: Mapping[str, int],
        account_type: str,
        to_user: str,
        from_user: str,
        followers: int,
    ) -> None:
        self._ids = ids
        self._rules = rules
        self._account_type = account_type
        self._to_user = to_user
        self._from_user = from_user
        self._followers = followers
        self.publishes: dict[str, PublishJob] = {}
        self._by_article: dict[str, PublishJob] = {}
        self.mass_sends: dict[int, MassSend] = {}
        self._clientmsgids: dict[str, MassSend] = {}

    # --- freepublish --------------------------------------------------------------------

    def _outcome(self, articles: list[dict[str, Any]]) -> tuple[int, list[int]]:
        for marker, status in self._rules.items():
            hits = [i for i, a in enumerate(articles, 1) if marker in a["title"]]
            if hits:
                # fail_idx names the rejected articles for originality (2) and review (4).
                return status, hits if status in (2, 4) else []
        return SUCCESS, []

    def submit(
        self, media_id: str, articles: list[dict[str, Any]], now: float, delay: float
    ) -> PublishJob:
        outcome, fail_idx = self._outcome(articles)
        job = PublishJob(
            publish_id=str(self._ids.serial(2_247_483_000)),
            msg_data_id=str(self._ids.serial(2_247_500_000)),
            media_id=media_id,
            articles=articles,
            submitted_at=now,
            due_at=now + delay,
            outcome=outcome,
            fail_idx=fail_idx,
        )
        self.publishes[job.publish_id] = job
        return job

    def console_publish(self, articles: list[dict[str, Any]], now: float) -> PublishJob:
        """An article published by a person in the MP console: online at once, with no
        draft, publish event or submit of ours."""
        job = self.submit("", articles, now, 0.0)
        job.status = job.outcome = SUCCESS
        job.fail_idx = []
        job.article_id = self._ids.urlsafe(32)
        job.urls = [self._article_url() for _ in job.articles]
        job.publish_time = now
        self._by_article[job.article_id] = job
        return job

    def running_for(self, media_id: str) -> PublishJob | None:
        """The job of this draft still in progress, if any."""
        return next(
            (
                j
                for j in self.publishes.values()
                if j.media_id == media_id and j.status == IN_PROGRESS
            ),
            None,
        )

    def job(self, publish_id: object) -> PublishJob:
        # The docs send publish_id as a string, real events carry a bare number: take both.
        job = self.publishes.get(str(publish_id).strip()) if publish_id is not None else None
        if job is None:
            raise ApiFault(53502)
        return job

    def by_article(self, article_id: object) -> PublishJob:
        job = self._by_article.get(article_id) if isinstance(article_id, str) else None
        if job is None:
            raise ApiFault(53600)
        return job

    def published(self) -> list[PublishJob]:
        """Successful publishes still online, newest first (what freepublish/batchget lists)."""
        done = [j for j in self.publishes.values() if j.status == SUCCESS]
        return sorted(done, key=lambda j: (j.publish_time or 0, j.publish_id), reverse=True)

    def delete(self, article_id: object, index: int) -> None:
        """1-based ``index``; 0 deletes every article. All deleted: publish_status 5."""
        job = self.by_article(article_id)
        if index < 0 or index > len(job.articles):
            raise ApiFault(40097, "index out of range")
        job.deleted |= set(range(1, len(job.articles) + 1)) if index == 0 else {index}
        if len(job.deleted) == len(job.articles):
            job.status = DELETED

    # --- mass send ----------------------------------------------------------------------

    def check_clientmsgid(self, clientmsgid: str, now: float) -> None:
        """45067 when too long, 45065 (with the earlier msg_id) when used in the last 24 h."""
        if len(clientmsgid.encode("utf-8")) > CLIENTMSGID_MAX_BYTES:
            raise ApiFault(45067)
        earlier = self._clientmsgids.get(clientmsgid)
        if earlier is not None and now - earlier.sent_at < CLIENTMSGID_WINDOW_SECONDS:
            raise ApiFault(45065, msg_id=earlier.msg_id)

    def check_allowance(self, now: float) -> None:
        """45028 once the account's mass-send allowance is spent: a subscription account may
        send once per day, a service account four times per calendar month (§6.3)."""
        day = quota_day(now)
        sends = [quota_day(m.sent_at) for m in self.mass_sends.values()]
        if self._account_type == "subscription":
            used, allowed = sum(1 for d in sends if d == day), 1
        else:
            used, allowed = sum(1 for d in sends if (d.year, d.month) == (day.year, day.month)), 4
        if used >= allowed:
            raise ApiFault(45028)

    def send(
        self,
        media_id: str,
        articles: list[dict[str, Any]],
        clientmsgid: str,
        now: float,
        delay: float,
    ) -> MassSend:
        send = MassSend(
            msg_id=self._ids.serial(1_000_000_000),
            msg_data_id=self._ids.serial(2_247_600_000),
            media_id=media_id,
            clientmsgid=clientmsgid,
            articles=articles,
            sent_at=now,
            due_at=now + delay,
        )
        self.mass_sends[send.msg_id] = send
        if clientmsgid:
            self._clientmsgids[clientmsgid] = send
        return send

    def mass(self, msg_id: object) -> MassSend:
        try:
            send = self.mass_sends.get(int(str(msg_id)))
        except ValueError:
            send = None
        if send is None:
            raise ApiFault(40097, "unknown msg_id")
        return send

    # --- finishing ----------------------------------------------------------------------

    def _article_url(self) -> str:
        return f"https://mp.weixin.qq.com/s/{self._ids.urlsafe(16)}"

    def settle(self, now: float) -> list[PublishJobFinish | MassSendJobFinish]:
        """Finish every job whose time has come; the events to push, in finishing order."""
        events: list[PublishJobFinish | MassSendJobFinish] = []
        due = [j for j in self.publishes.values() if j.status == IN_PROGRESS and j.due_at <= now]
        for job in sorted(due, key=lambda j: (j.due_at, j.publish_id)):
            job.status = job.outcome
            if job.outcome == SUCCESS:
                job.article_id = self._ids.urlsafe(32)
                job.urls = [self._article_url() for _ in job.articles]
                job.publish_time = job.due_at
                self._by_article[job.article_id] = job
            events.append(self._publish_event(job, now))
        sends = [m for m in self.mass_sends.values() if m.status == "SENDING" and m.due_at <= now]
        for send in sorted(sends, key=lambda m: m.msg_id):
            send.status = "SEND_SUCCESS"
            send.urls = [self._article_url() for _ in send.articles]
            events.append(self._mass_event(send, now))
        return events

    def _publish_event(self, job: PublishJob, now: float) -> PublishJobFinish:
        return PublishJobFinish(
            to_user=self._to_user,
            from_user=self._from_user,
            create_time=int(now),
            publish_id=job.publish_id,
            publish_status=job.status,
            article_id=job.article_id,
            articles=tuple(ArticleLink(i, url) for i, url in enumerate(job.urls, 1)),
            fail_idx=tuple(job.fail_idx),
        )

    def _mass_event(self, send: MassSend, now: float) -> MassSendJobFinish:
        return MassSendJobFinish(
            to_user=self._to_user,
            from_user=self._from_user,
            create_time=int(now),
            msg_id=str(send.msg_id),
            status="send success",
            total_count=self._followers,
            filter_count=self._followers,
            sent_count=self._followers,
            error_count=0,
            articles=tuple(ArticleLink(i, url) for i, url in enumerate(send.urls, 1)),
        )
