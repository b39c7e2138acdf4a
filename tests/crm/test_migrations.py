from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from crm import migrate
from crm.db import make_engine
from crm.errors import CRMSchemaError
from crm.models import Base


def test_upgrade_empty_db_creates_all_tables(db_url):
    assert migrate.current(db_url) == ()
    assert migrate.upgrade(db_url) == migrate.heads()[0]
    assert migrate.check(db_url) == migrate.heads()[0]
    eng = make_engine(db_url)
    try:
        tables = set(inspect(eng).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with eng.connect() as conn:  # models and migrations agree
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        eng.dispose()


def test_upgrade_is_idempotent(migrated_url):
    assert migrate.upgrade(migrated_url) == migrate.heads()[0]


def test_check_refuses_uninitialised_db(db_url):
    with pytest.raises(CRMSchemaError, match="python -m crm migrate"):
        migrate.check(db_url)


def _set_revision(url: str, rev: str) -> None:
    eng = make_engine(url)
    try:
        with eng.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": rev})
    finally:
        eng.dispose()


def test_check_refuses_newer_schema(migrated_url):
    _set_revision(migrated_url, "9999_future")
    with pytest.raises(CRMSchemaError) as info:
        migrate.check(migrated_url)
    msg = str(info.value)
    assert msg == (
        f"database schema revision 9999_future is newer than this code "
        f"(head {migrate.heads()[0]}); upgrade the application"
    )
    with pytest.raises(CRMSchemaError, match="newer than this code"):
        migrate.upgrade(migrated_url)  # never "downgrade" by accident


def test_sqlite_pragmas(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        eng.dispose()


def _add_future_revision(tmp_path, monkeypatch) -> str:
    """Point crm.migrate at a copy of the migrations with one extra revision after head."""
    import shutil
    import textwrap

    dst = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, dst, ignore=shutil.ignore_patterns("__pycache__"))
    rev = "9000_test_next"
    (dst / "versions" / f"{rev}.py").write_text(
        textwrap.dedent(f'''
        from alembic import op

        revision = "{rev}"
        down_revision = "{migrate.heads()[0]}"
        branch_labels = None
        depends_on = None


        def upgrade() -> None:
            op.create_index("ix_test_next_customers_name", "customers", ["name"])


        def downgrade() -> None:
            op.drop_index("ix_test_next_customers_name", table_name="customers")
    ''')
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", dst)
    return rev


def test_cli_migrate_upgrades_older_schema_and_keeps_data(capsys, migrated_url, tmp_path, monkeypatch):
    from alembic import command

    from crm import cli

    old_head = migrate.heads()[0]
    eng = make_engine(migrated_url)
    try:
        with eng.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customers (name, preferred_language, tier, lifetime_value, preferences,"
                    " consent_personalisation, consent_marketing, created_at) VALUES ('Kept', 'en',"
                    " 'gold', 0, '{}', false, false, CURRENT_TIMESTAMP)"
                )
            )
        new_rev = _add_future_revision(tmp_path, monkeypatch)
        assert migrate.heads() == (new_rev,)
        with pytest.raises(CRMSchemaError, match=f"revision {old_head} is older than this code"):
            migrate.check(migrated_url)
        assert cli.main(["--url", migrated_url, "migrate"]) == 0
        assert capsys.readouterr().out == f"database at revision {new_rev}\n"
        assert migrate.check(migrated_url) == new_rev
        names = {ix["name"] for ix in inspect(eng).get_indexes("customers")}
        assert "ix_test_next_customers_name" in names
        with eng.connect() as conn:
            assert conn.execute(text("SELECT name FROM customers")).scalars().all() == ["Kept"]
        # ... and the new revision can be rolled back
        command.downgrade(migrate.alembic_config(url=migrated_url), old_head)
        assert migrate.current(migrated_url) == (old_head,)
    finally:
        eng.dispose()


def test_cli_migrate_refuses_newer_schema(capsys, migrated_url):
    from crm import cli

    _set_revision(migrated_url, "9999_future")
    assert cli.main(["--url", migrated_url, "migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: database schema revision 9999_future is newer than this code")
    assert err.count("\n") == 1
    assert migrate.current(migrated_url) == ("9999_future",)  # left untouched


def test_0002_adds_console_sessions_to_a_0001_database(capsys, db_url):
    """An existing 0001 database (with users) gains ``console_sessions``; `crm check` passes."""
    from alembic import command

    from crm import cli

    assert migrate.upgrade(db_url, "0001") == "0001"
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, role, active, created_at)"
                    " VALUES ('kept', 'x', 'agent', true, CURRENT_TIMESTAMP)"
                )
            )
        assert "console_sessions" not in inspect(eng).get_table_names()
        assert cli.main(["--url", db_url, "check"]) == 2
        assert "is older than this code" in capsys.readouterr().err
        head = migrate.heads()[0]  # 0002 and every later revision
        assert cli.main(["--url", db_url, "migrate"]) == 0
        assert capsys.readouterr().out == f"database at revision {head}\n"
        assert cli.main(["--url", db_url, "check"]) == 0
        assert capsys.readouterr().out == f"database schema OK (revision {head})\n"
        insp = inspect(eng)
        columns = {c["name"]: c for c in insp.get_columns("console_sessions")}
        assert set(columns) == {
            "id",
            "user_id",
            "csrf_token",
            "created_at",
            "last_seen_at",
            "expires_at",
            "revoked_at",
            "client_ip",
            "user_agent",
        }
        assert not columns["expires_at"]["nullable"] and columns["revoked_at"]["nullable"]
        assert insp.get_pk_constraint("console_sessions")["constrained_columns"] == ["id"]
        assert [(ix["name"], ix["column_names"]) for ix in insp.get_indexes("console_sessions")] == [
            ("ix_console_sessions_user_id", ["user_id"])
        ]
        fk = insp.get_foreign_keys("console_sessions")[0]
        assert fk["referred_table"] == "users" and fk["options"].get("ondelete") == "CASCADE"
        with eng.connect() as conn:  # models and migrations agree after the upgrade too
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
            assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["kept"]
            user_id = conn.execute(text("SELECT id FROM users")).scalar_one()
        with eng.begin() as conn:  # the table works (and deleting the user removes its sessions)
            conn.execute(
                text(
                    "INSERT INTO console_sessions (id, user_id, csrf_token, created_at, last_seen_at,"
                    " expires_at) VALUES (:id, :uid, 'c', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP)"
                ),
                {"id": "a" * 64, "uid": user_id},
            )
        with eng.begin() as conn:
            conn.execute(text("DELETE FROM users"))
            assert conn.execute(text("SELECT count(*) FROM console_sessions")).scalar_one() == 0
        command.downgrade(migrate.alembic_config(url=db_url), "0001")
        assert migrate.current(db_url) == ("0001",)
        assert "console_sessions" not in inspect(eng).get_table_names()
    finally:
        eng.dispose()


