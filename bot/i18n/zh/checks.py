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
ZH.update(
    {
        "resource {id} was featured in column {column} on {date}, within its cooldown "
        "of {days} days; draft it again with --force (the admin's 'draft anyway')": (
            "资源 {id} 已于 {date} 在栏目 {column} 推送过，仍在 {days} 天的冷却期内；"
            "如确需再次推送，请加 --force（管理后台勾选“仍然起草”）"
        ),
        "draft anyway (the resource was featured within the cooldown)": "仍然起草（即使资源在冷却期内推送过）",
    }
)
