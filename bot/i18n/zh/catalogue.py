"""The catalogue page and catalogue files (headers, kinds, import messages)."""

ZH: dict[str, str] = {
    "Kind": "类别",
    "Summary": "简介",
    "Tags": "标签",
    "Source": "来源",
    "Import a file": "导入文件",
    "Import": "导入",
    "File": "文件",
    "Imported": "已导入",
    "created": "新增",
    "updated": "更新",
    "The file was not imported:": "文件未导入：",
    "No resources found.": "没有找到资源。",
    "Previous": "上一页",
    "Next": "下一页",
}
