"""A button click or an upset message recorded while the database is down keeps its title,
payload and frustration score through the outbox."""

from __future__ import annotations

from crm import migrate
from crm.db import make_engine, make_session_factory, session_scope
from crm.outbox import Outbox
from crm.repo import conversations as convs
from gateway.store import ChatStore, ConversationRef


def test_queued_click_and_score_survive_the_outbox(db_url, tmp_path):
    box = Outbox(tmp_path / "outbox" / "messages.jsonl")
    gone = (
        "sqlite:///" + str(tmp_path / "gone" / "crm.sqlite3")
        if db_url.startswith("sqlite")
        else "postgresql+psycopg://postgres@127.0.0.1:1/none"
    )
    down = ChatStore(make_session_factory(make_engine(gone)), box)
    chat = ConversationRef(0, "tok-outage", "zh-Hant", "bot")
    view, created, _ = down.record_customer_message(
        chat, "c1", "否", "zh-Hant", button="/deny", frustration=0.0
    )
    assert created and view["text"] == "否" and view["button"] == {"payload": "/deny"}
    down.record_customer_message(chat, "c2", "太離譜了！！", "zh-Hant", frustration=0.45)
    assert box.has_pending()

    migrate.upgrade(db_url)
    up = make_session_factory(make_engine(db_url))
    assert ChatStore(up, box).replay_outbox()
    with session_scope(up) as session:
        conv = convs.get_conversation_by_token(session, "tok-outage")
        rows = [(m.text, m.language, m.payload, m.frustration) for m in convs.list_messages(session, conv.id)]
    assert rows == [
        ("否", "zh-Hant", {"button": {"payload": "/deny"}}, 0.0),
        ("太離譜了！！", "zh-Hant", None, 0.45),
    ]
