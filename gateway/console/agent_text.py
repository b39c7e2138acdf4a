"""KB answers rewritten for an agent to paste into a live human chat.

An approved answer is written for the bot: some sentences tell the customer how to use the bot
("Type 'agent' in this chat…", 「在對話中輸入『真人客服』…」). Pasted by an agent who already
is the human, they read as nonsense, so :func:`for_agent` drops those sentences and smooths the
"also" of the sentence that then comes first.
"""

from __future__ import annotations

import re

_BOT_INSTRUCTION = re.compile(
    r"\b(?:type|say|send|write|enter)\s+['\"‘“][^'\"’”]+['\"’”]\s+(?:in|into)\s+(?:this|the)\s+chat"
    r"|(?:對話|对话|聊天)[中裡里]?(?:輸入|输入|打)\s*[「“\"『]",
    re.IGNORECASE,
)
_ALSO = ((re.compile(r"^You can also\b"), "You can"), (re.compile(r"^(?:您)?也可以"), "您可以"))


def sentences(text: str) -> list[str]:
    """Sentences of ``text``; joined again they give ``text`` back exactly."""
    return [part for part in re.split(r"(?<=[。！？])|(?<=[.!?])(?=\s)", text) if part]


def for_agent(answer: str) -> str:
    """``answer`` without the sentences that instruct the customer to type something to the bot."""
    kept = [s for s in sentences(answer) if not _BOT_INSTRUCTION.search(s)]
    if len(kept) == len(sentences(answer)):
        return answer
    text = "".join(kept).strip()
    for pattern, replacement in _ALSO:
        text = pattern.sub(replacement, text, count=1)
    return text
