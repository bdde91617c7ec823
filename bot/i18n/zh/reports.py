"""Reports: the page, the CSV and the text form."""

ZH: dict[str, str] = {
    "Period": "周期",
    "e.g. 2024-01, 2024-Q1, 2024 or a campaign": "例如 2024-01、2024-Q1、2024 或活动名",
    "Show report": "生成报表",
    "Download CSV": "下载 CSV",
    "Posts published": "推送次数",
    "Total": "合计",
    "Posts per week": "每周发布篇数",
    "Failures": "失败",
    "Deleted on the platform": "平台已删除",
    "Choose a period.": "请选择周期。",
    # the report table's headers (CSV, Markdown) and the page
    "column": "栏目",
    "account": "公众号",
    "posts_published": "推送次数",
    "articles_published": "推文篇数",
    "deleted_on_platform": "平台已删除",
    "failures": "失败",
    "total": "合计",
    "Report {start} – {end} ({timezone})": "报表 {start} – {end}（{timezone}）",
    "Kind columns count distinct resources, not posts; the total row counts each resource once however many columns featured it.": (
        "各类型列统计的是不重复的资源数，不是文章数；合计行中，一个资源无论在几个栏目出现都只计一次。"
    ),
    "Failures ({n})": "失败（{n}）",
    "post {id} “{title}” ({column}): {error}": "文章 {id}“{title}”（{column}）：{error}",
    "For the work report": "工作报告用语",
    "Copy these sentences into the report (the template is templates/reports/ in the project).": (
        "可以把这几句话直接复制到工作报告中（句式模板在项目的 templates/reports/ 目录）。"
    ),
}
