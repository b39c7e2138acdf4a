from __future__ import annotations

import json

import pytest

from kb.cli import main
from kb.faq import load_kb

from .conftest import REFERENCE


def test_build_search_query_eval(tmp_path, capsys, reference_index):
    src = tmp_path / "kb.csv"
    src.write_text(
        "question,answer\nHow do I return an item?,Within 7 days.\n營業時間？,9點到18點\n", encoding="utf-8"
    )
    assert main(["build", "--source", str(src), "--root", str(tmp_path / "root")]) == 0
    assert main(["search", "return policy", "--root", str(tmp_path / "root"), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["hits"][0]["entry_id"] == "1"

    inp, outp = tmp_path / "q.jsonl", tmp_path / "out" / "r.jsonl"
    inp.write_text('{"id": 1, "text": "退货期限是多久"}\n\n{"id": "b", "text": "🙂"}\n', encoding="utf-8")
    assert main(["query", "--index", str(reference_index), "--input", str(inp), "--output", str(outp)]) == 0
    lines = [json.loads(line) for line in outp.read_text(encoding="utf-8").splitlines()]
    assert (
        lines[0]["id"] == 1 and lines[0]["answered"] and lines[0]["hits"][0]["entry_id"] == "returns-policy"
    )
    assert len(lines[0]["hits"]) == 10 and set(lines[0]["hits"][0]) == {"entry_id", "score"}
    assert lines[1] == {"id": "b", "text": "🙂", "answered": False, "hits": []}

    assert main(["eval", "--index", str(reference_index)]) == 0
    assert "top1" in capsys.readouterr().out


def test_import_export(tmp_path):
    assert (
        main(["export", "--source", str(REFERENCE), "--format", "csv", "--out", str(tmp_path / "kb.csv")])
        == 0
    )
    assert main(["import", str(tmp_path / "kb.csv"), "--out", str(tmp_path / "kb.yml")]) == 0
    assert load_kb(tmp_path / "kb.yml").entries == load_kb(REFERENCE).entries


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["build", "--source", "{tmp}/missing.yml", "--out", "{tmp}/o"], "file not found"),
        (["build", "--source", "{tmp}/bad.csv", "--out", "{tmp}/o"], "wrong CSV header"),
        (["search", "hi", "--index", "{tmp}"], "not an index directory"),
        (["search", "hi", "--root", "{tmp}/none"], "no published index"),
        (
            ["query", "--index", "{ref}", "--input", "{tmp}/bad.jsonl", "--output", "{tmp}/o.jsonl"],
            "line 1: invalid JSON",
        ),
        (
            ["query", "--index", "{ref}", "--input", "{tmp}/nope.jsonl", "--output", "{tmp}/o.jsonl"],
            "file not found",
        ),
    ],
)
def test_user_errors_are_one_line(tmp_path, capsys, reference_index, argv, fragment):
    (tmp_path / "bad.csv").write_text("q,a\nx,y\n")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    argv = [a.format(tmp=tmp_path, ref=reference_index) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and fragment in err and "Traceback" not in err
