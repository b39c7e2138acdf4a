"""CLI behaviour, in-process (``crm.cli.main``) so it stays fast."""

from __future__ import annotations

import json

import pytest

from crm import cli, migrate
from crm.db import make_engine
from crm.errors import CRMConfigError


def run(capsys, *argv):
    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize(
    "url, needle",
    [
        ("nonsense", "invalid database URL"),
        ("postgres://u:hunter2@localhost/db", "invalid database URL"),
        ("sqlite:////nonexistent-dir/sub/crm.sqlite3", "cannot open SQLite file"),
        ("postgresql+psycopg://u:hunter2@127.0.0.1:1/db", "database server unreachable"),
    ],
)
def test_bad_url_is_one_line_without_password(capsys, url, needle):
    rc, out, err = run(capsys, "--url", url, "check")
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err
    assert "hunter2" not in err


def test_make_engine_wraps_bad_url():
    with pytest.raises(CRMConfigError) as info:
        make_engine("mysql+nodriver://x/y")
    assert "\n" not in str(info.value)


def test_migrate_check_seed_export_forget(capsys, db_url, tmp_path, monkeypatch):
    rc, _, err = run(capsys, "--url", db_url, "check")
    assert rc == 2 and "python -m crm migrate" in err
    assert run(capsys, "--url", db_url, "migrate")[0] == 0
    rc, out, _ = run(capsys, "--url", db_url, "check")
    assert rc == 0 and "OK" in out
    rc, out, _ = run(capsys, "--url", db_url, "seed", "--no-users")
    assert rc == 0 and "loaded 50 customers" in out
    rc, out, _ = run(capsys, "--url", db_url, "seed", "--no-users")
    assert rc == 0 and "not empty" in out
    dest = tmp_path / "c1.json"
    assert run(capsys, "--url", db_url, "export-customer", "1", "-o", str(dest))[0] == 0
    assert json.loads(dest.read_text())["profile"]["id"] == 1
    rc, _, err = run(capsys, "--url", db_url, "forget-customer", "1")
    assert rc == 2 and "--yes" in err
    rc, out, _ = run(capsys, "--url", db_url, "forget-customer", "1", "--yes")
    assert rc == 0 and "anonymised" in out
    rc, _, err = run(capsys, "--url", db_url, "export-customer", "999")
    assert rc == 2 and err == "error: customer 999 not found\n"


def test_cli_reports_newer_schema(capsys, migrated_url):
    eng = make_engine(migrated_url)
    with eng.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'abc123future'")
    eng.dispose()
    rc, _, err = run(capsys, "--url", migrated_url, "check")
    assert rc == 2
    assert err == (
        f"error: database schema revision abc123future is newer than this code "
        f"(head {migrate.heads()[0]}); upgrade the application\n"
    )
