"""Post statuses and slot states, as stored (``draft``, ``opened`` …)."""

ZH: dict[str, str] = {
    "draft": "草稿",
    "review": "待审核",
    "queued": "排队中",
    "publishing": "发布中",
    "published": "已发布",
    "opened": "已触发",
    "empty": "无文可发",
    "missed": "已错过",
    "skipped": "已跳过",
    "opening": "开启中",
    "failed": "失败",
    "cancelled": "已取消",
    "prepared ahead": "已提前准备",
}
