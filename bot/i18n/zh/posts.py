"""The queue and a post's page: drafting, editing, review, previews."""

ZH: dict[str, str] = {
    "Draft a post": "起草文章",
    "Resources (ids, optional)": "资源编号（可选）",
    "When": "发布时间",
    "empty: next slot; 'now' or a date and time": "留空：下一个时段；也可填 现在、08:00 或日期时间",
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
    "Reviewer openid": "审核人的微信号或 openid",
    "Reviewer openid (empty: the account default)": "审核人的微信号或 openid（留空：账号默认）",
    "Send preview to WeChat": "发送预览到微信",
    "Preview sent to WeChat.": "预览已发送到微信。",
    "History": "历史记录",
    "Resources": "资源",
    "empty: the column chooses": "留空：由栏目规则选择",
    "now, 08:00 or 2024-05-01 08:00": "现在、08:00 或 2024-05-01 08:00",
    "Easier: tick resources on the": "更方便的做法：在",
    "page and draft from there.": "页面勾选资源后直接起草。",
    "Whom to send the preview to?": "预览发给谁？",
    "Type the reviewer's WeChat ID (微信号: in WeChat, 我 shows it under the name). The reviewer must follow this official account; the platform allows about 100 previews by WeChat ID a day.": (
        "填写审核人的微信号（在微信“我”页面的名字下方可以看到）。审核人需要关注本公众号；"
        "平台每天大约允许按微信号发送 100 次预览。"
    ),
    "An openid works too (28 characters starting with o: the reviewer's id for this account, which a developer can read with the platform's user/get). Put one in preview_openid under the account in config.toml and this field may stay empty.": (
        "也可以填 openid（以 o 开头的 28 个字符，是审核人在本公众号的编号，开发人员可用平台的 user/get 接口查到）。"
        "在 config.toml 的公众号设置中填写 preview_openid 后，这一栏可以留空。"
    ),
}
