"""Schedules and their slots."""

ZH: dict[str, str] = {
    "Next fire times": "下次触发时间",
    "Pause": "暂停",
    "Resume": "恢复",
    "paused": "已暂停",
    "active": "运行中",
    "The scheduler is not running in this process.": "本进程没有运行调度器。",
    "No schedules.": "没有发布计划。",
    "When the queue is empty": "队列为空时",
    "skip the slot": "跳过这个时段",
    "draft one from the catalogue": "从资源目录起草一篇",
    "every minute": "每分钟",
    "every day at {at}": "每天 {at}",
    "on weekdays at {at}": "工作日 {at}",
    "at weekends at {at}": "周末 {at}",
    "{n} s early": "提前 {n} 秒",
}
