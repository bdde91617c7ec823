"""The command line: help texts, output lines and its error messages."""

ZH: dict[str, str] = {
    "error: {message}": "错误：{message}",
    "importing {name}": "正在导入 {name}",
    "rows": "行",
    "{path}: {created} created, {updated} updated": "{path}：新增 {created} 条，更新 {updated} 条",
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
}
