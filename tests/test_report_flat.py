import csv
import io
import json

from dedup.models import CheckedDocument, CheckReport, DocumentEntry, Pair, Passage, Report
from dedup.report.flat import CHECK_COLUMNS, PAIR_COLUMNS, write_csv, write_jsonl
from dedup.report.json import pair_to_dict

PASSAGES = (Passage(0, 40, 5, 45, 0.95), Passage(50, 70, 60, 80, 1.0, boilerplate=True))
NEAR = Pair("a.txt", "dir/b, with comma.txt", "near_duplicate", 0.93, 0.9, 0.85, PASSAGES, ("only the first line differs: title", 'b says "hi"'))
PARTIAL = Pair("a.txt", "c.txt", "partial", 0.1, 0.12, 0.08, PASSAGES[:1])


def _scan_report() -> Report:
    return Report(root="x", documents=(DocumentEntry("a.txt", "ok", chars=100),), pairs=(NEAR, PARTIAL), clusters=())


def _check_report() -> CheckReport:
    checked = CheckedDocument("new.txt", 200, copy_ratio=0.42, largest_source_ratio=0.3, sources=(NEAR, PARTIAL))
    return CheckReport(index="idx.db", archive=10, documents=(DocumentEntry("new.txt", "ok", chars=200),), checked=(checked,))


def _csv(report) -> list[dict]:
    out = io.StringIO()
    write_csv(report, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def _jsonl(report) -> list[dict]:
    out = io.StringIO()
    write_jsonl(report, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_csv_has_one_row_per_pair_with_the_pair_columns():
    rows = _csv(_scan_report())
    assert [tuple(r) for r in rows] == [PAIR_COLUMNS, PAIR_COLUMNS]
    assert rows[0] == {
        "a": "a.txt",
        "b": "dir/b, with comma.txt",
        "relation": "near_duplicate",
        "similarity": "0.93",
        "a_coverage": "0.9",
        "b_coverage": "0.85",
        "passages": "1",  # the boilerplate passage is not counted
        "differences": 'only the first line differs: title; b says "hi"',
    }
    assert rows[1]["relation"] == "partial" and rows[1]["differences"] == ""


def test_csv_of_a_check_adds_the_checked_documents_ratios_after_the_pair_columns():
    rows = _csv(_check_report())
    assert tuple(rows[0]) == PAIR_COLUMNS + CHECK_COLUMNS
    assert [(r["b"], r["copy_ratio"], r["largest_source_ratio"]) for r in rows] == [
        ("dir/b, with comma.txt", "0.42", "0.3"),
        ("c.txt", "0.42", "0.3"),
    ]


def test_jsonl_has_one_object_per_pair_like_the_json_report():
    assert _jsonl(_scan_report()) == [pair_to_dict(NEAR), pair_to_dict(PARTIAL)]
    first = _jsonl(_check_report())[0]
    assert first == {**pair_to_dict(NEAR), "copy_ratio": 0.42, "largest_source_ratio": 0.3}


def test_empty_report_gives_a_header_only_csv_and_no_json_lines():
    empty = Report(root="x", documents=(), pairs=(), clusters=())
    assert _csv(empty) == [] and _jsonl(empty) == []
