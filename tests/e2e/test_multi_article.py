"""A column of three articles a post, end to end through the real ``bot`` script and the
simulator (the issue's "done when"): one post of three distinct resources is drafted; the
platform receives one draft of three articles, each with its own title and cover; after
publishing, the report counts 1 post and 3 articles and its sentence says 3篇."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.content.sample import SAMPLE_CATALOGUE
from tests.e2e.conftest import Project, Simulator

MULTI = "每期三篇"
EXTRA = f"""
[[columns]]
name = "{MULTI}"
account = "main"
author = "团区委"
kinds = ["platform"]
articles_per_post = 3
"""


@pytest.fixture
def multi(tmp_path: Path, simulator: Simulator) -> Project:
    project = Project(tmp_path / "project", simulator.url)
    project.write_config(
        publisher={"poll_first_seconds": 0.3, "poll_max_seconds": 1, "tick_seconds": 0.3},
        extra=EXTRA,
    )
    assert project.run("db", "upgrade").code == 0
    assert project.run("catalogue", "import", str(SAMPLE_CATALOGUE)).code == 0
    return project


def own_covers(project: Project) -> list[str]:
    """Three platforms, each with a cover image of its own, imported into the catalogue."""
    rows = ["id,kind,title,summary,url,cover"]
    for n, name in enumerate(("青年学习平台甲", "青年学习平台乙", "青年学习平台丙"), start=1):
        cover = project.root / f"own-{n}.jpg"
        Image.new("RGB", (470, 200), (60 * n, 120, 40)).save(cover, "JPEG")
        rows.append(f"own-{n},platform,{name},{name}的简介。,https://example.com/{n},{cover}")
    path = project.root / "own.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    imported = project.run("catalogue", "import", str(path))
    assert imported.code == 0, imported.stderr
    return ["own-1", "own-2", "own-3"]


def test_three_articles_a_post_from_draft_to_report(multi: Project, simulator: Simulator) -> None:
    ids = own_covers(multi)
    drafted = multi.run(
        "draft", "--column", MULTI, "--at", "now", "--json", "--resource", *ids
    ).json()
    assert drafted["article_count"] == 3
    articles = drafted["articles"]
    resources = [r for a in articles for r in a["resources"]]
    assert resources == ids  # three distinct resources, one an article
    assert len({a["title"] for a in articles}) == 3
    assert drafted["title"] == articles[0]["title"]

    calls_before = simulator.state()["call_counts"]
    before = calls_before.get("draft/add", 0)
    uploads_before = calls_before.get("material/add_material", 0)
    done = multi.run("publish", "--due", "--json", timeout=90).json()
    (post,) = [p for p in done if p["id"] == drafted["id"]]
    assert post["status"] == "published", post

    state = simulator.state()
    assert state["call_counts"]["draft/add"] == before + 1  # one draft for the three
    (job,) = [j for j in state["published"] if j["titles"][0] == drafted["title"]]
    assert job["titles"] == [a["title"] for a in articles]
    assert len(job["article_urls"]) == 3
    listed = multi.run("queue", "list", "--status", "published", "--json").json()
    (stored,) = [p for p in listed if p["id"] == drafted["id"]]
    assert [a["article_url"] for a in stored["articles"]] == job["article_urls"]
    # each article's own cover went to the platform as permanent material
    assert len({a["cover"] for a in articles}) == 3
    assert state["call_counts"]["material/add_material"] == uploads_before + 3

    today = post["published_at"][:10]
    period = ["--from", today, "--to", today, "--column", MULTI]
    report = multi.run("report", *period, "--format", "json").json()
    (figures,) = report["columns"]
    assert (figures["posts_published"], figures["articles_published"]) == (1, 3)
    assert (report["posts_published"], report["articles_published"]) == (1, 3)
    text = multi.run("report", *period, "--format", "text").stdout
    assert "推文3篇" in text, text
