"""Tests for the names dedup.ingest gives files (issue 14, item 1): names that are not UTF-8 (GBK bytes from old
Windows zips) or hold control or bidirectional characters are shown escaped, the same everywhere, while the
real path is what is opened."""

from __future__ import annotations

import io
import json
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dedup
from dedup.ingest import display_name, find_files, ingest, ingest_paths, read_document, read_files, real_name, shown_path

import reference
from texts import EN_SPEECH, ZH_SPEECH, write

#: "讲话稿.txt" saved by a Chinese Windows: GBK bytes, not UTF-8; os.fsdecode gives them as lone surrogates.
GBK_NAME = "讲话稿".encode("gbk") + b".txt"
GBK_SHOWN = "\\udcbd\\udcb2\\udcbb\\udcb0\\udcb8\\udce5.txt"
#: A folder named in GBK too ("会议").
GBK_FOLDER = "会议".encode("gbk")
GBK_FOLDER_SHOWN = "\\udcbb\\udce1\\udcd2\\udce9"


def raw_path(folder: Path, *parts: bytes) -> Path:
    """A path whose last parts are raw bytes, as the file system holds them."""
    return Path(os.fsdecode(os.path.join(os.fsencode(folder), *parts)))


def showable(name: str) -> bool:
    name.encode("utf-8")  # valid UTF-8: raises on a lone surrogate
    return not any(unicodedata.category(ch) in ("Cc", "Cs") or ch in reference.BIDI_CONTROLS for ch in name)


def test_display_name_escapes_as_python_shows_characters() -> None:
    assert display_name(os.fsdecode(GBK_NAME)) == GBK_SHOWN
    cases = {
        "讲话稿 2019.txt": "讲话稿 2019.txt",  # what can be shown stays, full-width space and all
        "会议\u3000纪要.md": "会议\u3000纪要.md",
        "bell\x07.txt": "bell\\x07.txt",
        "line\nbreak\r\tx.txt": "line\\nbreak\\r\\tx.txt",
        "c1\x85\x9f.txt": "c1\\x85\\x9f.txt",
        "del\x7f.txt": "del\\x7f.txt",
        "evil\u202etxt.exe": "evil\\u202etxt.exe",
        "\u2066isolate\u2069\u200e\u200f\u061c": "\\u2066isolate\\u2069\\u200e\\u200f\\u061c",
        "para\u2029sep\u2028": "para\\u2029sep\\u2028",
        "back\\slash.txt": "back\\\\slash.txt",
        "emoji 🎉.txt": "emoji 🎉.txt",
    }
    for name, shown in cases.items():
        assert display_name(name) == shown == reference.display_name(name)
        assert real_name(shown) == name


@given(st.text(st.characters(exclude_categories=()), max_size=30))
def test_display_name_is_printable_utf8_and_reversible(name: str) -> None:
    shown = display_name(name)
    assert shown == reference.display_name(name)
    assert showable(shown)
    assert real_name(shown) == name
    assert display_name(shown.replace("\\", "")) == shown.replace("\\", "")  # no escape left to make


@pytest.fixture
def odd_names(tmp_path: Path) -> Path:
    """A folder holding files whose names are GBK bytes, control characters and bidirectional controls."""
    folder = tmp_path / "speeches"
    write(raw_path(folder, GBK_NAME), ZH_SPEECH.encode("gb18030"))
    write(raw_path(folder, GBK_FOLDER, b"copy.txt"), ZH_SPEECH)
    write(folder / "bell\x07\u202eA.md", EN_SPEECH)
    write(folder / "plain.txt", EN_SPEECH)
    return folder


SHOWN = [GBK_SHOWN, f"{GBK_FOLDER_SHOWN}/copy.txt", "bell\\x07\\u202eA.md", "plain.txt"]


