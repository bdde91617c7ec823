"""The admin's languages: Chinese by default, English available. Templates and views write
English text and wrap it in ``_()``; this module holds the Chinese for each such string. The
language comes from ``?lang=`` (remembered in a cookie), else the cookie, else
``[web] language``."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.web.keys import LANG, TRANSLATE

LANGUAGES = ("zh", "en")
COOKIE = "lang"

Translate = Callable[[str], str]

ZH: dict[str, str] = {
    # navigation and common
    "Publishing admin": "公众号发布管理",
    "Dashboard": "概览",
    "Catalogue": "资源目录",
    "Queue": "队列",
    "Publish log": "发布日志",
    "Schedules": "发布计划",
    "Reports": "报表",
    "Users": "用户",
    "Log in": "登录",
    "Log out": "退出",
    "User name": "用户名",
    "Password": "密码",
    "Signed in as": "当前用户",
    "Role": "角色",
    "editor": "编辑",
    "reviewer": "审核",
    "admin": "管理员",
    "Save": "保存",
    "Search": "搜索",
    "Filter": "筛选",
    "Back": "返回",
    "Error": "出错了",
    "Yes": "是",
    "No": "否",
    "none": "无",
    "Show": "查看",
    "All": "全部",
    "Status": "状态",
    "Column": "栏目",
    "Account": "账号",
    "Title": "标题",
    "Digest": "摘要",
    "Author": "作者",
    "Due": "计划时间",
    "Published": "发布时间",
    "Attempts": "尝试次数",
    "Priority": "优先级",
    "Comment": "意见",
    "Actions": "操作",
    "Time": "时间",
    "Step": "步骤",
    "Outcome": "结果",
    "Latency": "耗时",
    "Detail": "详情",
    "Post": "文章",
    "Article": "原文链接",
    "next slot": "下一个时段",
    "From": "起始日期",
    "To": "结束日期",
    "Since": "起始",
    "Until": "截止",
    # statuses
    "draft": "草稿",
    "review": "待审核",
    "queued": "排队中",
    "publishing": "发布中",
    "published": "已发布",
    "opened": "已开启",
    "empty": "无文可发",
    "missed": "已错过",
    "skipped": "已跳过",
    "opening": "开启中",
    "failed": "失败",
    "cancelled": "已取消",
    # dashboard
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
    "No slots today.": "今日没有时段。",
    "Schedule": "计划",
    "Fire time": "触发时间",
    "State": "状态",
    "Posts": "文章数",
    "Lateness": "延迟",
    # catalogue
    "Kind": "类别",
    "Summary": "简介",
    "Tags": "标签",
    "Source": "来源",
    "Import a file": "导入文件",
    "Import": "导入",
    "File": "文件",
    "Imported": "已导入",
    "created": "新增",
    "updated": "更新",
    "The file was not imported:": "文件未导入：",
    "No resources found.": "没有找到资源。",
    "Previous": "上一页",
    "Next": "下一页",
    # queue and posts
    "Draft a post": "起草文章",
    "Resources (ids, optional)": "资源编号（可选）",
    "When": "发布时间",
    "empty: next slot; 'now' or a date and time": "留空：下一个时段；now 或日期时间",
    "Draft": "起草",
    "No posts.": "没有文章。",
    "Edit": "编辑",
    "Markdown": "Markdown 正文",
    "Save and check": "保存并检查",
    "Preview": "预览",
    "Checks": "检查结果",
    "Approve": "通过",
    "Reject": "退回",
    "Cancel post": "取消文章",
    "Retry": "重试",
    "Submit for review": "提交审核",
    "Reschedule": "调整时间",
    "Published: record it": "已发布：记录",
    "Not published: submit again": "未发布：重新提交",
    "Article URL": "文章链接",
    "Review comment": "审核意见",
    "Error message": "错误信息",
    "This post needs a person: check the account's published list, then say what you found.": (
        "这篇文章需要人工确认：请查看公众号的已发布列表，然后选择结果。"
    ),
    "Reviewer openid": "审核人 openid",
    "Reviewer openid (empty: the account default)": "审核人 openid（留空：账号默认）",
    "Send preview to WeChat": "发送预览到微信",
    "Preview sent to WeChat.": "预览已发送到微信。",
    "History": "历史记录",
    "Resources": "资源",
    # log
    "No entries.": "没有记录。",
    "post": "文章",
    # schedules
    "Next fire times": "下次触发时间",
    "Pause": "暂停",
    "Resume": "恢复",
    "paused": "已暂停",
    "active": "运行中",
    "The scheduler is not running in this process.": "本进程没有运行调度器。",
    "No schedules.": "没有发布计划。",
    "When the queue is empty": "队列为空时",
    # reports
    "Period": "周期",
    "e.g. 2024-01, 2024-Q1, 2024 or a campaign": "例如 2024-01、2024-Q1、2024 或活动名",
    "Show report": "生成报表",
    "Download CSV": "下载 CSV",
    "Posts published": "发布篇数",
    "Total": "合计",
    "Posts per week": "每周发布篇数",
    "Failures": "失败",
    "Deleted on the platform": "平台已删除",
    "Choose a period.": "请选择周期。",
    # users
    "Add a user": "添加用户",
    "Add": "添加",
    "API tokens": "API 令牌",
    "New API token": "新建 API 令牌",
    "Revoke tokens": "撤销令牌",
    "Delete": "删除",
    "Copy this token now; it is not shown again:": "请立即复制此令牌，它不会再次显示：",
    "Created": "创建时间",
    # messages
    "Done.": "完成。",
    "Saved.": "已保存。",
    "Wrong user name or password.": "用户名或密码错误。",
    "Please log in.": "请先登录。",
    "Page not found": "页面不存在",
}


def translator(lang: str) -> Translate:
    if lang == "zh":
        return lambda text: ZH.get(text, text)
    return lambda text: text


def choose_language(request: web.Request, default: str) -> tuple[str, bool]:
    """The language for this request and whether it was just chosen with ``?lang=``."""
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(COOKIE, "")
    if remembered in LANGUAGES:
        return remembered, False
    return (default if default in LANGUAGES else "zh"), False


def language_middleware(default: str) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        lang, chosen = choose_language(request, default)
        request[LANG] = lang
        request[TRANSLATE] = translator(lang)
        response = await handler(request)
        if chosen:
            response.set_cookie(COOKIE, lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    return middleware
