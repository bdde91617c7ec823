"""The dashboard."""

ZH: dict[str, str] = {
    "Today's slots": "今日时段",
    "Upcoming": "即将发布",
    "Queue size": "排队文章",
    "Waiting for review": "待审核",
    "Accounts": "公众号",
    "Access token": "访问令牌",
    "expires": "到期",
    "no token yet": "尚无令牌",
    "Parked until": "暂停至",
    "not parked": "正常",
    "Last error": "最近错误",
    "Endpoint": "接口",
    "Used today": "今日已用",
    "Left": "剩余",
    "Daily limit": "每日上限",
    "Needs attention": "需要处理",
    "Nothing needs attention.": "暂无需要处理的文章。",
    "No slot has fired yet today; the next fire times are under Upcoming.": (
        "今天还没有触发过的时段；下次触发时间见“即将发布”。"
    ),
    "Schedule": "计划",
    "Fire time": "触发时间",
    "State": "状态",
    "Posts": "文章数",
    "Lateness": "延迟",
}
