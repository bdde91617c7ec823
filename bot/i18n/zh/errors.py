"""Error messages the service raises as plain English (``BotError`` without a ``Text``):
shown translated by matching these templates (``bot.i18n.translate_sentence``). Write the
English exactly as the code raises it, with ``{fields}`` where it puts values."""

ZH: dict[str, str] = {
    "login required": "请先登录",
    "the form's CSRF token is missing or wrong; reload the page": "表单已过期（CSRF 校验未通过），请刷新页面后重试",
    "no file was sent (a multipart field with a filename)": "没有选择文件",
    "send the catalogue files as multipart/form-data": "请用 multipart/form-data 上传目录文件",
    "user name: 1 to 100 characters, no spaces": "用户名：1 到 100 个字符，不能有空格",
    "openid: only letters, digits, '-' and '_'": "openid 只能包含字母、数字、'-' 和 '_'",
    "no password: set $BOT_NEW_PASSWORD or run in a terminal": (
        "没有密码：请设置 $BOT_NEW_PASSWORD，或在终端中运行以便输入"
    ),
    "a report needs --from and --to (YYYY-MM-DD), or --period": (
        "报表需要 --from 和 --to（YYYY-MM-DD），或 --period"
    ),
    "give either --period or --from/--to, not both": "--period 和 --from/--to 只能给一种",
    "no post with id {id}": "没有编号为 {id} 的文章",
    "no user with id {id}": "没有编号为 {id} 的用户",
    "no user named {name}": "没有名为 {name} 的用户",
    "a user named {name} already exists": "名为 {name} 的用户已存在",
    "no catalogue resource with id {id}": "资源目录中没有编号为 {id} 的资源",
    "column {column}: no catalogue resource is left to feature (kinds: {kinds}, cooldown {days} days)": (
        "栏目 {column}：资源目录中已没有可选用的资源（类型：{kinds}，冷却期 {days} 天）"
    ),
    "the covers of {ids} do not load ({problem})": "{ids} 的封面无法加载（{problem}）",
    "too many of your drafts are waiting; try again when some are done": (
        "你等待草拟的文章太多，请等其中一些完成后再试"
    ),
    "cover {cover} cannot be kept for publishing: {reason}": "封面 {cover} 无法留存以供发布：{reason}",
    "{cover}: no copy of it was kept when the post was stored; retry the post once the image loads (a retry keeps one)": (
        "{cover}：保存文章时没有留存它的副本；请在图片能打开后重试这篇文章（重试时会留存副本）"
    ),
    "the covers kept for your unpublished posts would pass {limit} MB; publish or cancel some of your posts, or use smaller covers": (
        "你的未发布文章留存的封面将超过 {limit} MB；请先发布或取消你的一些文章，或改用更小的封面"
    ),
    "image {ref}: {problem}": "图片 {ref}：{problem}",
    "reading the image took over {seconds} s and was stopped: save it again as a JPEG or PNG of fewer pixels": (
        "读取这张图片超过 {seconds} 秒，已停止，请把它另存为像素更少的 JPEG 或 PNG"
    ),
    "{count} candidate covers could not be looked at within {seconds} s, waiting for a turn to load or read them; try again in a moment": (
        "在 {seconds} 秒内未能查看 {count} 个候选封面（一直在等待加载或读取），请稍后再试"
    ),
    "too many of your images are waiting to be read; try again in a moment": (
        "你等待读取的图片太多，请稍后再试"
    ),
    "the machine was too busy to read the image in time; try again in a moment": (
        "服务器太忙，未能及时读取这张图片，请稍后再试"
    ),
    "reading the image needed more memory than is allowed": "读取这张图片所需的内存超过了上限",
    "the image stopped the process reading it, so it is refused": "读取这张图片的进程中止了，图片未被采用",
    "not a usable image ({problem})": "不是可用的图片（{problem}）",
    "not a readable image ({problem})": "不是可读取的图片（{problem}）",
    "not a format it knows": "无法识别的格式",
    "the JPEG has {scans} scans, more than {max}": "这张 JPEG 有 {scans} 次扫描，超过 {max} 次",
    "the JPEG has {scans} scans of {pixels} pixels, too many to decode": (
        "这张 JPEG 有 {scans} 次扫描、{pixels} 像素，解码代价过高"
    ),
    "a BMP compressed with RLE, which is read too slowly: save it as a PNG": "这是 RLE 压缩的 BMP，读取太慢：请另存为 PNG",
    "the image is {width}x{height} pixels, more than {max} on a side": (
        "图片为 {width}x{height} 像素，单边超过 {max} 像素"
    ),
    "the image has {width}x{height} pixels, more than {max}": "图片有 {width}x{height} 像素，超过 {max}",
    "the image has too many pixels": "图片像素过多",
    "the image cannot be made smaller than {max} bytes": "无法把图片压缩到 {max} 字节以内",
    "image {ref}: no copy is kept for this post": "图片 {ref}：这篇文章没有留存它的副本",
    "image {ref}: publishing reads only local files and kept copies": (
        "图片 {ref}：发布时只读取本地文件和已留存的封面副本"
    ),
    "no column named {name} in the configuration": "配置中没有名为 {name} 的栏目",
    "no account named {name} in the configuration": "配置中没有名为 {name} 的公众号",
    "no account named {name}": "没有名为 {name} 的公众号",
    "no schedule named {name}": "没有名为 {name} 的发布计划",
    "no schedule named {name}: no scheduler in this process": "没有名为 {name} 的发布计划：本进程没有运行调度器",
    "--column: no column named {name} (configured: {known})": "--column：没有名为 {name} 的栏目（已配置：{known}）",
    "post {id} changed while you edited it; reload and retry": "文章 {id} 在你编辑时被改动了，请刷新后重试",
    "your previous file is still being imported; try again when it is done": (
        "你上一个文件还在导入中，请等它完成后再试"
    ),
    "too many files are waiting to be imported; try again in a moment": (
        "等待导入的文件太多，请稍后再试"
    ),
    "your previous text is still being checked; try again when it is done": (
        "你上一段正文还在检查中，请等它完成后再试"
    ),
    "too many texts are waiting to be checked; try again in a moment": (
        "等待检查的正文太多，请稍后再试"
    ),
    "checking this text took over {seconds} s and was stopped; split or simplify it": (
        "检查这段正文超过 {seconds} 秒，已停止；请拆分或简化正文"
    ),
    "post {id} changed while you looked at it; reload and retry": "文章 {id} 在你查看时被改动了，请刷新后重试",
    "post {id} changed while you looked at it": "文章 {id} 在你查看时被改动了",
    "post {id} is {status}; it cannot become {target}": "文章 {id} 的状态是{status}，不能变为{target}",
    "post {id} is {status}; it can no longer be edited": "文章 {id} 的状态是{status}，不能再编辑",
    "post {id} does not need attention": "文章 {id} 不需要人工处理",
    "your previous report is still being made; try again when it is done": (
        "你上一份报表还在生成中，请等它完成后再试"
    ),
    "too many reports are being made; try again in a moment": "正在生成的报表太多，请稍后再试",
    "you have used your {count} {endpoint} calls of today on account {account}: try again tomorrow (Beijing time)": (
        "你今天在公众号 {account} 上的 {count} 次 {endpoint} 调用已用完：请明天（北京时间）再试"
    ),
    "the {endpoint} calls of today that people may make on account {account} are used up ({share}), the rest of the quota is kept for publishing: try again tomorrow (Beijing time)": (
        "公众号 {account} 今天留给人工操作的 {endpoint} 调用（{share} 次）已用完，其余额度留给发布：请明天（北京时间）再试"
    ),
    "your previous preview is still being sent; try again when it is done": (
        "你上一次预览还在发送中，请等它完成后再试"
    ),
    "too many previews are being sent; try again in a moment": "正在发送的预览太多，请稍后再试",
    "too many logins at once; try again in a few seconds": "同时登录的人太多，请几秒后再试",
    "too many catalogue searches at once; try again in a moment": "同时搜索资源目录的请求太多，请稍后再试",
    "your previous search is still running; try again when it is done": (
        "你上一次搜索还在进行中，请等它完成后再试"
    ),
    "the catalogue search was stopped after {seconds} s; "
    "choose a kind to narrow it, or try other words": (
        "搜索资源目录超过 {seconds} 秒，已停止；请选择类型缩小范围，或换个搜索词"
    ),
    "a search may be at most {n} characters long; shorten it": "搜索词最多 {n} 个字符，请缩短",
    "too many failed logins from your address; try again in {n} minutes": (
        "你的地址登录失败次数过多，请 {n} 分钟后再试"
    ),
    "too many wrong passwords; try again in {n} minutes": "密码错误次数过多，请 {n} 分钟后再试",
    "article_url: {url} is not a link to an article on {host} (https://{host}/s/…)": (
        "文章链接 {url} 不是 {host} 上的文章链接（应为 https://{host}/s/…）"
    ),
    "post {id} moved on while being published": "文章 {id} 在发布过程中状态已变化",
    "this needs the {role} role; you are {yours}": "这需要{role}角色，你的角色是{yours}",
    "password: at least {n} characters": "密码：至少 {n} 个字符",
    "role {role}: must be one of {known}": "角色 {role}：必须是 {known} 之一",
    "{name}: at most {n} characters": "{name}：最多 {n} 个字符",
    "{name}: must be a whole number": "{name}：必须是整数",
    "{name}: must be a whole number, not {value}": "{name}：必须是整数，不能是 {value}",
    "{name}: must be between {low} and {high}": "{name}：必须在 {low} 到 {high} 之间",
    "{name}: must be true or false": "{name}：必须是 true 或 false",
    "{name}: not a date (YYYY-MM-DD): {value}": "{name}：不是日期（YYYY-MM-DD）：{value}",
    "{flag}: {value} is not a date (YYYY-MM-DD)": "{flag}：{value} 不是日期（YYYY-MM-DD）",
    "--to {end} is before --from {start}": "--to {end} 早于 --from {start}",
    "cannot listen on {address}: {reason}": "无法监听 {address}：{reason}",
    "the request body is not valid JSON": "请求内容不是有效的 JSON",
    "the request body must be a JSON object": "请求内容必须是 JSON 对象",
    "template {name} not found under {where}": "在 {where} 下找不到模板 {name}",
    "post {id} is {status}; only a post in review can be approved (submit a draft for review first)": (
        "文章 {id} 的状态是{status}；只有待审核的文章可以通过（草稿请先提交审核）"
    ),
    "post {id} is {status}; only a post in review can be rejected": "文章 {id} 的状态是{status}；只有待审核的文章可以退回",
    "post {id} is {status}; only a failed post can be retried": "文章 {id} 的状态是{status}；只有失败的文章可以重试",
    "post {id} is {status}; a post cannot be cancelled once publishing has started": (
        "文章 {id} 的状态是{status}；开始发布后不能再取消"
    ),
    # configuration
    "{path}: {key}: environment variable {name} is not set": "{path}：{key}：环境变量 {name} 没有设置",
    "{key}: environment variable {name} is not set": "{key}：环境变量 {name} 没有设置",
    "{problem} — make one with: {command}": "{problem}——可以这样生成一个：{command}",
    "{problem} — the app secret is on mp.weixin.qq.com under 设置与开发 → 基本配置": (
        "{problem}——AppSecret 在 mp.weixin.qq.com 的“设置与开发 → 基本配置”中"
    ),
}
