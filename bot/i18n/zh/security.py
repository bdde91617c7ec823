"""Logins, passwords, sessions and the other safeguards of issue 12."""

ZH: dict[str, str] = {
    "Change password": "修改密码",
    "Changing the password ends every other login of yours.": "修改密码后，您在其他地方的登录都将失效。",
    "Current password": "当前密码",
    "New password": "新密码",
    "New password again": "再次输入新密码",
    "password of {name} changed; {n} login(s) ended": "已修改 {name} 的密码；结束了 {n} 个登录",
    "Revoke tokens and logins": "撤销令牌并结束登录",
    "Password changed; your other logins have ended.": "密码已修改，您的其他登录已失效。",
    "{value} is a file name; a catalogue sent to the service may only give an "
    "http(s) URL as a cover (local files are imported with bot catalogue import)": (
        "{value} 是文件名；上传到服务的目录只能用 http(s) 网址作封面"
        "（本地文件请用 bot catalogue import 导入）"
    ),
    "{path}: the workbook unpacks to {size} MB (at most {limit} MB, and no part "
    "packed more than {ratio} to 1)": (
        "{path}：工作簿解压后达 {size} MB（最多 {limit} MB，且任何部分的压缩比不得超过 {ratio} 比 1）"
    ),
    "{path}: not an Excel workbook (.xlsx) that can be read ({reason})": (
        "{path}：不是可读取的 Excel 工作簿（.xlsx）（{reason}）"
    ),
    "{path}: the file is nested too deeply": "{path}：文件嵌套层数过多",
    "{path}: the sheet goes on past row {n}; a catalogue file holds at most 200,000 resources (split it into several files)": (
        "{path}：工作表超过了第 {n} 行；一个目录文件最多 200,000 条资源（请拆成几个文件）"
    ),
    "{path}: rows {start} to {end} are empty and the sheet goes on; delete the empty rows and whatever stands below them": (
        "{path}：第 {start} 行到第 {end} 行都是空行，下面还有内容；请删除这些空行及其下方的内容"
    ),
    "{value}: a local cover must be in the catalogue's folder, the media "
    "directory or the templates directory": "{value}：本地封面必须位于目录文件所在文件夹、媒体目录或模板目录中",
}
