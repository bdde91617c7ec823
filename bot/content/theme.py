"""Themes: element selectors mapped to CSS declarations, and the pass that inlines them into
each tag's ``style`` attribute (the platform drops ``<style>``, ``class`` and ``id``).

A theme is a TOML file (``themes/default.toml`` is the project's)::

    name = "default"
    root = "font-size: 16px; line-height: 1.75;"   # the <section> wrapping the whole post
    [styles]
    p = "margin: 10px 0;"
    "blockquote p" = "margin: 4px 0;"              # an ancestor and an element

A tag gets the root styles (if it is the root), then its element's, then the matching
"ancestor element" rules, then the style it already had; later declarations of the same
property win, as in CSS. Deliberately small: no classes, ids, pseudo-classes or combinators
beyond one descendant step, and no premailer.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.sanitize import ALLOWED_CSS_PROPERTIES, Attrs, rewrite_start_tags
from bot.domain.errors import ConfigError

DEFAULT_THEME_PATH = Path(__file__).parent / "themes" / "default.toml"
ROOT_MARKER = "data-post-root"  # put on the wrapping <section> by the renderer, removed here

_TAG = r"[a-z][a-z0-9]*"
_SELECTOR = re.compile(rf"^({_TAG})(?:\s+({_TAG}))?$")
# Split on ';' outside quotes (font-family values may quote names).
_DECLARATION = re.compile(r"""((?:[^;"']|"[^"]*"|'[^']*')+)""")
_FORBIDDEN_VALUE = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|[<>\\]", re.I)

Declarations = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Theme:
    """``root`` styles the wrapping section; ``element`` maps a tag to its declarations;
    ``descendant`` maps (ancestor, tag) to declarations that apply inside that ancestor."""

    name: str
    root: Declarations = ()
    element: Mapping[str, Declarations] = field(default_factory=dict)
    descendant: Mapping[tuple[str, str], Declarations] = field(default_factory=dict)

    def style_for(self, tag: str, ancestors: Sequence[str], *, is_root: bool = False) -> str:
        """The inline style for ``tag`` given its open ancestors (outermost first)."""
        merged: dict[str, str] = {}
        if is_root:
            merged.update(self.root)
        merged.update(self.element.get(tag, ()))
        for ancestor in dict.fromkeys(ancestors):
            merged.update(self.descendant.get((ancestor, tag), ()))
        return format_declarations(merged.items())


def parse_declarations(text: str, *, where: str) -> Declarations:
    """``"color: red; margin: 0"`` → (("color", "red"), ("margin", "0")).

    Raises ConfigError naming ``where`` for a property the platform drops or a value that
    could load something (url(), expression()) or break out of the attribute."""
    out: list[tuple[str, str]] = []
    for chunk in _DECLARATION.findall(text):
        if not chunk.strip():
            continue
        name, sep, value = chunk.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not sep or not name or not value:
            raise ConfigError(f"{where}: {chunk.strip()!r} is not a 'property: value' pair")
        if name not in ALLOWED_CSS_PROPERTIES:
            raise ConfigError(f"{where}: the platform drops the CSS property {name!r}")
        if _FORBIDDEN_VALUE.search(value):
            raise ConfigError(f"{where}: the value of {name!r} is not allowed: {value!r}")
        out.append((name, value))
    return tuple(out)


def format_declarations(items: Iterable[tuple[str, str]]) -> str:
    pairs = list(items)
    return "; ".join(f"{name}: {value}" for name, value in pairs) + (";" if pairs else "")


def theme_from_mapping(raw: Mapping[str, object], *, where: str) -> Theme:
    """Build a theme from parsed TOML; raises ConfigError with ``where`` and the key."""
    name = raw.get("name", "")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: 'name' must be a non-empty string")
    root_text = raw.get("root", "")
    if not isinstance(root_text, str):
        raise ConfigError(f"{where}: 'root' must be a string of CSS declarations")
    styles = raw.get("styles", {})
    if not isinstance(styles, Mapping):
        raise ConfigError(f"{where}: [styles] must be a table")
    unknown = set(raw) - {"name", "root", "styles"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    element: dict[str, Declarations] = {}
    descendant: dict[tuple[str, str], Declarations] = {}
    for selector, text in styles.items():
        key = f"{where}: styles.{selector}"
        match = _SELECTOR.match(str(selector).strip().lower())
        if match is None:
            raise ConfigError(f"{key}: selectors are 'tag' or 'ancestor tag'")
        if not isinstance(text, str):
            raise ConfigError(f"{key}: must be a string of CSS declarations")
        declarations = parse_declarations(text, where=key)
        first, second = match.groups()
        if second is None:
            element[first] = declarations
        else:
            descendant[(first, second)] = declarations
    return Theme(
        name=name,
        root=parse_declarations(root_text, where=f"{where}: root"),
        element=element,
        descendant=descendant,
    )


def load_theme(path: Path) -> Theme:
    """Read a theme file. Raises ConfigError when it is missing, not TOML, or not valid."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"theme {path}: cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"theme {path}: not valid TOML ({exc})") from None
    return theme_from_mapping(raw, where=f"theme {path}")


@functools.cache
def default_theme() -> Theme:
    return load_theme(DEFAULT_THEME_PATH)


def apply_theme(html: str, theme: Theme) -> str:
    """Inline ``theme`` into every start tag of ``html`` (markdown-it's output). A tag's own
    style (e.g. a table cell's text-align) is kept after the theme's, so it wins."""

    def restyle(tag: str, attrs: Attrs, ancestors: Sequence[str]) -> Attrs:
        is_root = any(name == ROOT_MARKER for name, _ in attrs)
        own = "; ".join(value or "" for name, value in attrs if name == "style")
        merged = dict(parse_loose(theme.style_for(tag, ancestors, is_root=is_root)))
        merged.update(parse_loose(own))
        kept = [(name, value) for name, value in attrs if name not in ("style", ROOT_MARKER)]
        if merged:
            kept.append(("style", format_declarations(merged.items())))
        return kept

    return rewrite_start_tags(html, restyle)


def parse_loose(text: str) -> list[tuple[str, str]]:
    """Declarations from an existing style attribute; malformed pieces are skipped (the
    sanitiser filters properties afterwards)."""
    out = []
    for chunk in _DECLARATION.findall(text):
        name, sep, value = chunk.partition(":")
        if sep and name.strip() and value.strip():
            out.append((name.strip().lower(), value.strip()))
    return out
