import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app

from texts import EN_SPEECH, ZH_SPEECH

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    (tmp_path / "c.txt").write_text(ZH_SPEECH.replace("2019年9月18日", "2023年6月5日"), encoding="utf-8")
    (tmp_path / "en.txt").write_text(EN_SPEECH, encoding="utf-8")
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    return tmp_path


def test_json_report_follows_the_contract(folder: Path):
    result = runner.invoke(app, ["scan", str(folder), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == 1
    docs = {d["path"]: d for d in data["documents"]}
    assert docs["sub/a.txt"]["status"] == "ok" and docs["sub/a.txt"]["chars"] == len(ZH_SPEECH)
    assert docs["bad.pdf"]["status"] == "skipped" and docs["bad.pdf"]["reason"]
    (pair,) = data["pairs"]
    assert {pair["a"], pair["b"]} == {"sub/a.txt", "c.txt"}
    assert pair["relation"] == "near_duplicate" and 0.9 <= pair["similarity"] <= 1.0
    (passage,) = pair["passages"]
    assert set(passage) >= {"a_start", "a_end", "b_start", "b_end", "similarity", "boilerplate"}
    assert data["clusters"] == [["c.txt", "sub/a.txt"]]


def test_fail_on_sets_exit_code(folder: Path):
    assert runner.invoke(app, ["scan", str(folder), "-f", "json", "--fail-on", "near_duplicate"]).exit_code == 1
    assert runner.invoke(app, ["scan", str(folder), "-f", "json", "--fail-on", "partial"]).exit_code == 1
    (folder / "c.txt").unlink()
    assert runner.invoke(app, ["scan", str(folder), "-f", "json", "--fail-on", "partial"]).exit_code == 0


def test_usage_errors_exit_2(folder: Path):
    assert runner.invoke(app, ["scan", str(folder / "missing")]).exit_code == 2
    assert runner.invoke(app, ["scan", str(folder / "en.txt")]).exit_code == 2
    assert runner.invoke(app, ["scan", str(folder), "--threshold", "3"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(folder), "--format", "xml"]).exit_code == 2
    assert runner.invoke(app, ["scan", str(folder), "--fail-on", "everything"]).exit_code == 2


def test_error_message_goes_to_stderr(folder: Path):
    result = runner.invoke(app, ["scan", str(folder / "missing"), "-f", "json"])
    assert result.stdout == ""
    assert "missing" in result.stderr


def test_terminal_report_shows_summary_pairs_and_passages(folder: Path):
    result = runner.invoke(app, ["scan", str(folder)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "documents scanned" in out and "near-duplicate" in out
    assert "bad.pdf" in out  # skipped files are listed
    assert "only the first 3 lines differ" in out
    assert "passage 1/1" in out


def test_include_and_exclude(folder: Path):
    data = json.loads(runner.invoke(app, ["scan", str(folder), "-f", "json", "--exclude", "sub/*"]).stdout)
    assert "sub/a.txt" not in {d["path"] for d in data["documents"]}
    data = json.loads(runner.invoke(app, ["scan", str(folder), "-f", "json", "--include", "*.txt"]).stdout)
    assert {d["path"] for d in data["documents"]} == {"sub/a.txt", "c.txt", "en.txt"}


def test_text_command_prints_the_text_offsets_index_into(folder: Path):
    result = runner.invoke(app, ["text", str(folder / "sub" / "a.txt")])
    assert result.exit_code == 0 and result.stdout == ZH_SPEECH
    result = runner.invoke(app, ["text", str(folder / "bad.pdf")])
    assert result.exit_code == 2 and "bad.pdf" in result.stderr


def test_csv_and_jsonl_go_to_stdout_one_record_per_pair(folder: Path):
    result = runner.invoke(app, ["scan", str(folder), "--format", "csv"])
    assert result.exit_code == 0, result.output
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert {row["a"], row["b"]} == {"sub/a.txt", "c.txt"} and row["relation"] == "near_duplicate" and row["passages"] == "1"
    result = runner.invoke(app, ["scan", str(folder), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    (pair,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert pair["relation"] == "near_duplicate" and len(pair["passages"]) == 1


def test_output_writes_the_file_and_leaves_stdout_empty(folder: Path, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("out")  # outside the scanned folder: an older report there would be an input
    target = out_dir / "report.html"
    target.write_text("an older report", encoding="utf-8")
    result = runner.invoke(app, ["scan", str(folder), "--format", "html", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="v1a1"' in page and "c.txt" in page
    assert [p.name for p in out_dir.iterdir()] == ["report.html"]  # no temporary file left behind
    for fmt in ("terminal", "json", "csv", "jsonl"):
        result = runner.invoke(app, ["scan", str(folder), "-f", fmt, "-o", str(out_dir / f"r.{fmt}")])
        assert result.exit_code == 0 and result.stdout == "", fmt
    assert json.loads((out_dir / "r.json").read_text(encoding="utf-8"))["version"] == 1
    assert "documents scanned" in (out_dir / "r.terminal").read_text(encoding="utf-8")


def test_unwritable_output_exits_2_and_keeps_stdout_clean(folder: Path, tmp_path: Path):
    result = runner.invoke(app, ["scan", str(folder), "-f", "csv", "-o", str(tmp_path / "missing" / "r.csv")])
    assert result.exit_code == 2 and result.stdout == ""
    assert "cannot write" in result.stderr


def test_every_command_has_help():
    for command in ([], ["scan"], ["text"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.stdout
