"""The commands on dataset files: ``scan``, ``check``, ``index build|add`` with ``--id-column``/``--text-column``, and
``dedupe`` (exit codes, JSON parsed, the summary on stderr)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app

from texts import EN_SPEECH, ZH_SPEECH

runner = CliRunner()
ZH_COPY = ZH_SPEECH.replace("2019年9月18日", "2023年6月5日")


def write_jsonl(path: Path, records: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "in" / "speeches.jsonl",
        [
            {"doc": 101, "body": ZH_SPEECH, "speaker": "张明远"},
            {"doc": 102, "body": ZH_COPY, "speaker": "张明远"},
            {"doc": 103, "body": EN_SPEECH, "speaker": "Ellen Park"},
            {"doc": 104, "body": "   "},
        ],
    )


COLUMNS = ["--id-column", "doc", "--text-column", "body", "--workers", "1", "--no-progress"]


def test_scan_a_dataset_file_as_json(data: Path):
    result = runner.invoke(app, ["scan", str(data), "--format", "json", *COLUMNS])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (pair,) = report["pairs"]
    assert (pair["a"], pair["b"], pair["relation"]) == ("101", "102", "near_duplicate")
    entries = {d["path"]: d for d in report["documents"]}
    assert entries["101"]["metadata"] == {"speaker": "张明远"} and entries["101"]["row"] == 1
    assert entries[f"{data.as_posix()}:4"] == {"path": f"{data.as_posix()}:4", "status": "skipped", "reason": "text is only whitespace"}
    assert report["summary"]["skipped"] == 1 and "text is only whitespace" in result.stderr


def test_scan_quoted_globs_and_csv_and_jsonl_outputs(data: Path, tmp_path: Path):
    result = runner.invoke(app, ["scan", str(tmp_path / "in" / "*.jsonl"), "--format", "jsonl", *COLUMNS])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["relation"] == "near_duplicate" and record["a_metadata"] == {"speaker": "张明远"}
    result = runner.invoke(app, ["scan", str(data), "--format", "csv", "--fail-on", "near_duplicate", *COLUMNS])
    assert result.exit_code == 1
    assert next(csv.DictReader(result.stdout.splitlines()))["a"] == "101"


def test_scan_usage_errors_exit_2(data: Path, tmp_path: Path):
    assert runner.invoke(app, ["scan", str(tmp_path / "none*.jsonl"), "--no-progress"]).exit_code == 2
    missing = runner.invoke(app, ["scan", str(data), "--no-progress", "--workers", "1"])  # no 'id' column
    assert missing.exit_code == 2 and "no column 'id'" in missing.stderr
    assert runner.invoke(app, ["scan", str(data), "--id-column", "body", "--text-column", "body"]).exit_code == 2
    before = data.read_bytes()
    over = runner.invoke(app, ["scan", str(data), "-f", "json", "-o", str(data), *COLUMNS])
    assert over.exit_code == 2 and "one of the inputs" in over.stderr and data.read_bytes() == before


def test_index_build_add_and_check_with_dataset_files(data: Path, tmp_path: Path):
    index = tmp_path / "archive.dedup"
    first = write_jsonl(tmp_path / "a.jsonl", [{"doc": "x1", "body": ZH_SPEECH}])
    built = runner.invoke(app, ["index", "build", str(first), "--index", str(index), *COLUMNS[:4], "--no-progress"])
    assert built.exit_code == 0, built.output
    added = runner.invoke(app, ["index", "add", str(data), "--index", str(index), *COLUMNS[:4], "--no-progress"])
    assert added.exit_code == 0 and "3 added" in added.stderr and "1 skipped" in added.stderr
    listed = runner.invoke(app, ["index", "info", "--index", str(index), "--list", "--format", "json"])
    assert json.loads(listed.stdout)["paths"] == ["101", "102", "103", "x1"]
    draft = write_jsonl(tmp_path / "draft.jsonl", [{"doc": "new", "body": ZH_COPY}])
    checked = runner.invoke(app, ["check", str(draft), "--index", str(index), "--format", "json", *COLUMNS])
    assert checked.exit_code == 0, checked.output
    (doc,) = json.loads(checked.stdout)["checked"]
    assert doc["path"] == "new" and {s["path"] for s in doc["sources"]} >= {"x1", "101", "102"}


def test_dedupe_writes_the_kept_rows_and_says_what_it_did(data: Path, tmp_path: Path):
    out = tmp_path / "clean"
    result = runner.invoke(app, ["dedupe", str(data), "--output", str(out), *COLUMNS])
    assert result.exit_code == 0, result.output
    assert "3 read, 2 kept, 1 dropped (1 cluster of copies)" in result.stderr and "1 skipped" in result.stderr
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    assert (out / "speeches.jsonl").read_text(encoding="utf-8") == lines[0] + lines[2]
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(d["name"], d["keep"], d["kept"]) for d in decisions] == [("101", True, None), ("102", False, "101"), ("103", True, None)]
    again = runner.invoke(app, ["dedupe", str(data), "-o", str(out), "--keep", "longest", *COLUMNS])
    assert again.exit_code == 0, again.output


def test_dedupe_refusals_exit_2(data: Path, tmp_path: Path):
    inside = runner.invoke(app, ["dedupe", str(data), "-o", str(data.parent), *COLUMNS])
    assert inside.exit_code == 2 and "holds the input" in inside.stderr
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x", encoding="utf-8")
    foreign = runner.invoke(app, ["dedupe", str(data), "-o", str(tmp_path / "mine"), *COLUMNS])
    assert foreign.exit_code == 2 and "did not write" in foreign.stderr
    assert runner.invoke(app, ["dedupe", str(data), "-o", str(tmp_path / "x"), "--keep", "earliest", *COLUMNS]).exit_code == 2
    assert runner.invoke(app, ["dedupe", str(data), "-o", str(tmp_path / "x"), "--keep", "newest"]).exit_code == 2
