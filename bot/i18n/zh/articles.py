"""Posts of several articles (多图文): the post page, reports and the CLI."""

ZH: dict[str, str] = {
    "Articles published": "推文篇数",
    "Articles per week": "每周推文篇数",
    "Articles of this push ({count})": "本次推送的文章（{count}篇）",
    "headline": "头条",
    "Cover": "封面",
    "cover: {reason}": "封面：{reason}",
    "+{more} articles": "另{more}篇",
    "Move up": "上移",
    "Move down": "下移",
    "article {number} of {count}": "第{number}篇，共{count}篇",
    "In the chat list": "消息列表中",
    "Article page": "文章页",
    "Approving approves the whole push: all {count} articles, as they are now.": (
        "通过审核即通过整次推送：当前的全部{count}篇文章。"
    ),
    # a publish job that failed for some articles (fail_idx), and what a person can do
    "{failure} (article {named}): {advice}, then retry": "{failure}（涉及文章：{named}）：{advice}，然后重试",
    "{failure} (articles {named}): {advice}, then retry": (
        "{failure}（涉及文章：{named}）：{advice}，然后重试"
    ),
    "{failure} (article {named})": "{failure}（涉及文章：{named}）",
    "{failure} (articles {named})": "{failure}（涉及文章：{named}）",
    "{failure}: {advice}, then retry": "{failure}：{advice}，然后重试",
    "{advice}, or remove those articles from the push": "{advice}，或把这些文章从本次推送中移除",
    "remove the originality (原创) claim or rewrite the text the check matched": (
        "去掉原创声明，或改写校验命中的文字"
    ),
    "check the account's notices on mp.weixin.qq.com": "查看 mp.weixin.qq.com 上公众号的通知",
    "edit what the review refused": "修改审核未通过的内容",
    # the publish log: edits, order, what bot sync found
    "edited article {number}": "已编辑第 {number} 篇",
    "edited article {number} by {actor}": "已编辑第 {number} 篇（操作人 {actor}）",
    "articles reordered to {order}": "文章顺序改为 {order}",
    "articles reordered to {order} by {actor}": "文章顺序改为 {order}（操作人 {actor}）",
    "recorded from the platform's published list (article {article}, {count} articles, updated {updated})": (
        "从平台的已发布列表记录（文章 {article}，共 {count} 篇，更新于 {updated}）"
    ),
    "read {seen} of {total} items in {calls} calls: {recorded} recorded ({articles} articles), {adopted} matched by title, {deleted} deleted, {left} left to reconciliation": (
        "调用 {calls} 次，读取 {total} 条中的 {seen} 条：记录 {recorded} 条（共 {articles} 篇文章），"
        "按标题匹配 {adopted} 条，已删除 {deleted} 条，留待核对 {left} 条"
    ),
    "article {numbers} of {count} deleted on the platform (article {article})": (
        "第 {numbers} 篇（共 {count} 篇）已在平台上删除（文章 {article}）"
    ),
    "the others are still online": "其余文章仍在线",
    "article {numbers} deleted on the platform": "第 {numbers} 篇已在平台上删除",
}
