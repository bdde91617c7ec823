"""The platform's push wire format, shared by the service's receiver and the simulator's sender:
URL signatures, safe-mode (AES) encryption, and the event XML (PUBLISHJOBFINISH,
MASSSENDJOBFINISH) as typed dataclasses.

References: wechat-api.md §4.6 (publish event), §5.1 (signature), §5.3 (safe mode), §6.4
(mass-send event).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.domain.errors import ConfigError, ForbiddenError, UserError

PUBLISH_EVENTS = frozenset({"publishjobfinish", "freepublishjobfinish"})
MASS_SEND_EVENT = "masssendjobfinish"
MAX_SKEW_SECONDS = 300  # a push's timestamp may be this far from our clock, either way
BLOCK = 32  # safe mode pads to 32-byte blocks, not AES's 16 (§5.3)
# The platform gives an EncodingAESKey as 43 letters and digits (wechat-api.md §5.3); one with
# "+" or "/" (a base64 key made by hand) would decode, but never matches the platform's.
_AES_KEY_RE = re.compile(r"[A-Za-z0-9]{43}")
_FORBIDDEN_XML = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


# --- signatures ---------------------------------------------------------------------------


def _sorted_sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def url_signature(token: str, timestamp: str, nonce: str) -> str:
    """The ``signature`` query parameter of every push and of URL verification (§5.1)."""
    return _sorted_sha1(token, timestamp, nonce)


def check_signature(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """Whether ``signature`` was made with ``token``; compared in constant time."""
    expected = url_signature(token, timestamp, nonce).encode("ascii")
    return hmac.compare_digest(expected, signature.encode("utf-8"))


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The ``msg_signature`` of a safe-mode push: SHA-1 over the sorted four strings (§5.3)."""
    return _sorted_sha1(token, timestamp, nonce, encrypt)


def answer_url_verification(token: str, query: Mapping[str, str]) -> str:
    """The body to answer the platform's GET verification with: ``echostr`` unchanged.

    Raises ForbiddenError when the signature does not match, UserError when a parameter is
    missing. Safe mode does not change this check for official accounts (§5.1)."""
    sig, timestamp, nonce = _required(query, "signature", "timestamp", "nonce")
    if "echostr" not in query:
        raise UserError("callback verification: query parameter 'echostr' is missing")
    if not check_signature(token, sig, timestamp, nonce):
        raise ForbiddenError("callback verification: the signature does not match the token")
    return query["echostr"]


