"""What ``GET /_sim/state`` shows: everything the simulated account holds, as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.account.simulator.jobs import MassSend, PublishJob
from bot.account.simulator.state import Draft, Simulator


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def _draft(draft: Draft) -> dict[str, Any]:
    return {
        "media_id": draft.media_id,
        "title": draft.articles[0]["title"],
        "update_time": draft.update_time,
        "articles": draft.articles,
    }


def _job(job: PublishJob) -> dict[str, Any]:
    return {
        "publish_id": job.publish_id,
        "msg_data_id": job.msg_data_id,
        "media_id": job.media_id,
        "status": job.status,
        "title": job.articles[0]["title"],
        "titles": [a["title"] for a in job.articles],
        "submitted_at": _iso(job.submitted_at),
        "article_id": job.article_id,
        "publish_time": _iso(job.publish_time),
        "update_time": None if job.publish_time is None else int(job.publish_time),
        "article_urls": list(job.urls),
        "fail_idx": list(job.fail_idx),
        "deleted": sorted(job.deleted),
    }


def _mass(send: MassSend) -> dict[str, Any]:
    return {
        "msg_id": send.msg_id,
        "msg_data_id": send.msg_data_id,
        "media_id": send.media_id,
        "clientmsgid": send.clientmsgid,
        "status": send.status,
        "title": send.articles[0]["title"],
        "titles": [a["title"] for a in send.articles],
        "sent_at": _iso(send.sent_at),
        "article_urls": list(send.urls),
    }


def snapshot(sim: Simulator) -> dict[str, Any]:
    sim.settle()
    now = sim.now()
    jobs = sorted(sim.jobs.publishes.values(), key=lambda j: (j.submitted_at, j.publish_id))
    return {
        "appid": sim.config.appid,
        "seed": sim.seed,
        "profile": sim.config.profile,
        "variants": sim.config.variants(),
        "now": _iso(now),
        "drafts": [_draft(d) for d in sim.drafts.values()],
        # Articles that went online (status 0, or 5/6 once deleted afterwards).
        "published": [_job(j) for j in jobs if j.article_id],
        "publish_jobs": [_job(j) for j in jobs],
        "mass_sends": [_mass(m) for m in sim.jobs.mass_sends.values()],
        "previews": list(sim.previews),
        "images": len(sim.images),
        "materials": [{"media_id": k, **v} for k, v in sim.materials.items()],
        "call_counts": dict(sorted(sim.call_counts.items())),
        "quota_used": sim.quotas.used(now),
        "live_tokens": sim.tokens.live_count(now),
        "pushes": list(sim.deliveries),
        "faults": sim.faults.snapshot(),
        "callback": {
            "url": sim.callback.url,
            "mode": "aes" if sim.callback.aes_key else "plain",
        },
    }
