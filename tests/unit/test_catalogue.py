"""Reading catalogue files: every format, every encoding Excel produces, and bad input."""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from pathlib import Path

import opencc
import pytest
from PIL import Image

from bot.content.catalogue import (
    PROGRESS_EVERY,
    detect_encoding,
    iter_catalogue,
    read_catalogue,
    sample_catalogue_path,
    text_problem,
)
from bot.domain.errors import ImportFileError, UserError
from bot.domain.models import BUILTIN_KINDS, Resource

KINDS = BUILTIN_KINDS
HEADER = "id,kind,title,summary,url,cover,tags\r\n"


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def import_error(directory: Path, path: Path) -> str:
    with pytest.raises(ImportFileError) as caught:
        read_catalogue(path, kinds=KINDS)
    message = str(caught.value)
    assert "\n" not in message
    return message.replace(f"{directory}/", "")


# --- CSV as Excel writes it -----------------------------------------------------------------


def test_gbk_csv_written_by_excel_imports_with_chinese_intact(tmp_path: Path) -> None:
    (tmp_path / "covers").mkdir()
    Image.new("RGB", (8, 4)).save(
        (tmp_path / "covers" / "gutian.jpg"), "JPEG"
    )  # a real image: covers are read
    # Excel on Chinese Windows: GBK, CRLF between records, LF inside a quoted cell, quotes
    # only where a cell holds a comma, a quote or a line break.
    text = (
        "id,kind,title,summary,url,cover,tags\r\n"
        'gutian,exhibit,古田会议会址,"位于上杭县古田镇,1929年12月召开古田会议。\n'
        '第二行：“红四军”","https://example.org/a,b",covers/gutian.jpg,红色旧址;龙岩\r\n'
        'xuexi,platform,  学习强国  ,"他说""学习""",https://www.xuexi.cn/,,\r\n'
        ",,,,,,\r\n"
    )
    path = write(tmp_path, "catalogue.csv", text.encode("gbk"))
    assert detect_encoding(path) == "gb18030"

    resources = read_catalogue(path, kinds=KINDS)

    assert resources == [
        Resource(
            id="gutian",
            kind="exhibit",
            title="古田会议会址",
            summary="位于上杭县古田镇,1929年12月召开古田会议。\n第二行：“红四军”",
            url="https://example.org/a,b",
            cover=str(tmp_path / "covers" / "gutian.jpg"),
            tags=("红色旧址", "龙岩"),
            source="catalogue.csv:2",
        ),
        Resource(
            id="xuexi",
            kind="platform",
            title="学习强国",
            summary='他说"学习"',
            url="https://www.xuexi.cn/",
            source="catalogue.csv:4",
        ),
    ]


def test_utf8_with_bom(tmp_path: Path) -> None:
    text = "ID , Kind,Title\r\nq1,lesson,网上主题团课\r\n"
    path = write(tmp_path, "c.csv", codecs.BOM_UTF8 + text.encode("utf-8"))
    assert detect_encoding(path) == "utf-8-sig"
    [resource] = read_catalogue(path, kinds=KINDS)
    assert (resource.id, resource.kind, resource.title) == ("q1", "lesson", "网上主题团课")


def test_gb18030_only_characters(tmp_path: Path) -> None:
    title = "䶮𠮷字展馆"  # Extension A and B: four-byte sequences in GB18030, absent from GBK
    with pytest.raises(UnicodeEncodeError):
        title.encode("gbk")
    path = write(tmp_path, "c.csv", f"id,kind,title\r\nx,exhibit,{title}\r\n".encode("gb18030"))
    assert read_catalogue(path, kinds=KINDS)[0].title == title


def test_plain_utf8_lf_and_tag_separators(tmp_path: Path) -> None:
    text = "id,kind,title,tags\nx,course,团干上台讲,宣讲；团干部; 宣讲 ;;\n"
    [resource] = read_catalogue(write(tmp_path, "c.csv", text), kinds=KINDS)
    assert resource.tags == ("宣讲", "团干部")


def test_header_only_file_holds_no_resources(tmp_path: Path) -> None:
    assert read_catalogue(write(tmp_path, "c.csv", "\r\n" + HEADER), kinds=KINDS) == []


