"""Dataset files as input (issue 15): JSON Lines (plain, gzip, zstd), Parquet and CSV rows as documents; bad rows
and unreadable files skipped with their reasons; globs; unique names across files; offsets into the text value."""

from __future__ import annotations

import csv
import gzip
import json
import pickle
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import dedup
from dedup import IngestConfig, InputError, ScanConfig, Skipped
from dedup.ingest import expand_sources, read_dataset, read_sources

from conftest import CORPUS
from texts import EN_SPEECH, ZH_SPEECH, write_compressed

ONE = ScanConfig(workers=1)
ZH_COPY = ZH_SPEECH.replace("2019年9月18日", "2023年6月5日")


def write_jsonl(path: Path, records: list, *, raw_lines: list[str] = ()) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + list(raw_lines)
    return write_compressed(path, ("\n".join(lines) + "\n").encode("utf-8"))


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


RECORDS = [
    {"id": "a", "text": ZH_SPEECH, "speaker": "张明远", "year": 2019},
    {"id": "b", "text": ZH_COPY, "speaker": "张明远", "year": 2023},
    {"id": "c", "text": EN_SPEECH, "speaker": "Ellen Park", "year": 2018},
]


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("name", ["data.jsonl", "data.ndjson", "data.jsonl.gz", "data.jsonl.zst"])
def test_json_lines_rows_are_documents_named_by_id_with_their_other_columns(tmp_path: Path, name: str):
    path = write_jsonl(tmp_path / name, RECORDS)
    documents, skipped = read_dataset(path)
    assert skipped == []
    assert [d.path for d in documents] == ["a", "b", "c"]
    assert [d.text for d in documents] == [r["text"] for r in RECORDS]
    assert dict(documents[0].metadata) == {"speaker": "张明远", "year": 2019}
    assert documents[2].source == path.as_posix() and documents[2].row == 3 and documents[2].format == "jsonl"


def test_metadata_is_immutable_and_empty_for_files(tmp_path: Path):
    (document,), _ = read_dataset(write_jsonl(tmp_path / "d.jsonl", RECORDS[:1]))
    with pytest.raises(TypeError):
        document.metadata["speaker"] = "x"  # type: ignore[index]
    assert hash(document) is not None
    assert pickle.loads(pickle.dumps(document)) == document
    assert dict(dedup.Document(path="a.txt", text="x").metadata) == {}
    given = {"k": 1}
    document = dedup.Document(path="a", text="x", metadata=given)
    given["k"] = 2
    assert document.metadata["k"] == 1
    with pytest.raises(TypeError):
        document.metadata["k"] = 3  # type: ignore[index]


def test_parquet_rows_with_numeric_ids_and_typed_columns(tmp_path: Path):
    table = pa.table({
        "id": [7, 8, 9],
        "text": [ZH_SPEECH, ZH_COPY, EN_SPEECH],
        "day": [date(2019, 9, 18), date(2023, 6, 5), date(2018, 3, 4)],
        "tags": [["a"], [], ["x", "y"]],
    })
    pq.write_table(table, tmp_path / "d.parquet")
    documents, skipped = read_dataset(tmp_path / "d.parquet")
    assert skipped == []
    assert [d.path for d in documents] == ["7", "8", "9"]
    assert documents[0].metadata["day"] == "2019-09-18"
    assert list(documents[2].metadata["tags"]) == ["x", "y"]
    assert documents[1].row == 2 and documents[1].format == "parquet"


@pytest.mark.parametrize("name", ["data.csv", "data.csv.gz"])
def test_csv_rows_keep_quoted_newlines_exactly(tmp_path: Path, name: str):
    text = "第一行\r\n第二行, with a comma and \"quotes\"\n" + ZH_SPEECH
    path = write_csv(tmp_path / name, ["id", "text", "place"], [["x1", text, "北京"], ["x2", EN_SPEECH, ""]])
    documents, skipped = read_dataset(path)
    assert skipped == []
    assert [d.text for d in documents] == [text, EN_SPEECH]
    assert dict(documents[0].metadata) == {"place": "北京"} and documents[1].row == 2


def test_csv_with_a_byte_order_mark(tmp_path: Path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,text\r\nq,hello there\r\n".encode("utf-8"))
    (document,), skipped = read_dataset(path)
    assert skipped == [] and document.path == "q" and document.text == "hello there"


def test_column_options(tmp_path: Path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"doc": 1, "body": "some text", "text": "other"}])
    config = ScanConfig(id_column="doc", text_column="body")
    (document,), _ = read_dataset(path, config=config)
    assert document.path == "1" and document.text == "some text" and dict(document.metadata) == {"text": "other"}
    assert config.to_dict()["id_column"] == "doc" and config.to_dict()["text_column"] == "body"
    with pytest.raises(dedup.ConfigError):
        ScanConfig(id_column="")
    with pytest.raises(dedup.ConfigError):
        ScanConfig(id_column="x", text_column="x")


