"""Documents-only scans (``ScanConfig(passages=False)``, ``dedup scan --no-passages``): the exact and
near-duplicate pairs of the full scan, verified the same way, without partial pairs or passages."""

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

import dedup
from dedup import ScanConfig
from dedup.cli import app

from conftest import CORPUS
from texts import EN_SPEECH, ZH_SPEECH

DOCUMENT_RELATIONS = ("exact", "near_duplicate")


def _documents(report: dedup.Report) -> set[dedup.Pair]:
    return {replace(p, passages=()) for p in report.pairs if p.relation in DOCUMENT_RELATIONS}


@pytest.fixture(scope="module")
def reports():
    full = dedup.scan(CORPUS, config=ScanConfig(workers=1))
    only = dedup.scan(CORPUS, config=ScanConfig(workers=1, passages=False))
    return full, only


def test_documents_only_finds_the_full_scans_document_pairs(reports):
    full, only = reports
    assert any(p.relation == "partial" for p in full.pairs)  # the corpus has some: they must go
    assert _documents(only) == _documents(full)  # same pairs, relations, coverage, similarity, differences
    assert {p.relation for p in only.pairs} <= set(DOCUMENT_RELATIONS)
    assert all(not p.passages for p in only.pairs)
    assert only.clusters == full.clusters
    assert [p.names() for p in only.pairs] == [p.names() for p in full.pairs if p.relation in DOCUMENT_RELATIONS]


def test_documents_only_is_recorded_in_the_config(reports):
    full, only = reports
    assert full.config["passages"] is True and only.config["passages"] is False


def test_cli_no_passages_gives_document_pairs_without_passages(tmp_path):
    (tmp_path / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    (tmp_path / "b.txt").write_text(ZH_SPEECH.replace("2019年9月18日", "2023年6月5日"), encoding="utf-8")
    (tmp_path / "en.txt").write_text(EN_SPEECH, encoding="utf-8")
    (tmp_path / "quote.txt").write_text("引言。" + ZH_SPEECH[200:600] + "\n" + EN_SPEECH[:300], encoding="utf-8")
    runner = CliRunner()
    full = json.loads(runner.invoke(app, ["scan", str(tmp_path), "--format", "json", "--no-progress"]).stdout)
    result = runner.invoke(app, ["scan", str(tmp_path), "--format", "json", "--no-progress", "--no-passages"])
    assert result.exit_code == 0, result.output
    only = json.loads(result.stdout)
    assert any(p["relation"] == "partial" for p in full["pairs"])
    (pair,) = only["pairs"]
    assert {pair["a"], pair["b"]} == {"a.txt", "b.txt"} and pair["relation"] == "near_duplicate"
    assert pair["passages"] == []
    (same,) = [p for p in full["pairs"] if {p["a"], p["b"]} == {"a.txt", "b.txt"}]
    assert {k: v for k, v in pair.items() if k != "passages"} == {k: v for k, v in same.items() if k != "passages"}
    assert only["clusters"] == full["clusters"]


def test_terminal_report_of_a_documents_only_scan_says_partials_were_not_looked_for(tmp_path):
    (tmp_path / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    (tmp_path / "b.txt").write_text(ZH_SPEECH.replace("2019年9月18日", "2023年6月5日"), encoding="utf-8")
    result = CliRunner().invoke(app, ["scan", str(tmp_path), "--no-progress", "--no-passages"])
    assert result.exit_code == 0, result.output
    assert "not looked for" in result.stdout and "near-duplicate" in result.stdout
