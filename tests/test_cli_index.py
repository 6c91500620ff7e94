"""The index commands and ``dedup check`` through typer's CliRunner: exit codes and JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app

from conftest import CORPUS

runner = CliRunner()
ZH = sorted((CORPUS / "zh").glob("*.txt"))
COPY = CORPUS / "planted" / "zh01_work_meeting_header_changed.txt"


@pytest.fixture
def archive(tmp_path: Path, zh_archive: Path) -> tuple[Path, Path]:
    folder = zh_archive
    index = tmp_path / "a.dedup"
    result = runner.invoke(app, ["index", "build", str(folder), "--index", str(index)])
    assert result.exit_code == 0, result.output
    return folder, index


def test_build_and_info(archive):
    _, index = archive
    result = runner.invoke(app, ["index", "info", "--index", str(index), "--format", "json", "--list"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["documents"] == 5 and info["paths"] == sorted(f.name for f in ZH[:5])
    assert info["sign"]["num_perm"] == 128 and info["sign"]["scheme"] == "affine32"
    assert info["size_bytes"] > 0
    text = runner.invoke(app, ["index", "info", "--index", str(index)])
    assert text.exit_code == 0 and "affine32" in text.stdout


def test_check_json_reports_ratios_sources_and_passages(archive):
    _, index = archive
    result = runner.invoke(app, ["check", str(COPY), str(ZH[7]), "--index", str(index), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == 1 and data["kind"] == "check" and data["summary"]["archive"] == 5
    by_path = {c["path"]: c for c in data["checked"]}
    copy = by_path[str(COPY)]
    (source,) = copy["sources"]
    assert source["path"] == ZH[0].name and source["relation"] == "near_duplicate"
    assert copy["copy_ratio"] >= 0.95 and copy["largest_source_ratio"] == source["ratio"]
    text = COPY.read_text(encoding="utf-8")
    original = ZH[0].read_text(encoding="utf-8")
    for x in source["passages"]:
        assert text[x["a_start"] : x["a_end"]][-20:] == original[x["b_start"] : x["b_end"]][-20:]
    assert by_path[str(ZH[7])]["sources"] == [] and by_path[str(ZH[7])]["copy_ratio"] == 0.0


def test_check_fail_on_and_terminal_report(archive):
    _, index = archive
    found = runner.invoke(app, ["check", str(COPY), "--index", str(index), "--fail-on", "near_duplicate"])
    assert found.exit_code == 1 and "near-duplicate" in found.stdout and ZH[0].name in found.stdout
    clean = runner.invoke(app, ["check", str(ZH[7]), "--index", str(index), "--fail-on", "partial"])
    assert clean.exit_code == 0 and "none found" in clean.stdout


def test_add_and_remove(archive, tmp_path):
    _, index = archive
    added = runner.invoke(app, ["index", "add", str(ZH[7]), "--index", str(index)])
    assert added.exit_code == 0, added.output
    data = json.loads(runner.invoke(app, ["index", "info", "--index", str(index), "--format", "json", "--list"]).stdout)
    assert data["documents"] == 6 and ZH[7].as_posix() in data["paths"]
    removed = runner.invoke(app, ["index", "remove", ZH[7].as_posix(), "--index", str(index)])
    assert removed.exit_code == 0, removed.output
    missing = runner.invoke(app, ["index", "remove", "nothing.txt", "--index", str(index)])
    assert missing.exit_code == 2 and "nothing.txt" in missing.output


def test_scan_with_index_compares_the_folder_with_the_archive(archive, tmp_path):
    _, index = archive
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    shutil.copy(COPY, drafts / "draft.txt")
    shutil.copy(ZH[8], drafts / "other.txt")
    result = runner.invoke(app, ["scan", str(drafts), "--index", str(index), "--format", "json"])
    assert result.exit_code == 0, result.output
    (pair,) = json.loads(result.stdout)["pairs"]
    data = json.loads(result.stdout)
    assert data["summary"]["archive"] == 5
    assert (pair["a"], pair["b"], pair["relation"]) == ("draft.txt", f"index:{ZH[0].name}", "near_duplicate")
    terminal = runner.invoke(app, ["scan", str(drafts), "--index", str(index)])
    assert terminal.exit_code == 0 and f"index:{ZH[0].name}" in terminal.stdout


def test_errors_name_the_index_and_exit_2(tmp_path):
    missing = runner.invoke(app, ["check", str(COPY), "--index", str(tmp_path / "none.dedup")])
    assert missing.exit_code == 2 and "none.dedup" in missing.output
    junk = tmp_path / "junk.dedup"
    junk.write_bytes(b"\x00garbage" * 1000)
    bad = runner.invoke(app, ["index", "info", "--index", str(junk)])
    assert bad.exit_code == 2 and "junk.dedup" in bad.output
    assert runner.invoke(app, ["check", str(tmp_path / "nofile.txt"), "--index", str(junk)]).exit_code == 2


def test_build_replaces_an_index_only_when_complete(archive, tmp_path):
    folder, index = archive
    before = index.read_bytes()
    result = runner.invoke(app, ["index", "build", str(tmp_path / "no-such-folder"), "--index", str(index)])
    assert result.exit_code == 2
    assert index.read_bytes() == before  # the failed build left the old index alone
    assert not [p for p in index.parent.iterdir() if ".building" in p.name]


@pytest.mark.parametrize("fmt", ["html", "csv", "jsonl"])
def test_check_writes_every_report_format(archive, tmp_path, fmt):
    _, index = archive
    out = tmp_path / f"report.{fmt}"
    result = runner.invoke(app, ["check", str(COPY), "--index", str(index), "--format", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert ZH[0].name in text
    if fmt == "html":  # the archived source's text is shown side by side, read from the index
        assert "机关效能建设暨优化营商环境工作会议" in text
    if fmt == "jsonl":
        (row,) = [json.loads(line) for line in text.splitlines()]
        assert row["b"] == ZH[0].name and row["copy_ratio"] >= 0.95


def test_check_works_after_the_archive_folder_is_gone(archive):
    folder, index = archive
    shutil.rmtree(folder)
    result = runner.invoke(app, ["check", str(COPY), "--index", str(index), "--format", "json"])
    assert result.exit_code == 0, result.output
    (checked,) = json.loads(result.stdout)["checked"]
    (source,) = checked["sources"]
    assert source["path"] == ZH[0].name and source["passages"]
    terminal = runner.invoke(app, ["check", str(COPY), "--index", str(index)])
    assert terminal.exit_code == 0 and "passage 1/" in terminal.stdout  # side by side, from the stored text


def test_an_empty_folder_makes_an_empty_index(tmp_path):
    (tmp_path / "empty").mkdir()
    index = tmp_path / "e.dedup"
    built = runner.invoke(app, ["index", "build", str(tmp_path / "empty"), "--index", str(index)])
    assert built.exit_code == 0, built.output
    checked = runner.invoke(app, ["check", str(COPY), "--index", str(index), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    (doc,) = json.loads(checked.stdout)["checked"]
    assert doc["sources"] == [] and doc["copy_ratio"] == 0.0
    added = runner.invoke(app, ["index", "add", str(ZH[0]), "--index", str(index)])
    assert added.exit_code == 0, added.output
    again = json.loads(runner.invoke(app, ["check", str(COPY), "--index", str(index), "--format", "json"]).stdout)
    assert [s["path"] for s in again["checked"][0]["sources"]] == [ZH[0].as_posix()]


def test_remove_a_folder_by_its_path_on_disk(archive):
    folder, index = archive
    one = runner.invoke(app, ["index", "remove", str(folder / ZH[1].name), "--index", str(index)])
    assert one.exit_code == 0, one.output
    everything = runner.invoke(app, ["index", "remove", str(folder), "--index", str(index)])
    assert everything.exit_code == 0, everything.output
    info = json.loads(runner.invoke(app, ["index", "info", "--index", str(index), "--format", "json"]).stdout)
    assert info["documents"] == 0
