"""``python -m worker`` commands other than the loop: import, export, request, once."""

from __future__ import annotations

import yaml

from crm.db import session_scope
from crm.models import KBRebuildJob
from kb.faq import load_kb
from worker.cli import main


def test_import_if_empty_export_and_request(settings, factory, capsys, tmp_path, monkeypatch, fake_builds):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("KB_INDEX_DIR", str(settings.kb_index_root))
    assert main(["import-if-empty"]) == 0
    assert "imported 80 entries" in capsys.readouterr().out
    assert main(["import-if-empty"]) == 0
    assert "nothing imported" in capsys.readouterr().out
    out = tmp_path / "export.yml"
    assert main(["export", str(out)]) == 0
    exported = load_kb(out)
    assert len(exported.entries) == 80 and yaml.safe_load(out.read_text())["version"] == 1
    assert main(["request", "--by", "ops"]) == 0
    assert "rebuild request 1 queued" in capsys.readouterr().out
    assert main(["once"]) == 0
    assert "ran 1 rebuild request(s)" in capsys.readouterr().out
    with session_scope(factory) as session:
        job = session.query(KBRebuildJob).one()
        assert (job.status, job.requested_by, job.entries) == ("done", "ops", 80)


def test_an_unmigrated_database_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CSA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    from common.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["request"]) == 2
    finally:
        get_settings.cache_clear()
    assert capsys.readouterr().err.startswith("error: ")