# --------------------------------------------------------------------------- bad rows and files


def test_each_kind_of_bad_row_is_skipped_with_its_file_row_and_reason(tmp_path: Path):
    records = [
        {"id": "a12", "text": "a first text"},  # 1
        {"text": "no id"},  # 2
        {"id": "n1"},  # 3
        {"id": "a12", "text": "again"},  # 4
        {"id": "e", "text": ""},  # 5
        {"id": "w", "text": " \n\t "},  # 6
        {"id": "num", "text": 12},  # 7
        {"id": "nul", "text": None},  # 8
        {"id": "lst", "text": ["a", "b"]},  # 9
        {"id": "long", "text": "x" * 101},  # 10
        {"id": None, "text": "null id"},  # 11
        {"id": "ok", "text": "fine"},  # 12
    ]
    path = write_jsonl(tmp_path / "d.jsonl", records, raw_lines=["{not json", "[1, 2]"])
    config = ScanConfig(ingest=IngestConfig(max_text_chars=100))
    documents, skipped = read_dataset(path, config=config)
    assert [d.path for d in documents] == ["a12", "ok"]
    reasons = {s.path.rsplit(":", 1)[1]: s.reason for s in skipped}
    where = path.as_posix()
    assert all(s.path.startswith(where + ":") for s in skipped)
    assert reasons["2"] == "no id: missing column 'id'"
    assert reasons["3"] == "no text: missing column 'text'"
    assert reasons["4"] == "duplicate id 'a12' (first at row 1)"
    assert reasons["5"] == "empty text"
    assert reasons["6"] == "text is only whitespace"
    assert reasons["7"] == "text is a number (12), not a string"
    assert reasons["8"] == "text is null, not a string"
    assert reasons["9"] == "text is a list, not a string"
    assert reasons["10"].startswith("text too long: 101 characters") and "max_text_chars" in reasons["10"]
    assert reasons["11"] == "bad id: null, not a string or a number"
    assert reasons["13"].startswith("malformed JSON")
    assert reasons["14"] == "not a JSON object: list"


def test_csv_rows_with_the_wrong_number_of_fields(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("id,text\na,one text\nb,two,three\nc\n", encoding="utf-8")
    documents, skipped = read_dataset(path)
    assert [d.path for d in documents] == ["a"]
    assert skipped == [
        Skipped(f"{path.as_posix()}:2", "3 fields, the header has 2"),
        Skipped(f"{path.as_posix()}:3", "1 fields, the header has 2"),
    ]


def test_files_that_cannot_be_read_are_one_entry_each(tmp_path: Path):
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    (tmp_path / "bad.jsonl.zst").write_bytes(b"not zstd either")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 nope")
    write_csv(tmp_path / "cols.csv", ["key", "body"], [["a", "text"]])
    write_jsonl(tmp_path / "cols.jsonl", [{"key": 1, "text": "x"}, {"key": 2, "text": "y"}])
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), tmp_path / "cols.parquet")
    (tmp_path / "empty.jsonl").write_bytes(b"")
    for name, expected in [
        ("bad.jsonl.gz", "cannot read .jsonl: BadGzipFile"),
        ("bad.jsonl.zst", "cannot read .jsonl: ZstdError"),
        ("bad.parquet", "cannot read .parquet"),
        ("cols.csv", "no column 'id' (--id-column); its columns: 'key', 'body'"),
        ("cols.jsonl", "no column 'id' in any row"),
        ("cols.parquet", "no column 'text' (--text-column)"),
        ("empty.jsonl", "no rows"),
    ]:
        documents, skipped = read_dataset(tmp_path / name)
        assert documents == [], name
        (entry,) = skipped
        assert entry.path == (tmp_path / name).as_posix() and entry.reason.startswith(expected), (name, entry)