def _t(hour: int, minute: int = 0, second: int = 0):
    from datetime import datetime, timezone

    return datetime(2025, 2, 3, hour, minute, second, tzinfo=timezone.utc)


def _fill_0002(conn) -> dict[str, int]:
    """Escalated chats as a 0002 database holds them (transcript + audit log), and offers of
    the types the bot recorded before 0003. Written with the model tables' types (Core inserts
    of the columns 0002 has), so timestamps are stored as the application stores them."""
    from crm.models import AuditLog, CompensationOffer, Conversation, Customer, Message, User

    def insert(table, **values) -> int:
        return conn.execute(table.__table__.insert().values(**values)).inserted_primary_key[0]

    agent = insert(User, username="a1", password_hash="x", role="agent", active=True, created_at=_t(8))
    customer = insert(
        Customer,
        name="C",
        preferred_language="en",
        tier="gold",
        lifetime_value=0,
        preferences={},
        consent_personalisation=False,
        consent_marketing=False,
        created_at=_t(8),
    )
    ids: dict[str, int] = {"customer": customer}

    def chat(
        name: str,
        status: str,
        lines: list[tuple[str, str, Any]],
        reason: str | None = None,
        claims: tuple = (),
        agent_id: int | None = None,
    ) -> None:
        cid = insert(
            Conversation,
            token=f"tok-{name}",
            channel="web",
            status=status,
            started_at=lines[0][2] if lines else _t(9),
            handoff_reason=reason,
            assigned_agent_id=agent_id,
            customer_id=customer,
        )
        for client_id, direction, at in lines:
            insert(
                Message,
                conversation_id=cid,
                client_id=client_id,
                direction=direction,
                text="",
                channel="web",
                created_at=at,
            )
        for at in claims:
            insert(AuditLog, actor="a1", action="chat.claimed", target=f"conversation:{cid}", at=at)
        ids[name] = cid

    # through the gateway: hand-over record, claim audited, agent replies
    chat(
        "gateway",
        "agent",
        [
            ("m1", "customer", _t(10)),
            ("m1:r0", "bot", _t(10, 0, 2)),
            ("m1:rhandoff", "system", _t(10, 0, 2)),
            ("a-1", "agent", _t(10, 4)),
        ],
        reason="explicit_request",
        claims=(_t(10, 3),),
        agent_id=agent,
    )
    # escalated twice: the latest hand-over and the claim after it
    chat(
        "twice",
        "agent",
        [
            ("m1", "customer", _t(10)),
            ("m1:rhandoff", "system", _t(10, 0, 2)),
            ("a-1", "agent", _t(10, 1, 30)),
            ("m2", "customer", _t(11)),
            ("m2:rhandoff", "system", _t(11, 0, 5)),
            ("a-2", "agent", _t(11, 3)),
        ],
        reason="explicit_request",
        claims=(_t(10, 1), _t(11, 2)),
        agent_id=agent,
    )
    # no hand-over record and no audit (written around the gateway): the transcript derivation
    chat(
        "transcript",
        "closed",
        [("m1", "customer", _t(10)), ("m1:r0", "bot", _t(10, 0, 4)), ("a-1", "agent", _t(10, 2, 4))],
        reason="customer_request",
    )
    # still in the queue
    chat(
        "waiting",
        "waiting_agent",
        [("m1", "customer", _t(12)), ("m1:rhandoff", "system", _t(12, 0, 1))],
        reason="frustration",
    )
    # the bot handled it
    chat("bot", "closed", [("m1", "customer", _t(9)), ("m1:r0", "bot", _t(9, 0, 1))])

    for kind in ("free_shipping", "gift", "refund", "coupon"):
        ids[f"offer_{kind}"] = insert(
            CompensationOffer,
            customer_id=customer,
            type=kind,
            amount=120,
            currency="TWD",
            status="granted",
            offered_at=_t(10),
        )
    return ids


