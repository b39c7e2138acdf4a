"""Masking of phone numbers, e-mail addresses and card numbers (crm.privacy_mask)."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from crm.privacy_mask import MaskingFilter, luhn_ok, mask_email, mask_record, mask_text

# (input, expected) -- the hint keeps separators, about the first 4 and the last 3 digits.
POSITIVE = [
    # Taiwan
    ("0912-345-678", "0912-***-678"),
    ("0912345678", "0912***678"),
    ("0912 345 678", "0912 *** 678"),
    ("+886 912 345 678", "+886 9** *** 678"),
    ("+886-912-345-678", "+886-9**-***-678"),
    ("+886912345678", "+8869*****678"),
    ("886912345678", "8869*****678"),
    ("(02) 2345-6789", "(02) 23**-*789"),
    ("02-2345-6789", "02-23**-*789"),
    ("04-2345-6789", "04-23**-*789"),
    ("037-123456", "037-***456"),
    # Hong Kong
    ("5123 4567", "51** *567"),
    ("9123-4567", "91**-*567"),
    ("21234567", "21***567"),
    ("+852 5123 4567", "+852 5*** *567"),
    ("(852) 9123 4567", "(852) 9*** *567"),
    ("852 6123 4567", "852 6*** *567"),
    # mainland China
    ("13812345678", "1381****678"),
    ("138-1234-5678", "138-1***-*678"),
    ("138 1234 5678", "138 1*** *678"),
    ("+86 138 1234 5678", "+86 13* **** *678"),
    ("010-12345678", "010-1****678"),
    ("0755-12345678", "0755-*****678"),
    # other international formats
    ("+1 (415) 555-2671", "+1 (415) ***-*671"),
    ("+44 20 7946 0958", "+44 20 **** *958"),
    ("+65 6123 4567", "+65 61** *567"),
    ("00886912345678", "0088*******678"),
    # fullwidth digits (CJK input methods)
    ("０９１２３４５６７８", "０９１２***６７８"),
    # e-mail
    ("ann.lee@example.com", "a***@example.com"),
    ("a@example.com", "a***@example.com"),
    ("first.last+tag@mail.example.co.uk", "f***@mail.example.co.uk"),
    ("Tai.Man@EXAMPLE.com", "T***@EXAMPLE.com"),
    ("abc＠example.com", "a***＠example.com"),
    # cards (Luhn-valid)
    ("4111 1111 1111 1111", "**** **** **** 1111"),
    ("4111-1111-1111-1111", "****-****-****-1111"),
    ("4111111111111111", "************1111"),
    ("5555 5555 5555 4444", "**** **** **** 4444"),
    ("3782 822463 10005", "**** ****** *0005"),
    ("4222222222222", "*********2222"),
    ("6011 0009 9013 9424", "**** **** **** 9424"),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE)
def test_masks_alone_and_in_context(text, expected):
    assert mask_text(text) == expected
    assert mask_text(f"請致電 {text} 謝謝") == f"請致電 {expected} 謝謝"
    assert mask_text(f"電話：{text}，") == f"電話：{expected}，"
    assert mask_text(f"Reach me at {text}.") == f"Reach me at {expected}."
    assert mask_text(f"({text})") == f"({expected})" or text.startswith("(")


def test_masks_glued_to_cjk_text():
    assert mask_text("我的電話0912345678請回電") == "我的電話0912***678請回電"
    assert mask_text("我的電郵是abc@example.com。") == "我的電郵是a***@example.com。"
    assert mask_text("tel:+886912345678") == "tel:+8869*****678"
    assert mask_text("?phone=0912345678&x=1") == "?phone=0912***678&x=1"


def test_several_values_in_one_text():
    text = (
        "Customer ann@example.com (0912-345-678, HK 5123 4567) paid with 4111 1111 1111 1111 "
        "for order LM12345678 on 2024-03-01, NT$1,299."
    )
    assert mask_text(text) == (
        "Customer a***@example.com (0912-***-678, HK 51** *567) paid with **** **** **** 1111 "
        "for order LM12345678 on 2024-03-01, NT$1,299."
    )
    assert mask_text("on 2024-03-01 call 0912345678") == "on 2024-03-01 call 0912***678"
    assert mask_text("0912 345 678 / 0912-345-679") == "0912 *** 678 / 0912-***-679"


NEGATIVE = [
    # order numbers, however typed
    "LM12345678",
    "order LM12345678",
    "lm12345678",
    "LM-1234-5678",
    "LM 5123 4567",
    "lm 5123-4567",
    "訂單LM00001234",
    "訂單 51234567",
    "订单号 51234567",
    "order no. 51234567",
    "order #51234567",
    "Order: 91234567",
    # ticket / case / conversation ids
    "ticket #51234567",
    "ticket 51234567",
    "ticket:12345678",
    "#12345",
    "T-2024-0001",
    "TKT-20240301-0001",
    "工單編號：51234567",
    "case 91234567",
    "ref 21234567",
    "conversation 51234567",
    "customer 91234567",
    "id 51234567",
    # prices and amounts
    "NT$1,299",
    "NT$12,990",
    "HK$ 51234567",
    "HK$5123.50",
    "$12345678",
    "¥3,000.50",
    "12345678元",
    "51234567 HKD",
    "TWD 91234567",
    "5123.4567",
    "1,234,567,890",
    "0.91234567",
    # dates, times and years
    "2024-03-01",
    "20240301",
    "2024/03/01",
    "01/03/2024",
    "03-01-2024",
    "2024.03.01",
    "2023-2024",
    "2024-03-01T12:30:00Z",
    "2024-03-01 12:30",
    "12:30-18:00",
    "2024年3月1日",
    # other numbers
    "12345678",
    "1234567",
    "123",
    "v1.2.3",
    "192.168.100.200",
    "550e8400-e29b-41d4-a716-446655440000",
    "4111 1111 1111 1112",
    "4111111111111112",
    "12345678901234567890",
    "SF1234567890123",
    "0912345678abc",
    "qty 3 x 88.00",
    # not e-mail addresses
    "@username",
    "foo@localhost",
    "a@b",
    "user at example dot com",
    "x@y.z",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_leaves_non_personal_numbers_alone(text):
    assert mask_text(text) == text
    assert mask_text(f"見 {text} 。") == f"見 {text} 。"


@pytest.mark.parametrize("text", [t for t, _ in POSITIVE] + NEGATIVE)
def test_idempotent(text):
    once = mask_text(text)
    assert mask_text(once) == once


def test_non_strings_and_empty_pass_through():
    assert mask_text("") == ""
    assert mask_text(None) is None  # type: ignore[arg-type]
    assert mask_text("no digits, no at-sign") == "no digits, no at-sign"


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("378282246310005")
    assert not luhn_ok("4111111111111112")


def test_mask_email_helper():
    assert mask_email("ann@example.com") == "a***@example.com"
    assert mask_email("not-an-address") == "***"


def test_mask_record_deep_copy_and_sensitive_keys():
    at = datetime(2024, 3, 1, tzinfo=timezone.utc)
    record = {
        "id": 51234567,
        "order_number": "LM12345678",
        "total": Decimal("1299.00"),
        "created_at": at,
        "email": "ann@example.com",
        "phone": "12345",  # under a sensitive key: masked even if not phone-like
        "mobile": 912345678,  # numbers under sensitive keys too
        "contact_email": "weird-address",
        "card_number": "4111111111111112",  # not Luhn-valid but under a card key
        "preferences": {"contact": "sms", "notes": "call 0912-345-678 after 6pm"},
        "messages": [
            {"text": "my card is 4111 1111 1111 1111", "direction": "customer"},
            {"text": "Your order LM12345678 ships on 2024-03-01", "direction": "bot"},
        ],
        "tags": ("vip", "ann@example.com"),
        "consent": True,
        "missing": None,
    }
    masked = mask_record(record)
    assert masked["id"] == 51234567 and masked["order_number"] == "LM12345678"
    assert masked["total"] == Decimal("1299.00") and masked["created_at"] is at
    assert masked["email"] == "a***@example.com"
    assert masked["phone"] == "***45"
    assert masked["mobile"] == "*******78"
    assert masked["contact_email"] == "***"
    assert masked["card_number"] == "************1112"
    assert masked["preferences"] == {"contact": "sms", "notes": "call 0912-***-678 after 6pm"}
    assert masked["messages"][0]["text"] == "my card is **** **** **** 1111"
    assert masked["messages"][1]["text"] == "Your order LM12345678 ships on 2024-03-01"
    assert masked["tags"] == ("vip", "a***@example.com")
    assert masked["consent"] is True and masked["missing"] is None
    # the input is untouched
    assert record["email"] == "ann@example.com"
    assert record["messages"][0]["text"] == "my card is 4111 1111 1111 1111"
    assert mask_record([{"Phone": "0912345678"}]) == [{"Phone": "0912***678"}]


def _logger():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test_privacy_mask.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    handler.addFilter(MaskingFilter())
    return logger, stream


def test_masking_filter_masks_message_args_and_exceptions():
    logger, stream = _logger()
    logger.info("customer %s called from %s about %s", "ann@example.com", "0912-345-678", "LM12345678")
    logger.info("mapping args %(phone)s", {"phone": "+852 5123 4567"})
    logger.warning("literal 4111 1111 1111 1111 in the template, %d items, %.1f%%", 3, 12.5)
    logger.info("dict arg %s", {"email": "bob@example.org", "n": 1})

    class Obj:
        def __str__(self):
            return "Obj(phone=0912345678)"

    logger.info("object %s", Obj())
    try:
        raise ValueError("duplicate key: email=carol@example.com phone=13812345678")
    except ValueError:
        logger.exception("insert failed for %s", "carol@example.com")
    out = stream.getvalue()
    assert "ann@example.com" not in out and "a***@example.com" in out
    assert "0912-***-678" in out and "LM12345678" in out
    assert "+852 5*** *567" in out
    assert "**** **** **** 1111" in out and "3 items, 12.5%" in out
    assert "b***@example.org" in out and "'n': 1" in out
    assert "Obj(phone=0912***678)" in out
    assert "carol@example.com" not in out and "c***@example.com" in out
    assert "13812345678" not in out and "1381****678" in out
    assert "ValueError" in out


def test_masking_filter_keeps_args_tuple_for_formatters():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api?phone=0912345678", "1.1", 200),
        None,
    )
    assert MaskingFilter().filter(record) is True
    assert isinstance(record.args, tuple) and len(record.args) == 5
    assert record.args[2] == "/api?phone=0912***678" and record.args[4] == 200
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api?phone=0912***678 HTTP/1.1" 200'


def test_install_log_masking_covers_handlers_added_later(monkeypatch):
    import crm.privacy_mask as pm

    monkeypatch.setattr(pm, "_installed", False)
    previous = logging.getLogRecordFactory()
    try:
        pm.install_log_masking()
        pm.install_log_masking()  # idempotent
        stream = io.StringIO()
        logger = logging.getLogger("test_privacy_mask.installed")
        logger.propagate = False
        logger.addHandler(logging.StreamHandler(stream))  # no filter on it
        logger.warning("reply to %s", "dan@example.net")
        assert stream.getvalue().strip() == "reply to d***@example.net"
    finally:
        logging.setLogRecordFactory(previous)
