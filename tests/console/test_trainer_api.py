"""Trainer console API: KB import, CRUD with versions and diffs, inbox actions, try-it (the rebuild:
tests/console/test_rebuild_api.py and tests/worker)."""

from __future__ import annotations

import pytest

from crm.db import session_scope
from crm.models import UnansweredQuestion
from crm.repo.kb import record_unanswered, save_kb_version
from worker import kbsync

ENTRY = {
    "key": "gift-wrapping",
    "category": "orders",
    "note": "first version",
    "questions": {
        "zh-Hant": ["可以幫我包裝成禮物嗎？"],
        "zh-Hans": ["可以帮我包装成礼物吗？"],
        "en": ["Do you offer gift wrapping?"],
    },
    "answers": {
        "zh-Hant": "可以，結帳時勾選「禮品包裝」，每件加收NT$50。",
        "zh-Hans": "可以，结账时勾选“礼品包装”，每件加收NT$50。",
        "en": "Yes: tick Gift wrap at checkout, NT$50 per item.",
    },
}


@pytest.fixture
def seeded_kb(factory):
    with session_scope(factory) as session:
        save_kb_version(
            session,
            key="returns-policy",
            category="returns",
            author="import",
            questions={
                "zh-Hant": ["退貨要幾天內申請？"],
                "zh-Hans": ["退货期限是多久"],
                "en": ["How long do I have to return an item?"],
            },
            answers={
                "zh-Hant": "收到商品7天內。",
                "zh-Hans": "收到商品7天内。",
                "en": "Within 7 days of delivery.",
            },
        )


def test_import_if_empty_copies_the_default_kb_once(settings, factory):
    assert kbsync.import_if_empty(factory, settings.kb_source) == 80
    assert kbsync.import_if_empty(factory, settings.kb_source) == 0
    from kb.faq import load_kb

    source = load_kb(settings.kb_source)
    kb = kbsync.crm_knowledge_base(factory)
    assert {e.id for e in kb.entries} == {e.id for e in source.entries}
    assert kb.get("returns-policy") == source.get("returns-policy")


def test_crm_knowledge_base_fills_the_other_script_and_skips_archived(factory, seeded_kb):
    with session_scope(factory) as session:
        save_kb_version(
            session,
            key="only-traditional",
            questions={"zh-Hant": ["門市幾點開？"]},
            answers={"zh-Hant": "早上十點。", "en": "10 am."},
        )
        save_kb_version(session, key="old-one", questions={"en": ["old?"]}, answers={"en": "old"})
        from crm.repo.kb import set_kb_status

        set_kb_status(session, "old-one", "archived")
    kb = kbsync.crm_knowledge_base(factory)
    assert [e.id for e in kb.entries] == ["only-traditional", "returns-policy"]
    entry = kb.get("only-traditional")
    assert entry.questions["zh-Hans"] == ["门市几点开？"] and entry.questions["en"] == []
    assert entry.answers["zh-Hans"] == "早上十点。"


def test_create_edit_versions_and_diff(as_user, seeded_kb):
    trainer = as_user("trainer1")
    assert trainer.post("/api/trainer/entries", json={**ENTRY, "key": "Bad Key!"}).status_code == 422
    missing = {**ENTRY, "answers": {**ENTRY["answers"], "en": " "}}
    assert trainer.post("/api/trainer/entries", json=missing).json()["error"] == "missing_answer"
    assert trainer.post("/api/trainer/entries", json=ENTRY).json() == {"key": "gift-wrapping", "version": 1}
    assert trainer.post("/api/trainer/entries", json=ENTRY).status_code == 409
    edit = {
        **ENTRY,
        "base_version": 1,
        "note": "price change",
        "questions": {
            **ENTRY["questions"],
            "en": ["Do you offer gift wrapping?", "can you wrap it as a present"],
        },
        "answers": {**ENTRY["answers"], "en": "Yes: tick Gift wrap at checkout, NT$60 per item."},
    }
    assert trainer.put("/api/trainer/entries/gift-wrapping", json=edit).json()["version"] == 2
    assert trainer.put("/api/trainer/entries/gift-wrapping", json=edit).status_code == 409  # stale base
    detail = trainer.get("/api/trainer/entries/gift-wrapping").json()
    assert [v["version"] for v in detail["versions"]] == [2, 1] and detail["versions"][0][
        "author"
    ] == "trainer1"
    diff = trainer.get("/api/trainer/entries/gift-wrapping/diff?a=1&b=2").json()
    en = diff["languages"]["en"]
    assert en["questions"]["added"] == ["can you wrap it as a present"]
    assert ["-", "50"] in en["answer"] and ["+", "60"] in en["answer"]
    assert diff["languages"]["zh-Hant"]["answer_changed"] is False
    found = trainer.get("/api/trainer/entries?q=禮物").json()["items"]
    assert [e["key"] for e in found] == ["gift-wrapping"]
    assert (
        trainer.get("/api/trainer/entries?q=礼物").json()["items"][0]["key"] == "gift-wrapping"
    )  # script-folded
    assert (
        trainer.post("/api/trainer/entries/gift-wrapping/status", json={"status": "draft"}).json()["status"]
        == "draft"
    )
    assert trainer.get("/api/trainer/entries?status=draft").json()["items"][0]["key"] == "gift-wrapping"


