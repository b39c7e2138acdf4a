"""Mask phone numbers, e-mail addresses and card numbers in free text, records and logs.

* :func:`mask_text` masks what it finds in a string and keeps a hint of each value:
  ``0912-345-678`` -> ``0912-***-678``, ``ann@example.com`` -> ``a***@example.com``,
  ``4111 1111 1111 1111`` -> ``**** **** **** 1111``. Separators are kept, so the format
  stays recognisable.
* :func:`mask_record` returns a masked deep copy of a dict/list for analytics exports; values
  under sensitive keys (``phone``, ``email``, ``card_number``, ...) are masked even when they do
  not look like a phone number or address.
* :class:`MaskingFilter` masks log records (message, arguments, exception text);
  :func:`install_log_masking` applies it to every record the process logs.

What is masked:

* e-mail addresses (``@`` or fullwidth ``＠``);
* card numbers: 13-19 digits, optionally in groups of 3+ digits separated by single spaces or
  dashes, that pass the Luhn check (all but the last 4 digits are masked);
* phone numbers: ``+`` / ``00`` international numbers (8-15 digits) and, without a country
  prefix, Taiwan (``09xx xxx xxx`` mobiles, ``0x`` landlines), Hong Kong (8 digits starting
  with 2, 3, 5, 6, 7 or 9), mainland China (``1[3-9]`` + 9 digits mobiles, ``0xx`` landlines)
  and the same with ``886`` / ``852`` / ``86`` in front. Digits may be grouped with single
  spaces, dashes or parentheses. About the last 3 digits and the first few are kept.

What is left alone (these look like phone numbers but are not): digits glued to letters or
following ``#``, ``-``, ``/``, ``.`` or ``,`` (order numbers ``LM12345678``, ticket ids
``#12345``, ``T-2024-0001``, decimals, paths), amounts next to a currency (``NT$``, ``HK$``,
``¥``, ``元``, ``HKD`` ...), numbers right after an identifier keyword (``order``, ``ticket``,
``case``, ``ref``, ``invoice``, ``tracking``, ``customer``, ``conversation``, ``id``, ``訂單``,
``單號``, ``工單``, ``編號`` ...),
dates (``2024-03-01``, ``20240301``, ``01/03/2024``) and year ranges (``2023-2024``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any, TypeGuard, TypeVar, overload

__all__ = [
    "MaskingFilter",
    "install_log_masking",
    "luhn_ok",
    "mask_email",
    "mask_record",
    "mask_text",
]

# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]+)([@＠])"
    rf"({_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,24}})(?![A-Za-z0-9\-])"
)


def mask_email(address: str) -> str:
    """``ann.lee@example.com`` -> ``a***@example.com`` (anything without ``@``: ``***``)."""
    local, at, domain = address.rpartition("@")
    if not at:
        local, at, domain = address.rpartition("＠")
    if not at or not local:
        return "***"
    return f"{local[0]}***{at}{domain}"


def _email_sub(m: re.Match[str]) -> str:
    return f"{m.group(1)[0]}***{m.group(2)}{m.group(3)}"


# --------------------------------------------------------------------------------------------
# Card numbers
# --------------------------------------------------------------------------------------------
CARD_RE = re.compile(r"(?<![A-Za-z\d_*])\d(?:[ \-]?\d){12,18}(?![A-Za-z\d_*])")


def _digits(text: str) -> str:
    """ASCII digits of ``text`` (fullwidth and other Unicode digits converted)."""
    return "".join(str(int(ch)) for ch in text if ch.isdecimal())


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_digits(text: str, keep_first: int, keep_last: int) -> str:
    """Replace digits of ``text`` by ``*`` except the first/last ones; keep everything else."""
    n = sum(ch.isdecimal() for ch in text)
    out, seen = [], 0
    for ch in text:
        if ch.isdecimal():
            seen += 1
            out.append(ch if seen <= keep_first or seen > n - keep_last else "*")
        else:
            out.append(ch)
    return "".join(out)


def _card_sub(m: re.Match[str]) -> str:
    span = m.group(0)
    groups = re.split(r"[ \-]", span)
    if len(groups) > 1 and min(len(g) for g in groups) < 3:
        return span
    digits = _digits(span)
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return span
    return _mask_digits(span, 0, 4)


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------
_CHUNK = r"\+?\(?\d(?:[\d\-()]*[\d)])?"
PHONE_CANDIDATE_RE = re.compile(
    rf"(?<![A-Za-z\d_$¥￥€£#@/.,*+\-]){_CHUNK}(?:[ \u00a0\u3000]{_CHUNK})*(?![A-Za-z\d_*]|[.,]\d)"
)
_NATIONAL = re.compile(
    r"09\d{8}"  # TW mobile
    r"|0[1-9]\d{7,10}"  # TW / CN landline with trunk 0 (area code + number)
    r"|[235679]\d{7}"  # HK
    r"|1[3-9]\d{9}"  # CN mobile
    r"|886(?:9\d{8}|[2-8]\d{7,8})"
    r"|852[235679]\d{7}"
    r"|86(?:1[3-9]\d{9}|[1-9]\d{9,10})"
    r"|00[1-9]\d{7,13}"  # international call prefix
)
_CURRENCY_BEFORE = re.compile(r"(?:[$¥￥€£]|\b(?:RMB|TWD|NTD|HKD|CNY|USD|EUR))\s*$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"^\s*(?:元|圓|圆|块|塊|蚊|\b(?:dollars?|NTD|TWD|HKD|CNY|RMB|USD|EUR)\b)", re.IGNORECASE
)
_ID_BEFORE = re.compile(
    r"(?:\b(?:order|ticket|case|ref|reference|invoice|tracking|parcel|shipment|sku|LM"
    r"|conversation|message|customer|user|agent|id)"
    r"|訂單|订单|單號|单号|工單|工单|編號|编号|發票|发票|運單|运单)"
    r"\s*(?:no\.?|number|num|id|#|號碼|号码|編號|编号|號|号)?\s*[:：#]?\s*$",
    re.IGNORECASE,
)


def _is_date(y: int, m: int, d: int) -> bool:
    return 1900 <= y <= 2099 and 1 <= m <= 12 and 1 <= d <= 31


def _date_like(span: str, digits: str) -> bool:
    if re.fullmatch(r"\d{8}", span) and _is_date(int(digits[:4]), int(digits[4:6]), int(digits[6:])):
        return True
    groups = [g for g in re.split(r"[ \-/.\u00a0\u3000]", span) if g]
    if not all(g.isdecimal() for g in groups):
        return False
    lens = [len(g) for g in groups]
    vals = [int(g) for g in groups]
    if len(groups) == 3:
        if lens[0] == 4 and max(lens[1:]) <= 2:
            return _is_date(vals[0], vals[1], vals[2])
        if lens[2] == 4 and max(lens[:2]) <= 2:
            return _is_date(vals[2], vals[1], vals[0]) or _is_date(vals[2], vals[0], vals[1])
    if len(groups) == 2 and lens == [4, 4]:
        return all(1900 <= v <= 2099 for v in vals)
    return False


def _is_phone(span: str, before: str, after: str) -> bool:
    digits = _digits(span)
    n = len(digits)
    if n < 8 or n > 15:
        return False
    if _date_like(span, digits) or _CURRENCY_BEFORE.search(before) or _CURRENCY_AFTER.search(after):
        return False
    if _ID_BEFORE.search(before[-40:]):
        return False
    if span.lstrip("(").startswith("+"):
        return True
    return _NATIONAL.fullmatch(digits) is not None


def _phone_hint(span: str) -> str:
    n = sum(ch.isdecimal() for ch in span)
    keep_last = 3 if n >= 8 else 2
    keep_first = max(0, min(4, n - keep_last - math.ceil(0.3 * n)))
    return _mask_digits(span, keep_first, keep_last)


def _mask_phones(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in PHONE_CANDIDATE_RE.finditer(text):
        # chunks of the candidate as (start, end) offsets into text
        chunks = [
            (c.start() + m.start(), c.end() + m.start())
            for c in re.finditer(r"[^ \u00a0\u3000]+", m.group(0))
        ]
        i = 0
        while i < len(chunks):
            found = None
            for j in range(min(len(chunks), i + 6), i, -1):  # longest run of chunks first
                start, end = chunks[i][0], chunks[j - 1][1]
                if _is_phone(text[start:end], text[max(0, start - 40) : start], text[end : end + 12]):
                    found = (j, start, end)
                    break
            if found is None:
                i += 1
                continue
            j, start, end = found
            out.append(text[pos:start])
            out.append(_phone_hint(text[start:end]))
            pos = end
            i = j
    out.append(text[pos:])
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------
def mask_text(text: str) -> str:
    """Mask e-mail addresses, card numbers and phone numbers in ``text`` (keeping hints)."""
    if not text or not isinstance(text, str):
        return text
    has_digit = any(ch.isdecimal() for ch in text)
    if "@" in text or "＠" in text:
        text = EMAIL_RE.sub(_email_sub, text)
    if has_digit:
        text = CARD_RE.sub(_card_sub, text)
        text = _mask_phones(text)
    return text


SENSITIVE_KEYS = frozenset(
    {
        "phone",
        "phone_number",
        "mobile",
        "mobile_number",
        "tel",
        "telephone",
        "fax",
        "whatsapp",
        "email",
        "e_mail",
        "email_address",
        "mail",
        "card",
        "card_number",
        "card_no",
        "cc_number",
        "credit_card",
        "pan",
    }
)


K = TypeVar("K")


def _is_sensitive(key: object, keys: frozenset[str]) -> TypeGuard[str]:
    if not isinstance(key, str):
        return False
    k = key.strip().lower().replace("-", "_").replace(" ", "_")
    return k in keys or k.endswith(("_phone", "_email", "_mobile", "_card_number"))


def _mask_whole(value: str | int | None, key: str) -> str | int | None:
    """Mask a value stored under a sensitive key, even if it does not look like one."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value)
    masked = mask_text(text)
    if masked != text or not text:
        return masked
    if "mail" in key.lower():
        return mask_email(text)
    keep = 4 if "card" in key.lower() or key.lower() == "pan" else 2
    if len(text) <= 2 * keep:
        return "*" * len(text)
    return "".join("*" if ch.isalnum() else ch for ch in text[:-keep]) + text[-keep:]


