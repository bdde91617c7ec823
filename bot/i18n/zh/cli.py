"""The command line: help texts, output lines and its error messages."""

ZH: dict[str, str] = {
    "error: {message}": "错误：{message}",
    "importing {name}": "正在导入 {name}",
    "rows": "行",
    "{path}: {created} created, {updated} updated": "{path}：新增 {created} 条，更新 {updated} 条",
    "the cover does not load: {problem}": "封面无法加载：{problem}",
    "wrote {path}: fill it in, then run: bot catalogue import {path}": (
        "已写出 {path}：填好后运行 bot catalogue import {path}"
    ),
    "{path} exists; add --force to overwrite it": "{path} 已存在；加 --force 可以覆盖",
    "NEEDS ATTENTION": "需要处理",
    "post {id} is now {status}: {title}": "文章 {id} 现在的状态：{status}：{title}",
    "no findings": "检查没有发现问题",
    "warning": "警告",
    "fixed": "已自动修正",
    " {n} ms": " {n} 毫秒",
    "post {id}": "文章 {id}",
    "{schedule} → {column}: paused": "{schedule} → {column}：已暂停",
    "schedule {name} paused": "发布计划 {name} 已暂停",
    "schedule {name} resumed": "发布计划 {name} 已恢复",
    "reading the published lists (at most {n} calls per account)…": (
        "正在读取已发布列表（每个公众号最多调用 {n} 次）……"
    ),
    "{name}: {value}": "{name}：{value}",
    "admin: {url}": "管理后台：{url}",
    "log in as: admin / {password}  (password kept in {file})": "登录：admin / {password}（密码保存在 {file}）",
    "config: {path}  — try: .venv/bin/bot --config {path} log": "配置文件：{path}  —— 试试：.venv/bin/bot --config {path} log",
    "log in with a user made by `bot user add NAME --role admin`": "用 `bot user add 用户名 --role admin` 创建的用户登录",
    "Ctrl-C stops the service.": "按 Ctrl-C 停止服务。",
    "stopping…": "正在停止……",
    "database at revision {revision}": "数据库已是版本 {revision}",
    "user {name} ({role}) created": "已创建用户 {name}（{role}）",
    "nothing was due": "没有到时间的文章",
    "need a person": "需要人工处理",
    "waiting for the platform": "等待平台结果",
    "next try {at}": "下次尝试 {at}",
    "post {id} {status}: {title}": "文章 {id} {status}：{title}",
    "post {id} [{status}] {title}": "文章 {id}【{status}】{title}",
    "due: {when}": "计划时间：{when}",
    "how the platform's unsettled behaviours go (see below)": "平台未确定的行为按哪种方式模拟（见下文）",
    "one behaviour other than the profile's, e.g. draft_removal=job_end": (
        "单独指定一项与所选方案不同的行为，例如 draft_removal=job_end"
    ),
    "articles published by hand in the console, with a raw control character each": (
        "模拟在公众号后台手工发表的文章，每篇标题含一个原始控制字符"
    ),
}