def test_inbox_groups_and_paraphrase_action(as_user, seeded_kb, factory):
    with session_scope(factory) as session:
        for text in ["退貨運費誰付？", "退貨運費誰付", "退货运费谁付", "<img src=x onerror=alert(1)>"]:
            record_unanswered(
                session, text=text, language="zh-Hant", best_score=0.3, best_entry_id="returns-policy"
            )
    trainer = as_user("trainer1")
    inbox = trainer.get("/api/trainer/inbox").json()
    assert inbox["grouping"] == "text" and inbox["total"] == 4
    top = inbox["groups"][0]
    assert top["count"] == 3 and top["best_entry_id"] == "returns-policy"
    assert inbox["groups"][1]["representative"] == "<img src=x onerror=alert(1)>"
    done = trainer.post(
        "/api/trainer/inbox/paraphrase",
        json={
            "ids": top["ids"],
            "key": "returns-policy",
            "text": top["representative"],
            "language": "zh-Hant",
        },
    )
    assert done.json()["version"] == 2 and done.json()["closed"] == 3
    entry = trainer.get("/api/trainer/entries/returns-policy").json()
    assert top["representative"] in entry["questions"]["zh-Hant"]
    assert (
        trainer.post(
            "/api/trainer/inbox/paraphrase",
            json={**{"ids": top["ids"], "key": "returns-policy", "text": "x", "language": "zh-Hant"}},
        ).status_code
        == 404
    )  # already handled
    other = inbox["groups"][1]["ids"]
    assert trainer.post("/api/trainer/inbox/dismiss", json={"ids": other}).json() == {"closed": 1}
    assert trainer.get("/api/trainer/inbox").json()["groups"] == []


def test_new_entry_from_inbox_closes_the_questions(as_user, factory):
    with session_scope(factory) as session:
        qid = record_unanswered(session, text="可以包裝成禮物嗎", language="zh-Hant").id
    trainer = as_user("trainer1")
    assert trainer.post("/api/trainer/entries", json={**ENTRY, "from_questions": [qid]}).status_code == 200
    with session_scope(factory) as session:
        row = session.get(UnansweredQuestion, qid)
        assert (row.status, row.resolved_entry_id, row.reviewed_by) == (
            "new_entry",
            "gift-wrapping",
            "trainer1",
        )


def test_try_it_and_script_conversion(as_user):
    trainer = as_user("trainer1")
    assert trainer.post("/api/trainer/try", json={"text": " "}).status_code == 422
    result = trainer.post("/api/trainer/try", json={"text": "退貨", "language": "zh-Hant"}).json()
    assert result["decision"] == "answer" and result["hits"][0]["score"] == 0.91
    assert trainer.post("/api/trainer/convert", json={"text": "退貨運費", "language": "zh-Hans"}).json() == {
        "text": "退货运费"
    }


def test_trainer_page_and_rebuild_api(as_user):
    trainer = as_user("trainer1")
    assert trainer.get("/trainer").status_code == 200
    assert trainer.get("/api/trainer/rebuild").json()["status"] == "idle"
