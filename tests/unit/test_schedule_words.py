"""A schedule's cron in words on the schedules page, for the forms committees use."""

from __future__ import annotations

import pytest

from bot.i18n import translate
from bot.web.views.schedules import when_in_words


@pytest.mark.parametrize(
    ("when", "zh"),
    [
        ("cron * * * * *", "每分钟"),
        ("cron 0 8 * * mon-fri", "工作日 08:00"),
        ("cron 30 7 * * *", "每天 07:30"),
        ("cron 0 9 * * sat,sun", "周末 09:00"),
    ],
)
def test_common_crons_in_words(when: str, zh: str) -> None:
    found = when_in_words(when)
    assert found is not None
    assert translate("zh", found[0], **found[1]) == zh


@pytest.mark.parametrize("when", ["cron */5 8-18 * * *", "cron 0 8 1 * *", "08:00 every day"])
def test_other_forms_stay_as_written(when: str) -> None:
    assert when_in_words(when) is None
