"""The command line's help (``bot --help``, ``bot COMMAND --help``) and argparse's own words
(usage, errors), which argparse looks up through gettext: see ``bot.cli.speak``."""

ZH: dict[str, str] = {
    # argparse's own words (its gettext messages, %-style fields kept)
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "show this help message and exit": "显示本帮助并退出",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "expected one argument": "需要一个值",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    # bot's help texts
    "Publishing service for a WeChat official account: catalogue, drafts, review, schedules, publishing, the publish log and reports.": (
        "微信公众号发布服务：资源目录、起草、审核、发布计划、发布、发布日志和报表。"
    ),
    "configuration file (default $BOT_CONFIG, ./config.toml)": "配置文件（默认 $BOT_CONFIG，再默认 ./config.toml）",
    "debug logging on stderr": "在标准错误输出调试日志",
    "language of what commands print (default $BOT_LANG, else zh); --json never changes": (
        "命令输出的语言（默认 $BOT_LANG，否则中文）；--json 的输出不受影响"
    ),
    "database schema": "数据库结构",
    "the catalogue of learning resources": "学习资源目录",
    "check catalogue and Markdown files without storing anything": "检查目录文件和 Markdown 文件，不保存任何内容",
    "draft a post for a column and queue it": "为栏目起草一篇文章并排队",
    "posts and review actions": "文章和审核操作",
    "publish what is due": "发布到时间的文章",
    "web admin, JSON API, scheduler and publisher": "网页后台、JSON API、调度器和发布器",
    "web users": "网页用户",
    "the publish log": "发布日志",
    "the figures a work report cites": "工作报告引用的数字",
    "the account-API simulator on its own": "单独运行公众号接口模拟器",
    "schedules and their slots": "发布计划及其时段",
    "read the accounts' published lists from the platform": "从平台读取各公众号的已发布列表",
    "create or migrate the schema": "创建或升级数据库结构",
    "import Excel (.xlsx), CSV, JSON, YAML or TOML files": "导入 Excel（.xlsx）、CSV、JSON、YAML 或 TOML 文件",
    "list the catalogue": "列出资源目录",
    "write an example catalogue file (.xlsx, .csv, .json, .yaml or .toml, by its name)": (
        "写出一个示例目录文件（按文件名选择 .xlsx、.csv、.json、.yaml 或 .toml 格式）"
    ),
    "Import catalogue files, each all or nothing. Headers: id/编号, kind/类型, title/标题 (required), summary/简介, url/链接, cover/封面, tags/标签; kinds platform/平台, exhibit/展馆, course/课程, lesson/团课, article/文章. `bot catalogue example FILE` writes a file to start from.": (
        "导入目录文件，每个文件要么全部导入，要么一行也不导入。表头：编号、类型、标题（必填），"
        "简介、链接、封面、标签；类型：平台、展馆、课程、团课、文章。"
        "`bot catalogue example 文件名` 可以写出一个示例文件。"
    ),
    "overwrite an existing file": "覆盖已有的文件",
    "check rows as this column would draft them": "按这个栏目起草的方式检查各行",
    "language of the messages (default zh)": "消息的语言（默认中文）",
    "now, 08:00, 明天 8:00 or 2024-05-01 08:00; default: the next slot": (
        "现在、08:00、明天 8:00 或 2024-05-01 08:00；默认：下一个时段"
    ),
    "also write the exact HTML to this file": "同时把要发送的 HTML 写到这个文件",
    "draft a resource the column featured within its cooldown": "也起草栏目在冷却期内推荐过的资源",
    "posts with their status": "文章及其状态",
    "approve a post": "通过一篇文章",
    "cancel a post": "取消一篇文章",
    "retry a post": "重试一篇文章",
    "reject a post": "退回一篇文章",
    "show a post": "查看一篇文章（正文、检查结果和历史记录）",
    "send a post to a reviewer's WeChat (mass/preview)": "把文章预览发到审核人的微信（mass/preview）",
    "default: the account's preview_openid": "默认：公众号设置的 preview_openid",
    "seconds to wait for results": "等待结果的秒数",
    "run the self-contained demo": "运行自带的演示",
    "create a user (password from $BOT_NEW_PASSWORD or a prompt)": "创建用户（密码取自 $BOT_NEW_PASSWORD，或提示输入）",
    "set a user's password (from $BOT_NEW_PASSWORD or a prompt); ends their logins": (
        "设置用户密码（取自 $BOT_NEW_PASSWORD，或提示输入）；该用户已有的登录会失效"
    ),
    "print a new API token for a user": "为用户生成并打印新的 API 令牌",
    "a date or time: 06:15, today, 2024-05-01 08:00, …": "日期或时间：06:15、今天、2024-05-01 08:00……",
    "an outcome (ok, error, unknown, info), or the entries of posts now in this status": (
        "一种结果（ok、error、unknown、info），或当前处于该状态的文章的记录"
    ),
    "2024-01, 2024-Q1, 2024 or a campaign name": "2024-01、2024-Q1、2024 或活动名",
    "the app id it accepts: your config's appid": "它接受的 AppID：填配置中的 appid",
    "the app secret it accepts": "它接受的 AppSecret",
    "seconds at status 1": "处于状态 1（发布中）的秒数",
    "a daily quota other than the platform's, e.g. freepublish/submit=1000": (
        "与平台不同的每日调用上限，例如 freepublish/submit=1000"
    ),
    "schedules with their next fire times": "发布计划及其下次触发时间",
    "pause a schedule": "暂停一个发布计划",
    "resume a schedule": "恢复一个发布计划",
}