def _required(query: Mapping[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not query.get(name)]
    if missing:
        raise UserError(f"callback: query parameter {missing[0]!r} is missing")
    return [query[name] for name in names]


# --- safe mode ----------------------------------------------------------------------------


def is_encoding_aes_key(key: str) -> bool:
    """True when ``key`` has the EncodingAESKey's form: 43 ASCII letters and digits."""
    return _AES_KEY_RE.fullmatch(key) is not None


class MessageCrypto:
    """Safe-mode encryption for one account (§5.3): AES-256-CBC with IV = key[:16], PKCS#7
    padding to 32 bytes, plaintext = random(16) + len(4, big-endian) + xml + appid.

    ``random_bytes`` is injectable so tests can build known vectors."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        appid: str,
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not is_encoding_aes_key(encoding_aes_key):
            raise ConfigError("the EncodingAESKey must be 43 letters and digits")
        self.token = token
        self.appid = appid
        self._key = base64.b64decode(encoding_aes_key + "=")
        self._random_bytes = random_bytes

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, xml_text: str) -> str:
        """The base64 ciphertext of ``xml_text`` (what goes into ``<Encrypt>``)."""
        body = xml_text.encode("utf-8")
        plain = self._random_bytes(16) + struct.pack(">I", len(body)) + body
        plain += self.appid.encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK  # 1..32: a full block when already aligned
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypt: str) -> str:
        """The XML inside ``encrypt``. Raises UserError when it is not valid ciphertext for this
        key or was made for another app id."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise UserError("callback: <Encrypt> is not valid base64") from None
        if not data or len(data) % BLOCK:
            raise UserError("callback: <Encrypt> has the wrong length for AES-CBC")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise UserError("callback: <Encrypt> does not decrypt with this EncodingAESKey")
        content = plain[16:-pad]
        if len(content) < 4:
            raise UserError("callback: the decrypted message is too short")
        (length,) = struct.unpack(">I", content[:4])
        body, appid = content[4 : 4 + length], content[4 + length :]
        if len(body) != length:
            raise UserError("callback: the decrypted message length is inconsistent")
        if not hmac.compare_digest(appid, self.appid.encode("utf-8")):
            raise UserError("callback: the message was encrypted for another app id")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise UserError("callback: the decrypted message is not UTF-8") from None


# --- event XML ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArticleLink:
    idx: int  # 1-based position in the draft
    url: str


@dataclass(frozen=True, slots=True)
class PublishJobFinish:
    """PUBLISHJOBFINISH (or the older FREEPUBLISHJOBFINISH): a freepublish task ended."""

    to_user: str
    from_user: str
    create_time: int
    publish_id: str
    publish_status: int  # 0 success, 2 originality, 3 failure, 4 rejected, 5/6 later
    article_id: str = ""
    articles: tuple[ArticleLink, ...] = ()
    fail_idx: tuple[int, ...] = ()  # 1-based, always a sequence however many were sent
    event: str = "PUBLISHJOBFINISH"


@dataclass(frozen=True, slots=True)
class MassSendJobFinish:
    """MASSSENDJOBFINISH: a mass send ended (counts may be approximate, §6.4)."""

    to_user: str
    from_user: str
    create_time: int
    msg_id: str
    status: str  # "send success", "err(30003)", …
    total_count: int = 0
    filter_count: int = 0
    sent_count: int = 0
    error_count: int = 0
    articles: tuple[ArticleLink, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherEvent:
    """Any other push (user messages, menu events): acknowledged, not acted on."""

    to_user: str
    from_user: str
    create_time: int
    msg_type: str
    event: str = ""


Event = PublishJobFinish | MassSendJobFinish | OtherEvent


def _parse_xml(xml_text: str) -> ET.Element:
    # ElementTree expands internal entities; refusing DOCTYPE/ENTITY closes the XML bomb.
    if _FORBIDDEN_XML.search(xml_text):
        raise UserError("callback: XML with a DOCTYPE or ENTITY declaration is refused")
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise UserError(f"callback: the body is not well-formed XML ({exc})") from None
    if root.tag != "xml":
        raise UserError(f"callback: the root element is <{root.tag}>, expected <xml>")
    return root


def _text(parent: ET.Element, name: str, *, where: str, required: bool = True) -> str:
    child = parent.find(name)
    if child is None:
        if required:
            raise UserError(f"callback: {where} has no <{name}>")
        return ""
    return (child.text or "").strip()


def _int(parent: ET.Element, name: str, *, where: str, required: bool = True) -> int:
    text = _text(parent, name, where=where, required=required)
    if not text and not required:
        return 0
    try:
        return int(text)
    except ValueError:
        raise UserError(f"callback: {where} <{name}> is not a whole number: {text!r}") from None


def _links(
    parent: ET.Element | None, item: str, idx: str, url: str, where: str
) -> tuple[ArticleLink, ...]:
    if parent is None:
        return ()
    return tuple(
        ArticleLink(_int(node, idx, where=where), _text(node, url, where=where))
        for node in parent.iter(item)
    )


def parse_event(xml_text: str) -> Event:
    """The typed event in a (decrypted) push body. Raises UserError on malformed XML, on a
    DOCTYPE/ENTITY declaration, or on a publish event missing its fields."""
    root = _parse_xml(xml_text)
    to_user = _text(root, "ToUserName", where="the push")
    from_user = _text(root, "FromUserName", where="the push")
    create_time = _int(root, "CreateTime", where="the push")
    msg_type = _text(root, "MsgType", where="the push")
    event = _text(root, "Event", where="the push", required=False)
    name = event.lower()
    if msg_type.lower() == "event" and name in PUBLISH_EVENTS:
        info = root.find("PublishEventInfo")
        if info is None:
            raise UserError(f"callback: {event} has no <PublishEventInfo>")
        where = "<PublishEventInfo>"
        return PublishJobFinish(
            to_user=to_user,
            from_user=from_user,
            create_time=create_time,
            publish_id=_text(info, "publish_id", where=where),
            publish_status=_int(info, "publish_status", where=where),
            article_id=_text(info, "article_id", where=where, required=False),
            articles=_links(info.find("article_detail"), "item", "idx", "article_url", where),
            fail_idx=tuple(_int_of(node, where) for node in info.findall("fail_idx")),
            event=event,
        )
    if msg_type.lower() == "event" and name == MASS_SEND_EVENT:
        where = "MASSSENDJOBFINISH"
        msg_id = _text(root, "MsgID", where=where, required=False) or _text(
            root, "MsgId", where=where
        )
        url_result = root.find("ArticleUrlResult")
        return MassSendJobFinish(
            to_user=to_user,
            from_user=from_user,
            create_time=create_time,
            msg_id=msg_id,
            status=_text(root, "Status", where=where, required=False),
            total_count=_int(root, "TotalCount", where=where, required=False),
            filter_count=_int(root, "FilterCount", where=where, required=False),
            sent_count=_int(root, "SentCount", where=where, required=False),
            error_count=_int(root, "ErrorCount", where=where, required=False),
            articles=_links(
                url_result.find("ResultList") if url_result is not None else None,
                "item",
                "ArticleIdx",
                "ArticleUrl",
                where,
            ),
        )
    return OtherEvent(to_user, from_user, create_time, msg_type, event)


def _int_of(node: ET.Element, where: str) -> int:
    text = (node.text or "").strip()
    try:
        return int(text)
    except ValueError:
        raise UserError(f"callback: {where} <{node.tag}> is not a whole number: {text!r}") from None


def dedupe_key(event: Event) -> str:
    """What a repeated delivery of the same event shares: publish_id + status for publish events
    (robust across the event-name variants), FromUserName + CreateTime otherwise (§5.2)."""
    if isinstance(event, PublishJobFinish):
        return f"publish:{event.publish_id}:{event.publish_status}"
    return f"push:{event.from_user}:{event.create_time}"


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _envelope(to_user: str, from_user: str, create_time: int, event: str) -> list[str]:
    return [
        "<xml>",
        f"<ToUserName>{_cdata(to_user)}</ToUserName>",
        f"<FromUserName>{_cdata(from_user)}</FromUserName>",
        f"<CreateTime>{create_time}</CreateTime>",
        f"<MsgType>{_cdata('event')}</MsgType>",
        f"<Event>{_cdata(event)}</Event>",
    ]


def render_event(event: PublishJobFinish | MassSendJobFinish) -> str:
    """The XML the platform pushes for ``event``, in the documented shape (§4.6, §6.4)."""
    if isinstance(event, PublishJobFinish):
        lines = _envelope(event.to_user, event.from_user, event.create_time, event.event)
        lines += [
            "<PublishEventInfo>",
            f"<publish_id>{escape(event.publish_id)}</publish_id>",
            f"<publish_status>{event.publish_status}</publish_status>",
        ]
        if event.article_id:
            lines.append(f"<article_id>{_cdata(event.article_id)}</article_id>")
        if event.articles:
            lines.append(f"<article_detail><count>{len(event.articles)}</count>")
            lines += [
                f"<item><idx>{a.idx}</idx><article_url>{_cdata(a.url)}</article_url></item>"
                for a in event.articles
            ]
            lines.append("</article_detail>")
        lines += [f"<fail_idx>{idx}</fail_idx>" for idx in event.fail_idx]
        lines += ["</PublishEventInfo>", "</xml>"]
        return "\n".join(lines)
    lines = _envelope(event.to_user, event.from_user, event.create_time, "MASSSENDJOBFINISH")
    lines += [
        f"<MsgID>{escape(event.msg_id)}</MsgID>",
        f"<Status>{_cdata(event.status)}</Status>",
        f"<TotalCount>{event.total_count}</TotalCount>",
        f"<FilterCount>{event.filter_count}</FilterCount>",
        f"<SentCount>{event.sent_count}</SentCount>",
        f"<ErrorCount>{event.error_count}</ErrorCount>",
        f"<ArticleUrlResult><Count>{len(event.articles)}</Count><ResultList>",
    ]
    lines += [
        f"<item><ArticleIdx>{a.idx}</ArticleIdx><ArticleUrl>{_cdata(a.url)}</ArticleUrl></item>"
        for a in event.articles
    ]
    lines += ["</ResultList></ArticleUrlResult>", "</xml>"]
    return "\n".join(lines)


# --- a whole push, both ends --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Push:
    """One HTTP POST the platform makes to the callback URL."""

    query: dict[str, str]
    body: str


def build_push(
    xml_text: str,
    *,
    token: str,
    timestamp: int,
    nonce: str,
    to_user: str,
    openid: str = "",
    crypto: MessageCrypto | None = None,
) -> Push:
    """Sign (and, with ``crypto``, encrypt) ``xml_text`` the way the platform pushes it: plain
    mode sends the XML with ``signature``/``timestamp``/``nonce``; safe mode sends
    ``<xml><ToUserName/><Encrypt/></xml>`` and adds ``encrypt_type=aes`` and
    ``msg_signature``."""
    ts = str(timestamp)
    query = {"signature": url_signature(token, ts, nonce), "timestamp": ts, "nonce": nonce}
    if openid:
        query["openid"] = openid
    if crypto is None:
        return Push(query, xml_text)
    encrypt = crypto.encrypt(xml_text)
    query["encrypt_type"] = "aes"
    query["msg_signature"] = msg_signature(token, ts, nonce, encrypt)
    body = (
        f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
    )
    return Push(query, body)


def check_fresh(timestamp: str, now: datetime, *, max_skew: int = MAX_SKEW_SECONDS) -> None:
    """Refuse a push whose ``timestamp`` (Unix seconds) is more than ``max_skew`` seconds
    from ``now``: a signed URL seen once could otherwise be replayed for ever. Raises
    ForbiddenError (or UserError when it is not a number)."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise UserError(f"callback: timestamp {timestamp[:20]!r} is not a time in seconds")
    sent = int(timestamp)
    if abs(now.timestamp() - sent) > max_skew:
        raise ForbiddenError(
            f"callback: the timestamp is more than {max_skew // 60} minutes away from this "
            "server's clock (a replayed push, or a clock to set right)"
        )


def open_push(
    query: Mapping[str, str],
    body: str,
    *,
    token: str,
    crypto: MessageCrypto | None = None,
    now: datetime | None = None,
) -> str:
    """The event XML of a received push, after checking ``signature`` (every mode), with
    ``now`` the timestamp's freshness (``check_fresh``), and, when ``encrypt_type=aes``,
    ``msg_signature`` and decrypting. Raises ForbiddenError when a signature does not match,
    the timestamp is stale or a plain push arrives for an account in safe mode, UserError on
    a malformed push, ConfigError when a safe-mode push arrives for an account without an
    EncodingAESKey."""
    sig, timestamp, nonce = _required(query, "signature", "timestamp", "nonce")
    if not check_signature(token, sig, timestamp, nonce):
        raise ForbiddenError("callback: the signature does not match the token")
    if now is not None:
        check_fresh(timestamp, now)
    if query.get("encrypt_type", "raw").lower() != "aes":
        if crypto is not None:
            # The plain signature does not cover the body: an account in safe mode takes
            # only encrypted pushes, or anyone who saw one signed URL could forge events.
            raise ForbiddenError("callback: this account takes only safe-mode (aes) pushes")
        return body
    if crypto is None:
        raise ConfigError("callback: a safe-mode push arrived but no aes_key is configured")
    (given,) = _required(query, "msg_signature")
    encrypt = _text(_parse_xml(body), "Encrypt", where="the safe-mode push")
    expected = msg_signature(token, timestamp, nonce, encrypt).encode("ascii")
    if not hmac.compare_digest(expected, given.encode("utf-8")):
        raise ForbiddenError("callback: the msg_signature does not match the token")
    return crypto.decrypt(encrypt)
