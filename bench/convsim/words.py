"""How customers of each language say the usual things when a conversation's facts do not say."""
from __future__ import annotations

DEFAULTS: dict[str, dict[str, str]] = {
    "en": {"yes": "yes that's right", "no": "no, that's not right", "accept": "sure, that works",
           "reject": "no, not really", "more": "no thanks, that's all", "closing": "thanks, bye",
           "decline": "no need, thanks", "no_order": "I don't have an order number",
           "kept": "yes, it was sorted", "not_kept": "no, nothing happened",
           "complaint_category": "the problem type", "order_number": "the order number",
           "desired_outcome": "what I want", "complaint_description": "what happened",
           "proof": "it's {email}", "no_proof": "I can't remember"},
    "zh-Hans": {"yes": "没错", "no": "不对", "accept": "好的", "reject": "不行", "more": "没有了，谢谢",
                "closing": "好的谢谢，再见", "decline": "不用了", "no_order": "没有订单号",
                "kept": "嗯，已经处理好了", "not_kept": "没有，还没处理", "complaint_category": "问题类别",
                "order_number": "订单号", "desired_outcome": "希望的处理", "complaint_description": "事情经过",
                "proof": "我的邮箱是 {email}", "no_proof": "不记得了"},
    "zh-Hant": {"yes": "對", "no": "不對", "accept": "好的", "reject": "不要", "more": "沒有了，謝謝",
                "closing": "謝謝，再見", "decline": "不用了", "no_order": "沒有訂單編號",
                "kept": "有，已經處理好了", "not_kept": "沒有，還沒處理", "complaint_category": "問題類別",
                "order_number": "訂單編號", "desired_outcome": "希望的處理", "complaint_description": "事情經過",
                "proof": "我的 Email 是 {email}", "no_proof": "我不記得了"},
    "yue": {"yes": "係", "no": "唔係", "accept": "好", "reject": "唔得", "more": "冇喇，唔該",
            "closing": "唔該晒，拜拜", "decline": "唔使喇", "no_order": "冇單號",
            "kept": "有呀，搞掂咗", "not_kept": "冇呀，仲未搞掂", "complaint_category": "問題類別",
            "order_number": "訂單號碼", "desired_outcome": "想點處理", "complaint_description": "發生咩事",
            "proof": "{email} 呀", "no_proof": "唔記得喇"},
    "mixed": {"yes": "ok 冇問題", "no": "唔係 wrong 咗", "accept": "ok 好", "reject": "no 唔好",
              "more": "冇喇 thanks", "closing": "ok thanks 拜拜", "decline": "唔使 thanks",
              "no_order": "冇 order number", "kept": "yes 搞掂咗", "not_kept": "no 仲未",
              "complaint_category": "問題類別", "order_number": "order number",
              "desired_outcome": "想點處理", "complaint_description": "發生咩事",
              "proof": "email 係 {email}", "no_proof": "唔記得 sorry"},
}


def word(language: str, key: str) -> str:
    return DEFAULTS[language][key]
