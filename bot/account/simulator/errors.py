"""How the simulated platform refuses a call: an ``ApiFault`` carrying the errcode, answered as
``{"errcode": N, "errmsg": "... rid: xxx"}`` with HTTP 200 like the platform."""

from __future__ import annotations

from collections.abc import Mapping

# The platform's own errmsg texts where the reference quotes them, short English otherwise.
ERRMSGS: Mapping[int, str] = {
    -1: "system error",
    40001: (
        "invalid credential, access_token is invalid or not latest, could get access_token by "
        "getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"
    ),
    40002: "invalid grant_type",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40013: "invalid appid",
    40033: "invalid charset. please check your request, if include \\uxxxx will create fail!",
    40097: "invalid args",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    44002: "empty post data",
    44003: "empty news data",
    45002: "content size out of limit",
    45003: "title size out of limit",
    45004: "description size out of limit",
    45005: "content_source_url size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit must slower retry next minute",
    45028: "has no masssend quota",
    45065: "clientmsgid exist",
    45066: "clientmsgid retry too fast, please retry after 1 minute",
    45067: "clientmsgid size out of limit",
    45110: "author size out of limit",
    47001: "data format error",
    48001: "api unauthorized",
    48006: "forbid to clear quota because of reaching the limit",
    53502: "invalid publish_id",
    53600: "invalid article_id",
    76003: "cgi_path format error",
    76021: "cgi_path not found",
}


class ApiFault(Exception):
    """The simulated platform refuses the call with ``errcode``; ``extra`` fields are added to
    the answer (45065 carries the existing ``msg_id``)."""

    def __init__(self, errcode: int, detail: str = "", **extra: object) -> None:
        self.errcode = errcode
        self.detail = detail
        self.extra = extra
        super().__init__(f"{errcode} {self.errmsg_text}")

    @property
    def errmsg_text(self) -> str:
        text = ERRMSGS.get(self.errcode, "error")
        return f"{text} hint: [{self.detail}]" if self.detail else text

    def body(self, rid: str) -> dict[str, object]:
        return {"errcode": self.errcode, "errmsg": f"{self.errmsg_text} rid: {rid}", **self.extra}