def test_0003_backfills_handoff_times_and_widens_offer_types_on_a_0002_database(db_url):
    """A 0002 database with escalated chats and offers: 0003 backfills ``handoff_at`` /
    ``agent_joined_at`` from the transcript and audit log (the metrics read as before), keeps
    every offer and lets offers take the policy's own types; downgrading maps them back."""
    from datetime import date

    from alembic import command
    from sqlalchemy.exc import IntegrityError

    from crm.db import make_session_factory, session_scope
    from crm.repo import analytics

    assert migrate.upgrade(db_url, "0002") == "0002"
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            ids = _fill_0002(conn)
        assert "handoff_at" not in {c["name"] for c in inspect(eng).get_columns("conversations")}

        assert migrate.upgrade(db_url) == migrate.heads()[0]  # 0003 and every later revision
        with eng.connect() as conn:  # models and migrations agree after the upgrade
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []

        from crm.models import CompensationOffer, Conversation, Message

        factory = make_session_factory(eng)
        with session_scope(factory) as s:
            times = {c.token[4:]: (c.handoff_at, c.agent_joined_at) for c in s.query(Conversation)}
            assert times == {
                "gateway": (_t(10, 0, 2), _t(10, 3)),
                "twice": (_t(11, 0, 5), _t(11, 2)),
                "transcript": (_t(10, 0, 4), _t(10, 2, 4)),
                "waiting": (_t(12, 0, 1), None),
                "bot": (None, None),
            }
            assert s.query(Message).count() == 17
            # the metrics of single escalations read as the transcript derivation did before
            f = analytics.Filters.for_days(date(2025, 2, 3), date(2025, 2, 3))
            rt = analytics.response_times(s, f)
            # agent first response: 238 (gateway), 175 (twice, its latest escalation), 120
            assert rt["agent_first_response_s"] == 175.0 and rt["samples"]["agent_first_response"] == 3
            # queue wait: 178, 115, 120 (the transcript chat: its first agent reply)
            assert rt["queue_wait_s"] == 120.0 and rt["samples"]["queue_wait"] == 3
            assert analytics.handoffs(s, f)["handed_off"] == 4

            kept = {o.id: o.type for o in s.query(CompensationOffer)}
            assert kept == {ids[f"offer_{k}"]: k for k in ("free_shipping", "gift", "refund", "coupon")}
            for kind in ("shipping_refund", "expedited_replacement", "partial_refund"):
                s.add(CompensationOffer(customer_id=ids["customer"], type=kind, amount=1, currency="TWD"))
            s.flush()
        # the other CHECK constraint and the indexes survived the batch recreate (SQLite)
        insp = inspect(eng)
        assert {c["name"] for c in insp.get_check_constraints("compensation_offers")} >= {
            "ck_compensation_offers_type",
            "ck_compensation_offers_status",
        }
        assert {ix["name"] for ix in insp.get_indexes("compensation_offers")} == {
            "ix_compensation_offers_customer_id",
            "ix_compensation_offers_ticket_id",
        }
        for column, value in (("type", "voucherz"), ("status", "pending")):
            with pytest.raises(IntegrityError), eng.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO compensation_offers (customer_id, type, amount, currency, status,"
                        " offered_at) VALUES (:c, :type, 1, 'TWD', :status, CURRENT_TIMESTAMP)"
                    ),
                    {"c": ids["customer"], "type": "coupon", "status": "offered", column: value},
                )

        command.downgrade(migrate.alembic_config(url=db_url), "0002")
        assert migrate.current(db_url) == ("0002",)
        assert not {"handoff_at", "agent_joined_at"} & {
            c["name"] for c in inspect(eng).get_columns("conversations")
        }
        with eng.connect() as conn:
            types = sorted(conn.execute(text("SELECT type FROM compensation_offers")).scalars())
            assert types == sorted(
                ["free_shipping", "gift", "refund", "coupon", "free_shipping", "gift", "refund"]
            )
            assert conn.execute(text("SELECT count(*) FROM messages")).scalar_one() == 17
    finally:
        eng.dispose()


