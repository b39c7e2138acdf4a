"""Deterministic synthetic trilingual FAQ knowledge bases for the speed harness (bench/kb_speed.py).

Entry ``i`` is a pure function of ``(seed, i)``: an intent (one of :data:`INTENTS`, each with several
question templates per language), a product type, a product series and a random model code, plus
numbers where the template asks for one. Question texts therefore share realistic amounts of
vocabulary (template words are shared by a few percent of the entries, product words by 1-3 %, model
codes by a handful), which gives BM25 posting lists of realistic lengths, while every entry stays
distinct.

To keep 1M entries tractable on 2 cores, each entry has its questions in one *primary* language
(en 40 %, zh-Hans 30 %, zh-Hant 30 %): one question, and a second phrasing for 25 % of the entries
(about 1.25 indexed rows per entry); answers (short) exist in all three languages. ``questions`` is a
dict that reads as an empty list for the other languages, so the engine's ``make_rows`` indexes only
the questions that exist and ``pick_text`` falls back to the language that has some.

:func:`paraphrase_queries` rewrites questions of random entries with another template of the same
intent (same product, series and model code, sometimes another language, lower case, a typo or no
hyphen in the model code): the target entry of each query is known.

Usage: ``python bench/synthetic_kb.py 5`` prints 5 entries and 5 queries.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kb.faq import Entry, KnowledgeBase  # noqa: E402

LANGS = ("en", "zh-Hans", "zh-Hant")
LANG_WEIGHTS = (0.4, 0.3, 0.3)


class Questions(dict):
    """Questions per language; a language the entry has no question in reads as ``[]``."""

    def __missing__(self, key):
        return []


# (en, zh-Hans, zh-Hant) product types
PRODUCTS = [
    ("wireless earbuds", "无线耳机", "無線耳機"),
    ("noise-cancelling headphones", "降噪耳机", "降噪耳機"),
    ("smart watch", "智能手表", "智慧手錶"),
    ("fitness band", "运动手环", "運動手環"),
    ("laptop", "笔记本电脑", "筆記型電腦"),
    ("tablet", "平板电脑", "平板電腦"),
    ("phone", "手机", "手機"),
    ("power bank", "充电宝", "行動電源"),
    ("charger", "充电器", "充電器"),
    ("USB-C cable", "数据线", "傳輸線"),
    ("Bluetooth speaker", "蓝牙音箱", "藍牙喇叭"),
    ("soundbar", "回音壁", "聲霸"),
    ("router", "路由器", "路由器"),
    ("mesh Wi-Fi system", "网状路由系统", "Mesh路由系統"),
    ("monitor", "显示器", "螢幕"),
    ("keyboard", "键盘", "鍵盤"),
    ("mouse", "鼠标", "滑鼠"),
    ("webcam", "摄像头", "視訊鏡頭"),
    ("printer", "打印机", "印表機"),
    ("robot vacuum", "扫地机器人", "掃地機器人"),
    ("air purifier", "空气净化器", "空氣清淨機"),
    ("electric toothbrush", "电动牙刷", "電動牙刷"),
    ("hair dryer", "吹风机", "吹風機"),
    ("smart bulb", "智能灯泡", "智慧燈泡"),
    ("security camera", "监控摄像头", "監視攝影機"),
    ("doorbell camera", "可视门铃", "視訊門鈴"),
    ("e-reader", "电子书阅读器", "電子書閱讀器"),
    ("game controller", "游戏手柄", "遊戲手把"),
    ("VR headset", "VR头显", "VR頭戴裝置"),
    ("drone", "无人机", "空拍機"),
    ("action camera", "运动相机", "運動攝影機"),
    ("projector", "投影仪", "投影機"),
    ("smart TV", "智能电视", "智慧電視"),
    ("SSD", "固态硬盘", "固態硬碟"),
    ("memory card", "存储卡", "記憶卡"),
    ("phone case", "手机壳", "手機殼"),
    ("screen protector", "钢化膜", "保護貼"),
    ("car charger", "车载充电器", "車用充電器"),
    ("smart scale", "智能体脂秤", "智慧體脂計"),
    ("kids tablet", "儿童平板", "兒童平板"),
]
SERIES = [
    "Lumen",
    "Lumen Pro",
    "Lumen Air",
    "Lumen Lite",
    "Aurora",
    "Aurora Max",
    "Nova",
    "Nova S",
    "Orbit",
    "Pulse",
    "Zen",
    "Vega",
    "Flux",
    "Echo",
    "Prism",
    "Halo",
    "Terra",
    "Volt",
    "Astra",
    "Mira",
]
COLORS = [
    ("black", "黑色", "黑色"),
    ("white", "白色", "白色"),
    ("blue", "蓝色", "藍色"),
    ("silver", "银色", "銀色"),
    ("pink", "粉色", "粉色"),
    ("green", "绿色", "綠色"),
    ("grey", "灰色", "灰色"),
    ("gold", "金色", "金色"),
]

# intent -> {language: [question templates]}, and answer templates (en, zh-Hans, zh-Hant).
# Slots: {p} product, {s} series, {m} model code, {n} a number, {c} colour.
INTENTS: dict[str, dict] = {
    "reset": {
        "en": [
            "How do I factory reset my {s} {p} {m}?",
            "{s} {m} {p} reset steps",
            "my {p} ({s} {m}) is frozen, how to restart it",
        ],
        "zh-Hans": ["{s} {m}{p}怎么恢复出厂设置？", "{p} {s} {m} 死机了怎么重启", "怎么重置我的{s}{p} {m}"],
        "zh-Hant": [
            "{s} {m}{p}要怎麼恢復原廠設定？",
            "{p} {s} {m} 當機了怎麼重新開機",
            "如何重置我的{s}{p} {m}",
        ],
        "a": (
            "Hold the power button of the {s} {m} for 10 seconds, then choose Reset in the menu.",
            "长按 {s} {m} 电源键 10 秒，然后在菜单中选择“重置”。",
            "長按 {s} {m} 電源鍵 10 秒，然後在選單中選擇「重置」。",
        ),
    },
    "pairing": {
        "en": [
            "How do I pair the {s} {p} {m} with my phone?",
            "{s} {m} won't connect over Bluetooth",
            "can't pair {p} {m} to my laptop",
        ],
        "zh-Hans": ["{s} {m}{p}怎么连接手机蓝牙？", "{p} {m} 蓝牙一直连不上", "{s}{p} {m} 配对失败怎么办"],
        "zh-Hant": ["{s} {m}{p}怎麼連接手機藍牙？", "{p} {m} 藍牙一直連不上", "{s}{p} {m} 配對失敗怎麼辦"],
        "a": (
            "Open the {s} app, choose Add device and keep the {m} within 1 m of the phone.",
            "打开 {s} App，选择“添加设备”，并让 {m} 与手机保持 1 米以内。",
            "開啟 {s} App，選擇「新增裝置」，並讓 {m} 與手機保持 1 公尺以內。",
        ),
    },
    "battery": {
        "en": [
            "The battery of my {s} {p} {m} drains in {n} hours",
            "{s} {m} battery life is too short",
            "why does my {p} {m} lose charge overnight",
        ],
        "zh-Hans": [
            "{s} {m}{p}电池{n}小时就没电了",
            "{p} {s} {m} 续航太短正常吗",
            "{m}{p}放一晚上电就掉光了",
        ],
        "zh-Hant": [
            "{s} {m}{p}電池{n}小時就沒電了",
            "{p} {s} {m} 續航力太短正常嗎",
            "{m}{p}放一個晚上電就掉光了",
        ],
        "a": (
            "Update the {m} firmware and turn off always-on features; if it still lasts under {n} hours, book a battery check.",
            "请更新 {m} 固件并关闭常亮功能；如果仍不足 {n} 小时，请预约电池检测。",
            "請更新 {m} 韌體並關閉常亮功能；若仍不足 {n} 小時，請預約電池檢測。",
        ),
    },
    "charging": {
        "en": [
            "My {s} {p} {m} is not charging",
            "{p} {m} charges very slowly, is that normal?",
            "what charger does the {s} {m} need",
        ],
        "zh-Hans": ["{s} {m}{p}充不进电", "{p} {m} 充电特别慢正常吗", "{s} {m}要用多少瓦的充电器"],
        "zh-Hant": ["{s} {m}{p}充不進電", "{p} {m} 充電特別慢正常嗎", "{s} {m}要用幾瓦的充電器"],
        "a": (
            "Use a {n} W USB-C charger and a clean port; the {m} shows a light while charging.",
            "请使用 {n}W USB-C 充电器并清洁接口；{m} 充电时指示灯会亮。",
            "請使用 {n}W USB-C 充電器並清潔接口；{m} 充電時指示燈會亮。",
        ),
    },
    "firmware": {
        "en": [
            "How do I update the firmware on the {s} {p} {m}?",
            "{s} {m} firmware update failed at {n}%",
            "is there a new software version for {p} {m}",
        ],
        "zh-Hans": ["{s} {m}{p}怎么升级固件？", "{p} {m} 固件升级卡在{n}%", "{s} {m}有新的系统版本吗"],
        "zh-Hant": ["{s} {m}{p}怎麼更新韌體？", "{p} {m} 韌體更新卡在{n}%", "{s} {m}有新的系統版本嗎"],
        "a": (
            "Open the {s} app > Device > Firmware; keep the {m} charged above 50% during the update.",
            "打开 {s} App >设备>固件升级；升级时请保持 {m} 电量在 50% 以上。",
            "開啟 {s} App >裝置>韌體更新；更新時請保持 {m} 電量在 50% 以上。",
        ),
    },
    "warranty": {
        "en": [
            "How long is the warranty on the {s} {p} {m}?",
            "is my {p} {m} still under warranty after {n} months",
            "warranty claim for a broken {s} {m}",
        ],
        "zh-Hans": ["{s} {m}{p}保修多久？", "{p} {m} 买了{n}个月还在保修期吗", "{s} {m}坏了怎么申请保修"],
        "zh-Hant": ["{s} {m}{p}保固多久？", "{p} {m} 買了{n}個月還在保固期嗎", "{s} {m}壞了怎麼申請保固"],
        "a": (
            "The {s} {m} has a 24-month warranty from the delivery date; claim it under My Orders.",
            "{s} {m} 自签收日起保修 24 个月，可在“我的订单”中申请。",
            "{s} {m} 自簽收日起保固 24 個月，可在「我的訂單」中申請。",
        ),
    },
    "repair": {
        "en": [
            "The screen of my {s} {p} {m} is cracked, can you repair it?",
            "repair cost for {p} {m} water damage",
            "where can I get my {s} {m} fixed",
        ],
        "zh-Hans": ["{s} {m}{p}屏幕碎了能修吗？", "{p} {m} 进水了维修要多少钱", "{s} {m}去哪里修"],
        "zh-Hant": ["{s} {m}{p}螢幕破了可以修嗎？", "{p} {m} 進水了維修要多少錢", "{s} {m}要去哪裡修"],
        "a": (
            "Book a repair for the {m} online; screen repairs for the {s} series start at {n} USD.",
            "可在线预约 {m} 维修；{s} 系列换屏 {n} 元起。",
            "可線上預約 {m} 維修；{s} 系列換螢幕 {n} 元起。",
        ),
    },
    "return": {
        "en": [
            "Can I return the {s} {p} {m} I bought {n} days ago?",
            "how to send back an unopened {p} {m}",
            "return policy for {s} {m} in {c}",
        ],
        "zh-Hans": ["{n}天前买的{s} {m}{p}能退货吗？", "没拆封的{p} {m} 怎么退", "{c}的{s} {m}可以退吗"],
        "zh-Hant": ["{n}天前買的{s} {m}{p}可以退貨嗎？", "沒拆封的{p} {m} 要怎麼退", "{c}的{s} {m}可以退嗎"],
        "a": (
            "Unused {s} {m} units can be returned within 7 days of delivery under My Orders > Return.",
            "未使用的 {s} {m} 可在签收后 7 天内于“我的订单”>“退货”申请。",
            "未使用的 {s} {m} 可在簽收後 7 天內於「我的訂單」>「退貨」申請。",
        ),
    },
    "exchange": {
        "en": [
            "Can I exchange my {c} {s} {p} {m} for another colour?",
            "swap {p} {m} for a different size",
            "exchange a faulty {s} {m}",
        ],
        "zh-Hans": ["{c}的{s} {m}{p}能换颜色吗？", "{p} {m} 能换个型号吗", "{s} {m}有问题能换新吗"],
        "zh-Hant": ["{c}的{s} {m}{p}可以換顏色嗎？", "{p} {m} 可以換個型號嗎", "{s} {m}有問題可以換新嗎"],
        "a": (
            "Exchanges of the {s} {m} are free within 7 days if the item is unused.",
            "{s} {m} 未使用且在 7 天内可免费换货。",
            "{s} {m} 未使用且在 7 天內可免費換貨。",
        ),
    },
    "stock": {
        "en": [
            "When will the {c} {s} {p} {m} be back in stock?",
            "is {p} {m} available in {c}",
            "{s} {m} out of stock, restock date?",
        ],
        "zh-Hans": ["{c}的{s} {m}{p}什么时候补货？", "{p} {m} 有{c}的吗", "{s} {m}缺货了什么时候有"],
        "zh-Hant": ["{c}的{s} {m}{p}什麼時候補貨？", "{p} {m} 有{c}的嗎", "{s} {m}缺貨了什麼時候會有"],
        "a": (
            "Tap Notify me on the {s} {m} page and we will email you when it is back.",
            "在 {s} {m} 商品页点“到货通知”，补货后会邮件通知您。",
            "在 {s} {m} 商品頁點「到貨通知」，補貨後會寄信通知您。",
        ),
    },
    "price": {
        "en": [
            "Will the {s} {p} {m} go on sale?",
            "price match for {p} {m} found {n} dollars cheaper",
            "is there a discount on the {s} {m}",
        ],
        "zh-Hans": ["{s} {m}{p}会降价吗？", "别家{p} {m} 便宜{n}块能保价吗", "{s} {m}有优惠吗"],
        "zh-Hant": ["{s} {m}{p}會降價嗎？", "別家{p} {m} 便宜{n}元可以保價嗎", "{s} {m}有折扣嗎"],
        "a": (
            "We refund the difference if the {s} {m} drops in price within 14 days of purchase.",
            "购买 {s} {m} 后 14 天内降价可申请退差价。",
            "購買 {s} {m} 後 14 天內降價可申請退差價。",
        ),
    },
    "compat": {
        "en": [
            "Is the {s} {p} {m} compatible with iPhone?",
            "does {p} {m} work with Android {n}",
            "will the {s} {m} work with a Mac",
        ],
        "zh-Hans": ["{s} {m}{p}支持苹果手机吗？", "{p} {m} 兼容安卓{n}吗", "{s} {m}能连Mac吗"],
        "zh-Hant": ["{s} {m}{p}支援 iPhone 嗎？", "{p} {m} 相容 Android {n} 嗎", "{s} {m}可以連 Mac 嗎"],
        "a": (
            "The {s} {m} works with iOS 15+, Android 10+ and macOS 12+.",
            "{s} {m} 支持 iOS 15+、Android 10+ 和 macOS 12+。",
            "{s} {m} 支援 iOS 15+、Android 10+ 與 macOS 12+。",
        ),
    },
    "manual": {
        "en": [
            "Where can I download the manual for the {s} {p} {m}?",
            "{p} {m} user guide pdf",
            "setup instructions for {s} {m}",
        ],
        "zh-Hans": ["{s} {m}{p}说明书在哪下载？", "{p} {m} 使用手册", "{s} {m}怎么安装设置"],
        "zh-Hant": ["{s} {m}{p}說明書在哪裡下載？", "{p} {m} 使用手冊", "{s} {m}要怎麼安裝設定"],
        "a": (
            "Manuals for the {s} {m} are on the product page under Support > Downloads.",
            "{s} {m} 说明书在商品页“支持”>“下载”。",
            "{s} {m} 說明書在商品頁「支援」>「下載」。",
        ),
    },
    "noise": {
        "en": [
            "My {s} {p} {m} makes a buzzing noise",
            "{p} {m} crackling sound at {n}% volume",
            "strange noise from the {s} {m}",
        ],
        "zh-Hans": ["{s} {m}{p}有滋滋的杂音", "{p} {m} 音量{n}%就破音", "{s} {m}有奇怪的声音"],
        "zh-Hant": ["{s} {m}{p}有滋滋的雜音", "{p} {m} 音量{n}%就破音", "{s} {m}有奇怪的聲音"],
        "a": (
            "Reset the {m} and update its firmware; if the noise persists, book a check under Support.",
            "请重置 {m} 并升级固件；仍有杂音请在“支持”中预约检测。",
            "請重置 {m} 並更新韌體；仍有雜音請在「支援」中預約檢測。",
        ),
    },
    "overheat": {
        "en": [
            "The {s} {p} {m} gets very hot",
            "{p} {m} overheating after {n} minutes",
            "is it safe that my {s} {m} is warm while charging",
        ],
        "zh-Hans": ["{s} {m}{p}发烫很厉害", "{p} {m} 用{n}分钟就过热", "{s} {m}充电时发热正常吗"],
        "zh-Hant": ["{s} {m}{p}很燙", "{p} {m} 用{n}分鐘就過熱", "{s} {m}充電時發熱正常嗎"],
        "a": (
            "Slight warmth is normal; stop using the {s} {m} and contact us if it is too hot to touch.",
            "轻微发热属正常；若 {s} {m} 烫手请停止使用并联系我们。",
            "輕微發熱屬正常；若 {s} {m} 燙手請停止使用並聯絡我們。",
        ),
    },
    "accessory": {
        "en": [
            "Do you sell a replacement strap for the {s} {p} {m}?",
            "spare parts for {p} {m}",
            "original charger for {s} {m} in {c}",
        ],
        "zh-Hans": ["{s} {m}{p}有原装配件卖吗？", "{p} {m} 的替换零件", "{s} {m}{c}原装充电器"],
        "zh-Hant": ["{s} {m}{p}有原廠配件賣嗎？", "{p} {m} 的替換零件", "{s} {m}{c}原廠充電器"],
        "a": (
            "Accessories for the {s} {m} are listed on its product page under Accessories.",
            "{s} {m} 的配件在商品页“配件”一栏。",
            "{s} {m} 的配件在商品頁「配件」一欄。",
        ),
    },
    "delivery": {
        "en": [
            "How long does delivery of the {s} {p} {m} take to zone {n}?",
            "{p} {m} shipping time",
            "when will my {s} {m} order arrive",
        ],
        "zh-Hans": ["{s} {m}{p}寄到{n}区要几天？", "{p} {m} 几天能到", "我买的{s} {m}什么时候到"],
        "zh-Hant": ["{s} {m}{p}寄到{n}區要幾天？", "{p} {m} 幾天會到", "我買的{s} {m}什麼時候到"],
        "a": (
            "The {s} {m} ships within 24 hours; delivery takes 2-4 business days.",
            "{s} {m} 24 小时内发货，2-4 个工作日送达。",
            "{s} {m} 24 小時內出貨，2-4 個工作天送達。",
        ),
    },
    "install": {
        "en": [
            "Do you offer installation for the {s} {p} {m}?",
            "wall mount install service for {p} {m}",
            "how much is setup for the {s} {m}",
        ],
        "zh-Hans": ["{s} {m}{p}上门安装吗？", "{p} {m} 壁挂安装服务", "{s} {m}安装要收费吗"],
        "zh-Hant": ["{s} {m}{p}有到府安裝嗎？", "{p} {m} 壁掛安裝服務", "{s} {m}安裝要收費嗎"],
        "a": (
            "Installation of the {s} {m} costs {n} USD and can be booked at checkout.",
            "{s} {m} 安装费 {n} 元，可在结账时预约。",
            "{s} {m} 安裝費 {n} 元，可在結帳時預約。",
        ),
    },
    "app": {
        "en": [
            "The {s} app can't find my {p} {m}",
            "{p} {m} not showing in the app",
            "app keeps crashing when I open the {s} {m}",
        ],
        "zh-Hans": ["{s} App 找不到我的{p} {m}", "{p} {m} 在App里不显示", "打开{s} {m}时App闪退"],
        "zh-Hant": ["{s} App 找不到我的{p} {m}", "{p} {m} 在App裡沒有顯示", "打開{s} {m}時App閃退"],
        "a": (
            "Update the {s} app, enable Bluetooth and location, then add the {m} again.",
            "请更新 {s} App，开启蓝牙和定位后重新添加 {m}。",
            "請更新 {s} App，開啟藍牙與定位後重新新增 {m}。",
        ),
    },
    "invoice": {
        "en": [
            "I need an invoice for the {s} {p} {m}",
            "VAT receipt for order of {p} {m}",
            "company invoice for {n} units of {s} {m}",
        ],
        "zh-Hans": ["买{s} {m}{p}怎么开发票？", "{p} {m} 的电子发票在哪", "{n}台{s} {m}开公司发票"],
        "zh-Hant": ["買{s} {m}{p}要怎麼開發票？", "{p} {m} 的電子發票在哪裡", "{n}台{s} {m}開公司發票"],
        "a": (
            "Invoices for the {s} {m} can be downloaded under My Orders > Invoice.",
            "{s} {m} 的发票可在“我的订单”>“发票”下载。",
            "{s} {m} 的發票可在「我的訂單」>「發票」下載。",
        ),
    },
}
INTENT_NAMES = list(INTENTS)


def _model_code(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    return f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randint(100, 9999)}"


def _slots(rng: random.Random) -> dict:
    return {
        "intent": rng.choice(INTENT_NAMES),
        "p": rng.randrange(len(PRODUCTS)),
        "s": rng.choice(SERIES),
        "m": _model_code(rng),
        "n": rng.choice([2, 3, 5, 7, 10, 12, 14, 20, 24, 30, 45, 60, 80, 90, 99, 120]),
        "c": rng.randrange(len(COLORS)),
    }


def _fill(template: str, slots: dict, lang: str) -> str:
    li = LANGS.index(lang)
    return template.format(
        p=PRODUCTS[slots["p"]][li], s=slots["s"], m=slots["m"], n=slots["n"], c=COLORS[slots["c"]][li]
    )


def _rng(seed: int, i: int, salt: int = 0) -> random.Random:
    return random.Random(seed * 1_000_003 + i * 7 + salt)


def _make(i: int, seed: int) -> tuple[Entry, dict]:
    rng = _rng(seed, i)
    slots = _slots(rng)
    intent = INTENTS[slots["intent"]]
    lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
    templates = intent[lang]
    first = rng.randrange(len(templates))
    questions = Questions({lang: [_fill(templates[first], slots, lang)]})
    if rng.random() < 0.25:  # a second phrasing, in the same or another language
        lang2 = rng.choice(LANGS)
        t2 = intent[lang2][(first + 1 + rng.randrange(len(intent[lang2]) - 1)) % len(intent[lang2])]
        questions.setdefault(lang2, []).append(_fill(t2, slots, lang2))
    answers = {l: _fill(intent["a"][LANGS.index(l)], slots, l) for l in LANGS}
    return Entry(f"syn-{i:07d}", slots["intent"], questions, answers), {**slots, "lang": lang}


def make_entry(i: int, seed: int = 0) -> Entry:
    return _make(i, seed)[0]


def iter_entries(n: int, seed: int = 0) -> Iterator[Entry]:
    for i in range(n):
        yield make_entry(i, seed)


def synthetic_kb(n: int, seed: int = 0) -> KnowledgeBase:
    return KnowledgeBase(list(iter_entries(n, seed)), "1", "Synthetic Electronics", LANGS)


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    cands = [j for j, w in enumerate(words) if len(w) > 4 and w.isascii() and w.isalpha()]
    if not cands:
        return text
    j = rng.choice(cands)
    w = words[j]
    k = rng.randrange(1, len(w) - 2)
    words[j] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]  # swap two letters
    return " ".join(words)


def paraphrase_queries(n_entries: int, count: int, seed: int = 0) -> list[dict]:
    """``count`` queries ``{"text", "expected"}``, each a rephrasing of a random entry's question.

    Another template of the entry's intent with the same product, series and model code; in the
    entry's primary language 70 % of the time, else another one; 30 % lower-cased, 15 % with a
    letter swap (English), 20 % with the model code's hyphen dropped or replaced by a space.
    """
    rng = random.Random(seed + 987_654_321)
    out = []
    for _ in range(count):
        i = rng.randrange(n_entries)
        entry, slots = _make(i, seed)
        primary = slots["lang"]
        lang = primary if rng.random() < 0.7 else rng.choice([l for l in LANGS if l != primary])
        texts = [_fill(t, slots, lang) for t in INTENTS[slots["intent"]][lang]]
        text = rng.choice([t for t in texts if t not in entry.questions.get(lang, [])] or texts)
        r = rng.random()
        if r < 0.2:
            text = text.replace(slots["m"], slots["m"].replace("-", rng.choice(["", " "])))
        if rng.random() < 0.3:
            text = text.lower()
        if lang == "en" and rng.random() < 0.15:
            text = _typo(text, rng)
        out.append({"text": text, "expected": f"syn-{i:07d}", "language": lang})
    return out


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for e in iter_entries(n):
        print(e.id, e.category, dict(e.questions), e.answers["en"])
    for q in paraphrase_queries(n, n):
        print(q)