@overload
def mask_record(record: Mapping[K, object], *, sensitive_keys: frozenset[str] = ...) -> dict[K, object]: ...
@overload
def mask_record(record: object, *, sensitive_keys: frozenset[str] = ...) -> object: ...
def mask_record(record: object, *, sensitive_keys: frozenset[str] = SENSITIVE_KEYS) -> object:
    """Masked deep copy of ``record`` (dicts, lists, tuples and strings; other values as is).

    Strings are masked with :func:`mask_text`; scalar values under a sensitive key
    (``sensitive_keys``, or keys ending in ``_phone``/``_email``/``_mobile``/``_card_number``)
    are always masked, numbers included.
    """

    def walk(value: object, key: object = None) -> object:
        if isinstance(value, str):
            return _mask_whole(value, key) if _is_sensitive(key, sensitive_keys) else mask_text(value)
        if isinstance(value, Mapping):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, tuple):
            return tuple(walk(v, key) for v in value)
        if isinstance(value, int) and not isinstance(value, bool) and _is_sensitive(key, sensitive_keys):
            return _mask_whole(value, key)
        return value

    return walk(record)


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------
_PLAIN = (int, float, bool, type(None), bytes)


def _mask_arg(arg: object) -> object:
    if isinstance(arg, str):
        return mask_text(arg)
    if isinstance(arg, _PLAIN):
        return arg  # kept as is so %d / %f format specifiers still work
    if isinstance(arg, (Mapping, list, tuple)):
        return mask_record(arg)
    try:
        text = str(arg)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break logging
        return arg
    masked = mask_text(text)
    return arg if masked == text else masked


class MaskingFilter(logging.Filter):
    """Mask personal data in log records; never drops a record.

    Masks the message template, each argument (strings, containers, and objects whose
    ``str()`` contains personal data), the formatted exception and the stack info. The
    record keeps its ``args`` tuple, so formatters that unpack it (uvicorn's access log) work.
    Attach it to handlers (a filter on a logger does not see records of child loggers) or
    call :func:`install_log_masking` once.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_pii_masked", False):
            return True
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        elif record.msg is not None and not isinstance(record.msg, _PLAIN):
            record.msg = _mask_arg(record.msg)
        if isinstance(record.args, Mapping):
            record.args = mask_record(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(_mask_arg(a) for a in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        record._pii_masked = True
        return True


_installed = False


def install_log_masking() -> None:
    """Mask every log record this process creates, whatever handlers are configured later.

    Wraps the log-record factory (so it also covers handlers that uvicorn or ``dictConfig``
    install afterwards). Idempotent.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()
    masking = MaskingFilter()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        masking.filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