def test_a_scan_of_nothing_readable_fails_saying_why(tmp_path: Path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": ""}, {"id": "b", "text": 3}])
    with pytest.raises(InputError, match="no readable documents") as err:
        dedup.scan(path, config=ONE)
    assert "d.jsonl:1: empty text" in str(err.value) and "d.jsonl:2: text is a number" in str(err.value)
    with pytest.raises(InputError, match="dataset file not found"):
        dedup.scan(tmp_path / "missing.jsonl", config=ONE)
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        dedup.scan([path, tmp_path / "notes.txt"], config=ONE)


# --------------------------------------------------------------------------- globs and names


def test_globs_are_expanded_sorted_and_must_match(tmp_path: Path):
    for k in (2, 1):
        write_jsonl(tmp_path / f"part{k}.jsonl", [{"id": f"p{k}", "text": "t"}])
    assert expand_sources([str(tmp_path / "part*.jsonl")]) == [tmp_path / "part1.jsonl", tmp_path / "part2.jsonl"]
    assert expand_sources([tmp_path / "part1.jsonl", str(tmp_path / "*.jsonl")]) == [tmp_path / "part1.jsonl", tmp_path / "part2.jsonl"]
    with pytest.raises(InputError, match="no file matches"):
        expand_sources([str(tmp_path / "*.parquet")])


def test_names_are_ids_when_unique_across_files_else_file_colon_id(tmp_path: Path):
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": "a", "text": "t"}, {"id": "b", "text": "t"}])
    two = write_jsonl(tmp_path / "two.jsonl", [{"id": "c", "text": "t"}])
    three = write_jsonl(tmp_path / "three.jsonl", [{"id": "a", "text": "t"}])
    reads = read_sources([one, two])
    assert [d.path for r in reads for d in r.documents] == ["a", "b", "c"]
    reads = read_sources([one, two, three])
    names = [d.path for r in reads for d in r.documents]
    assert names == [f"{one.as_posix()}:a", f"{one.as_posix()}:b", "c", f"{three.as_posix()}:a"]
    assert [r.local_names for r in reads] == [["a", "b"], ["c"], ["a"]]


def test_a_folder_and_a_dataset_together(tmp_path: Path):
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "copy", "text": ZH_COPY}, {"id": "en", "text": EN_SPEECH}])
    report = dedup.scan([tmp_path / "f", data], config=ONE)
    assert [(p.a, p.b, p.relation) for p in report.pairs] == [("a.txt", "copy", "near_duplicate")]


# --------------------------------------------------------------------------- offsets and the report


def test_offsets_slice_the_text_column_value_exactly(tmp_path: Path):
    crlf = ZH_SPEECH.replace("\n", "\r\n")
    texts = {"a": "前言\r\n\r\n" + crlf, "b": ZH_COPY + "\n附件：无\n"}
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": k, "text": v} for k, v in texts.items()])
    report = dedup.scan(path, config=ONE)
    (pair,) = report.pairs
    assert report.texts() == texts
    for passage in pair.passages:
        a = texts[pair.a][passage.a_start : passage.a_end]
        b = texts[pair.b][passage.b_start : passage.b_end]
        assert a and b and dedup.normalize_text(a)[:20] == dedup.normalize_text(b)[:20]


def test_the_json_report_shows_source_row_and_metadata_only_for_dataset_rows(tmp_path: Path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": ZH_SPEECH, "year": 2019}, {"id": "b", "text": ZH_COPY}])
    data = dedup.report_to_dict(dedup.scan(path, config=ONE))
    entries = {d["path"]: d for d in data["documents"]}
    assert entries["a"]["metadata"] == {"year": 2019} and entries["a"]["source"] == path.as_posix() and entries["a"]["row"] == 1
    assert "metadata" not in entries["b"] and entries["b"]["format"] == "jsonl"
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    (entry,) = dedup.report_to_dict(dedup.scan(tmp_path / "f", config=ONE))["documents"]
    assert set(entry) == {"path", "chars", "status", "format", "encoding"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(min_size=1).filter(lambda t: not t.isspace()), min_size=1, max_size=5))
def test_texts_round_trip_exactly_through_every_format(tmp_path: Path, texts: list[str]):
    texts = [t.replace("\x00", "") or "x" for t in texts]
    texts = [t if not t.isspace() else "x" for t in texts]
    records = [{"id": k, "text": t} for k, t in enumerate(texts)]
    write_jsonl(tmp_path / "p.jsonl.gz", records)
    write_csv(tmp_path / "p.csv", ["id", "text"], [[r["id"], r["text"]] for r in records])
    pq.write_table(pa.table({"id": list(range(len(texts))), "text": texts}), tmp_path / "p.parquet")
    for name in ("p.jsonl.gz", "p.csv", "p.parquet"):
        documents, skipped = read_dataset(tmp_path / name)
        assert skipped == [] and [d.text for d in documents] == texts, name
        assert [d.path for d in documents] == [str(k) for k in range(len(texts))]


def test_a_json_lines_copy_of_the_corpus_gives_the_folders_pairs(tmp_path: Path):
    (folder,) = read_sources([CORPUS])
    path = write_jsonl(tmp_path / "corpus.jsonl", [{"id": d.path, "text": d.text} for d in folder.documents])
    by_folder = dedup.scan(CORPUS)
    by_rows = dedup.scan(path)
    assert [(p.a, p.b, p.relation, p.passages) for p in by_rows.pairs] == [
        (p.a, p.b, p.relation, p.passages) for p in by_folder.pairs
    ]
    assert by_rows.clusters == by_folder.clusters and by_rows.scanned == by_folder.scanned


def test_blank_or_odd_ids(tmp_path: Path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"id": "  ", "text": "t"}, {"id": True, "text": "t"}, {"id": 2.0, "text": "t"}, {"id": 2.5, "text": "t"},
        {"id": [1], "text": "t"},
    ])
    documents, skipped = read_dataset(path)
    assert [d.path for d in documents] == ["2", "2.5"]
    assert [s.reason for s in skipped] == [
        "empty id", "bad id: a boolean, not a string or a number", "bad id: a list, not a string or a number",
    ]
