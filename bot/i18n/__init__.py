"""The project's languages: Chinese (``zh``, the default) and English (``en``).

Code writes English and this package holds the Chinese for each English string. The table is
split by area into the modules of ``bot/i18n/zh/`` (each a dict ``ZH`` from English to
Chinese); every module there is merged into one table when this package is imported, so an
area adds a module or appends to its own without touching the others.

- A list or tuple given as a field is joined (``、`` in Chinese, ``, `` in English), each
  ``Text`` item rendered.
- A fixed string: ``translator(lang)("Save")``.
- A sentence with values: write the English with ``{name}`` fields, and the Chinese with the
  same fields: ``translate(lang, "{count} resources imported", count=3)``. A ``Text`` keeps
  such a sentence unrendered (an error raised deep in the code carries one), so each surface
  shows it in its own language; ``str(text)`` is the English.

Values such as statuses and kinds are entries too (``"draft": "草稿"``), so a surface can show
them with the same translator. A string missing from the table shows in English: the
admin's browser test finds those.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from bot.i18n import zh as _zh_package

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

Translate = Callable[[str], str]


def _load_tables() -> dict[str, dict[str, str]]:
    """Each area module of ``bot.i18n.zh`` and its table, in name order."""
    tables: dict[str, dict[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(_zh_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{_zh_package.__name__}.{info.name}")
        tables[info.name] = dict(module.ZH)
    return tables


TABLES = _load_tables()
# The first area (by module name) wins a key two areas define; a unit test refuses that.
ZH: dict[str, str] = {}
for _table in TABLES.values():
    for _english, _chinese in _table.items():
        ZH.setdefault(_english, _chinese)


def translator(lang: str) -> Translate:
    """A function giving a string in ``lang`` (English for a string the table lacks)."""
    if lang == "zh":
        return lambda text: ZH.get(text, text)
    return _same


def _same(text: str) -> str:
    return text


def translate(lang: str, text: str, /, **fields: object) -> str:
    """``text`` in ``lang`` with its ``{name}`` fields filled (``Text`` values translated)."""
    return Text(text, fields).render(lang)


@dataclass(frozen=True, slots=True)
class Text:
    """An English sentence with named fields, rendered in a language when shown."""

    template: str
    fields: Mapping[str, object] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        values = {name: _render(value, lang) for name, value in self.fields.items()}
        wording = translator(lang)(self.template)
        return wording.format(**values) if values else wording

    def __str__(self) -> str:
        return self.render("en")


def translate_sentence(lang: str, english: str) -> str:
    """A sentence stored in English (a publish log detail, a post's error) in ``lang``.

    Stored sentences have their values already filled in, so they are matched against the
    table's templates: ``"created by {actor}"`` turns ``"created by admin"`` into
    ``"由 admin 创建"``, each value translated in turn when the table has it. Parts joined by
    ``"; "`` are translated one by one; anything unmatched stays as written.
    """
    if lang != "zh" or not english:
        return english
    if english in ZH:
        return ZH[english]
    for pattern, chinese in _patterns():
        found = pattern.fullmatch(english)
        if found:
            values = {
                k: v if k in DATA_FIELDS else translate_sentence(lang, v)
                for k, v in found.groupdict().items()
            }
            return chinese.format(**values)
    if "; " in english:
        return "；".join(translate_sentence(lang, part) for part in english.split("; "))
    return english


_FIELD = re.compile(r"\\\{(\w+)\\\}")


# Fields of a template whose values are names people chose, never translated (a user named
# "admin" stays "admin").
DATA_FIELDS = frozenset({"user", "name", "id", "path", "title", "account", "column", "file"})
# The areas whose templates stored sentences are matched against (see translate_sentence).
SENTENCE_AREAS = ("log", "errors", "articles")


def _group(found: re.Match[str]) -> str:
    name = found.group(1)
    return f"(?P<{name}>.+?)" if name == "note" else f"(?P<{name}>(?:(?!; ).)+?)"


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    """Every template of the ``SENTENCE_AREAS`` as a regular expression, most literal text
    first (so ``"created by {actor}"`` is tried before ``"{detail} by {actor}"``)."""
    found: list[tuple[int, re.Pattern[str], str]] = []
    entries = [item for area in SENTENCE_AREAS for item in TABLES.get(area, {}).items()]
    for english, chinese in entries:
        literal = len(_FIELD.sub("", re.escape(english)))
        if "{" not in english or not literal:
            continue
        # A value never spans "; ", which joins separate sentences (see translate_sentence),
        # except a ``note``: several sentences in brackets, each translated in turn.
        regex = _FIELD.sub(_group, re.escape(english))
        try:
            found.append((literal, re.compile(regex, re.DOTALL), chinese))
        except re.error:  # a field named twice: not usable as a pattern
            continue
    found.sort(key=lambda item: item[0], reverse=True)
    return [(pattern, chinese) for _, pattern, chinese in found]


def _render(value: object, lang: str) -> object:
    """A field's value for ``lang``: a ``Text`` rendered, a list or tuple joined as a list."""
    if isinstance(value, Text):
        return value.render(lang)
    if isinstance(value, list | tuple):
        separator = "、" if lang == "zh" else ", "
        return separator.join(str(_render(item, lang)) for item in value)
    return value


def text(template: str, /, **fields: object) -> Text:
    """Shorthand for ``Text(template, fields)``."""
    return Text(template, fields)
