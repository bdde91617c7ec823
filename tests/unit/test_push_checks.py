"""A push of several articles: the draft's own limits, and the reason a person reads when the
platform fails some of its articles."""

from __future__ import annotations

from bot.content.checks import check_push
from bot.domain.models import Article, Post, PostStatus
from bot.engine.publishing import failure_reason


def test_a_push_holds_one_to_eight_articles() -> None:
    assert check_push(["一"]) == []
    assert check_push([f"第{i}篇" for i in range(8)]) == []
    for titles in ([], [f"第{i}篇" for i in range(9)]):
        (finding,) = check_push(titles)
        assert (finding.severity, finding.code) == ("error", "push.articles")


def test_a_repeated_title_is_a_warning_on_the_later_article() -> None:
    findings = check_push(["一", "二", "一"])
    assert [(f.code, f.severity, f.article) for f in findings] == [
        ("push.same_title", "warning", 2)
    ]
    assert "article 1" in findings[0].message


def _post(*titles: str) -> Post:
    head, *more = titles
    return Post(
        id=1,
        column="c",
        account="a",
        title=head,
        status=PostStatus.PUBLISHING,
        more_articles=[Article(title=t) for t in more],
    )


def test_a_failure_names_the_refused_articles_and_what_to_do() -> None:
    reason = failure_reason(_post("头条", "第二篇", "第三篇"), 2, [2, 3])
    assert reason.startswith(
        "the originality (原创) check failed (articles 2 «第二篇», 3 «第三篇»)"
    )
    assert "remove the originality (原创) claim" in reason
    assert ", or remove those articles from the push, then retry" in reason


def test_a_single_article_failure_reads_as_before_with_advice() -> None:
    reason = failure_reason(_post("头条"), 4, [1])
    assert reason == (
        "the platform's review rejected the article (article 1 «头条»): "
        "edit what the review refused, then retry"
    )
    assert failure_reason(_post("头条"), 9, []) == "publish_status 9"


def test_a_failure_reads_in_chinese_in_the_zh_admin() -> None:
    from bot.i18n import translate_sentence

    reason = failure_reason(_post("头条", "第二篇", "第三篇"), 4, [2])
    assert translate_sentence("zh", reason) == (
        "平台审核未通过（涉及文章：2 «第二篇»）：修改审核未通过的内容，"
        "或把这些文章从本次推送中移除，然后重试"
    )
    single = failure_reason(_post("头条"), 2, [1])
    assert translate_sentence("zh", single) == (
        "原创校验未通过（涉及文章：1 «头条»）：去掉原创声明，或改写校验命中的文字，然后重试"
    )


def test_the_log_of_a_push_reads_in_chinese() -> None:
    from bot.i18n import translate_sentence

    assert translate_sentence("zh", "edited article 2 by 小王") == "已编辑第 2 篇（操作人 小王）"
    assert translate_sentence("zh", "articles reordered to 3 1 2") == "文章顺序改为 3 1 2"
    assert translate_sentence(
        "zh", "article 2 of 3 deleted on the platform (article A1); the others are still online"
    ) == ("第 2 篇（共 3 篇）已在平台上删除（文章 A1）；其余文章仍在线")
