"""Users, logins and API tokens."""

ZH: dict[str, str] = {
    "Add a user": "添加用户",
    "Add": "添加",
    "API tokens": "API 令牌",
    "New API token": "新建 API 令牌",
    "Revoke tokens": "撤销令牌",
    "Delete": "删除",
    "Copy this token now; it is not shown again:": "请立即复制此令牌，它不会再次显示：",
    "Created": "创建时间",
    "the last admin cannot lose the admin role; make another user admin first": (
        "最后一位管理员不能失去管理员角色；请先把另一位用户设为管理员"
    ),
}