def test_0004_adds_follow_up_delivery_state_to_a_0003_database(db_url):
    """Existing follow-ups keep their rows: answered ones become ``done``, open ones
    ``pending`` (the worker sends them); the status CHECK, the new index and the foreign keys
    hold after the batch recreate; downgrading drops the delivery columns and keeps the rows."""
    from alembic import command
    from sqlalchemy import bindparam
    from sqlalchemy.exc import IntegrityError

    from crm.models import Customer, FollowUp
    from crm.orm.base import UTCDateTime

    assert migrate.upgrade(db_url, "0003") == "0003"
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            customer = conn.execute(
                Customer.__table__.insert().values(
                    name="C",
                    preferred_language="en",
                    tier="gold",
                    lifetime_value=0,
                    preferences={},
                    consent_personalisation=True,
                    consent_marketing=False,
                    created_at=_t(8),
                )
            ).inserted_primary_key[0]
            insert = text(  # the columns 0003 has, with the application's timestamp type
                "INSERT INTO follow_ups (customer_id, due_at, note, outcome, done_at, created_at)"
                " VALUES (:c, :due, 'promise: refund | complaint: other', :outcome, :done, :due)"
            ).bindparams(bindparam("due", type_=UTCDateTime()), bindparam("done", type_=UTCDateTime()))
            for due, done in ((_t(9), None), (_t(10), _t(11))):
                conn.execute(
                    insert, {"c": customer, "due": due, "done": done, "outcome": "kept" if done else None}
                )

        assert migrate.upgrade(db_url) == migrate.heads()[0]
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
            rows = conn.execute(
                text("SELECT status, attempts, outcome FROM follow_ups ORDER BY due_at")
            ).all()
            assert [tuple(r) for r in rows] == [("pending", 0, None), ("done", 0, "kept")]
        insp = inspect(eng)
        assert {ix["name"]: ix["column_names"] for ix in insp.get_indexes("follow_ups")} == {
            "ix_follow_ups_customer_id": ["customer_id"],
            "ix_follow_ups_due_at": ["due_at"],
            "ix_follow_ups_status_due": ["status", "due_at"],
        }
        assert {fk["referred_table"] for fk in insp.get_foreign_keys("follow_ups")} == {
            "customers",
            "tickets",
            "conversations",
        }
        with pytest.raises(IntegrityError), eng.begin() as conn:
            conn.execute(text("UPDATE follow_ups SET status = 'lost'"))
        with eng.begin() as conn:  # deleting the customer still removes their follow-ups
            conn.execute(text("DELETE FROM customers"))
            assert conn.execute(text("SELECT count(*) FROM follow_ups")).scalar_one() == 0
            conn.execute(FollowUp.__table__.insert().values(due_at=_t(9), created_at=_t(9)))

        command.downgrade(migrate.alembic_config(url=db_url), "0003")
        assert migrate.current(db_url) == ("0003",)
        columns = {c["name"] for c in inspect(eng).get_columns("follow_ups")}
        assert not columns & {
            "status",
            "attempts",
            "next_attempt_at",
            "claimed_at",
            "sent_at",
            "channel",
            "reason",
            "last_error",
        }
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM follow_ups")).scalar_one() == 1
    finally:
        eng.dispose()


