"""The publish log: steps, outcomes and details, and the error a post records.

Details are stored in English with their values filled in; the templates here (with
``{fields}``) are matched against them when they are shown (``bot.i18n.translate_sentence``).
Add the English exactly as the engine writes it."""

ZH: dict[str, str] = {
    "No entries.": "没有记录。",
    "post": "文章",
    # steps (API endpoints such as draft/add are shown as they are)
    "transition": "状态变更",
    "create": "创建",
    "edit": "编辑",
    "approve": "通过",
    "reject": "退回",
    "submit-review": "提交审核",
    "cancel": "取消",
    "retry": "重试",
    "resolve": "人工确认",
    "reschedule": "调整时间",
    "stage": "发布阶段",
    "attention": "需要处理",
    "reconcile": "核对",
    "quota": "配额",
    "slot": "时段",
    "schedule": "发布计划",
    "sync": "同步",
    "preview": "预览",
    "poll": "查询发布结果",
    "publish": "发布",
    "stage-ahead": "提前准备草稿",
    "catalogue": "资源目录",
    # outcomes
    "ok": "成功",
    "error": "出错",
    "unknown": "结果不明",
    "info": "信息",
    # publishing stages and where a result came from
    "new": "未开始",
    "drafted": "已存草稿",
    "submitting": "提交中",
    "submitted": "已提交",
    "event": "推送通知",
    # details
    "resource {id} passed over, its cover does not load ({problem}): not featured again before {until} unless its cover changes": (
        "已跳过资源 {id}：封面无法加载（{problem}），{until} 之前不再选用（更换封面后立即恢复）"
    ),
    "resource {id} passed over, its cover does not load for now ({problem}): tried again from {until}": (
        "已跳过资源 {id}：封面暂时无法加载（{problem}），{until} 起再试"
    ),
    "created by {actor}": "由 {actor} 创建",
    "by {actor}": "操作人 {actor}",
    "{detail} by {actor}": "{detail}（操作人 {actor}）",
    "edited": "已编辑",
    "stage {stage}": "阶段：{stage}",
    "published [{source}]": "已发布（{source}）",
    "published [{source}]; {note}": "已发布（{source}）；{note}",
    "attempt {n}": "第 {n} 次尝试",
    "attempt {n} (its draft was made ahead)": "第 {n} 次尝试（草稿已提前准备）",
    "draft {draft} made ahead of {at}": "已为 {at} 提前准备草稿 {draft}",
    "its slot": "所在时段",
    "draft {draft} deleted: {why}": "草稿 {draft} 已删除：{why}",
    "draft {draft}: {error}": "草稿 {draft}：{error}",
    "the post was cancelled": "文章已取消",
    "its articles changed since": "之后文章内容有改动",
    "replaced by a draft of the edited articles": "已换成按修改后内容准备的草稿",
    "the post changed while it was made": "准备期间文章有改动",
    "the slot will make the draft": "到发布时段再准备草稿",
    "preview sent (draft {draft})": "已发送预览（草稿 {draft}）",
    "preview sent by {actor} (draft {draft})": "{actor} 发送了预览（草稿 {draft}）",
    "answer lost; looking for it": "没有收到应答，正在查找结果",
    "resumed after an unclear submit": "提交结果不明，继续核对",
    "found in freepublish/batchget": "在已发布列表中找到",
    "mass-send allowance used; waiting until {until}": "群发次数已用完，等到 {until}",
    "already sent earlier (msg_id {msg_id})": "之前已经发出（msg_id {msg_id}）",
    "not yet provable (draft present)": "暂时无法确认（草稿还在）",
    "not yet provable (draft gone)": "暂时无法确认（草稿已不在）",
    "proven not published (draft still in the box, not in the published list); submitting again": (
        "已确认未发布（草稿还在草稿箱，已发布列表中没有）；重新提交"
    ),
    "{reason}; next try at {until}": "{reason}；下次尝试：{until}",
    "{reason} (parked until {until})": "{reason}（暂停到 {until}）",
    "{reason} [{source}]": "{reason}（{source}）",
    "edited after approval; back to review": "通过后又被编辑，重新送审",
    "confirmed published by a person": "人工确认已发布",
    "confirmed not published; submitting again": "人工确认未发布；重新提交",
    "due {at}": "计划时间 {at}",
    "due next slot": "计划在下一个时段",
    "taken by slot {slot}, due {due}": "由时段 {slot} 领取，计划时间 {due}",
    "schedule={schedule}": "发布计划={schedule}",
    "schedule={schedule} fire_at={fire_at} local={local} late={late}s posts={posts}": (
        "发布计划={schedule} 触发时间={fire_at} 本地时间={local} 延迟={late}秒 文章={posts}"
    ),
    "schedule={schedule} fire_at={fire_at} local={local} late={late}s posts={posts} ({note})": (
        "发布计划={schedule} 触发时间={fire_at} 本地时间={local} 延迟={late}秒 文章={posts}"
        "（{note}）"
    ),
    "schedule={schedule} fire_at={fire_at} local={local} ahead={ahead}s posts={posts}": (
        "发布计划={schedule} 触发时间={fire_at} 本地时间={local} 提前={ahead}秒 文章={posts}"
    ),
    "schedule={schedule} fire_at={fire_at} local={local} ahead={ahead}s posts={posts} ({note})": (
        "发布计划={schedule} 触发时间={fire_at} 本地时间={local} 提前={ahead}秒 文章={posts}"
        "（{note}）"
    ),
    "deleted on the platform": "已在平台上删除",
    "deleted on the platform: article {article} {why}": "已在平台上删除：文章 {article} {why}",
    "found in the platform's published list by title (article {article})": (
        "按标题在平台的已发布列表中找到（文章 {article}）"
    ),
    "recorded from the platform's published list (article {article}, updated {updated})": (
        "从平台的已发布列表记录（文章 {article}，更新于 {updated}）"
    ),
    "read {seen} of {total} items in {calls} calls: {recorded} recorded, {adopted} matched by title, {deleted} deleted, {left} left to reconciliation": (
        "调用 {calls} 次，读取 {total} 条中的 {seen} 条：记录 {recorded} 条，按标题匹配 {adopted} 条，"
        "已删除 {deleted} 条，留待核对 {left} 条"
    ),
    # a post's error: the platform's answer, and what it means
    "{endpoint}: errcode {code}: {reason}": "{endpoint}：错误码 {code}：{reason}",
    "{endpoint}: errcode {code}: {reason} (platform said: {said})": (
        "{endpoint}：错误码 {code}：{reason}（平台原话：{said}）"
    ),
    "the platform refused the request": "平台拒绝了请求",
    "{error} — {explanation}": "{error} —— {explanation}",
    "publish_status {code}": "发布状态 {code}",
    "the originality (原创) check failed": "原创校验未通过",
    "the platform reported a generic failure": "平台报告发布失败",
    "the platform's review rejected the article": "平台审核未通过",
    "published, then deleted by the account": "已发布，之后被账号删除",
    "published, then banned": "已发布，之后被封禁",
    "the platform is busy; it will be tried again": "平台繁忙，稍后自动重试",
    "the access token is invalid or not the latest, or the app secret is wrong": (
        "访问令牌无效或不是最新的，或者 AppSecret 不对"
    ),
    "the file type is not accepted": "不接受这种文件类型",
    "invalid media_id (unknown, temporary, deleted or already-published draft)": (
        "media_id 无效（未知、临时、已删除或已发布的草稿）"
    ),
    "the image size is not accepted": "图片大小不符合要求",
    "the app id is invalid (a `bot simulator` accepts only its --appid and --secret)": (
        "AppID 无效（`bot simulator` 只接受启动时 --appid 和 --secret 给出的值）"
    ),
    "the app secret is invalid": "AppSecret 无效",
    "this server's IP address is not on the account's API IP whitelist": (
        "本服务器的 IP 地址不在公众号的 API IP 白名单中"
    ),
    "the app secret is frozen": "AppSecret 已被冻结",
    "the draft had no articles": "草稿中没有文章",
    "the content is too long for the platform": "正文超出平台长度限制",
    "the title is too long (at most 32 characters)": "标题太长（最多 32 个字）",
    "the digest is too long (at most 128 characters)": "摘要太长（最多 128 个字）",
    "too many articles in one draft (at most 8)": "一篇草稿中的文章太多（最多 8 篇）",
    "the daily quota for this API is used up; it resets at midnight Beijing time": (
        "该接口今日调用次数已用完，北京时间零点重置"
    ),
    "the per-minute limit was hit; it will be tried again next minute": (
        "触发每分钟调用上限，下一分钟自动重试"
    ),
    "the account has no mass-send allowance left": "公众号的群发次数已用完",
    "the content was refused as invalid (check links)": "内容被判为无效（请检查链接）",
    "publishing too frequently": "发布太频繁",
    "the draft failed the platform's publish check": "草稿没有通过平台的发布检查",
    "the API is banned for this account": "该公众号的接口已被封禁",
    "the publish function is banned for this account": "该公众号的发布功能已被封禁",
    # who did it (the actor in details)
    "web:{user}": "{user}（网页）",
    "api:{user}": "{user}（API）",
    "cli:{user}": "{user}（命令行）",
    "schedule:{name}": "发布计划 {name}",
    # reconciliation's evidence (bot.engine.reconcile.Evidence), parts joined by "; "
    "submit {age}s ago (window {window}s)": "提交于 {age} 秒前（核对窗口 {window} 秒）",
    "not among the {count} newest published items": "不在最新的 {count} 条已发布内容中",
    "article {article} in the published list": "文章 {article} 在已发布列表中",
    "draft present": "草稿还在草稿箱",
    "draft gone": "草稿已不在草稿箱",
    "draft not checked": "未查看草稿箱（发布作业可能仍在进行）",
    "not yet provable: {evidence}": "暂时无法确认：{evidence}",
    "proven not published: {evidence}": "已确认未发布：{evidence}",
    "submitting again": "重新提交",
    "the submit's answer was lost and nothing proves whether it was published: {evidence}": (
        "提交的应答丢失，无法证明是否已发布：{evidence}"
    ),
    "check the account's published list before retrying": "请先查看公众号的已发表列表再决定是否重试",
    # media and drafts the platform forgot
    "{reason}: the platform no longer knows the cached cover; uploading it again": (
        "{reason}：平台已不认识缓存的封面，重新上传"
    ),
    "{reason}: the draft is no longer in the draft box; making it again": (
        "{reason}：草稿已不在草稿箱，重新创建草稿"
    ),
    # bot sync correcting links stored by earlier versions
    "the stored link was the published list's temporary one": "原先保存的是已发布列表中的临时链接",
    "now the lasting {url}": "已改为永久链接 {url}",
    "cleared (no lasting link known)": "已清除（尚无永久链接）",
    "{count} temporary links corrected": "更正了 {count} 个临时链接",
    # mass sends
    "message/mass/sendall: 45065 names msg_id {msg_id}, which is not a send of this post "
    "(clientmsgid {clientmsgid}); nothing new was sent — check the account's sent messages "
    "before sending it again": (
        "message/mass/sendall：45065 返回的 msg_id {msg_id} 不是本文的群发"
        "（clientmsgid {clientmsgid}）；这次没有发出新内容——请先查看公众号的群发记录再决定是否重发"
    ),
    # a slot's notes
    "queue empty": "队列为空",
    "drafted post {id}": "起草了文章 {id}",
    "drafted post {id} (waits for review)": "起草了文章 {id}（等待审核）",
    "drafting failed: {reason}": "起草失败：{reason}",
    "blackout date": "停发日期",
    "grace {grace}": "超过宽限期 {grace}",
}
