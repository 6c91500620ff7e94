"""``dedup.dedupe``: the input minus its exact and near-duplicate copies, in the input's format, with a keep/drop
list; keep rules; the output folder replaced on a re-run; outputs that could harm the inputs refused."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

import dedup
from dedup import ConfigError, InputError, ScanConfig

from texts import EN_SPEECH, ZH_SPEECH, write_compressed

ONE = ScanConfig(workers=1)
ZH_COPY = ZH_SPEECH.replace("2019年9月18日", "2023年6月5日")
ZH_LONGER = ZH_SPEECH + "附件：会议日程安排与参会人员名单，请各单位按要求报送。\n"

#: a, b (its copy), c (unrelated), d (an exact copy of a), e (a, longer)
RECORDS = [
    {"id": "a", "text": ZH_SPEECH, "date": "2019-09-18"},
    {"id": "b", "text": ZH_COPY, "date": "2023-06-05"},
    {"id": "c", "text": EN_SPEECH, "date": "2018-03-04"},
    {"id": 4, "text": ZH_SPEECH, "date": "not a date"},
    {"id": "e", "text": ZH_LONGER, "date": "2019-09-01T08:00:00+08:00"},
]


def jsonl_bytes(records: list) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def write(path: Path, records: list) -> Path:
    return write_compressed(path, jsonl_bytes(records))


def decisions(out: Path) -> dict[str, dict]:
    lines = (out / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    return {d["name"]: d for d in map(json.loads, lines)}


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- keep rules and decisions


@pytest.mark.parametrize(
    ("keep", "kept"),
    [("first", "a"), ("longest", "e"), ("earliest", "e")],
)
def test_keep_rules_choose_one_document_of_each_cluster(tmp_path: Path, keep: str, kept: str):
    source = write(tmp_path / "in" / "d.jsonl", RECORDS)
    result = dedup.dedupe(source, tmp_path / "out", keep=keep, date_column="date", config=ONE)
    assert (result.read, result.kept, result.dropped, result.clusters) == (5, 2, 3, 1)
    found = decisions(tmp_path / "out")
    assert found[kept]["keep"] is True and found[kept]["reason"] == f"kept: {keep} of a cluster of 4"
    assert found["c"] == {
        "name": "c", "source": source.as_posix(), "row": 3, "keep": True, "reason": "kept: no duplicate", "kept": None,
        "cluster": None,
    }
    for name in {"a", "b", "4", "e"} - {kept}:
        assert found[name]["keep"] is False and found[name]["kept"] == kept and found[name]["cluster"] == 0
    lines = (tmp_path / "out" / "d.jsonl").read_bytes().splitlines(keepends=True)
    kept_rows = sorted([RECORDS.index(next(r for r in RECORDS if str(r["id"]) == kept)), 2])
    assert lines == [jsonl_bytes([RECORDS[k]]) for k in kept_rows]


def test_reasons_name_the_kept_document_and_the_relation(tmp_path: Path):
    source = write(tmp_path / "d.jsonl", RECORDS[:4])
    dedup.dedupe(source, tmp_path / "out", config=ONE)
    found = decisions(tmp_path / "out")
    assert found["4"]["reason"] == "exact copy of a" and found["4"]["row"] == 4
    assert found["b"]["reason"].startswith("near_duplicate of a (similarity 0.")
    assert found["a"]["reason"] == "kept: first of a cluster of 3"


def test_earliest_sorts_rows_without_a_date_last_and_needs_a_column(tmp_path: Path):
    records = [{"id": "x", "text": ZH_SPEECH, "date": ""}, {"id": "y", "text": ZH_COPY, "date": "2030-01-01"}]
    source = write(tmp_path / "d.jsonl", records)
    dedup.dedupe(source, tmp_path / "out", keep="earliest", date_column="date", config=ONE)
    assert decisions(tmp_path / "out")["y"]["keep"] is True
    with pytest.raises(ConfigError, match="date"):
        dedup.dedupe(source, tmp_path / "out", keep="earliest", config=ONE)
    with pytest.raises(ConfigError, match="keep"):
        dedup.dedupe(source, tmp_path / "out", keep="newest", config=ONE)


def test_partial_pairs_remove_nothing(tmp_path: Path):
    passage = EN_SPEECH[EN_SPEECH.index("This library has") : EN_SPEECH.index("We paid for it")]
    host = "Good evening. " * 3 + "We gather tonight to honor our volunteers, who kept the food bank open.\n" + passage
    source = write(tmp_path / "d.jsonl", [{"id": "a", "text": EN_SPEECH}, {"id": "h", "text": host + "\nThank you.\n"}])
    result = dedup.dedupe(source, tmp_path / "out", config=ONE)
    assert result.report.pairs == ()  # (documents only: a copied passage is not looked for)
    assert [p.relation for p in dedup.scan(source, config=ONE).pairs] == ["partial"]  # (the scan finds it)
    assert result.dropped == 0 and (tmp_path / "out" / "d.jsonl").read_bytes() == source.read_bytes()


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("name", ["d.jsonl", "d.ndjson", "d.jsonl.gz", "d.jsonl.zst"])
def test_json_lines_keep_their_lines_and_compression(tmp_path: Path, name: str):
    source = write(tmp_path / "in" / name, RECORDS)
    dedup.dedupe(source, tmp_path / "out", config=ONE)
    written = (tmp_path / "out" / name).read_bytes()
    if name.endswith(".gz"):
        assert written[:2] == b"\x1f\x8b"
        written = gzip.decompress(written)
    elif name.endswith(".zst"):
        written = zstandard.ZstdDecompressor().decompressobj().decompress(written)
    assert written == jsonl_bytes([RECORDS[0], RECORDS[2]])


@pytest.mark.parametrize("name", ["d.csv", "d.csv.gz"])
def test_csv_keeps_its_header_and_records_as_they_were(tmp_path: Path, name: str):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # (\r\n line ends; quoted newlines inside texts)
    writer.writerow(["id", "text", "date"])
    writer.writerows([[r["id"], r["text"], r["date"]] for r in RECORDS])
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / name
    source.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    dedup.dedupe(source, tmp_path / "out", config=ONE)
    written = (tmp_path / "out" / name).read_bytes()
    written = gzip.decompress(written) if name.endswith(".gz") else written
    expected = io.StringIO(newline="")
    csv.writer(expected).writerows([["id", "text", "date"], *([r["id"], r["text"], r["date"]] for r in (RECORDS[0], RECORDS[2]))])
    assert written == ("\ufeff" + expected.getvalue()).encode("utf-8")


def test_parquet_keeps_its_schema_and_rows(tmp_path: Path):
    table = pa.table({
        "id": pa.array([1, 2, 3, 4, 5], pa.int32()),
        "text": [r["text"] for r in RECORDS],
        "score": [0.5, 1.5, None, 2.0, 3.0],
    }).replace_schema_metadata({"origin": "test"})
    (tmp_path / "in").mkdir()
    pq.write_table(table, tmp_path / "in" / "d.parquet", compression="zstd")
    dedup.dedupe(tmp_path / "in" / "d.parquet", tmp_path / "out", config=ONE)
    written = pq.read_table(tmp_path / "out" / "d.parquet")
    assert written.schema == table.schema and written.schema.metadata == table.schema.metadata
    assert written.to_pylist() == [table.slice(0, 1).to_pylist()[0], table.slice(2, 1).to_pylist()[0]]


def test_a_folder_keeps_its_files_with_their_relative_paths(tmp_path: Path):
    src = tmp_path / "speeches"
    (src / "2019").mkdir(parents=True)
    (src / "2019" / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    (src / "b.txt").write_text(ZH_COPY, encoding="utf-8")
    (src / "en.md").write_text(EN_SPEECH, encoding="utf-8")
    before = digest(src)
    result = dedup.dedupe(src, tmp_path / "out", config=ONE)
    assert result.kept == 2
    out = tmp_path / "out"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        ".dedup-dedupe", "2019/a.txt", "decisions.jsonl", "en.md",
    ]
    assert (out / "2019" / "a.txt").read_bytes() == (src / "2019" / "a.txt").read_bytes()
    assert decisions(out)["b.txt"]["source"] == f"{src.as_posix()}/b.txt"
    assert digest(src) == before


def test_several_dataset_files_keep_their_places_below_the_common_folder(tmp_path: Path):
    one = write(tmp_path / "x" / "one.jsonl", RECORDS[:2])
    two = write(tmp_path / "y" / "two.jsonl", RECORDS[2:3])
    dedup.dedupe([str(tmp_path / "*" / "*.jsonl")], tmp_path / "out", config=ONE)
    assert (tmp_path / "out" / "x" / "one.jsonl").read_bytes() == jsonl_bytes(RECORDS[:1])
    assert (tmp_path / "out" / "y" / "two.jsonl").read_bytes() == two.read_bytes()
    assert one.read_bytes() == jsonl_bytes(RECORDS[:2])


# --------------------------------------------------------------------------- the output folder


def test_a_rerun_replaces_the_output_and_inputs_are_never_changed(tmp_path: Path):
    first = write(tmp_path / "in" / "first.jsonl", RECORDS)
    second = write(tmp_path / "in" / "second.jsonl", RECORDS[2:3])
    before = digest(tmp_path / "in")
    dedup.dedupe(first, tmp_path / "out", config=ONE)
    dedup.dedupe(second, tmp_path / "out", config=ONE)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [".dedup-dedupe", "decisions.jsonl", "second.jsonl"]
    assert list(decisions(tmp_path / "out")) == ["c"]
    assert digest(tmp_path / "in") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]  # no temporary folder left


def test_outputs_that_would_touch_the_inputs_or_foreign_folders_are_refused(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    data = write(tmp_path / "d.jsonl", RECORDS[:1])
    with pytest.raises(InputError, match="one of the inputs"):
        dedup.dedupe(src, src, config=ONE)
    with pytest.raises(InputError, match="holds the input"):
        dedup.dedupe(data, tmp_path, config=ONE)
    with pytest.raises(InputError, match="inside the input folder"):
        dedup.dedupe(src, src / "out", config=ONE)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.me").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="did not write"):
        dedup.dedupe(data, foreign, config=ONE)
    assert (foreign / "keep.me").read_text(encoding="utf-8") == "mine"
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        dedup.dedupe(data, tmp_path / "file", config=ONE)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert dedup.dedupe(data, empty, config=ONE).kept == 1


def test_unreadable_rows_are_not_written(tmp_path: Path):
    records = [RECORDS[0], {"id": "a", "text": "duplicate id"}, {"id": "z", "text": ""}, RECORDS[2]]
    source = write(tmp_path / "in" / "d.jsonl", records)
    result = dedup.dedupe(source, tmp_path / "out", config=ONE)
    assert [s.reason for s in result.skipped] == ["duplicate id 'a' (first at row 1)", "empty text"]
    assert (tmp_path / "out" / "d.jsonl").read_bytes() == jsonl_bytes([RECORDS[0], RECORDS[2]])


def test_a_dataset_file_named_like_the_decisions_file_is_refused(tmp_path: Path):
    source = write(tmp_path / "in" / "decisions.jsonl", RECORDS[:1])
    with pytest.raises(InputError, match="decisions.jsonl"):
        dedup.dedupe(source, tmp_path / "out", config=ONE)
    assert not (tmp_path / "out").exists()
