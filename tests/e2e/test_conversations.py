"""A sample of the conversation benchmark (issue 17) through the real stack, with the same
harness as ``bench/conversations.py``: scripted customers over the gateway's WebSocket, each
goal checked in the CRM. Two conversations per language from the dev set.
"""

from __future__ import annotations

import pytest

from bench.convsim.loader import load_set
from bench.convsim.run import run_conversations

pytestmark = pytest.mark.e2e

SAMPLE = [
    pytest.param("en-aif-01", id="en-all-in-first-replacement"),
    pytest.param("en-aif-04", id="en-refund-then-no-replacement-offered"),
    pytest.param("hans-aif-02", id="zh-Hans-late-delivery"),
    pytest.param("hans-aif-03", id="zh-Hans-compensation-declined-in-words"),
    pytest.param("hant-ord-01", id="zh-Hant-details-in-another-order"),
    pytest.param("hant-no-01", id="zh-Hant-store-visit-no-order-in-words"),
    pytest.param("yue-yn-01", id="yue-yes-and-no-in-words"),
    pytest.param("en-no-01", id="en-no-order-complaint"),
    pytest.param("hans-os-02", id="zh-Hans-order-status"),
]
IDS = [p.values[0] for p in SAMPLE]


@pytest.fixture(scope="module")
def results(stack):
    """All six conversations in one go (three at a time), on the shared e2e stack."""
    conversations = [c for c in load_set("dev") if c.id in IDS]
    assert sorted(c.id for c in conversations) == sorted(IDS)
    return {r.id: r for r in run_conversations(stack, conversations, concurrency=3, seed_demo=False)}


@pytest.mark.parametrize("conversation_id", SAMPLE)
def test_conversation_goal_met_in_crm(results, conversation_id):
    result = results[conversation_id]
    transcript = "\n".join(f"  customer: {t['customer']}\n  bot: {t.get('bot')}" for t in result.turns)
    assert result.ok, f"{conversation_id}: {result.failures} (ended: {result.end})\n{transcript}"
