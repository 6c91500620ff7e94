import io
import json

import pytest

from dedup.errors import ConfigError
from dedup.models import DocumentEntry, Pair, Passage, Report
from dedup.report import formats
from dedup.report.json import report_to_dict, report_to_json
from dedup.report.sidebyside import hunks, passage_segments


def _report():
    passage = Passage(a_start=0, a_end=11, b_start=0, b_end=11, similarity=0.9, boilerplate=False)
    pair = Pair("a.txt", "b.txt", "near_duplicate", 0.9, 1.0, 1.0, (passage,), ("only the first line differs: title",))
    docs = (DocumentEntry("a.txt", "ok", chars=11, format="txt", encoding="utf-8"), DocumentEntry("bad.pdf", "skipped", reason="corrupt .pdf"))
    return Report(root="x", documents=docs, pairs=(pair,), clusters=(("a.txt", "b.txt"),))


def test_json_contract_fields():
    data = json.loads(report_to_json(_report()))
    assert data["version"] == 1
    assert data["documents"][0] == {"path": "a.txt", "chars": 11, "status": "ok", "format": "txt", "encoding": "utf-8"}
    assert data["documents"][1] == {"path": "bad.pdf", "status": "skipped", "reason": "corrupt .pdf"}
    pair = data["pairs"][0]
    assert {k: pair[k] for k in ("a", "b", "relation", "similarity")} == {"a": "a.txt", "b": "b.txt", "relation": "near_duplicate", "similarity": 0.9}
    assert pair["passages"] == [{"a_start": 0, "a_end": 11, "b_start": 0, "b_end": 11, "similarity": 0.9, "boilerplate": False}]
    assert data["clusters"] == [["a.txt", "b.txt"]]
    assert report_to_dict(_report())["summary"]["pairs"] == {"exact": 0, "near_duplicate": 1, "partial": 0}


def test_hunks_mark_the_changed_words():
    a = "we must serve the people and develop the economy together now"
    b = "we must help the people and develop the economy together now"
    (hunk,) = hunks(a, b, Passage(0, len(a), 0, len(b), 0.9))
    assert ("serve", "changed") in hunk.a and ("help", "changed") in hunk.b
    assert "".join(t for t, _ in hunk.a) in a and "".join(t for t, _ in hunk.b) in b


def test_hunks_of_identical_passages_show_the_beginning():
    text = "同志们，今天我们召开会议。"
    (hunk,) = hunks(text, text, Passage(0, len(text), 0, len(text), 1.0))
    assert {kind for _, kind in hunk.a} <= {"same", "gap"}


def test_formats_write_gives_every_format_and_refuses_others():
    texts = {"a.txt": "hello world", "b.txt": "hello world"}
    outputs = {}
    for fmt in formats.FORMATS:
        out = io.StringIO()
        formats.write(_report(), fmt, out, load_text=texts.__getitem__)
        outputs[fmt] = out.getvalue()
    assert "documents scanned" in outputs["terminal"] and json.loads(outputs["json"])["version"] == 1
    assert outputs["html"].startswith("<!DOCTYPE html>") and outputs["csv"].startswith("a,b,relation")
    assert json.loads(outputs["jsonl"])["relation"] == "near_duplicate"
    with pytest.raises(ConfigError, match="unknown report format 'xml'"):
        formats.write(_report(), "xml", io.StringIO(), load_text=texts.__getitem__)


def test_passage_segments_cover_the_whole_passage_and_mark_changes():
    a = "  “同志们，我们要服务人民、发展经济！” — and serve the people now."
    b = "同志们，我们要效劳人民、开展经济！and help the people now!"
    passage = Passage(2, len(a), 0, len(b), 0.8)
    a_seg, b_seg = passage_segments(a, b, passage)
    assert "".join(t for t, _ in a_seg) == a[2:] and "".join(t for t, _ in b_seg) == b
    assert [t for t, kind in a_seg if kind == "changed"] == ["服务", "发", "serve"]
    assert [t for t, kind in b_seg if kind == "changed"] == ["效劳", "开", "help"]
