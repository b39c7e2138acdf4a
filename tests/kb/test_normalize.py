import pytest

from kb.normalize import normalize


@pytest.mark.parametrize(
    "text, expected",
    [
        ("退貨要幾天內申請？", "退货要几天内申请"),
        ("ＡＢＣ１２３　Hello!!", "abc123 hello"),
        ("  How   LONG?\n\t", "how long"),
        ("我的 Order 還沒 ship 😡", "我的 order 还没 ship"),
        ("😀😀🎉", ""),
        ("？！…,.", ""),
        ("", ""),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我張單而家去到邊", "我张单现在去到哪"),  # 而家 marks Cantonese; 边 then folds in context
        ("點解我嘅訂單冇咗", "为什么我的订单没有了"),
        ("我係VIP，係咪有優惠", "我是vip 是不是有优惠"),
        ("買咗唔啱心水可唔可以退", "买了不对心水可不可以退"),
        ("個包裹放咗喺邊度", "个包裹放了在哪里"),
        ("同我聯繫啦，佢話系統壞咗", "同我联系啦 他话系统坏了"),  # 联系 / 系统 keep their 系
        ("旁邊嗰間店", "旁边那间店"),  # 嗰 arrives as 𠮶 after T->S
    ],
)
def test_written_cantonese_is_folded_to_mandarin(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["系统说我的订单已取消", "请联系客服", "旁边的店几点开门", "你呢"])
def test_mandarin_is_not_touched_by_cantonese_folding(text):
    assert normalize(text) == text
