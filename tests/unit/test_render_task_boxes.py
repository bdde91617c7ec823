"""Task lists render as they did with mdit_py_plugins' ``tasklists``, which ``render`` no longer
uses: it searched back from every item for its list (O(n²) in the items, security review 3)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

from bot.content import render

TASK_LISTS = [
    "- [ ] 待办\n- [x] 已办\n- [X] 大写\n",
    "1. [ ] 第一\n2. [x] 第二\n",
    "- [ ] 外层\n  - [x] 内层\n    - [ ] 更深\n- 普通项\n",
    "- [ ]\t制表符后\n- [x]  两个空格\n- [ ]\n- [] 不是\n- [y] 不是\n",
    "> - [ ] 引用中的\n\n- 项\n\n  [ ] 第二段不是\n",
    "- **[ ] 加粗** 不是\n- [ ] *强调*与`代码`\n",
    "[ ] 不在列表中\n\n- a\n\n  - [x] 松散列表\n",
]


_OUR_PARSER = render._markdown_parser


def _plugin_parser() -> MarkdownIt:
    md: MarkdownIt = _OUR_PARSER.__wrapped__()  # a new parser, not the cached one
    md.core.ruler.disable("task_boxes")
    return md.use(tasklists_plugin)


@pytest.mark.parametrize("markdown", TASK_LISTS)
def test_task_lists_render_as_with_the_plugin(
    markdown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = render.render_markdown(markdown)
    monkeypatch.setattr(render, "_markdown_parser", _plugin_parser)
    assert ours == render.render_markdown(markdown)


def test_boxes_are_drawn_and_the_marks_removed() -> None:
    html = render.render_markdown("- [ ] a\n- [x] b\n")
    assert "☐ a" in html and "☑ b" in html and "[ ]" not in html and "<input" not in html
