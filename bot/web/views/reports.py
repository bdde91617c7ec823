"""Reports: a period picker, the per-column table, an articles-per-week chart and the CSV
download, all from the engine's one Report value. The chart is drawn in the browser by the
vendored Chart.js (static/reports-chart.js reads the series from a JSON block in the page);
a server-drawn SVG of the weekly totals stays in the page for browsers without script."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from bot.domain.errors import UserError
from bot.engine import offload
from bot.store.posts import person
from bot.web import auth, queries
from bot.web.keys import LANG, SERVICES
from bot.web.render import render, translate

CHART_W, CHART_H, BAR_GAP = 720, 220, 4
MAX_LABELS = 12


async def reports_page(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    values = _with_this_year(services, dict(request.query))
    report = chart = series = None
    report_text = error = ""
    if any(values.get(k) for k in ("from", "to", "period")):
        try:
            async with queries.report_turn(person(auth.actor(request))):
                report, chart, series, report_text = await _made(request, services, values)
        except UserError as exc:
            error = exc.in_language(request.get(LANG, "zh"))
    return render(
        request,
        "reports.html",
        status=400 if error else 200,
        report=report,
        chart=chart,
        series=series,
        error=error,
        report_text=report_text,
        values={k: values.get(k, "") for k in ("from", "to", "period", "column")},
        columns=[c.name for c in services.config.columns],
        # The CSV of what the page shows, also when the page chose this year by itself.
        csv_query=urlencode({k: v for k, v in values.items() if v and k in _PERIOD_KEYS}),
    )


async def _made(request: web.Request, services: Any, values: dict[str, str]) -> tuple[Any, ...]:
    """The report, its chart and series, and its sentences."""
    report = await queries.report(services, values)
    shown = {c.column for c in report.columns}  # the column filter, if any
    weeks = [w for w in await queries.weekly(services, report) if w["column"] in shown]
    chart, series = await offload.run(charts, weeks, translate(request, "Articles published"))
    # The sentences a work report quotes, as `bot report --format text` prints them.
    from bot.engine.reporting import format_report

    report_text = await offload.run(
        format_report, report, "text", templates_dir=services.config.templates_dir
    )
    return report, chart, series, report_text


_PERIOD_KEYS = ("from", "to", "period", "column", "timezone")


def _with_this_year(services: Any, values: dict[str, str]) -> dict[str, str]:
    """``values``, with this year (in the report's time zone) when they name no period: the
    page opens on it, and its CSV link without a period gives it too."""
    if not any(values.get(k) for k in ("from", "to", "period")):
        values["period"] = str(services.clock().astimezone(_zone(services)).year)
    return values


async def report_csv(request: web.Request) -> web.Response:
    from bot.engine.reporting import format_report

    services = request.app[SERVICES]
    async with queries.report_turn(person(auth.actor(request))):
        report = await queries.report(services, _with_this_year(services, dict(request.query)))
        body = await offload.run(
            format_report,
            report,
            "csv",
            templates_dir=services.config.templates_dir,
            lang=request.get(LANG, "zh"),
        )
    name = f"report-{report.period.start.isoformat()}-{report.period.end.isoformat()}.csv"
    return web.Response(
        body=body.encode("utf-8-sig"),  # the BOM makes spreadsheet programs read UTF-8
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _articles(week: dict[str, Any]) -> int:
    """What the chart counts: articles (a push of three counts three), as reports cite them."""
    return int(week.get("articles", week["count"]))


def _zone(services: Any) -> ZoneInfo:
    try:
        return ZoneInfo(services.config.report_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def charts(weeks: list[dict[str, Any]], y_title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The SVG bars and the script's series (pure; runs in an offload worker)."""
    return bar_chart(weeks), chart_series(weeks, y_title=y_title)


def chart_series(weeks: list[dict[str, Any]], *, y_title: str) -> dict[str, Any]:
    """What reports-chart.js draws: the weeks as labels and one series of counts per column
    (stacked in the chart). The page embeds it with Jinja's ``tojson``, which escapes it."""
    labels = sorted({item["week"] for item in weeks})
    index = {week: i for i, week in enumerate(labels)}
    counts: dict[str, list[int]] = {}
    for item in weeks:
        row = counts.get(item["column"])
        if row is None:  # one row per column, never one per item (that was quadratic)
            row = counts[item["column"]] = [0] * len(labels)
        row[index[item["week"]]] += _articles(item)
    return {
        "labels": labels,
        "series": [{"column": column, "counts": row} for column, row in sorted(counts.items())],
        "y_title": y_title,
    }


def bar_chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars (one per ISO week, all columns summed) laid out for the SVG in the template."""
    totals: dict[str, int] = {}
    for item in weeks:
        totals[item["week"]] = totals.get(item["week"], 0) + _articles(item)
    labels = sorted(totals)
    top = max(totals.values(), default=0) or 1
    gap = BAR_GAP if len(labels) <= CHART_W // (4 * BAR_GAP) else 0  # many weeks: bars touch
    width = (CHART_W - gap * max(len(labels), 1)) / max(len(labels), 1)
    stride = max(1, -(-len(labels) // MAX_LABELS))  # at most MAX_LABELS week labels
    bars = []
    for i, week in enumerate(labels):
        height = (CHART_H - 30) * totals[week] / top
        bars.append(
            {
                "week": week,
                "count": totals[week],
                "x": round(i * (width + gap), 1),
                "y": round(CHART_H - 20 - height, 1),
                "w": round(width, 1),
                "h": round(height, 1),
                "labelled": i % stride == 0,
            }
        )
    return {"bars": bars, "width": CHART_W, "height": CHART_H, "top": top}
