import pytest

from common.lang import detect_language, fold
from gateway.chat import ChatError, check_client_id, clean_text


def test_clean_text_strips_controls_and_shortens_with_notice():
    assert clean_text("  hi\x00 there \x07", 100) == ("hi there", None)
    text, notice = clean_text("退" * 5000, 2000)
    assert len(text) == 2000 and "2000" in notice


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01", None, 42, ["hi"]])
def test_clean_text_rejects_empty_and_non_strings(bad):
    with pytest.raises(ChatError) as err:
        clean_text(bad, 100)
    assert err.value.code in ("empty_message", "invalid_text")


@pytest.mark.parametrize("bad", ["", "x" * 65, None, 7])
def test_client_id_must_be_a_short_string(bad):
    with pytest.raises(ChatError):
        check_client_id(bad)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("退貨要幾天內申請？", "zh-Hant"),
        ("退货期限是多久", "zh-Hans"),
        ("How long do I have to return an item?", "en"),
        ("我的 order 還沒 ship 耶", "zh-Hant"),
        ("我的 order 还没 ship", "zh-Hans"),
        ("部機壞咗點算", "zh-Hant"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_ambiguous_chinese_keeps_the_conversation_language():
    assert detect_language("我要退款", default="zh-Hans") == "zh-Hans"
    assert detect_language("我要退款", default="zh-Hant") == "zh-Hant"
    assert detect_language("👍", default="zh-Hans") == "zh-Hans"


def test_fold_keeps_length_and_unifies_scripts():
    for text in ("退貨要幾天內申請？", "ＡＢＣ退货", "Hello 世界"):
        assert len(fold(text)) == len(text)
    assert fold("退貨") == fold("退货")


def test_order_numbers_links_and_digits_keep_the_conversation_language():
    assert detect_language("LM20240512", default="zh-Hans") == "zh-Hans"
    assert detect_language("12345 https://lumen.example/x", default="zh-Hant") == "zh-Hant"
    assert detect_language("LM20240512 please", default="zh-Hant") == "en"
