"""``bot check`` as a subprocess: the seed document, a damaged catalogue, exit codes, the
readable lines and the JSON objects of the contract."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.e2e.conftest import BOT, COLUMN, Project, bot_env

SEED_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "seed"
LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?P<sev>error|warning|fixed) (?P<code>[a-z_.]+): .+"
)


def check(tmp_path: Path, *args: str, lang: str = "") -> subprocess.CompletedProcess[str]:
    env = bot_env(**({"BOT_LANG": lang} if lang else {}))
    return subprocess.run(
        [str(BOT), "check", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_the_raw_seed_is_refused_at_each_damaged_span_and_the_cleaned_seed_passes(
    tmp_path: Path,
) -> None:
    shutil.copy(SEED_DIR / "000_e3da3c0fc4af76a1.txt", tmp_path / "seed.md")
    shutil.copy(SEED_DIR / "000_e3da3c0fc4af76a1.simplified.txt", tmp_path / "simplified.md")
    shutil.copy(SEED_DIR / "000_e3da3c0fc4af76a1.cleaned.txt", tmp_path / "cleaned.md")

    raw = check(tmp_path, "seed.md", lang="zh")
    assert raw.returncode == 1, raw.stderr
    lines = raw.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines[:3]
    codes = {LINE.match(line).group("code") for line in lines}  # type: ignore[union-attr]
    assert {"annotation.pinyin", "script.traditional", "encoding.damaged_run"} <= codes
    assert "Finding(" not in raw.stdout
    assert "拼音" in raw.stdout  # Chinese (the default outside the tests)

    simplified = check(tmp_path, "simplified.md", "--json")
    assert simplified.returncode == 1
    found = json.loads(simplified.stdout)
    shifted = [f for f in found if f["code"] == "encoding.gbk_shifted"]
    assert shifted and shifted[0]["severity"] == "error" and shifted[0]["line"] == 4
    for finding in found:
        assert {"file", "line", "id", "field", "severity", "code", "message"} <= set(finding)
        assert finding["id"] is None and finding["file"] == "simplified.md"

    cleaned = check(tmp_path, "cleaned.md")
    assert cleaned.returncode == 0, cleaned.stdout
    assert " error " not in cleaned.stdout


def test_a_catalogue_is_checked_row_by_row_naming_line_id_and_field(tmp_path: Path) -> None:
    (tmp_path / "cat.csv").write_text(
        "id,kind,title,summary,url\n"
        "r1,platform,学习强国,理论学习平台。,https://www.xuexi.cn/\n"
        "r2,platform,青年之家&amp;志愿服务队,团(tuán)课\\u56e2,https://www.xuexi.cn/\n"
        "r3,platform,青年\u200b大学习,网上主题团课。,https://www.xuexi.cn/\n",
        encoding="utf-8",
    )
    result = check(tmp_path, "cat.csv", "--json")
    assert result.returncode == 1
    found = json.loads(result.stdout)
    by_code = {(f["code"], f["id"], f["field"], f["line"], f["severity"]) for f in found}
    assert ("escape.html_entity", "r2", "title", 3, "error") in by_code
    assert ("annotation.pinyin", "r2", "summary", 3, "error") in by_code
    assert ("escape.unicode", "r2", "summary", 3, "error") in by_code
    assert ("invisible.zero_width", "r3", "title", 4, "fixed") in by_code
    assert not [f for f in found if f["id"] == "r1"]
    assert all(f["message"] == f["message_en"] != f["message_zh"] for f in found)
    # nothing was stored: there is no database anywhere
    assert not list(tmp_path.glob("**/*.db"))


def test_warnings_and_fixes_alone_exit_0(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text(
        "王堃（kūn）同志参加了“為人民服務”主题活动。\n", encoding="utf-8"
    )
    result = check(tmp_path, "ok.md")
    assert result.returncode == 0, result.stdout
    assert "annotation.pinyin_gloss" in result.stdout


def test_unreadable_and_undecodable_input_gives_findings_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_bytes("第一行\n".encode() + "团课".encode("gbk") + b"\n")
    (tmp_path / "weird.json").write_text('[{"id": "x", "kind": "platform", "title": "\\ud800"}]')
    result = check(tmp_path, "bad.md", "missing.csv", "weird.json")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert re.search(r"^bad\.md:2: error file\.encoding", result.stdout, re.M)
    assert re.search(r"^missing\.csv:1: error ", result.stdout, re.M)
    assert re.search(r"^weird\.json:\d+: error encoding\.surrogate", result.stdout, re.M)


def test_a_mixed_encoding_csv_is_refused_naming_the_line(tmp_path: Path) -> None:
    data = (
        b"id,kind,title\n"
        + "a,platform,学习强国\n".encode()
        + "b,platform,青年大学习\n".encode("gbk")
    )
    (tmp_path / "mixed.csv").write_bytes(data)
    result = check(tmp_path, "mixed.csv")
    assert result.returncode == 1
    assert re.search(r"^mixed\.csv:3: error file\.encoding: .*line 2 is UTF-8", result.stdout, re.M)


def test_bot_draft_refuses_with_readable_lines_and_json_objects(project: Project) -> None:
    assert project.run("db", "upgrade").code == 0
    catalogue = project.root / "cat.csv"
    catalogue.write_text(
        "id,kind,title,summary,url\n"
        "t1,platform,主题教育學習平台,理论学习平台。,https://www.xuexi.cn/\n",
        encoding="utf-8",
    )
    assert project.run("catalogue", "import", str(catalogue)).code == 0
    text = project.run(
        "draft", "--column", COLUMN, "--resource", "t1", "--at", "now", env=bot_env(BOT_LANG="zh")
    )
    assert text.code == 1
    assert "Finding(" not in text.stderr and "script.traditional" in text.stderr
    assert "简体栏目中出现繁体字" in text.stderr  # Chinese by default
    english = project.run(
        "draft", "--column", COLUMN, "--resource", "t1", "--at", "now", "--json",
        env=bot_env(BOT_LANG="en"),
    )  # fmt: skip
    assert english.code == 1
    body = json.loads(english.stdout)
    assert isinstance(body, dict) and body["error"]
    found = [f for f in body["findings"] if f["code"] == "script.traditional"]
    assert {f["field"] for f in found} >= {"title", "markdown"}  # the title and the body
    finding = found[0]
    assert finding["severity"] == "error"
    assert "Traditional" in finding["message"] and finding["message_zh"]
    assert project.run("queue", "list", "--json").json() == []  # nothing was stored


def test_a_column_allows_names_in_traditional_characters(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[database]\nurl = "sqlite+aiosqlite:///bot.db"\n'
        '[[accounts]]\nname = "main"\nappid = "wx1"\nsecret = "s"\n'
        '[[columns]]\nname = "港澳"\naccount = "main"\n'
        'traditional_allowed = ["中華書局"]\n',
        encoding="utf-8",
    )
    (tmp_path / "cat.csv").write_text(
        "id,kind,title,summary\nb1,article,中华书局新书,本书由中華書局出版发行。\n",
        encoding="utf-8",
    )
    assert check(tmp_path, "cat.csv").returncode == 1  # without the column: an error
    allowed = check(tmp_path, "cat.csv", "--column", "港澳")
    assert allowed.returncode == 0, allowed.stdout
    assert "script.traditional_name" in allowed.stdout
    assert not list(tmp_path.glob("*.db"))  # nothing was stored


def test_drafting_a_resource_again_within_the_cooldown_needs_force(project: Project) -> None:
    assert project.run("db", "upgrade").code == 0
    catalogue = project.root / "cat.csv"
    catalogue.write_text(
        "id,kind,title,summary,url\nr1,platform,学习强国,理论学习平台。,https://www.xuexi.cn/\n",
        encoding="utf-8",
    )
    assert project.run("catalogue", "import", str(catalogue)).code == 0
    first = project.run("draft", "--column", COLUMN, "--resource", "r1", "--at", "now", "--json")
    assert first.code == 0, first.stderr
    again = project.run("draft", "--column", COLUMN, "--resource", "r1", "--at", "now")
    assert again.code == 1
    assert "r1" in again.stderr and "--force" in again.stderr
    assert json.loads(first.stdout)["scheduled_for"][:10] in again.stderr
    forced = project.run("draft", "--column", COLUMN, "--resource", "r1", "--at", "now", "--force")
    assert forced.code == 0, forced.stderr
    assert len(project.run("queue", "list", "--json").json()) == 2


def test_every_example_of_the_review_page_through_bot_check(tmp_path: Path) -> None:
    from bot.content.checks import has_surrogates
    from tests.unit.checks.page_examples import CLEAN, DAMAGED, FIXABLE

    damaged = [(k, t) for k, t in DAMAGED if not has_surrogates(t)]  # not storable in a file
    names = []
    for i, (_, text) in enumerate(damaged):
        (tmp_path / f"d{i:02d}.md").write_text(f"正文：{text}\n", encoding="utf-8")
        names.append(f"d{i:02d}.md")
    for i, text in enumerate(CLEAN):
        (tmp_path / f"c{i:02d}.md").write_text(f"正文：{text}\n", encoding="utf-8")
        names.append(f"c{i:02d}.md")
    result = check(tmp_path, "--json", *names)
    assert result.returncode == 1
    found: dict[str, set[str]] = {}
    for finding in json.loads(result.stdout):
        found.setdefault(finding["file"], set()).add(finding["severity"])
    for i, (kind, text) in enumerate(damaged):
        severities = found.get(f"d{i:02d}.md", set())
        assert "error" in severities or (kind in FIXABLE and "fixed" in severities), text
    for i, text in enumerate(CLEAN):
        assert "error" not in found.get(f"c{i:02d}.md", set()), text