def test_extra_kinds_from_configuration(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "id,kind,title\r\nv1,video,微宣讲\r\n")
    assert read_catalogue(path, kinds=(*KINDS, "video"))[0].kind == "video"


def test_cover_url_and_absolute_path(tmp_path: Path) -> None:
    image = tmp_path / "elsewhere" / "a.PNG"
    image.parent.mkdir()
    Image.new("RGB", (8, 4)).save(image, "PNG")  # a real image: covers are read
    text = f"id,kind,title,cover\r\na,exhibit,A,{image}\r\nb,exhibit,B,HTTPS://x.cn/b.jpg\r\n"
    a, b = read_catalogue(write(tmp_path, "c.csv", text), kinds=KINDS)
    assert a.cover == str(image)
    assert b.cover == "HTTPS://x.cn/b.jpg"


# --- the other formats ----------------------------------------------------------------------

EXPECTED = [
    Resource(id="a", kind="platform", title="智慧团建", tags=("团务",)),
    Resource(
        id="b", kind="exhibit", title="林则徐纪念馆", summary="位于福州市。", url="http://x.cn/"
    ),
]


def without_source(resources: list[Resource]) -> list[Resource]:
    return [r.replace(source="") for r in resources]


def test_json_array(tmp_path: Path) -> None:
    text = json.dumps(
        [
            {"id": "a", "kind": "platform", "title": "智慧团建", "tags": ["团务"]},
            {
                "id": "b",
                "kind": "exhibit",
                "title": " 林则徐纪念馆",
                "summary": "位于福州市。",
                "url": "http://x.cn/",
                "cover": None,
            },
        ],
        ensure_ascii=False,
        indent=1,
    )
    resources = read_catalogue(write(tmp_path, "c.json", text), kinds=KINDS)
    assert without_source(resources) == EXPECTED
    assert [r.source for r in resources] == ["c.json:2", "c.json:10"]


def test_json_lines(tmp_path: Path) -> None:
    text = (
        '{"id": "a", "kind": "platform", "title": "智慧团建", "tags": ["团务"]}\n\n'
        '{"id": "b", "kind": "exhibit", "title": "林则徐纪念馆", "summary": "位于福州市。", '
        '"url": "http://x.cn/"}\n'
    )
    resources = read_catalogue(write(tmp_path, "c.jsonl", text), kinds=KINDS)
    assert without_source(resources) == EXPECTED
    assert [r.source for r in resources] == ["c.jsonl:1", "c.jsonl:3"]


def test_yaml_list(tmp_path: Path) -> None:
    text = (
        "# the catalogue\n"
        "- id: a\n  kind: platform\n  title: 智慧团建\n  tags: [团务]\n"
        "- id: b\n  kind: exhibit\n  title: 林则徐纪念馆\n  summary: 位于福州市。\n"
        "  url: http://x.cn/\n  cover:\n"
    )
    resources = read_catalogue(write(tmp_path, "c.yaml", text), kinds=KINDS)
    assert without_source(resources) == EXPECTED
    assert [r.source for r in resources] == ["c.yaml:2", "c.yaml:6"]


def test_toml_array_of_tables(tmp_path: Path) -> None:
    text = (
        '[[resource]]\nid = "a"\nkind = "platform"\ntitle = "智慧团建"\ntags = ["团务"]\n\n'
        '[[resource]]\nid = "b"\nkind = "exhibit"\ntitle = "林则徐纪念馆"\n'
        'summary = "位于福州市。"\nurl = "http://x.cn/"\n'
    )
    resources = read_catalogue(write(tmp_path, "c.toml", text), kinds=KINDS)
    assert without_source(resources) == EXPECTED
    assert [r.source for r in resources] == ["c.toml:1", "c.toml:7"]


def test_toml_inline_array_has_no_lines(tmp_path: Path) -> None:
    text = 'resource = [{id = "a", kind = "platform", title = "智慧团建"}]\n'
    [resource] = read_catalogue(write(tmp_path, "c.toml", text), kinds=KINDS)
    assert resource.source == "c.toml#1"


