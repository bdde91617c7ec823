"""The push wire format: signatures against the official worked examples, safe-mode crypto
against a fixed vector (cross-checked with wechatpy), and event parsing."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import PrpCrypto

from bot.account.callback import (
    ArticleLink,
    MassSendJobFinish,
    MessageCrypto,
    OtherEvent,
    PublishJobFinish,
    answer_url_verification,
    build_push,
    check_signature,
    dedupe_key,
    msg_signature,
    open_push,
    parse_event,
    render_event,
    url_signature,
)
from bot.domain.errors import ConfigError, ForbiddenError, UserError

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wx1234567890abcdef"
RANDOM16 = b"0123456789abcdef"
VECTOR_XML = (
    "<xml><ToUserName><![CDATA[gh_51a0000000001]]></ToUserName>"
    "<Content><![CDATA[你好]]></Content></xml>"
)
# Derived once with fixed random bytes; wechatpy's PrpCrypto gives the same (checked below).
VECTOR = (
    "Q3stYC6hdFzMh9T8HCvyDK4JR9et8fPAZStAE8qttlk2VwVYUm53U0pd7Y2yjZTnaAoPaiPzZhyozDp+QUSR/ddf"
    "jdx2eLAp8FGdcoG4SQTDY32htQRsOKzZm0lXqVH0FMMwi2obt+QBa6siA3ez0ABtHlu3lD/maQ2WVd3SJOoW+5cq"
    "IgpbdXrc4YmRTgGd4nQH6c9Fd8HlBDKof8zFcQ=="
)


def fixed_crypto(appid: str = APPID) -> MessageCrypto:
    return MessageCrypto("tok", KEY, appid, random_bytes=lambda n: RANDOM16[:n])


# --- signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "nonce", "expected"),
    [
        ("1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd1441696"),
        ("1714037059", "486452656", "899cf89e464efb63f54ddac96b0a0a235f53aa78"),
    ],
)
def test_official_signature_examples(timestamp: str, nonce: str, expected: str) -> None:
    assert url_signature("AAAAA", timestamp, nonce) == expected
    assert check_signature("AAAAA", expected, timestamp, nonce)
    assert not check_signature("AAAAB", expected, timestamp, nonce)
    assert not check_signature("AAAAA", expected, timestamp, nonce + "1")


def test_check_signature_survives_non_ascii_input() -> None:
    assert not check_signature("AAAAA", "签名", "1714036504", "1514711492")


def test_url_verification_echoes_echostr_unchanged() -> None:
    query = {
        "signature": "f464b24fc39322e44b38aa78f5edd27bd1441696",
        "timestamp": "1714036504",
        "nonce": "1514711492",
        "echostr": "4375120948345356249",
    }
    assert answer_url_verification("AAAAA", query) == "4375120948345356249"
    with pytest.raises(ForbiddenError):
        answer_url_verification("wrong", query)
    with pytest.raises(UserError, match="echostr"):
        answer_url_verification("AAAAA", {k: v for k, v in query.items() if k != "echostr"})


def test_msg_signature_sorts_all_four_strings() -> None:
    parts = sorted(["tok", "1700000000", "nonce", "ENCRYPTED"])
    expected = hashlib.sha1("".join(parts).encode()).hexdigest()
    assert msg_signature("tok", "1700000000", "nonce", "ENCRYPTED") == expected


# --- safe mode ----------------------------------------------------------------------------


def test_known_vector_encrypts_and_decrypts() -> None:
    crypto = fixed_crypto()
    assert crypto.encrypt(VECTOR_XML) == VECTOR
    assert crypto.decrypt(VECTOR) == VECTOR_XML


def test_vector_matches_wechatpy_independent_implementation() -> None:
    prp = PrpCrypto(base64.b64decode(KEY + "="))
    prp.get_random_string = lambda: RANDOM16.decode()
    assert prp.encrypt(VECTOR_XML, APPID).decode() == VECTOR
    ours = MessageCrypto("tok", KEY, APPID).encrypt("<xml><A>1</A></xml>")
    assert prp.decrypt(ours, APPID) == "<xml><A>1</A></xml>"


def _pad_of(crypto_key: str, encrypt: str) -> int:
    key = base64.b64decode(crypto_key + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    return plain[-1]


def test_every_pad_length_round_trips_including_17_to_32() -> None:
    crypto = fixed_crypto()
    seen = set()
    for extra in range(32):
        xml_text = "<xml>" + "x" * extra + "</xml>"
        encrypt = crypto.encrypt(xml_text)
        seen.add(_pad_of(KEY, encrypt))
        assert crypto.decrypt(encrypt) == xml_text
    assert seen == set(range(1, 33))


def test_decrypt_checks_the_app_id() -> None:
    encrypt = fixed_crypto("wxOTHER").encrypt("<xml/>")
    with pytest.raises(UserError, match="another app id"):
        fixed_crypto().decrypt(encrypt)


@pytest.mark.parametrize("bad", ["not base64!!", base64.b64encode(b"short").decode(), ""])
def test_decrypt_refuses_garbage(bad: str) -> None:
    with pytest.raises(
        UserError, match=r"callback: <Encrypt> (is not valid base64|has the wrong length)"
    ):
        fixed_crypto().decrypt(bad)


def test_decrypt_refuses_a_wrong_key() -> None:
    other = MessageCrypto("tok", "B" * 43, APPID)
    with pytest.raises(UserError, match="does not decrypt with this EncodingAESKey"):
        other.decrypt(VECTOR)


def test_aes_key_must_have_43_characters() -> None:
    with pytest.raises(ConfigError, match="43"):
        MessageCrypto("tok", "short", APPID)


# --- pushes -------------------------------------------------------------------------------


def test_plain_push_round_trip() -> None:
    push = build_push("<xml/>", token="tok", timestamp=1700000000, nonce="42", to_user="gh_x")
    assert push.body == "<xml/>"
    assert push.query["signature"] == url_signature("tok", "1700000000", "42")
    assert "encrypt_type" not in push.query
    assert open_push(push.query, push.body, token="tok") == "<xml/>"
    with pytest.raises(ForbiddenError):
        open_push(push.query, push.body, token="other")


def test_safe_mode_push_round_trip_and_tampering() -> None:
    crypto = MessageCrypto("tok", KEY, APPID)
    push = build_push(
        VECTOR_XML, token="tok", timestamp=1700000000, nonce="7", to_user="gh_x", crypto=crypto
    )
    assert push.query["encrypt_type"] == "aes"
    assert "你好" not in push.body and "<Encrypt>" in push.body
    assert open_push(push.query, push.body, token="tok", crypto=crypto) == VECTOR_XML
    tampered = {**push.query, "msg_signature": "0" * 40}
    with pytest.raises(ForbiddenError, match="msg_signature"):
        open_push(tampered, push.body, token="tok", crypto=crypto)
    with pytest.raises(ConfigError):
        open_push(push.query, push.body, token="tok")


# --- events -------------------------------------------------------------------------------

OFFICIAL_SUCCESS = """<xml>
  <ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>
  <FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName>
  <CreateTime>1481013459</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[PUBLISHJOBFINISH]]></Event>
  <PublishEventInfo>
    <publish_id>2247503051</publish_id>
    <publish_status>0</publish_status>
    <article_id><![CDATA[
      b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4
    ]]></article_id>
    <article_detail>
      <count>1</count>
      <item><idx>1</idx><article_url><![CDATA[ARTICLE_URL]]></article_url></item>
    </article_detail>
  </PublishEventInfo>
