"""The Parquet report (``--format parquet --output DIR``): the JSON report's tables, written stage by stage, replaced
whole on a re-run, never over an input or a folder that is not dedup's."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import dedup
from dedup import (
    CheckReport,
    ConfigError,
    Pair,
    Passage,
    Report,
    ScanConfig,
    check_output_folder,
    parquet_schemas,
    report_to_json,
    write_parquet_report,
)
from dedup.cli import app
from dedup.models import CheckedDocument, DocumentEntry

from conftest import CORPUS
from texts import EN_SPEECH, ZH_SPEECH

runner = CliRunner()
TABLES = ("documents", "pairs", "passages", "clusters")


@pytest.fixture(scope="module")
def corpus_report() -> Report:
    return dedup.scan(CORPUS, config=ScanConfig(workers=1))


def _rows(directory: Path, table: str) -> list[dict]:
    """A table's rows; a column the schemas do not know (a field the JSON report gained) holds JSON text."""
    known = set(parquet_schemas("check")[table].names)
    rows = pq.read_table(directory / table).to_pylist()
    return [{k: v if (k in known and k != "metadata") or v is None else json.loads(v) for k, v in row.items()} for row in rows]


def _set(row: dict) -> dict:
    """A row without its empty fields (a JSON document lists only the fields of its status)."""
    return {k: v for k, v in row.items() if v is not None}


def _check_matches_json(directory: Path, data: dict) -> None:
    """The folder's tables hold exactly the JSON report's documents, pairs, passages and clusters."""
    assert [_set(r) for r in _rows(directory, "documents")] == [_set(d) for d in data["documents"]]
    pairs = _rows(directory, "pairs")
    assert [r["pair"] for r in pairs] == list(range(len(data["pairs"])))
    assert [{k: v for k, v in r.items() if k not in ("pair", "a_origin", "b_origin")} for r in pairs] == [
        {k: v for k, v in p.items() if k != "passages"} for p in data["pairs"]
    ]
    passages = _rows(directory, "passages")
    expected = [{"pair": k, "a": p["a"], "b": p["b"], **x} for k, p in enumerate(data["pairs"]) for x in p["passages"]]
    assert passages == expected
    members = _rows(directory, "clusters")
    clusters: dict[int, list[str]] = {}
    for row in members:
        clusters.setdefault(row["cluster"], []).append(row["document"])
    assert [clusters[k] for k in sorted(clusters)] == data.get("clusters", [])


def test_the_tables_hold_exactly_the_json_report(corpus_report: Report, tmp_path: Path):
    out = tmp_path / "out"
    write_parquet_report(corpus_report, out)
    data = json.loads(report_to_json(corpus_report))
    assert data["pairs"] and data["clusters"] and any(p["passages"] for p in data["pairs"])
    _check_matches_json(out, data)
    assert {r["a_origin"] for r in _rows(out, "pairs")} == {"scanned"} == {r["b_origin"] for r in _rows(out, "pairs")}
    # the schemas are the explicit ones; each stage is complete, and says what it holds
    for table in TABLES:
        expected = list(parquet_schemas()[table])
        assert list(pq.read_table(out / table).schema)[: len(expected)] == expected
        complete = json.loads((out / table / "_COMPLETE").read_text(encoding="utf-8"))
        assert complete["rows"] == len(_rows(out, table)) and complete["parts"] == ["part-00000.parquet"]
    # report.json: the JSON report without its lists, with what produced it
    header = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert header["version"] == data["version"] == 1 and header["summary"] == data["summary"]
    assert header["kind"] == "scan" and header["format"] == "parquet" and header["index"] is None
    assert header["config"]["threshold"] == ScanConfig().threshold and header["config"]["workers"] == 1
    assert not {"documents", "pairs", "passages", "clusters"} & set(header)
    assert header["tables"]["passages"]["rows"] == sum(len(p["passages"]) for p in data["pairs"])
    marker = json.loads((out / "_dedup_output.json").read_text(encoding="utf-8"))
    assert marker["run"] == header["run"] == json.loads((out / "pairs" / "_COMPLETE").read_text(encoding="utf-8"))["run"]
    assert sorted(p.name for p in out.iterdir()) == ["_dedup_output.json", "clusters", "documents", "pairs", "passages", "report.json"]


