"""Static demo vocabulary for :mod:`crm.seed`: fictional Lumen Electronics customers/products."""

from __future__ import annotations

SURNAMES = {
    "zh-Hant": ["陳", "黃", "李", "張", "梁", "何", "林", "吳", "劉", "鄭", "蔡", "郭"],
    "zh-Hans": ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙"],
    "en": [
        "Smith",
        "Wong",
        "Taylor",
        "Brown",
        "Chan",
        "Wilson",
        "Clarke",
        "Lee",
        "Evans",
        "Murphy",
        "Patel",
        "Hughes",
    ],
}
GIVEN_NAMES = {
    "zh-Hant": [
        "大文",
        "美玲",
        "家豪",
        "嘉欣",
        "志明",
        "詠詩",
        "俊傑",
        "曉彤",
        "偉倫",
        "佩珊",
        "子健",
        "凱琳",
    ],
    "zh-Hans": ["伟", "娜", "静", "磊", "洋", "敏", "强", "丽", "军", "婷", "浩然", "欣怡"],
    "en": [
        "Oliver",
        "Amelia",
        "Jack",
        "Isla",
        "Harry",
        "Emily",
        "George",
        "Sophie",
        "Noah",
        "Grace",
        "Leo",
        "Chloe",
    ],
}
#: A market: (currency, phone prefix, mobile digits, price divisor from TWD).
Market = tuple[str, str, int, float]
MARKETS: dict[str, list[Market]] = {
    "zh-Hant": [("TWD", "+886 9", 8, 1), ("HKD", "+852 6", 7, 4)],
    "zh-Hans": [("CNY", "+86 13", 9, 4.4)],
    "en": [("HKD", "+852 9", 7, 4), ("TWD", "+886 9", 8, 1)],
}
# (sku, English, Traditional Chinese, Simplified Chinese, price in TWD)
CATALOGUE: list[tuple[str, str, str, str, int]] = [
    (
        "LM-AUD-101",
        "Lumen Buds Pro wireless earbuds",
        "Lumen Buds Pro 無線耳機",
        "Lumen Buds Pro 无线耳机",
        4990,
    ),
    ("LM-WCH-210", "Lumen Watch S2", "Lumen Watch S2 智慧手錶", "Lumen Watch S2 智能手表", 7990),
    ("LM-TV-550", '55" 4K smart TV', "55吋 4K 智慧電視", "55英寸 4K 智能电视", 21900),
    ("LM-PWR-020", "20,000 mAh power bank", "20000mAh 行動電源", "20000mAh 充电宝", 1290),
    ("LM-CHG-065", "65 W USB-C charger", "65W USB-C 充電器", "65W USB-C 充电器", 990),
    ("LM-AIR-300", "Air purifier A3", "A3 空氣清淨機", "A3 空气净化器", 8990),
    ("LM-VAC-700", "Robot vacuum V7", "V7 掃地機器人", "V7 扫地机器人", 14900),
    ("LM-CBL-002", "USB-C cable (2 m)", "USB-C 傳輸線（2米）", "USB-C 数据线（2米）", 390),
    ("LM-RDR-010", "E-reader Lumen Page", "Lumen Page 電子書閱讀器", "Lumen Page 电子书阅读器", 5490),
    ("LM-KBD-080", "Mechanical keyboard K8", "K8 機械鍵盤", "K8 机械键盘", 2990),
]
CUSTOMER_LINES = {
    "zh-Hant": ["我的訂單現在處理到哪裡了？", "謝謝！"],
    "zh-Hans": ["怎么查我的订单状态？", "谢谢！"],
    "en": ["Where's my order?", "Thanks!"],
}
BOT_LINES = {
    "zh-Hant": ["您可以到「我的訂單」查看進度。", "不客氣！"],
    "zh-Hans": ["您可以在“我的订单”查看进度。", "不客气！"],
    "en": ["You can check it under My Orders.", "You're welcome!"],
}
TICKET_SUBJECTS = {
    "delivery": "Parcel delayed",
    "refund": "Refund not received",
    "product": "Earbuds defective",
    "payment": "Charged twice",
    "account": "Verification code not arriving",
    "complaint": "Courier was rude",
    "other": "Trade-in question",
}
# What the demo tickets promised (compensation_policy.yml keys): CRM ticket category ->
# (complaint category, resolution), written into each ticket's follow-up note.
TICKET_PROMISES = {
    "delivery": ("late_delivery", "redelivery"),
    "refund": ("billing_error", "refund"),
    "product": ("damaged_defective", "replacement"),
    "payment": ("billing_error", "refund"),
    "account": ("other", "review"),
    "complaint": ("staff_attitude", "review"),
    "other": ("other", "review"),
}