</xml>"""


def test_parse_official_success_example() -> None:
    event = parse_event(OFFICIAL_SUCCESS)
    assert event == PublishJobFinish(
        to_user="gh_4d00ed8d6399",
        from_user="oV5CrjpxgaGXNHIQigzNlgLTnwic",
        create_time=1481013459,
        publish_id="2247503051",
        publish_status=0,
        article_id="b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4",
        articles=(ArticleLink(1, "ARTICLE_URL"),),
        fail_idx=(),
        event="PUBLISHJOBFINISH",
    )
    assert dedupe_key(event) == "publish:2247503051:0"


def _failure(event_name: str, fail_idx: list[int]) -> str:
    fails = "".join(f"<fail_idx>{i}</fail_idx>" for i in fail_idx)
    return (
        "<xml><ToUserName>gh_a</ToUserName><FromUserName>o_b</FromUserName>"
        f"<CreateTime>1</CreateTime><MsgType>event</MsgType><Event>{event_name}</Event>"
        f"<PublishEventInfo><publish_id> 17 </publish_id><publish_status>2</publish_status>"
        f"{fails}</PublishEventInfo></xml>"
    )


@pytest.mark.parametrize(
    ("name", "fail_idx"),
    [("PUBLISHJOBFINISH", [1, 2]), ("freepublishjobfinish", [3]), ("PublishJobFinish", [])],
)
def test_publish_event_variants_and_fail_idx_always_a_sequence(
    name: str, fail_idx: list[int]
) -> None:
    event = parse_event(_failure(name, fail_idx))
    assert isinstance(event, PublishJobFinish)
    assert event.publish_id == "17"
    assert event.publish_status == 2
    assert event.fail_idx == tuple(fail_idx)
    assert event.articles == ()


MASS_SEND = """<xml>
<ToUserName><![CDATA[gh_3e8adccde292]]></ToUserName>
<FromUserName><![CDATA[oR5Gjjl_eiZoUpGozMo7dbBJ362A]]></FromUserName>
<CreateTime>1394524295</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[MASSSENDJOBFINISH]]></Event>
<MsgID>1988</MsgID>
<Status><![CDATA[sendsuccess]]></Status>
<TotalCount>100</TotalCount>
<FilterCount>80</FilterCount>
<SentCount>75</SentCount>
<ErrorCount>5</ErrorCount>
</xml>"""


def test_parse_mass_send_event() -> None:
    event = parse_event(MASS_SEND)
    assert isinstance(event, MassSendJobFinish)
    assert (event.msg_id, event.status, event.total_count, event.sent_count) == (
        "1988",
        "sendsuccess",
        100,
        75,
    )
    assert dedupe_key(event) == "push:oR5Gjjl_eiZoUpGozMo7dbBJ362A:1394524295"


def test_other_pushes_are_other_events() -> None:
    xml_text = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName>"
        "<CreateTime>5</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>"
    )
    assert parse_event(xml_text) == OtherEvent("gh", "o1", 5, "text", "")


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><ToUserName>&a;</ToUserName></xml>',
        "<!doctype xml><xml/>",
        '<xml><!ENTITY x SYSTEM "file:///etc/passwd"></xml>',
    ],
)
def test_doctype_and_entities_are_refused(body: str) -> None:
    with pytest.raises(UserError, match="DOCTYPE or ENTITY"):
        parse_event(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<xml><ToUserName>", "well-formed"),
        ("<root/>", "root element"),
        (
            _failure("PUBLISHJOBFINISH", []).replace("<publish_id> 17 </publish_id>", ""),
            "publish_id",
        ),
        (
            _failure("PUBLISHJOBFINISH", []).replace("<CreateTime>1<", "<CreateTime>x<"),
            "CreateTime",
        ),
    ],
)
def test_malformed_events_name_what_is_wrong(body: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_event(body)


def test_rendered_events_parse_back_to_themselves() -> None:
    publish = PublishJobFinish(
        "gh_a",
        "o_b",
        1700000000,
        "2247483001",
        0,
        "AID",
        (ArticleLink(1, "https://mp.weixin.qq.com/s/a"), ArticleLink(2, "https://x/b]]>c")),
    )
    rejected = PublishJobFinish("gh_a", "o_b", 1700000001, "2247483002", 4, fail_idx=(1, 2))
    mass = MassSendJobFinish(
        "gh_a",
        "o_b",
        1700000002,
        "1000000007",
        "send success",
        10,
        10,
        9,
        1,
        (ArticleLink(1, "https://mp.weixin.qq.com/s/m"),),
    )
    for event in (publish, rejected, mass):
        assert parse_event(render_event(event)) == event