def test_scan_read_and_name_files_named_in_gbk(odd_names: Path) -> None:
    found, skipped = find_files(odd_names)
    assert skipped == []
    assert sorted(name for name, _ in found) == sorted(SHOWN)
    for name, path in found:  # the path is the real one: it opens
        assert os.path.exists(path) and os.path.join(odd_names, real_name(name)) == path

    docs, skipped = ingest(odd_names)
    assert skipped == [] and sorted(d.path for d in docs) == sorted(SHOWN)
    by_name = {d.path: d for d in docs}
    assert by_name[GBK_SHOWN].text == ZH_SPEECH and by_name[GBK_SHOWN].encoding == "gb18030"
    assert read_files(found)[0] == docs

    gbk_file = raw_path(odd_names, GBK_NAME)
    assert read_document(gbk_file).path == GBK_SHOWN  # named by its file name
    assert read_document(os.fsencode(gbk_file)).path == GBK_SHOWN  # a bytes path works too
    assert shown_path(gbk_file, odd_names) == GBK_SHOWN
    assert shown_path(gbk_file, None) == display_name(gbk_file.as_posix())
    assert showable(shown_path(gbk_file, None))

    docs, _ = ingest_paths([odd_names, gbk_file], base=odd_names)  # the same name by folder and by file
    assert [d.path for d in docs].count(GBK_SHOWN) == 2
    assert sorted({d.path for d in docs}) == sorted(SHOWN)
    docs, _ = ingest_paths([os.fsencode(gbk_file)], base=odd_names)
    assert [d.path for d in docs] == [GBK_SHOWN]


def test_errors_name_the_file_printably(tmp_path: Path) -> None:
    empty = write(raw_path(tmp_path, GBK_NAME), b"")
    with pytest.raises(dedup.IngestError) as info:
        read_document(empty)
    assert info.value.reason == "empty file"
    assert info.value.path == display_name(str(empty)) and showable(str(info.value))
    with pytest.raises(dedup.InputError) as missing:
        ingest(raw_path(tmp_path, GBK_FOLDER))
    assert showable(str(missing.value)) and GBK_FOLDER_SHOWN in str(missing.value)
    docs, skipped = ingest(tmp_path)
    assert docs == [] and [(s.path, s.reason) for s in skipped] == [(GBK_SHOWN, "empty file")]


def test_every_report_format_writes_such_names(odd_names: Path) -> None:
    report = dedup.scan(odd_names, config=dedup.ScanConfig(workers=1))
    names = {n for p in report.pairs for n in (p.a, p.b)}
    assert {GBK_SHOWN, f"{GBK_FOLDER_SHOWN}/copy.txt"} <= names  # the same speech twice: a pair
    for fmt in ("terminal", "json", "html", "csv", "jsonl"):
        out = io.StringIO()
        dedup.write_report(report, fmt, out, load_text=lambda p: read_document(odd_names / real_name(p), relpath=p).text)
        out.getvalue().encode("utf-8")  # valid UTF-8: no lone surrogate reached a writer
    paths = {d["path"] for d in json.loads(dedup.report_to_json(report))["documents"]}
    assert paths == set(SHOWN)


def test_index_add_and_remove_name_the_same_path(odd_names: Path, tmp_path: Path) -> None:
    """A file named in GBK is stored under the name scans show, and ``index remove`` of the file removes it."""
    location = tmp_path / "archive.dedup"
    gbk_file = raw_path(odd_names, GBK_NAME)
    moved = tmp_path / "later"
    moved.mkdir()
    os.rename(gbk_file, raw_path(moved, GBK_NAME))
    built = dedup.build_index(odd_names, location, config=dedup.ScanConfig(workers=1))
    assert GBK_SHOWN not in built.added and f"{GBK_FOLDER_SHOWN}/copy.txt" in built.added
    os.rename(raw_path(moved, GBK_NAME), gbk_file)  # a new file inside the indexed folder
    added = dedup.add_to_index([gbk_file], location)
    assert added.added == (GBK_SHOWN,)
    assert dedup.add_to_index([odd_names], location).replaced == tuple(sorted(SHOWN))  # the same names again
    removed = dedup.remove_from_index([str(gbk_file)], location)
    assert removed.removed == (GBK_SHOWN,)
    removed = dedup.remove_from_index([str(raw_path(odd_names, GBK_FOLDER))], location)
    assert removed.removed == (f"{GBK_FOLDER_SHOWN}/copy.txt",)