def test_0005_adds_message_frustration_and_shows_button_clicks_by_their_title(db_url):
    """Clicks stored as payloads before 0005 get the title of the button the bot offered before
    them (the latest offer wins), or a neutral label in the message's language when no stored
    bot message offered it; the payload stays beside the title. Typed text starting with "/"
    that is no payload is left alone."""
    from alembic import command

    from crm.models import Conversation, Message

    assert migrate.upgrade(db_url, "0004") == "0004"
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:

            def insert(table, **values) -> int:
                return conn.execute(table.__table__.insert().values(**values)).inserted_primary_key[0]

            cid = insert(
                Conversation,
                token="tok-clicks",
                channel="web",
                status="bot",
                started_at=_t(9),
                language="zh-Hant",
            )
            yes_no = {"buttons": [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]}
            lines = [
                ("b1", "bot", "", {"buttons": [{"title": "Yes", "payload": "/affirm"}]}, "en"),
                ("b2", "bot", "", yes_no, "zh-Hant"),
                ("c1", "customer", "/affirm", None, "en"),
                ("c2", "customer", '/choose_option{"option": "coupon"}', None, "zh-Hant"),
                ("c3", "customer", "/usr/bin is full", None, "en"),
                ("c4", "customer", "/deny", {"note": "kept"}, "zh-Hant"),
            ]
            for n, (client_id, direction, body, payload, language) in enumerate(lines):
                insert(
                    Message,
                    conversation_id=cid,
                    client_id=client_id,
                    direction=direction,
                    text=body,
                    payload=payload,
                    language=language,
                    channel="web",
                    created_at=_t(10, n),
                )
        assert migrate.upgrade(db_url) == migrate.heads()[0]
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
        with eng.connect() as conn:
            rows = {
                r.client_id: (r.text, r.payload, r.frustration)
                for r in conn.execute(
                    Message.__table__.select().where(Message.__table__.c.direction == "customer")
                )
            }
        assert rows["c1"] == ("是", {"button": {"payload": "/affirm"}}, None)
        assert rows["c2"] == (
            "（已選擇選項）",
            {"button": {"payload": '/choose_option{"option": "coupon"}'}},
            None,
        )
        assert rows["c3"] == ("/usr/bin is full", None, None)
        assert rows["c4"] == ("否", {"note": "kept", "button": {"payload": "/deny"}}, None)
        command.downgrade(migrate.alembic_config(url=db_url), "0004")
        assert "frustration" not in {c["name"] for c in inspect(eng).get_columns("messages")}
    finally:
        eng.dispose()


