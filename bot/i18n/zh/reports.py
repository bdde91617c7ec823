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
}
