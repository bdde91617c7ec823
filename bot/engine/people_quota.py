"""What people's requests may spend of an account's daily platform quota.

The platform counts each account's calls per Beijing day and refuses past its quota until
midnight (45009); publishing needs `draft/add`, `material/add_material` and
`media/uploadimg` like everyone. A reviewer's previews (a draft and a mass/preview each) and
an editor's images (re-hosted with media/uploadimg) are spent on a person's request, and one
person's flood of them once used up `draft/add` and parked every post of the account until
midnight (security re-check 21, H1 and M1). So calls made on a person's request may take at
most PEOPLE_SHARE of each endpoint's daily quota, and none once all calls have reached
PEOPLE_CEILING, the rest kept for the schedules and the publisher; each person has a daily
count of previews and of uploaded images; and staging drafts ahead stops at STAGING_SHARE.

People's counts are kept in this process (a restart starts them again); the ceilings are
read from the calls the account has made today, which every process records in the
database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.errors import UserError
from bot.engine.quota import quota_day
from bot.engine.turns import BusyError, Turns
from bot.i18n import Text
from bot.store import accounts as account_store

# Of each endpoint's daily quota, what calls made on people's requests may use together
# (counted by this process), and what all calls may have used before people's are refused
# (as the database records them): publishing keeps at least the rest.
PEOPLE_SHARE = 0.5
PEOPLE_CEILING = 0.8
# What staging drafts ahead of their slots (the stager, on no one's request: an edit of a
# staged post makes it add a new draft) may have used of the quota before it leaves the
# drafts to the slots; people's share is counted apart, so edits cannot use it up
# (security re-check 23, M1).
STAGING_SHARE = 0.5
# What one person may spend a (Beijing) day on one account: previews sent to WeChat (each
# a draft/add and a mass/preview, of 1,000 and 100 a day), images uploaded for articles
# (media/uploadimg, 1,000 a day; an image already uploaded costs nothing).
PER_PERSON: Mapping[str, int] = {
    "message/mass/preview": 10,
    "media/uploadimg": 200,
    # Retries of failed posts (and "submit again" of one that needed attention): each a new
    # draft and submit by the publisher (freepublish/submit: 100 a day).
    "freepublish/submit": 10,
}

_spent: dict[tuple[str, str, str, date], int] = {}


class QuotaShareError(UserError):
    """A person's request would spend platform quota kept for publishing, or more than their
    own daily count."""

    http_status = 429


async def spend(
    engine: AsyncEngine,
    account: str,
    daily: Mapping[str, int],
    person: str,
    endpoint: str,
    now: datetime,
    *,
    also: Sequence[str] = (),
) -> None:
    """Count one ``endpoint`` call (with the calls in ``also`` it brings) on ``person``'s
    request to ``account``, whose daily quotas are ``daily``; raises QuotaShareError, before
    anything is called, when the person's count for today is spent, when people's calls of
    any of them today have reached PEOPLE_SHARE of its quota, or when all calls of any of them
    today (people's, the stager's, publishing's) have reached PEOPLE_CEILING. Nobody's (""
    : schedules, the publisher, the CLI) is not counted."""
    if not person:
        return
    day = quota_day(now)
    for stale in [k for k in _spent if k[3] != day]:
        del _spent[stale]
    allowed = PER_PERSON.get(endpoint)
    if allowed is not None and _spent.get((account, person, endpoint, day), 0) >= allowed:
        raise QuotaShareError(
            Text(
                "you have used your {count} {endpoint} calls of today on account {account}: "
                "try again tomorrow (Beijing time)",
                {"count": allowed, "endpoint": endpoint, "account": account},
            )
        )
    for each in (endpoint, *also):
        share = int(daily.get(each, 0) * PEOPLE_SHARE)
        if _people_calls(account, each, day) >= share:
            raise _used_up(account, each, share)
    keys = [(account, person, each, day) for each in (endpoint, *also)]
    for key in keys:  # before the read below: requests side by side count
        _spent[key] = _spent.get(key, 0) + 1
    try:
        if spent := await share_spent(
            engine, account, daily, (endpoint, *also), now, share=PEOPLE_CEILING
        ):
            raise _used_up(account, *spent)
    except BaseException:
        for key in keys:
            _spent[key] -= 1  # not spent after all
        raise


def _people_calls(account: str, endpoint: str, day: date) -> int:
    return sum(n for (a, _, e, d), n in _spent.items() if (a, e, d) == (account, endpoint, day))


def _used_up(account: str, endpoint: str, share: int) -> QuotaShareError:
    return QuotaShareError(
        Text(
            "the {endpoint} calls of today that people may make on account "
            "{account} are used up ({share}), the rest of the quota is kept for "
            "publishing: try again tomorrow (Beijing time)",
            {"endpoint": endpoint, "account": account, "share": share},
        )
    )


async def share_spent(
    engine: AsyncEngine,
    account: str,
    daily: Mapping[str, int],
    endpoints: Sequence[str],
    now: datetime,
    *,
    share: float = STAGING_SHARE,
) -> tuple[str, int] | None:
    """The first of ``endpoints`` whose calls today on ``account`` (everyone's, as the
    database records them) have reached ``share`` of its daily quota, with that many calls;
    None while all are below. Work that can be left to the slot (staging a draft ahead) stops
    at STAGING_SHARE: the slot's own calls always have the rest (security re-check 22, H1)."""
    async with engine.connect() as conn:
        used = await account_store.calls_on(conn, account, quota_day(now))
    for each in endpoints:
        limit = int(daily.get(each, 0) * share)
        if used.get(each, 0) >= limit:
            return each, limit
    return None


class PreviewsBusyError(BusyError):
    """Too many previews being sent, or this person's previous one still is."""

    sentence = "too many previews are being sent; try again in a moment"
    own_sentence = "your previous preview is still being sent; try again when it is done"


# Previews sent to WeChat: two at once, a few waiting, one of a person's at a time.
PREVIEWS = Turns(2, 8, PreviewsBusyError)
