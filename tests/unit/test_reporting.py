"""Report periods, their UTC windows, and the four formats of one report (pure: no database)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Config, parse_config
from bot.domain.errors import UserError
from bot.engine.reporting import (
    ColumnFigures,
    Failure,
    Period,
    Report,
    format_report,
    report_to_dict,
    resolve_period,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def config() -> Config:
    raw: dict[str, Any] = {
        "database": {"url": "sqlite+aiosqlite:///:memory:"},
        "accounts": [{"name": "main", "appid": "wx1", "secret": "s"}],
        "columns": [{"name": "学习平台", "account": "main", "kinds": ["platform", "exhibit"]}],
        "campaigns": [
            {"name": "theme-education", "start": date(2023, 9, 1), "end": date(2024, 1, 31)},
            {"name": "2024", "start": date(2024, 3, 1), "end": date(2024, 3, 31)},
        ],
    }
    return parse_config(raw)


# --- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "kind", "label"),
    [
        ("2024-01", date(2024, 1, 1), date(2024, 1, 31), "month", "2024-01"),
        ("2024-2", date(2024, 2, 1), date(2024, 2, 29), "month", "2024-02"),  # leap year
        ("2023-12", date(2023, 12, 1), date(2023, 12, 31), "month", "2023-12"),
        ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31), "quarter", "2024-Q1"),
        ("2024-q4", date(2024, 10, 1), date(2024, 12, 31), "quarter", "2024-Q4"),
        ("2023", date(2023, 1, 1), date(2023, 12, 31), "year", "2023"),
        ("theme-education", date(2023, 9, 1), date(2024, 1, 31), "campaign", "theme-education"),
        # a campaign's name wins over the pattern it happens to look like
        ("2024", date(2024, 3, 1), date(2024, 3, 31), "campaign", "2024"),
    ],
)
def test_named_periods(
    config: Config, text: str, start: date, end: date, kind: str, label: str
) -> None:
    period = resolve_period(config, period=text)
    assert (period.start, period.end, period.kind, period.label) == (start, end, kind, label)


def test_from_and_to_are_both_inclusive_dates(config: Config) -> None:
    period = resolve_period(config, from_="2023-09-01", to="2024-01-31")
    assert (period.start, period.end, period.kind) == (date(2023, 9, 1), date(2024, 1, 31), "range")
    same_day = resolve_period(config, from_=date(2024, 1, 5), to="2024-01-05")
    assert same_day.start == same_day.end == date(2024, 1, 5)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"period": "2024-13"}, "'2024-13' is not a year"),
        ({"period": "2024-Q5"}, "quarter (2024-Q1)"),
        ({"period": "next week"}, "theme-education, 2024"),
        ({"from_": "2024-02-30", "to": "2024-03-01"}, "--from: '2024-02-30' is not a date"),
        ({"from_": "2024-01-01", "to": "yesterday"}, "--to: 'yesterday'"),
        ({"from_": "2024-02-01", "to": "2024-01-31"}, "is before --from"),
        ({"from_": "2024-01-01"}, "needs --from and --to"),
        ({}, "needs --from and --to"),
        ({"period": "2024", "from_": "2024-01-01", "to": "2024-01-02"}, "not both"),
    ],
)
def test_bad_periods_are_one_line_user_errors(
    config: Config, kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(UserError) as caught:
        resolve_period(config, **kwargs)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_window_is_local_midnight_to_the_midnight_after_the_last_day() -> None:
    start, end = Period(date(2024, 1, 1), date(2024, 1, 31), "x").window(SHANGHAI)
    assert start == datetime(2023, 12, 31, 16, 0, tzinfo=UTC)
    assert end == datetime(2024, 1, 31, 16, 0, tzinfo=UTC)


def test_window_follows_daylight_saving_time() -> None:
    # Berlin moved its clocks forward on 2024-03-31: that day has 23 hours.
    start, end = Period(date(2024, 3, 31), date(2024, 3, 31), "x").window(ZoneInfo("Europe/Berlin"))
    assert start == datetime(2024, 3, 30, 23, 0, tzinfo=UTC)
    assert (end - start).total_seconds() == 23 * 3600


# --- formats ----------------------------------------------------------------------------------


def seed_report(period: Period | None = None) -> Report:
    """The seed's figures: 22 posts, 4 platforms, 57 exhibits, plus a second, empty column."""
    return Report(
        period=period or Period(date(2023, 9, 1), date(2024, 1, 31), "2023-09-01/2024-01-31"),
        timezone="Asia/Shanghai",
        kinds=("platform", "exhibit", "lesson"),
        columns=(
            ColumnFigures(
                "学习平台",
                "main",
                True,
                22,
                {"platform": 4, "exhibit": 57},
                2,
                1,
                1,
                articles_published=22,
            ),
            ColumnFigures("青年|大学习", "main", False, 0, {"lesson": 0}),
        ),
        posts_published=22,
        articles_published=22,
        resources_featured={"platform": 4, "exhibit": 57, "lesson": 0},
        from_platform=2,
        deleted_on_platform=1,
        failures=(
            Failure(
                9,
                "学习平台",
                "main",
                "一篇失败的推文",
                "title too long",
                45003,
                datetime(2024, 1, 2, 1, 0, tzinfo=UTC),
            ),
        ),
    )


