"""Posts of several articles (多图文): the post page, reports and the CLI."""

ZH: dict[str, str] = {
    "Articles published": "推文篇数",
    "Articles per week": "每周推文篇数",
    "Articles of this push ({count})": "本次推送的文章（{count}篇）",
    "headline": "头条",
    "Move up": "上移",
    "Move down": "下移",
    "article {number} of {count}": "第{number}篇，共{count}篇",
    "In the chat list": "消息列表中",
    "Article page": "文章页",
    "Approving approves the whole push: all {count} articles, as they are now.": (
        "通过审核即通过整次推送：当前的全部{count}篇文章。"
    ),
}