def test_offsets_slice_the_source_texts_as_in_json(corpus_report: Report, tmp_path: Path):
    write_parquet_report(corpus_report, tmp_path / "out")
    texts = {d.path: dedup.read_document(CORPUS / d.path, relpath=d.path).text for d in corpus_report.documents if d.status == "ok"}
    passages = _rows(tmp_path / "out", "passages")
    json_passages = [(p.a, p.b, x) for p in corpus_report.pairs for x in p.passages]
    assert len(passages) == len(json_passages)
    for row, (a, b, x) in zip(passages, json_passages):
        assert texts[row["a"]][row["a_start"]:row["a_end"]] == texts[a][x.a_start:x.a_end] != ""
        assert texts[row["b"]][row["b_start"]:row["b_end"]] == texts[b][x.b_start:x.b_end] != ""
        if row["similarity"] == 1.0:  # an exact copy: the same text once normalized
            a_text, b_text = texts[row["a"]][row["a_start"]:row["a_end"]], texts[row["b"]][row["b_start"]:row["b_end"]]
            assert dedup.normalize_text(a_text).split() == dedup.normalize_text(b_text).split()


def test_many_part_files_read_back_as_one_table(corpus_report: Report, tmp_path: Path):
    out = tmp_path / "out"
    write_parquet_report(corpus_report, out, rows_per_part=7, rows_per_group=3)
    parts = sorted(p.name for p in (out / "passages").glob("part-*.parquet"))
    assert len(parts) == -(-sum(len(p.passages) for p in corpus_report.pairs) // 7) > 1
    assert json.loads((out / "passages" / "_COMPLETE").read_text(encoding="utf-8"))["parts"] == parts
    _check_matches_json(out, json.loads(report_to_json(corpus_report)))


def test_a_report_without_pairs_gives_empty_tables_with_the_schema(tmp_path: Path):
    report = Report(root="x", documents=(DocumentEntry("a.txt", "ok", chars=3, format="txt", encoding="utf-8"),), pairs=(), clusters=())
    write_parquet_report(report, tmp_path / "out")
    for table in ("pairs", "passages", "clusters"):
        read = pq.read_table(tmp_path / "out" / table)
        assert read.num_rows == 0 and read.schema == parquet_schemas()[table]
    assert _rows(tmp_path / "out", "documents") == [
        {"path": "a.txt", "status": "ok", "chars": 3, "format": "txt", "encoding": "utf-8", "reason": None, "source": None,
         "row": None, "metadata": None}
    ]
    assert pq.read_table(tmp_path / "out" / "passages").schema.field("a_start").type == "int64"


def test_a_rerun_replaces_every_table_and_leaves_no_stale_part(corpus_report: Report, tmp_path: Path):
    out = tmp_path / "out"
    write_parquet_report(corpus_report, out, rows_per_part=5)
    assert len(list((out / "passages").glob("part-*"))) > 1
    fewer = dataclasses.replace(corpus_report, pairs=corpus_report.pairs[:2], clusters=corpus_report.clusters[:1])
    write_parquet_report(fewer, out)
    for table in TABLES:
        assert sorted(p.name for p in (out / table).iterdir()) == ["_COMPLETE", "part-00000.parquet"]
    _check_matches_json(out, json.loads(report_to_json(fewer)))
    assert len(_rows(out, "pairs")) == 2 and not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_half_written_stage_left_by_a_crash_is_ignored_then_cleaned(corpus_report: Report, tmp_path: Path):
    out = tmp_path / "out"
    write_parquet_report(corpus_report, out)
    crashed = out / ".pairs.k3j9x.tmp"
    crashed.mkdir()
    (crashed / "part-00000.parquet").write_bytes(b"PAR1 half of a file")
    old = out / ".passages.a8f2c1d0.old"
    old.mkdir()
    assert len(_rows(out, "pairs")) == len(corpus_report.pairs)  # a reader does not see it
    write_parquet_report(corpus_report, out)
    assert not crashed.exists() and not old.exists()
    _check_matches_json(out, json.loads(report_to_json(corpus_report)))


def test_a_failing_run_keeps_the_stages_it_completed_and_shows_no_half_written_one(corpus_report: Report, tmp_path: Path):
    out = tmp_path / "out"
    broken = dataclasses.replace(corpus_report, pairs=(Pair("a.txt", "b.txt", "partial", "not a number", 0.1, 0.1),))
    with pytest.raises(Exception):
        write_parquet_report(broken, out)  # the pairs stage fails
    assert (out / "documents" / "_COMPLETE").is_file() and len(_rows(out, "documents")) == len(corpus_report.documents)
    assert sorted(p.name for p in out.iterdir()) == ["_dedup_output.json", "documents"]  # no pairs/, no .tmp, no report.json
    # over a complete previous run: that run's pairs stay, whole; its header is gone (this run did not finish)
    write_parquet_report(corpus_report, out)
    with pytest.raises(Exception):
        write_parquet_report(broken, out)
    assert len(_rows(out, "pairs")) == len(corpus_report.pairs) and not (out / "report.json").exists()
    marker = json.loads((out / "_dedup_output.json").read_text(encoding="utf-8"))
    assert json.loads((out / "documents" / "_COMPLETE").read_text(encoding="utf-8"))["run"] == marker["run"]
    assert json.loads((out / "pairs" / "_COMPLETE").read_text(encoding="utf-8"))["run"] != marker["run"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_refused_folders(corpus_report: Report, tmp_path: Path):
    a_file = tmp_path / "report.parquet"
    a_file.write_text("keep", encoding="utf-8")
    with pytest.raises(ConfigError, match="it is a file"):
        write_parquet_report(corpus_report, a_file)
    assert a_file.read_text(encoding="utf-8") == "keep"
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a previous dedup output"):
        write_parquet_report(corpus_report, foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    source = tmp_path / "speeches"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    for directory in (source, source / "sub", tmp_path):
        with pytest.raises(ConfigError, match="one of the inputs"):
            check_output_folder(directory, [source / "sub" / "a.txt"])
    with pytest.raises(ConfigError, match="one of the inputs"):
        check_output_folder(source, [source])
    check_output_folder(source / "new", [source / "sub" / "a.txt"])  # beside the inputs: fine
    # an empty folder and a missing one (with missing parents) are fine
    (tmp_path / "empty").mkdir()
    write_parquet_report(corpus_report, tmp_path / "empty")
    write_parquet_report(corpus_report, tmp_path / "x" / "y")
    assert (tmp_path / "x" / "y" / "report.json").is_file()


def test_names_are_written_as_json_writes_them(tmp_path: Path):
    odd = "odd\udcc4\u202e.txt"
    report = Report(
        root="x",
        documents=(DocumentEntry(odd, "ok", chars=9), DocumentEntry("b.txt", "skipped", reason="bad \udcff byte")),
        pairs=(Pair(odd, "b.txt", "near_duplicate", 0.9, 0.9, 0.9, (Passage(0, 5, 1, 6, 0.9),), ("a says \udcc4",)),),
        clusters=((odd, "b.txt"),),
    )
    write_parquet_report(report, tmp_path / "out")
    _check_matches_json(tmp_path / "out", json.loads(report_to_json(report)))
    assert _rows(tmp_path / "out", "documents")[0]["path"] == "odd\\udcc4\u202e.txt"


def test_a_check_report_adds_its_checked_documents(tmp_path: Path):
    sources = (Pair("new.txt", "old/a.txt", "partial", 0.3, 0.4, 0.2, (Passage(0, 40, 5, 45, 0.95),), (), "scanned", "archive"),)
    checked = CheckedDocument("new.txt", 200, copy_ratio=0.42, largest_source_ratio=0.4, sources=sources)
    report = CheckReport(index="idx.db", archive=10, documents=(DocumentEntry("new.txt", "ok", chars=200),), checked=(checked,))
    write_parquet_report(report, tmp_path / "out")
    data = dedup.check_to_dict(report)
    assert _rows(tmp_path / "out", "checked") == [{k: v for k, v in c.items() if k != "sources"} for c in data["checked"]]
    pairs = _rows(tmp_path / "out", "pairs")
    assert [(r["a"], r["b"], r["b_origin"]) for r in pairs] == [("new.txt", "old/a.txt", "archive")]
    assert _rows(tmp_path / "out", "passages")[0]["b"] == "old/a.txt" and _rows(tmp_path / "out", "clusters") == []
    header = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert header["kind"] == "check" and header["index"] == "idx.db" and header["archive"] == 10
    assert header["summary"] == data["summary"] and "checked" not in header


def test_write_report_to_a_stream_says_how_to_write_parquet():
    report = Report(root="x", documents=(), pairs=(), clusters=())
    with pytest.raises(ConfigError, match="write_parquet_report"):
        dedup.write_report(report, "parquet", io.StringIO())
    assert "parquet" in dedup.FOLDER_FORMATS and "parquet" not in dedup.FORMATS


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "speeches"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    (folder / "c.txt").write_text(ZH_SPEECH.replace("2019年9月18日", "2023年6月5日"), encoding="utf-8")
    (folder / "d.txt").write_text(ZH_SPEECH[: len(ZH_SPEECH) // 2] + "。另外一段完全不同的文字。" * 20, encoding="utf-8")
    (folder / "en.txt").write_text(EN_SPEECH, encoding="utf-8")
    return folder


def _scan(folder: Path, out: Path, *args: str):
    return runner.invoke(app, ["scan", str(folder), "-f", "parquet", "-o", str(out), "--no-progress", "--workers", "1", *args])


def test_cli_writes_the_folder_and_rewrites_it_on_a_rerun(folder: Path, tmp_path: Path):
    out = tmp_path / "out"
    result = _scan(folder, out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    expected = json.loads(runner.invoke(app, ["scan", str(folder), "-f", "json", "--no-progress", "--workers", "1"]).stdout)
    _check_matches_json(out, expected)
    assert len(expected["pairs"]) >= 2
    # a re-run with a higher threshold and longer passages: fewer rows, nothing of the first run left
    again = _scan(folder, out, "--threshold", "0.99", "--min-passage", "2000")
    assert again.exit_code == 0, again.output
    assert len(_rows(out, "pairs")) < len(expected["pairs"])
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["config"]["min_passage"] == 2000
    assert _scan(folder, out, "--fail-on", "partial").exit_code == 1 and (out / "report.json").is_file()


def test_cli_refusals_exit_2_and_say_why(folder: Path, tmp_path: Path):
    no_output = runner.invoke(app, ["scan", str(folder), "-f", "parquet", "--no-progress"])
    assert no_output.exit_code == 2 and "--output" in no_output.stderr and no_output.stdout == ""
    a_file = tmp_path / "r.parquet"
    a_file.write_text("keep", encoding="utf-8")
    for out, says in ((a_file, "it is a file"), (folder, "one of the inputs"), (folder / "sub", "will not write the report"), (tmp_path, "one of the inputs")):
        result = _scan(folder, out)
        assert result.exit_code == 2 and says in result.stderr.replace("\n", " "), (out, result.stderr)
    foreign = tmp_path / "other"
    foreign.mkdir()
    (foreign / "x.csv").write_text("keep", encoding="utf-8")
    refused = _scan(folder, foreign)
    assert refused.exit_code == 2 and "_dedup_output.json" in refused.stderr.replace("\n", " ")
    assert a_file.read_text(encoding="utf-8") == "keep" and [p.name for p in foreign.iterdir()] == ["x.csv"]
    assert (folder / "sub" / "a.txt").read_text(encoding="utf-8") == ZH_SPEECH and not (folder / "documents").exists()
    # --output keeps its meaning for the other formats: a file
    as_file = runner.invoke(app, ["scan", str(folder), "-f", "json", "-o", str(tmp_path / "r.json"), "--no-progress"])
    assert as_file.exit_code == 0 and json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["version"] == 1
    assert runner.invoke(app, ["scan", str(folder), "-f", "json", "-o", str(tmp_path / "empty_dir"), "--no-progress"]).exit_code == 0
    (tmp_path / "a_dir").mkdir()
    assert runner.invoke(app, ["scan", str(folder), "-f", "json", "-o", str(tmp_path / "a_dir"), "--no-progress"]).exit_code == 2


def test_cli_check_writes_the_folder_with_its_checked_documents(zh_archive: Path, tmp_path: Path):
    index = tmp_path / "archive.dedup"
    assert runner.invoke(app, ["index", "build", str(zh_archive), "--index", str(index), "--no-progress"]).exit_code == 0
    draft = tmp_path / "draft.txt"
    shutil.copy(sorted(zh_archive.iterdir())[0], draft)
    out = tmp_path / "out"
    result = runner.invoke(app, ["check", str(draft), "--index", str(index), "-f", "parquet", "-o", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    expected = json.loads(runner.invoke(app, ["check", str(draft), "--index", str(index), "-f", "json", "--no-progress"]).stdout)
    assert [r["path"] for r in _rows(out, "checked")] == [c["path"] for c in expected["checked"]]
    assert [(r["a"], r["b"]) for r in _rows(out, "pairs")] == [(s["a"], s["b"]) for s in expected["checked"][0]["sources"]]
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"] == expected["summary"]
    for bad in (index, zh_archive.parent):
        refused = runner.invoke(app, ["check", str(draft), "--index", str(index), "-f", "parquet", "-o", str(bad), "--no-progress"])
        assert refused.exit_code == 2, refused.output
    assert os.path.getsize(index) > 0


def test_dataset_rows_keep_their_source_row_and_metadata(tmp_path: Path):
    """A dataset row's file, row number and other columns (as JSON text: their types vary by dataset)."""
    lines = [{"id": "zh-1", "text": ZH_SPEECH, "year": 2010, "tags": ["讲话"]}, {"id": "zh-2", "text": ZH_SPEECH, "year": None}]
    data = tmp_path / "speeches.jsonl"
    data.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    write_parquet_report(dedup.scan(data, config=ScanConfig(workers=1)), tmp_path / "out")
    rows = {r["path"]: r for r in pq.read_table(tmp_path / "out" / "documents").to_pylist()}
    assert rows["zh-1"]["source"] == str(data) and rows["zh-1"]["row"] == 1 and rows["zh-2"]["row"] == 2
    assert json.loads(rows["zh-1"]["metadata"]) == {"year": 2010, "tags": ["讲话"]}
    assert json.loads(rows["zh-2"]["metadata"]) == {"year": None}
    assert pq.read_table(tmp_path / "out" / "pairs").to_pylist()[0]["relation"] == "exact"
