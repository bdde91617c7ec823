"""Times people type: daylight-saving edges."""

ZH: dict[str, str] = {
    "{what}: {text} does not exist in {zone} (the clocks skip it when daylight saving "
    "starts); give another time or an offset, e.g. {example}": (
        "{what}：{text} 在 {zone} 不存在（夏令时开始时钟表跳过了这段时间）；请换一个时间或写明时差，例如 {example}"
    ),
    "{what}: {text} happens twice in {zone} (the clocks go back); say which with an offset: "
    "{first} or {second}": (
        "{what}：{text} 在 {zone} 出现两次（夏令时结束时钟表回拨）；请写明时差：{first} 或 {second}"
    ),
}
