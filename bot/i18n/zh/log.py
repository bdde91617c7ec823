"""The publish log: steps and their details."""

ZH: dict[str, str] = {
    "No entries.": "没有记录。",
    "post": "文章",
}
