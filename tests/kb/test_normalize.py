import pytest

from kb.normalize import normalize


@pytest.mark.parametrize("text, expected", [
    ("退貨要幾天內申請？", "退货要几天内申请"),
    ("ＡＢＣ１２３　Hello!!", "abc123 hello"),
    ("  How   LONG?\n\t", "how long"),
    ("我的 Order 還沒 ship 😡", "我的 order 还没 ship"),
    ("😀😀🎉", ""),
    ("？！…,.", ""),
    ("", ""),
])
def test_normalize(text, expected):
    assert normalize(text) == expected