# --- all or nothing, streaming, progress ----------------------------------------------------


def test_one_bad_row_imports_nothing_and_names_line_and_field(tmp_path: Path) -> None:
    text = HEADER + 'a,exhibit,A,"two\nlines",,,\r\nb,exhibit,B,,,,\r\nc,planet,C,,,,\r\n'
    path = write(tmp_path, "catalogue.csv", text)
    assert import_error(tmp_path, path) == (
        "catalogue.csv:5: field 'kind': unknown kind 'planet' "
        "(known: platform, exhibit, course, lesson, article)"
    )


def test_error_carries_fields_and_is_a_user_error(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "id,kind,title\r\na,exhibit,\r\n")
    with pytest.raises(UserError) as caught:
        read_catalogue(path, kinds=KINDS)
    assert isinstance(caught.value, ImportFileError)
    assert caught.value.fields == {"path": str(path), "line": 2, "field": "title"}
    assert caught.value.http_status == 400


def test_iter_catalogue_streams_before_reaching_a_bad_row(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "id,kind,title\r\na,exhibit,A\r\nb,planet,B\r\n")
    resources = iter_catalogue(path, kinds=KINDS)
    assert next(resources).id == "a"
    with pytest.raises(ImportFileError, match=r"c\.csv:3: field 'kind'"):
        next(resources)


def test_progress_is_reported_in_steps_and_at_the_end(tmp_path: Path) -> None:
    rows = "".join(f"r{i},lesson,第{i}期\r\n" for i in range(2 * PROGRESS_EVERY + 5))
    path = write(tmp_path, "c.csv", ("id,kind,title\r\n" + rows).encode("gbk"))
    seen: list[int] = []
    resources = list(iter_catalogue(path, kinds=KINDS, on_progress=seen.append))
    assert len(resources) == 2 * PROGRESS_EVERY + 5
    assert seen == [PROGRESS_EVERY, 2 * PROGRESS_EVERY, 2 * PROGRESS_EVERY + 5]


def test_hundred_thousand_rows_stream_and_find_a_late_duplicate(tmp_path: Path) -> None:
    rows = "".join(f"r{i},exhibit,展馆{i},简介,,,福建\r\n" for i in range(100_000))
    text = HEADER + rows + "r7,exhibit,重复,,,,\r\n"
    path = write(tmp_path, "big.csv", text.encode("gbk"))
    count = 0
    with pytest.raises(ImportFileError) as caught:
        for _ in iter_catalogue(path, kinds=KINDS):
            count += 1
    assert count == 100_000
    assert str(caught.value).endswith(
        "big.csv:100002: field 'id': duplicate id 'r7' (first at line 9)"
    )


def test_decoding_across_chunk_boundaries(tmp_path: Path) -> None:
    # The first non-ASCII byte lies far beyond the first 64 KiB chunk, and the bad byte's line
    # must be counted across chunks.
    ascii_rows = "".join(f"r{i},lesson,L{i}\r\n" for i in range(10_000))
    gbk = ("id,kind,title\r\n" + ascii_rows + "z,exhibit,展馆\r\n").encode("gbk")
    assert detect_encoding(write(tmp_path, "gbk.csv", gbk)) == "gb18030"
    utf8 = ("id,kind,title\r\n" + ascii_rows + "z,exhibit,展馆\r\n").encode("utf-8")
    assert detect_encoding(write(tmp_path, "utf8.csv", utf8)) == "utf-8-sig"
    broken = write(tmp_path, "bad.csv", utf8 + b"y,exhibit,\xff\r\n")
    assert import_error(tmp_path, broken) == (
        "bad.csv:10003: bytes that are neither UTF-8 nor GBK/GB18030"
    )


# --- bad input: one line naming file, line and field ----------------------------------------

LONG_ID = "x" * 201