def test_json_has_the_contract_shape_and_the_extras() -> None:
    data = json.loads(format_report(seed_report(), "json", templates_dir=Path("/nowhere")))
    assert data["from"] == "2023-09-01" and data["to"] == "2024-01-31"
    assert data["timezone"] == "Asia/Shanghai" and data["posts_published"] == 22
    first = data["columns"][0]
    assert first["column"] == "学习平台" and first["account"] == "main"
    assert first["posts_published"] == 22
    assert first["resources_featured"] == {"platform": 4, "exhibit": 57}
    assert data["failures"]["count"] == 1
    failure = data["failures"]["posts"][0]
    assert failure["post_id"] == 9 and failure["errcode"] == 45003
    assert failure["at"] == "2024-01-02T09:00:00+08:00"  # shown in the report's timezone
    assert data["sources"]["posts_published"] == {"bot": 20, "platform": 2}
    assert data["deleted_on_platform"] == 1


def test_csv_has_a_row_per_column_and_a_total_row() -> None:
    text = format_report(seed_report(), "csv", templates_dir=Path("/nowhere"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["column"] for r in rows] == ["学习平台", "青年|大学习", "total"]
    assert rows[0]["posts_published"] == "22" and rows[0]["exhibit"] == "57"
    assert rows[1]["platform"] == "0"  # every row has every kind
    assert rows[2]["platform"] == "4" and rows[2]["failures"] == "1"


def test_markdown_is_a_table_that_escapes_pipes() -> None:
    text = format_report(seed_report(), "md", templates_dir=Path("/nowhere"))
    assert "| 学习平台 | main | 22 | 22 | 4 | 57 | 0 | 1 | 1 |" in text
    assert "| 青年\\|大学习 | main | 0 |" in text
    assert "| **total** |  | **22** | **22** | **4** | **57** |" in text
    assert "post 9 “一篇失败的推文” (学习平台): title too long (errcode 45003)" in text


def test_text_reads_like_the_seed() -> None:
    text = format_report(seed_report(), "text", templates_dir=Path("/nowhere"))
    assert (
        "2023年9月1日至2024年1月31日，在团属微信公众号“学习平台”专栏发布学习资源相关推文22篇，"
        "推荐学习平台4个，推荐57个爱国主义教育基地数字化学习体验。" in text
    )
    assert "其中1篇已在平台删除或被屏蔽" in text
    assert "“青年|大学习”专栏未发布推文" in text
    assert "另有1篇推文发布失败" in text
    assert "推荐网上主题团课" not in text  # kinds with nothing featured are left out


@pytest.mark.parametrize(
    ("period", "opening"),
    [
        (Period(date(2024, 1, 1), date(2024, 1, 31), "2024-01", "month"), "2024年1月，"),
        (Period(date(2024, 4, 1), date(2024, 6, 30), "2024-Q2", "quarter"), "2024年第二季度，"),
        (Period(date(2024, 1, 1), date(2024, 12, 31), "2024", "year"), "2024年，"),
        (
            Period(date(2023, 9, 1), date(2024, 1, 31), "主题教育", "campaign"),
            "主题教育期间（2023年9月1日至2024年1月31日），",
        ),
    ],
)
def test_text_names_the_period_as_a_report_would(period: Period, opening: str) -> None:
    text = format_report(seed_report(period), "text", templates_dir=Path("/nowhere"))
    assert text.startswith(opening)


def test_english_template_is_available() -> None:
    text = format_report(
        seed_report(), "text", templates_dir=Path("/nowhere"), template="reports/default.en.txt.j2"
    )
    assert "published 22 articles on learning resources, recommending 4 learning platforms" in text


def test_a_users_template_replaces_the_default(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "default.txt.j2").write_text(
        "{% for c in columns %}{{ c.column }}={{ c.posts_published }};{% endfor %}"
        "{{ resources_featured.exhibit }}",
        encoding="utf-8",
    )
    text = format_report(seed_report(), "text", templates_dir=tmp_path)
    assert text == "学习平台=22;青年|大学习=0;57"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("line one\n{% for %}", "default.txt.j2:2:"),
        ("{{ no_such_figure }}", "no_such_figure"),
    ],
)
def test_a_broken_template_is_a_one_line_user_error(tmp_path: Path, body: str, words: str) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "default.txt.j2").write_text(body, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        format_report(seed_report(), "text", templates_dir=tmp_path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_format_is_a_user_error() -> None:
    with pytest.raises(UserError, match="'xml' is not one of text, json, csv, md"):
        format_report(seed_report(), "xml", templates_dir=Path("/nowhere"))


def test_every_format_carries_the_same_numbers() -> None:
    report = seed_report()
    data = report_to_dict(report)
    csv_rows = list(
        csv.DictReader(io.StringIO(format_report(report, "csv", templates_dir=Path("/x"))))
    )
    md = format_report(report, "md", templates_dir=Path("/x"))
    text = format_report(report, "text", templates_dir=Path("/x"))
    for column, row in zip(data["columns"], csv_rows, strict=False):
        assert int(row["posts_published"]) == column["posts_published"]
        for kind, n in column["resources_featured"].items():
            assert int(row[kind]) == n
        assert int(row["articles_published"]) == column["articles_published"]
    md_total = re.search(
        r"\| \*\*total\*\* \|  \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\*", md
    )
    assert md_total and int(md_total[1]) == data["posts_published"]
    assert int(md_total[2]) == data["articles_published"]
    assert int(md_total[3]) == data["resources_featured"]["platform"]
    assert f"推文{data['articles_published']}篇" in text