def test_0006_adds_the_shipment_columns_and_downgrades(db_url):
    from alembic import command

    assert migrate.upgrade(db_url, "0005") == "0005"
    assert migrate.upgrade(db_url, "0006") == "0006"
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("orders")}
        assert {"carrier", "tracking_number", "expected_at"} <= columns
        command.downgrade(migrate.alembic_config(url=db_url), "0005")
        with eng.connect() as conn:
            assert "carrier" not in {c["name"] for c in sa.inspect(conn).get_columns("orders")}
    finally:
        eng.dispose()


def test_0007_moves_the_promise_out_of_follow_up_notes_into_columns(db_url):
    """Notes the bot wrote (``promise: <resolution> | complaint: <category>``) become the
    ``promised_resolution`` / ``complaint_category`` columns and an empty note; an agent's own
    note stays as it is. Downgrading writes the bot's notes back."""
    from alembic import command
    from sqlalchemy import bindparam

    from crm.orm.base import UTCDateTime

    notes = {
        "bot": "promise: redelivery | complaint: late_delivery",
        "review": "promise: review | complaint: other",
        "agent": "確認收到新品",
        "agent_colon": "promise: call her back after 6pm",
        "empty": None,
    }
    assert migrate.upgrade(db_url, "0006") == "0006"
    eng = make_engine(db_url)
    try:
        with eng.begin() as conn:
            insert = text(
                "INSERT INTO follow_ups (due_at, note, created_by, created_at, status, attempts)"
                " VALUES (:due, :note, :who, :due, 'pending', 0)"
            ).bindparams(bindparam("due", type_=UTCDateTime()))
            for who, note in notes.items():
                conn.execute(insert, {"due": _t(9), "note": note, "who": who})

        assert migrate.upgrade(db_url, "0007") == "0007"
        with eng.connect() as conn:
            rows = {
                r[0]: tuple(r[1:])
                for r in conn.execute(
                    text("SELECT created_by, note, promised_resolution, complaint_category FROM follow_ups")
                )
            }
        assert rows == {
            "bot": (None, "redelivery", "late_delivery"),
            "review": (None, "review", "other"),
            "agent": ("確認收到新品", None, None),
            "agent_colon": ("promise: call her back after 6pm", None, None),
            "empty": (None, None, None),
        }

        assert migrate.upgrade(db_url) == migrate.heads()[0]  # and the later revisions match the models
        with eng.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []

        command.downgrade(migrate.alembic_config(url=db_url), "0006")
        assert migrate.current(db_url) == ("0006",)
        assert not {"promised_resolution", "complaint_category"} & {
            c["name"] for c in inspect(eng).get_columns("follow_ups")
        }
        with eng.connect() as conn:
            back = dict(conn.execute(text("SELECT created_by, note FROM follow_ups")).all())
        assert back == notes
    finally:
        eng.dispose()
