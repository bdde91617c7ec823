"""Logins, passwords, sessions and the other safeguards of issue 12."""

ZH: dict[str, str] = {
    "Change password": "修改密码",
    "Changing the password ends every other login of yours.": "修改密码后，您在其他地方的登录都将失效。",
    "Current password": "当前密码",
    "New password": "新密码",
    "New password again": "再次输入新密码",
    "Password changed; your other logins have ended.": "密码已修改，您的其他登录已失效。",
}