BAD_INPUT = [
    # CSV structure
    ("catalogue.csv", "id,title\r\na,A\r\n", "catalogue.csv:1: missing required column 'kind'"),
    (
        "catalogue.csv",
        "id,kind,titel\r\na,exhibit,A\r\n",
        "catalogue.csv:1: unknown column 'titel' (known: id, kind, title, summary, url, cover, tags)",
    ),
    ("catalogue.csv", "id,kind,title,Title\r\n", "catalogue.csv:1: column 'Title' appears twice"),
    (
        "catalogue.csv",
        "id,kind,title\r\na,exhibit,A,stray\r\n",
        "catalogue.csv:2: column 4 has a value but no header",
    ),
    (
        "catalogue.csv",
        'id,kind,title\r\na,exhibit,"A\r\n',
        "catalogue.csv:2: malformed CSV: unexpected end of data (a quoted cell is never closed)",
    ),
    (
        "catalogue.csv",
        'id,kind,title\r\na,exhibit,"A"B\r\n',
        "catalogue.csv:2: malformed CSV: ',' expected after '\"'",
    ),
    ("catalogue.csv", "", "catalogue.csv: the file is empty"),
    ("catalogue.csv", "\r\n,,\r\n", "catalogue.csv: no header row"),
    # encodings
    (
        "catalogue.csv",
        b"id,kind,title\r\na,exhibit,\x80\r\n",
        "catalogue.csv:2: bytes that are neither UTF-8 nor GBK/GB18030",
    ),
    (
        "catalogue.csv",
        codecs.BOM_UTF8 + "id,kind,title\r\na,exhibit,展馆\r\n".encode("gbk"),
        "catalogue.csv:2: not valid UTF-8 although the file starts with a UTF-8 BOM",
    ),
    (
        "catalogue.csv",
        "id,kind,title\r\n".encode("utf-16"),
        "catalogue.csv:1: UTF-16 is not supported; save the file as UTF-8 or GBK CSV",
    ),
    # id
    (
        "catalogue.csv",
        HEADER + ",exhibit,A,,,,\r\n",
        "catalogue.csv:2: field 'id': empty (required)",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,,,\r\na,exhibit,B,,,,\r\n",
        "catalogue.csv:3: field 'id': duplicate id 'a' (first at line 2)",
    ),
    (
        "catalogue.csv",
        HEADER + f"{LONG_ID},exhibit,A,,,,\r\n",
        "catalogue.csv:2: field 'id': 201 characters long (at most 200)",
    ),
    (
        "catalogue.csv",
        HEADER + "古田\u3000会址,exhibit,A,,,,\r\n",
        "catalogue.csv:2: field 'id': '古田\\u3000会址' contains whitespace",
    ),
    # kind and title
    (
        "catalogue.csv",
        HEADER + "a,planet,A,,,,\r\n",
        "catalogue.csv:2: field 'kind': unknown kind 'planet' "
        "(known: platform, exhibit, course, lesson, article)",
    ),
    ("catalogue.csv", HEADER + "a,,A,,,,\r\n", "catalogue.csv:2: field 'kind': empty (required)"),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,  ,,,,\r\n",
        "catalogue.csv:2: field 'title': empty (required)",
    ),
    (
        "catalogue.csv",
        HEADER + 'a,exhibit,"古田\n会址",,,,\r\n',
        "catalogue.csv:2: field 'title': must be one line",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,古田\t会址,,,,\r\n",
        "catalogue.csv:2: field 'title': contains the control character U+0009",
    ),
    # lengths (security review, N5: searches read these with LIKE)
    (
        "catalogue.csv",
        HEADER + f"a,exhibit,{'古' * 201},,,,\r\n",
        "catalogue.csv:2: field 'title': 201 characters long (at most 200)",
    ),
    (
        "catalogue.csv",
        HEADER + f'a,exhibit,A,"{"简介" * 1000}\n多",,,\r\n',
        "catalogue.csv:2: field 'summary': 2002 characters long (at most 2000)",
    ),
    (
        "catalogue.csv",
        HEADER + f"a,exhibit,A,,https://example.org/{'p' * 1981},,\r\n",
        "catalogue.csv:2: field 'url': 2001 characters long (at most 2000)",
    ),
    (
        "catalogue.csv",
        HEADER + f"a,exhibit,A,,,,红色;{'标' * 51}\r\n",
        "catalogue.csv:2: field 'tags': a tag of 51 characters (at most 50 each)",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,,," + ";".join(f"标签{i}" for i in range(21)) + "\r\n",
        "catalogue.csv:2: field 'tags': 21 tags (at most 20)",
    ),
    # encoding damage and control characters
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,展馆\ufffd简介,,,\r\n",
        "catalogue.csv:2: field 'summary': contains U+FFFD, "
        "a character lost in an earlier encoding conversion",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,锟斤拷锟斤拷,,,,\r\n",
        "catalogue.csv:2: field 'title': contains '锟斤拷', UTF-8 text damaged by a GBK conversion",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,ä¸­æ–‡,,,,\r\n",
        "catalogue.csv:2: field 'title': contains 'ä¸\\xad', "
        "UTF-8 text misread as Latin-1 (encoding damage)",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,响铃\x07,,,\r\n",
        "catalogue.csv:2: field 'summary': contains the control character U+0007",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,前\ufeff后,,,\r\n",
        "catalogue.csv:2: field 'summary': contains a byte-order mark (U+FEFF) inside the text",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,,,红色\x1b;福建\r\n",
        "catalogue.csv:2: field 'tags': contains the control character U+001B",
    ),
    # url and cover
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,ftp://x.cn/a,,\r\n",
        "catalogue.csv:2: field 'url': URL scheme 'ftp' not allowed (http or https only)",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,javascript:alert(1),,\r\n",
        "catalogue.csv:2: field 'url': URL scheme 'javascript' not allowed (http or https only)",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,www.xuexi.cn,,\r\n",
        "catalogue.csv:2: field 'url': 'www.xuexi.cn' is not an absolute http(s) URL",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,https://,,\r\n",
        "catalogue.csv:2: field 'url': URL 'https://' has no host",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,https://x.cn/a b,,\r\n",
        "catalogue.csv:2: field 'url': URL 'https://x.cn/a b' contains whitespace",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,http://[::1,,\r\n",
        "catalogue.csv:2: field 'url': 'http://[::1' is not a valid URL (Invalid IPv6 URL)",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,,covers/missing.jpg,\r\n",
        "catalogue.csv:2: field 'cover': cover file not found: covers/missing.jpg",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,,notes.txt,\r\n",
        "catalogue.csv:2: field 'cover': 'notes.txt' is not a JPEG, PNG, GIF, BMP or WebP image",
    ),
    (
        "catalogue.csv",
        HEADER + "a,exhibit,A,,,ftp://x.cn/a.jpg,\r\n",
        "catalogue.csv:2: field 'cover': URL scheme 'ftp' not allowed (http or https only)",
    ),
    # JSON
    ("catalogue.json", '{"id": "a"}', "catalogue.json:1: expected a JSON array of objects"),
    (
        "catalogue.json",
        "[\n  5\n]",
        "catalogue.json:2: item 1: expected a JSON object, got the number 5",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit" "title": "A"}\n]',
        "catalogue.json:2: invalid JSON: Expecting ',' delimiter (column 32)",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit", "title": "A"},\n]',
        "catalogue.json:3: invalid JSON: trailing comma before ']'",
    ),
    (
        "catalogue.json",
        '[{"id": "a", "kind": "exhibit", "title": "A"}] []',
        "catalogue.json:1: invalid JSON: extra data after the array",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "id": "b", "kind": "exhibit", "title": "A"}\n]',
        "catalogue.json:2: item 1: field 'id' appears twice",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit", "title": 5}\n]',
        "catalogue.json:2: item 1: field 'title': expected a string, got the number 5",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit", "title": "A", "tags": "红色;福建"}\n]',
        "catalogue.json:2: item 1: field 'tags': expected a list of strings, got a string",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit", "title": "A", "tags": [1]}\n]',
        "catalogue.json:2: item 1: field 'tags': expected a list of strings, found the number 1",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit", "titel": "A"}\n]',
        "catalogue.json:2: item 1: unknown field 'titel' "
        "(known: id, kind, title, summary, url, cover, tags)",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "title": "A"}\n]',
        "catalogue.json:2: item 1: field 'kind': missing (required)",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit", "title": "\\ud800"}\n]',
        "catalogue.json:2: item 1: field 'title': contains an unpaired surrogate U+D800",
    ),
    (
        "catalogue.json",
        '[\n {"id": "a", "kind": "exhibit", "title": "A", "url": true}\n]',
        "catalogue.json:2: item 1: field 'url': expected a string, got true/false",
    ),
    (
        "catalogue.jsonl",
        '{"id": "a", "kind": "exhibit", "title": "A"}\n{"id": "b",\n',
        "catalogue.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes "
        "(column 12)",
    ),
    # YAML
    ("catalogue.yaml", "id: a\n", "catalogue.yaml:1: expected a YAML list of mappings"),
    ("catalogue.yaml", "", "catalogue.yaml: the file is empty"),
    ("catalogue.yaml", "# nothing yet\n", "catalogue.yaml: the file holds no YAML document"),
    (
        "catalogue.yaml",
        "- id: a\n  kind: [exhibit\n",
        "catalogue.yaml:3: invalid YAML: expected ',' or ']', but got '<stream end>'",
    ),
    (
        "catalogue.yaml",
        "- id: 12\n  kind: exhibit\n  title: A\n",
        "catalogue.yaml:1: item 1: field 'id': expected a string, got the number 12",
    ),
    (
        "catalogue.yaml",
        "- id: a\n  kind: exhibit\n  title: A\n  summary: 2024-02-04\n",
        "catalogue.yaml:4: item 1: field 'summary': expected a string, got a date",
    ),
    (
        "catalogue.yaml",
        "- id: a\n  kind: exhibit\n  kind: lesson\n  title: A\n",
        "catalogue.yaml:3: item 1: field 'kind' appears twice",
    ),
    (
        "catalogue.yaml",
        "- id: a\n  kind: exhibit\n  title: !!python/object/apply:os.system [x]\n",
        "catalogue.yaml:3: invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    (
        "catalogue.yaml",
        "- id: a\n  kind: exhibit\n  title: A\n- id: b\n  title: B\n  kind: planet\n",
        "catalogue.yaml:6: item 2: field 'kind': unknown kind 'planet' "
        "(known: platform, exhibit, course, lesson, article)",
    ),
    (
        "catalogue.yaml",
        "- [a, exhibit, A]\n",
        "catalogue.yaml:1: item 1: expected a mapping, got a list",
    ),
    # TOML
    (
        "catalogue.toml",
        '[[resource]]\nid = "a"\nid = "b"\n',
        "catalogue.toml:3: invalid TOML: Cannot overwrite a value",
    ),
    (
        "catalogue.toml",
        '[[resources]]\nid = "a"\n',
        "catalogue.toml: unknown top-level key 'resources' (resources go in [[resource]])",
    ),
    (
        "catalogue.toml",
        'resource = "a"\n',
        "catalogue.toml: 'resource' must be an array of tables ([[resource]])",
    ),
    (
        "catalogue.toml",
        '[[resource]]\nid = "a"\nkind = "exhibit"\ntitle = "A"\n\n'
        '[[resource]]\nid = "b"\nkind = "exhibit"\ntitle = ""\n',
        "catalogue.toml:6: item 2: field 'title': empty (required)",
    ),
    (
        "catalogue.toml",
        'resource = [{id = "a", kind = "exhibit", title = "A", url = "ftp://x"}]\n',
        "catalogue.toml: item 1: field 'url': URL scheme 'ftp' not allowed (http or https only)",
    ),
    # the file itself
    (
        "catalogue.xls",
        "PK",
        "catalogue.xls: unsupported file type '.xls' "
        "(known: .csv, .json, .jsonl, .ndjson, .toml, .xlsx, .yaml, .yml); "
        "save the file as Excel (.xlsx) or CSV",
    ),
    (
        "catalogue.xlsx",
        "PK",
        "catalogue.xlsx: not an Excel workbook (.xlsx) that can be read (BadZipFile); an old "
        ".xls or a password-protected workbook cannot be: save it as .xlsx without a password",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "expected"), BAD_INPUT, ids=[f"{i:02d}" for i in range(len(BAD_INPUT))]
)
def test_bad_input_is_refused_with_one_line(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    path = write(tmp_path, name, content)
    assert import_error(tmp_path, path) == expected


def test_bad_input_corpus_is_large_and_distinct() -> None:
    messages = [expected for _, _, expected in BAD_INPUT]
    assert len(set(messages)) == len(messages) >= 25


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    assert import_error(tmp_path, path) == "nowhere.csv: cannot read: No such file or directory"


def test_rows_at_the_length_limits_import(tmp_path: Path) -> None:
    line = ("古田会议会址位于上杭县古田镇。" * 14)[:199]
    summary = "\n".join([line] * 10) + "。"  # 1,991 characters, 9 line breaks
    item = {
        "id": "x" * 200,
        "kind": "exhibit",
        "title": ("古田会议会址" * 34)[:200],
        "summary": summary,
        "url": "https://example.org/" + "p" * 1980,
        "tags": [f"标签{i:02d}" + "签" * 46 for i in range(20)],
    }
    path = write(tmp_path, "c.json", json.dumps([item], ensure_ascii=False))
    [resource] = read_catalogue(path, kinds=KINDS)
    assert (len(resource.id), len(resource.title), len(resource.summary)) == (200, 200, 2000)
    assert len(resource.url) == 2000
    assert len(resource.tags) == 20 and {len(t) for t in resource.tags} == {50}


def test_a_field_over_its_limit_is_named_in_chinese(tmp_path: Path) -> None:
    item = {"id": "a", "kind": "exhibit", "title": "A", "summary": "简" * 2001}
    path = write(tmp_path, "c.yaml", json.dumps([item], ensure_ascii=False))
    with pytest.raises(ImportFileError) as caught:
        read_catalogue(path, kinds=KINDS)
    assert caught.value.in_language("zh").endswith("字段“简介”：长 2001 个字符（最多 2000 个）")
    item = {"id": "a", "kind": "exhibit", "title": "A", "tags": [str(i) for i in range(21)]}
    path = write(tmp_path, "c.json", json.dumps([item]))
    with pytest.raises(ImportFileError) as caught:
        read_catalogue(path, kinds=KINDS)
    assert caught.value.in_language("zh").endswith("字段“标签”：有 21 个标签（最多 20 个）")


@pytest.mark.parametrize(
    "text",
    ["古田会议会址", "Café au lait, naïve «quoted» à la carte", "São Paulo – 1929", "tab\tok"],
)
def test_ordinary_text_is_not_mistaken_for_damage(text: str) -> None:
    assert text_problem(text, multiline=True) is None


# --- the sample catalogue shipped with the project ------------------------------------------


def test_sample_catalogue_is_gbk_with_crlf_as_excel_writes_it() -> None:
    raw = sample_catalogue_path().read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.count(b"\r\n") == raw.count(b"\n") > 30
    assert detect_encoding(sample_catalogue_path()) == "gb18030"


def test_sample_catalogue_parses_with_the_seed_resources() -> None:
    resources = read_catalogue(sample_catalogue_path(), kinds=KINDS)
    kinds = Counter(r.kind for r in resources)
    assert kinds["platform"] >= 4
    assert kinds["exhibit"] >= 20
    assert kinds["lesson"] >= 1
    assert kinds["course"] >= 1
    titles = {r.title for r in resources}
    assert {"智慧团建", "青年大学习", "学习强国", "福建省爱国主义教育数字展馆"} <= titles
    assert {"古田会议会址", "长汀红色旧址群", "王台生态文明基地"} <= titles
    for resource in resources:
        assert Path(resource.cover).is_file()
        assert Path(resource.cover).stat().st_size < 64 * 1024


def test_sample_summaries_are_plain_simplified_chinese() -> None:
    to_simplified = opencc.OpenCC("t2s")
    annotation = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
    for resource in read_catalogue(sample_catalogue_path(), kinds=KINDS):
        for text in (resource.title, resource.summary):
            assert text
            assert to_simplified.convert(text) == text, text
            assert not annotation.search(text), text
            assert not re.search("[A-Za-z]", text), text


@pytest.mark.parametrize(
    "cover",
    [
        "http://127.0.0.1:18401/x.png",
        "http://[::1]/x.png",
        "http://localhost/x.png",
        "https://cdn.localhost./x.png",
        "http://10.1.2.3/x.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/x.png",
        # The shorthands a resolver reads as 127.0.0.1 and 10.0.0.1 (security re-check 5, N4).
        "http://2130706433/x.png",
        "http://0x7f000001/x.png",
        "http://127.1/x.png",
        "http://0177.0.0.1/x.png",
        "http://10.1/x.png",
        # The host as the image fetcher reads it (IDNA with NFKC) is local (review 6, M1).
        "http://１２７.0.0.1/x.png",
        "http://127。0。0。1/x.png",
        "http://①②⑦.0.0.1/x.png",
        "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/x.png",
        "http://ｌｏｃａｌｈｏｓｔ./x.png",
        "http://１２７.1/x.png",
        "http://[fe80::1%25eth0]/x.png",
    ],
)
def test_a_cover_url_naming_a_local_host_is_refused_at_import(tmp_path: Path, cover: str) -> None:
    """Security re-checks 3 and 4, S6, and review 6, M1: such a row was imported, then made
    every automatic draft of its column fail when the service (normalising the host first,
    for the spellings from M1) refused to fetch its cover."""
    path = tmp_path / "c.csv"
    path.write_text(f"id,kind,title,cover\nr1,platform,T,{cover}\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"c.csv:2: field 'cover'.*not public"):
        read_catalogue(path, kinds=BUILTIN_KINDS)


@pytest.mark.parametrize(
    "cover",
    [
        "http://%31%32%37.0.0.1/x.png",  # review 6, M1: a percent-escaped host
        "http://%65xample.org/x.png",
        "http://editor:secret@img.example.org/x.png",  # the fetcher refuses credentials
    ],
)
def test_a_cover_url_the_fetcher_refuses_unread_is_refused(tmp_path: Path, cover: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"id,kind,title,cover\nr1,platform,T,{cover}\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"c.csv:2: field 'cover'.*cannot be fetched"):
        read_catalogue(path, kinds=BUILTIN_KINDS)


@pytest.mark.parametrize(
    "cover",
    [
        # A public address, but drafting's cover check reads only dotted addresses.
        "http://134744072/x.png",
        "http://intranet/x.png",  # one label
        "http://img_1.example.org/x.png",
        "http://img.example.org:0/x.png",
    ],
)
def test_a_cover_drafting_would_refuse_is_refused_at_import(tmp_path: Path, cover: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"id,kind,title,cover\nr1,platform,T,{cover}\n", encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        read_catalogue(path, kinds=BUILTIN_KINDS)
    error = caught.value
    assert error.fields["field"] == "cover"
    assert "c.csv:2: field 'cover':" in str(error)
    assert "(cover.invalid); drafting refuses such a cover" in str(error)
    assert "封面" in error.in_language("zh") and "起草时会拒绝" in error.in_language("zh")
    # bot check reads with text_checks=False and reports the cover finding per row itself.
    assert [r.cover for r in iter_catalogue(path, kinds=BUILTIN_KINDS, text_checks=False)] == [
        cover
    ]


@pytest.mark.parametrize(
    "cover",
    [
        "https://img.example.org/x.png",
        "http://8.8.8.8/x.png",
        "http://例子.中国/x.png",
        "https://xn--fsqu00a.xn--fiqs8s/x.png",
        "https://ｉｍｇ.example.org/x.png",
        "https://img.example.org./x.png",
        "http://[2001:4860:4860::8888]/x.png",
        "HTTPS://IMG.example.org:8443/x.png",
    ],
)
def test_a_cover_url_on_a_public_host_is_taken(tmp_path: Path, cover: str) -> None:
    path = tmp_path / "c.csv"
    path.write_text(f"id,kind,title,cover\nr1,platform,T,{cover}\n", encoding="utf-8")
    assert read_catalogue(path, kinds=BUILTIN_KINDS)[0].cover == cover
