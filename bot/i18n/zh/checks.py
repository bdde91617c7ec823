"""Check findings on posts and catalogue rows (``bot check``, drafting, the admin)."""

ZH: dict[str, str] = {}
ZH.update(
    {
        "mixed encodings: line {utf8} is UTF-8 but line {other} is not; "
        "save the whole file in one encoding": "编码混杂：第 {utf8} 行是 UTF-8，第 {other} 行不是；"
        "请把整个文件存为同一种编码",
    }
)
ZH.update(
    {
        "{value} is not an image (its contents are not a known format)": (
            "{value} 不是图片（文件内容不是可识别的图片格式）"
        ),
    }
)
