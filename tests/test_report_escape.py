"""Issue 14: every report writer shows any string a ``Pair`` or a report may carry safely: names that are rich
markup, control and bidirectional characters, lone surrogates; CSV cells that a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import json

import pytest

import dedup
from dedup import CheckedDocument, CheckReport, Pair, Passage, Report
from dedup.models import DocumentEntry

TEXT = "同志们，今天我们召开全市秋季安全生产工作会议，主要任务是认真贯彻上级关于安全生产工作的部署要求。\n"
#: Names a library user may give a Pair, and how every report but JSON shows them.
NAMES = {
    "[final].txt": "[final].txt",
    "x[/]y.txt": "x[/]y.txt",
    "rtl\u202etxt.exe.txt": "rtl\\u202etxt.exe.txt",
    "bell\x07.txt": "bell\\x07.txt",
    "esc\x1b[31mred.txt": "esc\\x1b[31mred.txt",
    "bytes\udcc4.txt": "bytes\\udcc4.txt",
    "two\nlines.txt": "two\\nlines.txt",
    "sep\u2028.txt": "sep\\u2028.txt",
}
RAW = "\u202e\x07\x1b\udcc4\u2028"


def _report() -> Report:
    names = list(NAMES)
    passage = Passage(0, len(TEXT) - 1, 0, len(TEXT) - 1, 1.0)
    pairs = tuple(
        Pair(a, b, "near_duplicate", 0.99, 1.0, 1.0, (passage,), ("only the first line differs: title \u202e\x07",))
        for a, b in zip(names[::2], names[1::2])
    )
    documents = tuple(DocumentEntry(n, "ok", chars=len(TEXT), text=TEXT) for n in names)
    documents += (DocumentEntry("bad[/]\u202e.pdf", "skipped", reason="corrupt .pdf: [bold]x\x07"),)
    return Report(root="root[/]\u202e", documents=documents, pairs=pairs, clusters=(tuple(names[:2]),))


def _write(report, fmt: str, **options) -> str:
    out = io.StringIO()
    dedup.write_report(report, fmt, out, **options)
    return out.getvalue()


def test_printable_escapes_what_would_hide_or_reorder_and_nothing_else():
    for raw, shown in NAMES.items():
        assert dedup.printable(raw) == shown
        assert dedup.printable(shown) == shown  # escaping again changes nothing
    assert dedup.printable("讲话稿 2019 (final) — a\\b.txt") == "讲话稿 2019 (final) — a\\b.txt"
    assert dedup.printable_text("line\n\ttab\r\n\x0cpage\x1b[2J\u202e") == "line\n\ttab\r\n\x0cpage\\x1b[2J\\u202e"


@pytest.mark.parametrize("fmt", ["terminal", "html", "csv", "jsonl"])
def test_every_report_but_json_shows_names_escaped(fmt: str):
    page = _write(_report(), fmt)
    assert not any(ch in page for ch in RAW), fmt
    page.encode("utf-8")  # valid UTF-8
    if fmt == "jsonl":
        rows = [json.loads(line) for line in page.splitlines()]
        assert {r["a"] for r in rows} | {r["b"] for r in rows} == set(NAMES.values())
    else:
        for shown in NAMES.values():
            assert shown in page, (fmt, shown)


def test_the_terminal_report_takes_no_name_or_text_as_markup():
    page = _write(_report(), "terminal")
    assert "[final].txt" in page and "x[/]y.txt" in page and "bad[/]\\u202e.pdf" in page
    assert "corrupt .pdf: [bold]x\\x07" in page and "dedup scan of root[/]\\u202e" in page
    text = "[bold]同志们[/]，今天我们召开全市秋季安全生产工作会议\x1b[2J，主要任务是认真贯彻上级关于安全生产工作的部署要求。"
    pair = Pair("[a].txt", "b.txt", "partial", 0.9, 1.0, 1.0, (Passage(0, len(text), 0, len(text), 1.0),))
    report = Report(root="r", documents=(), pairs=(pair,), clusters=())
    shown = _write(report, "terminal", load_text=lambda path: text)
    assert "bold]同志们[/]" in shown and "\\x1b[2J" in shown and "\x1b" not in shown  # (a hunk starts at a word)


def test_json_keeps_names_as_they_are_and_is_valid_utf8():
    data = dedup.report_to_json(_report())
    data.encode("utf-8")
    assert not any(ch in data for ch in RAW)  # as JSON escapes: the same values
    pairs = json.loads(data)["pairs"]
    names = {p["a"] for p in pairs} | {p["b"] for p in pairs}
    assert "rtl\u202etxt.exe.txt" in names and "bell\x07.txt" in names and "[final].txt" in names
    assert "bytes\\udcc4.txt" in names  # a lone surrogate cannot be UTF-8: written as ingest shows such a name
    check = CheckReport(index="i", archive=1, documents=(), checked=(CheckedDocument("new\udcff.txt", 10, 0.0, 0.0),))
    assert json.loads(dedup.check_to_json(check).encode("utf-8"))["checked"][0]["path"] == "new\\udcff.txt"


def test_jsonl_records_stay_one_line_each_whatever_the_strings():
    pair = Pair("a.txt", "b.txt", "partial", 0.5, 0.5, 0.5, (), ("odd\u2028line\x85break\u2029",))
    page = _write(Report(root="r", documents=(), pairs=(pair,), clusters=()), "jsonl")
    (line,) = page.splitlines()  # str.splitlines cuts at U+2028, U+2029 and U+0085 too
    assert json.loads(line)["differences"] == ["odd\u2028line\x85break\u2029"]  # the same value, escaped in JSON


def test_csv_cells_that_look_like_formulas_are_neutralised():
    pairs = (
        Pair("=HYPERLINK(\"http://x\")", "+1.txt", "partial", 0.5, 0.25, 0.5, (), ("-2+3", "ok")),
        Pair("@SUM(A1).txt", "\tindent.txt", "partial", 0.5, 0.25, 0.5, (), ("=1",)),
        Pair("\rreturn.txt", "plain - name.txt", "partial", 0.5, 0.25, 0.5, ()),
    )
    rows = list(csv.DictReader(io.StringIO(_write(Report(root="r", documents=(), pairs=pairs, clusters=()), "csv"))))
    assert [(r["a"], r["b"], r["differences"]) for r in rows] == [
        ("'=HYPERLINK(\"http://x\")", "'+1.txt", "'-2+3; ok"),
        ("'@SUM(A1).txt", "\\tindent.txt", "'=1"),  # a tab or CR inside a name is escaped first
        ("\\rreturn.txt", "plain - name.txt", ""),
    ]
    assert {r["similarity"] for r in rows} == {"0.5"} and {r["a_coverage"] for r in rows} == {"0.25"}
    assert dedup.csv_cell("\tx") == "'\tx" and dedup.csv_cell("\rx") == "'\rx" and dedup.csv_cell(-1.5) == -1.5


def test_reports_show_the_texts_they_kept_without_load_text():
    report = _report()
    for fmt in ("terminal", "html"):
        assert "同志们，今天我们召开" in _write(report, fmt), fmt
    # a load_text given is used instead (the library API stays as it was)
    assert "replaced text" in _write(report, "html", load_text=lambda path: "replaced text " * 20)
