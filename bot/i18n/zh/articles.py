"""Posts of several articles (多图文): the post page, reports and the CLI."""

ZH: dict[str, str] = {
    "Articles published": "推文篇数",
    "Articles per week": "每周推文篇数",
}
