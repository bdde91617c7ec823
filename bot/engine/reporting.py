"""Work-report figures: which period a report covers, the figures per column for it, and the
four ways of printing them (json, csv, md, and sentences from a replaceable Jinja2 template).

A period is a span of local calendar days, both ends inclusive: ``[start 00:00, end+1 00:00)``
in the report's timezone, turned into UTC before the store is asked. Every format is made
from the one ``Report`` value, so their numbers cannot disagree.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import PROJECT_ROOT, Config
from bot.domain.errors import UserError
from bot.domain.times import EARLIEST, LATEST, check_day
from bot.engine import offload
from bot.i18n import translate, translate_sentence
from bot.store import db
from bot.store import reports as store

FORMATS = ("text", "json", "csv", "md")
TEXT_TEMPLATE = "reports/default.txt.j2"

# A wide period is cheap to count in SQL but makes a chart with one bar per week; ten years
# keeps every page small while covering any campaign or multi-year review.
MAX_PERIOD_YEARS = 10
MAX_PERIOD_DAYS = 3653

_YEAR = re.compile(r"(\d{4})")
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local calendar days ``start`` to ``end``, both included."""

    start: date
    end: date
    label: str
    kind: str = "range"  # "range", "month", "quarter", "year" or "campaign"

    def window(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as a half-open UTC window ``[start, end)``."""
        begin = datetime.combine(self.start, time(0), tzinfo=tz)
        after = datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz)
        return begin.astimezone(UTC), after.astimezone(UTC)


def resolve_period(
    config: Config,
    *,
    from_: str | date | None = None,
    to: str | date | None = None,
    period: str | None = None,
) -> Period:
    """The period from ``--from``/``--to`` or from ``--period`` (a campaign name from the
    config, a year "2024", a month "2024-01" or a quarter "2024-Q1"). Raises UserError."""
    if period is not None:
        if from_ is not None or to is not None:
            raise UserError("give either --period or --from/--to, not both")
        return _named_period(config, period.strip())
    if from_ is None or to is None:
        raise UserError("a report needs --from and --to (YYYY-MM-DD), or --period")
    start, end = _date(from_, "--from"), _date(to, "--to")
    if end < start:
        raise UserError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    return _checked(Period(start, end, f"{start.isoformat()}/{end.isoformat()}"))


def _checked(period: Period) -> Period:
    """``period`` if it is at most ``MAX_PERIOD_DAYS`` long. Raises UserError."""
    days = (period.end - period.start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise UserError(
            f"a report covers at most {MAX_PERIOD_DAYS} days ({MAX_PERIOD_YEARS} years); "
            f"{period.start.isoformat()} to {period.end.isoformat()} is {days} days"
        )
    return period


def _date(value: str | date, flag: str) -> date:
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise UserError(f"{flag}: {value!r} is not a date (YYYY-MM-DD)") from None
    return check_day(value, flag)


def _named_period(config: Config, value: str) -> Period:
    for campaign in config.campaigns:
        if campaign.name == value:
            return _checked(Period(campaign.start, campaign.end, campaign.name, "campaign"))
    if (match := _YEAR.match(value)) and not EARLIEST.year <= int(match[1]) <= LATEST.year:
        raise UserError(
            f"--period: {value!r}: reports cover the years {EARLIEST.year} to {LATEST.year}"
        )
    if match := _YEAR.fullmatch(value):
        year = int(match[1])
        return Period(date(year, 1, 1), date(year, 12, 31), value, "year")
    if (match := _MONTH.fullmatch(value)) and 1 <= int(match[2]) <= 12:
        year, month = int(match[1]), int(match[2])
        return Period(date(year, month, 1), _month_end(year, month), f"{year}-{month:02d}", "month")
    if match := _QUARTER.fullmatch(value):
        year, quarter = int(match[1]), int(match[2])
        first = 3 * quarter - 2
        start, end = date(year, first, 1), _month_end(year, first + 2)
        return Period(start, end, f"{year}-Q{quarter}", "quarter")
    names = ", ".join(c.name for c in config.campaigns) or "none configured"
    raise UserError(
        f"--period: {value!r} is not a year (2024), a month (2024-01), a quarter (2024-Q1) "
        f"or a campaign (campaigns: {names})"
    )


def _month_end(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"--timezone: unknown timezone {name!r}") from None


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnFigures:
    column: str
    account: str
    configured: bool  # False: found in the data, no longer in the configuration
    posts_published: int
    resources_featured: Mapping[str, int]  # distinct resources per kind
    from_platform: int = 0  # of posts_published, recorded by ``bot sync``
    deleted_on_platform: int = 0  # of posts_published, deleted or banned on the platform since
    failures: int = 0
    articles_published: int = 0  # the articles of those posts (推文N篇 counts these)


@dataclass(frozen=True)
class Failure:
    post_id: int
    column: str
    account: str
    title: str
    error: str
    errcode: int | None
    at: datetime  # aware UTC


@dataclass(frozen=True)
class Report:
    period: Period
    timezone: str
    kinds: tuple[str, ...]  # every kind shown, in display order
    columns: tuple[ColumnFigures, ...]
    posts_published: int
    resources_featured: Mapping[str, int]  # distinct over all columns, not a sum
    articles_published: int = 0
    from_platform: int = 0
    deleted_on_platform: int = 0
    failures: tuple[Failure, ...] = field(default=())


async def build_report(
    engine: AsyncEngine,
    config: Config,
    period: Period,
    *,
    column: str | None = None,
    timezone: str | None = None,
) -> Report:
    """The figures of ``period`` per column (every configured column, and any other found in
    the data). Raises UserError for an unknown column or timezone."""
    tz_name = timezone or config.report_timezone
    start, end = period.window(_zone(tz_name))
    async with db.reading(engine) as conn:
        configured = any(c.name == column for c in config.columns)
        if column is not None and not configured and not await store.column_has_posts(conn, column):
            known = ", ".join(c.name for c in config.columns)
            raise UserError(f"--column: no column named {column!r} (configured: {known})")
        aggregate = await store.column_aggregate(conn, start, end, column)
        sources = await store.source_breakdown(conn, start, end, column)
        totals = await store.featured_totals(conn, start, end, column)
        failed = await store.failures(conn, start, end, column)
        articles = await store.articles_published(conn, start, end, column)
    # Assembling is pure work over the rows: off the loop, like every report's CPU part.
    return await offload.run(
        assemble_report,
        config,
        period,
        tz_name,
        column,
        aggregate,
        sources,
        failed,
        totals,
        articles,
    )


def assemble_report(
    config: Config,
    period: Period,
    tz_name: str,
    column: str | None,
    aggregate: Sequence[store.AggregateRow],
    sources: Sequence[store.SourceRow],
    failed: Sequence[store.FailureRow],
    totals: Mapping[str, int],
    articles: Sequence[store.ArticleRow] = (),
) -> Report:
    """The Report from the store's rows (pure; runs in an offload worker)."""
    failures = tuple(Failure(*row) for row in failed)
    columns = _assemble(config, column, aggregate, sources, failures, articles)
    kinds = _ordered({k for c in columns for k in c.resources_featured} | set(totals), config)
    return Report(
        period=period,
        timezone=tz_name,
        kinds=kinds,
        columns=columns,
        posts_published=sum(c.posts_published for c in columns),
        resources_featured={k: totals.get(k, 0) for k in kinds},
        articles_published=sum(c.articles_published for c in columns),
        from_platform=sum(c.from_platform for c in columns),
        deleted_on_platform=sum(c.deleted_on_platform for c in columns),
        failures=failures,
    )


def _assemble(
    config: Config,
    only: str | None,
    aggregate: Sequence[store.AggregateRow],
    sources: Sequence[store.SourceRow],
    failures: Sequence[Failure],
    articles: Sequence[store.ArticleRow] = (),
) -> tuple[ColumnFigures, ...]:
    configured = {(c.name, c.account): c for c in config.columns if only in (None, c.name)}
    keys = list(configured)
    found = [(r.column, r.account) for r in aggregate]
    found += [(r.column, r.account) for r in sources]
    found += [(f.column, f.account) for f in failures]
    found += [(a.column, a.account) for a in articles]
    keys += sorted(set(found) - set(keys))
    result = []
    for key in keys:
        column_config = configured.get(key)
        base = column_config.kinds if column_config and column_config.kinds else config.kinds
        featured = {r.kind: r.n for r in aggregate if (r.column, r.account) == key and r.kind}
        mine = [s for s in sources if (s.column, s.account) == key]
        result.append(
            ColumnFigures(
                column=key[0],
                account=key[1],
                configured=column_config is not None,
                posts_published=sum(
                    r.n for r in aggregate if (r.column, r.account) == key and r.kind is None
                ),
                resources_featured={
                    k: featured.get(k, 0) for k in _ordered(set(base) | set(featured), config)
                },
                articles_published=sum(
                    a.articles for a in articles if (a.column, a.account) == key
                ),
                from_platform=sum(s.posts for s in mine if s.source == "platform"),
                deleted_on_platform=sum(s.removed for s in mine),
                failures=sum(1 for f in failures if (f.column, f.account) == key),
            )
        )
    return tuple(result)


def _ordered(kinds: set[str], config: Config) -> tuple[str, ...]:
    """The configured kinds in their order first, then any others alphabetically."""
    known = [k for k in config.kinds if k in kinds]
    return tuple(known + sorted(kinds - set(known)))


# --- posts per week (the admin's chart) -------------------------------------------------------


async def posts_per_week(
    engine: AsyncEngine, period: Period, timezone: str
) -> list[dict[str, Any]]:
    """``[{"week": "2024-W05", "column": ..., "count": posts, "articles": n}]`` for every ISO
    week of the period (local time) and every column that published in it, zeros included;
    sorted by week and column. Raises UserError for an unknown timezone."""
    tz = _zone(timezone)
    start, end = period.window(tz)
    offset = _fixed_offset_minutes(tz, period)
    async with db.reading(engine) as conn:
        if offset is not None:  # the database counts per local day: few rows whatever the size
            weeks = await store.published_per_week(conn, start, end, offset)
            return await offload.run(count_days_per_week, weeks, period)
        rows = await store.published_times(conn, start, end)
    return await offload.run(count_per_week, rows, period, timezone)


def _fixed_offset_minutes(tz: ZoneInfo, period: Period) -> int | None:
    """The zone's UTC offset in minutes if it is the same throughout the period (no daylight
    saving, as in China), else None. Sampled weekly: a change of offset lasts longer."""
    days = (period.end - period.start).days
    samples = [period.start + timedelta(days=d) for d in range(0, days + 1, 7)] + [period.end]
    offsets = {
        datetime.combine(day, time(12), tzinfo=tz).utcoffset() or timedelta(0) for day in samples
    }
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds() // 60)


def count_days_per_week(
    days: Sequence[tuple[str, str, int, int]], period: Period
) -> list[dict[str, Any]]:
    """``posts_per_week`` from (column, a local day of its week, posts, articles) rows (pure;
    two rows of one week and column add up)."""
    counts: dict[tuple[str, str], int] = {}
    articles: dict[tuple[str, str], int] = {}
    for column, day, n, a in days:
        key = (_iso_week(date.fromisoformat(day)), column)
        counts[key] = counts.get(key, 0) + n
        articles[key] = articles.get(key, 0) + a
    return _week_rows(counts, articles, period, {row[0] for row in days})


def count_per_week(
    rows: Sequence[tuple[str, datetime, int]], period: Period, timezone: str
) -> list[dict[str, Any]]:
    """``posts_per_week``'s counting over the (column, published_at, articles) rows (pure)."""
    tz = _zone(timezone)
    counts: dict[tuple[str, str], int] = {}
    articles: dict[tuple[str, str], int] = {}
    for column, at, n in rows:
        key = (_iso_week(at.astimezone(tz).date()), column)
        counts[key] = counts.get(key, 0) + 1
        articles[key] = articles.get(key, 0) + n
    return _week_rows(counts, articles, period, {row[0] for row in rows})


def _week_rows(
    counts: Mapping[tuple[str, str], int],
    articles: Mapping[tuple[str, str], int],
    period: Period,
    found: set[str],
) -> list[dict[str, Any]]:
    weeks = sorted(_weeks(period))
    columns = sorted(found)
    return [
        {
            "week": week,
            "column": column,
            "count": counts.get((week, column), 0),
            "articles": articles.get((week, column), 0),
        }
        for week in weeks
        for column in columns
    ]


def _weeks(period: Period) -> set[str]:
    """Every ISO week the period touches: one day in seven from the start hits each week
    once, and the last day closes a week the stride may have stepped over."""
    days = (period.end - period.start).days
    found = {_iso_week(period.start + timedelta(days=d)) for d in range(0, days + 1, 7)}
    return found | {_iso_week(period.end)}


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


# --- formats ----------------------------------------------------------------------------------


def report_to_dict(report: Report) -> dict[str, Any]:
    """The JSON document of ``bot report --format json`` (the contract's shape, plus more)."""
    return {
        "from": report.period.start.isoformat(),
        "to": report.period.end.isoformat(),
        "timezone": report.timezone,
        "period": {"label": report.period.label, "kind": report.period.kind},
        "columns": [
            {
                "column": c.column,
                "account": c.account,
                "configured": c.configured,
                "posts_published": c.posts_published,
                "articles_published": c.articles_published,
                "resources_featured": dict(c.resources_featured),
                "posts_from_platform": c.from_platform,
                "deleted_on_platform": c.deleted_on_platform,
                "failures": c.failures,
            }
            for c in report.columns
        ],
        "posts_published": report.posts_published,
        "articles_published": report.articles_published,
        "resources_featured": dict(report.resources_featured),
        "deleted_on_platform": report.deleted_on_platform,
        "failures": {
            "count": len(report.failures),
            "posts": [
                {
                    "post_id": f.post_id,
                    "column": f.column,
                    "title": f.title,
                    "error": f.error,
                    "errcode": f.errcode,
                    "at": f.at.astimezone(_zone(report.timezone)).isoformat(),
                }
                for f in report.failures
            ],
        },
        # Where each figure comes from: our publish records, or the platform's published list
        # read by ``bot sync`` (posts the bot did not publish itself).
        "sources": {
            "posts_published": {
                "bot": report.posts_published - report.from_platform,
                "platform": report.from_platform,
            },
            "resources_featured": "bot",
            "failures": "bot",
            "deleted_on_platform": "platform",
        },
    }


def format_report(
    report: Report,
    fmt: str,
    *,
    templates_dir: Path,
    template: str = TEXT_TEMPLATE,
    lang: str = "en",
) -> str:
    """The report as ``fmt`` ("text", "json", "csv" or "md"). ``text`` renders ``template``
    from ``templates_dir``, else the project's own. The headers of ``csv`` and ``md`` are in
    ``lang`` (JSON keys never change). Raises UserError for an unknown format or a template
    that does not render (naming the file and line)."""
    if fmt == "json":
        return json.dumps(report_to_dict(report), ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return _csv(report, lang)
    if fmt == "md":
        return _markdown(report, lang)
    if fmt == "text":
        return _text(report, templates_dir, template)
    raise UserError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")


def _table(report: Report, lang: str = "en") -> tuple[list[str], list[list[Any]], list[Any]]:
    """Header (in ``lang``), one row per column and the total row, shared by csv and md."""
    header = ["column", "account", "posts_published", "articles_published", *report.kinds]
    header += ["deleted_on_platform", "failures"]
    header = [translate(lang, name) for name in header]
    rows = [
        [
            c.column,
            c.account,
            c.posts_published,
            c.articles_published,
            *(c.resources_featured.get(k, 0) for k in report.kinds),
            c.deleted_on_platform,
            c.failures,
        ]
        for c in report.columns
    ]
    total = [
        translate(lang, "total"),
        "",
        report.posts_published,
        report.articles_published,
        *(report.resources_featured.get(k, 0) for k in report.kinds),
        report.deleted_on_platform,
        len(report.failures),
    ]
    return header, rows, total


def _csv(report: Report, lang: str = "en") -> str:
    header, rows, total = _table(report, lang)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    writer.writerow(total)
    return out.getvalue()


def _markdown(report: Report, lang: str = "en") -> str:
    header, rows, total = _table(report, lang)
    period = report.period
    start, end = period.start.isoformat(), period.end.isoformat()

    def line(cells: Sequence[Any]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    lines = [
        "## "
        + translate(
            lang,
            "Report {start} – {end} ({timezone})",
            start=start,
            end=end,
            timezone=report.timezone,
        ),
        "",
        line(header),
        "| --- | --- | " + " | ".join("---:" for _ in header[2:]) + " |",
        *(line(r) for r in rows),
        line([f"**{total[0]}**", "", *(f"**{v}**" for v in total[2:])]),
        "",
        translate(
            lang,
            "Kind columns count distinct resources, not posts; the total row counts each resource once however many columns featured it.",
        ),
    ]
    if report.failures:
        lines += ["", "### " + translate(lang, "Failures ({n})", n=len(report.failures)), ""]
        for f in report.failures:
            code = f" (errcode {f.errcode})" if f.errcode is not None else ""
            error = translate_sentence(lang, f.error)
            failure = translate(
                lang,
                "post {id} “{title}” ({column}): {error}",
                id=f.post_id,
                title=f.title,
                column=f.column,
                error=error,
            )
            lines.append(f"- {failure}{code}")
    return "\n".join(lines) + "\n"


def _text(report: Report, templates_dir: Path, name: str) -> str:
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(str(templates_dir)),
                jinja2.FileSystemLoader(str(PROJECT_ROOT / "templates")),
            ]
        ),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text, never HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    context = report_to_dict(report)
    context["period"] = {
        "start": report.period.start,
        "end": report.period.end,
        "label": report.period.label,
        "kind": report.period.kind,
    }
    try:
        return environment.get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise UserError(f"report template {name!r} not found under {templates_dir}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(
            f"report template {exc.filename or name}:{exc.lineno}: {exc.message}"
        ) from None
    except jinja2.TemplateError as exc:
        raise UserError(f"report template {name}: {exc}") from None
