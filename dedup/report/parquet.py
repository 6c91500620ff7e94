"""The Parquet report, for large runs: a folder of Parquet tables a data tool reads without loading a JSON file.

``write_parquet_report(report, directory)`` writes, stage by stage (see ``dedup.report.folder``: each stage in a
temporary folder renamed into place with a ``_COMPLETE`` file, a re-run replacing each stage whole):

- ``documents/``: one row per file found (``document_to_dict``): ``path``, ``status``, ``chars``, ``format``,
  ``encoding``, ``reason``;
- ``pairs/``: one row per pair, most severe first (``pair_to_dict`` without its passages): ``pair`` (its number,
  from 0), ``a``, ``b``, ``relation``, ``similarity``, ``a_coverage``, ``b_coverage``, ``differences`` (a list),
  ``a_origin``, ``b_origin`` (``scanned`` or ``archive``);
- ``passages/``: one row per passage of a pair: ``pair``, ``a``, ``b`` and the passage's fields as in JSON
  (``a_start``, ``a_end``, ``b_start``, ``b_end``, ``similarity``, ``boilerplate``, …); offsets index into the
  documents' texts (which are not written), as in JSON;
- ``clusters/``: one row per member of a cluster: ``cluster`` (its number, from 0), ``document`` (its name as a
  pair's ``a``/``b`` gives it);
- for a ``dedup check`` report also ``checked/``: ``path``, ``chars``, ``copy_ratio``, ``largest_source_ratio``
  (its sources are the ``pairs`` whose ``a`` is that path);
- ``report.json`` last: the JSON report without its lists (``version``, ``kind``, ``summary``, ``index``,
  ``archive``, ``config``) with the run and each table's rows and part files.

Each table is one or more ``part-NNNNN.parquet`` files with the schema below (an empty table is one file with no
rows). Column names are the JSON report's; a field the JSON report gains that a schema here does not know is
written as a column of JSON text. Strings are as in JSON (a lone surrogate as the text ``\\udcc4``).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Iterable, Iterator

from dedup.models import CheckReport, Passage, Report
from dedup.report.folder import OutputFolder
from dedup.report.json import check_to_dict, document_to_dict, pair_to_dict, report_header, to_json

#: Version of the folder's layout, in its ``report.json`` as ``parquet_version``.
PARQUET_VERSION = 1
#: Rows per part file and per row group (a part holds ``ROWS_PER_PART // ROWS_PER_GROUP`` groups at most).
ROWS_PER_PART = 1_000_000
ROWS_PER_GROUP = 65_536
#: Tables whose rows all have the same fields (made by one conversion); a document's depend on its status.
UNIFORM = ("pairs", "passages", "clusters")

Rows = Callable[[], Iterator[dict]]


def _types() -> dict:
    import pyarrow as pa

    return {
        "int": pa.int64(), "int | None": pa.int64(), "float": pa.float64(), "float | None": pa.float64(),
        "bool": pa.bool_(), "bool | None": pa.bool_(), "str": pa.string(), "str | None": pa.string(),
    }


def parquet_schemas(kind: str = "scan") -> dict:
    """The schema (``pyarrow.Schema``) of each table of a ``kind`` ("scan" or "check") report, by folder name."""
    import pyarrow as pa

    text, number, count = pa.string(), pa.float64(), pa.int64()
    types = _types()
    passage = [(f.name, types[str(f.type)]) for f in dataclasses.fields(Passage) if str(f.type) in types]
    schemas = {
        "documents": pa.schema(
            [
                ("path", text), ("status", text), ("chars", count), ("format", text), ("encoding", text), ("reason", text),
                ("source", text), ("row", count), ("metadata", text),  # (a dataset row's file, row, other columns as JSON)
            ]
        ),
        "pairs": pa.schema(
            [
                ("pair", count), ("a", text), ("b", text), ("relation", text), ("similarity", number),
                ("a_coverage", number), ("b_coverage", number), ("differences", pa.list_(text)),
                ("a_origin", text), ("b_origin", text),
            ]
        ),
        "passages": pa.schema([("pair", count), ("a", text), ("b", text), *passage]),
        "clusters": pa.schema([("cluster", count), ("document", text)]),
    }
    if kind == "check":
        schemas["checked"] = pa.schema([("path", text), ("chars", count), ("copy_ratio", number), ("largest_source_ratio", number)])
    return schemas


def _utf8(value):
    """A value as Parquet can hold it: strings valid UTF-8 as JSON writes them (a lone surrogate as ``\\udcc4``)."""
    if isinstance(value, str):
        return value if value.isascii() else value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_utf8(v) for v in value]
    return value


def _document_row(entry) -> dict:  # noqa: ANN001 (a DocumentEntry)
    """A document's row: its JSON fields, a dataset row's metadata as JSON text (its values' types vary by dataset)."""
    row = document_to_dict(entry)
    if "metadata" in row:
        row["metadata"] = to_json(row["metadata"], indent=None)
    return row


def _tables(report: Report | CheckReport) -> tuple[dict, dict[str, Rows]]:
    """The report's header (JSON without the lists) and each table's rows (a function giving them, as often as
    asked)."""
    pairs = report.pairs
    fields = [f.name for f in dataclasses.fields(Passage)]

    def pair_rows() -> Iterator[dict]:
        for number, pair in enumerate(pairs):
            row = pair_to_dict(dataclasses.replace(pair, passages=()), names=report.names(pair))  # (passages: below)
            del row["passages"]
            yield {"pair": number, **row, "a_origin": pair.a_origin, "b_origin": pair.b_origin}

    def passage_rows() -> Iterator[dict]:
        for number, pair in enumerate(pairs):
            a, b = report.names(pair)
            for x in pair.passages:  # as ``pair_to_dict`` gives them (``asdict``: flat fields), 10 times faster
                yield {"pair": number, "a": a, "b": b, **{name: getattr(x, name) for name in fields}}

    tables: dict[str, Rows] = {
        "documents": lambda: (_document_row(d) for d in report.documents),
        "pairs": pair_rows,
        "passages": passage_rows,
    }
    if isinstance(report, CheckReport):
        whole = check_to_dict(report)
        checked = [{k: v for k, v in c.items() if k != "sources"} for c in whole.pop("checked")]
        del whole["documents"]
        header = {**whole, "archive": report.archive}
        tables["clusters"] = lambda: iter(())
        tables["checked"] = lambda: iter(checked)
    else:
        header = {**report_header(report), "kind": "scan", "index": report.index, "archive": report.archive}
        tables["clusters"] = lambda: ({"cluster": k, "document": name} for k, c in enumerate(report.clusters) for name in c)
    return {**header, "config": report.config, "format": "parquet", "parquet_version": PARQUET_VERSION}, tables


def _batches(rows: Iterable[dict], *, per_part: int, per_group: int) -> Iterator[tuple[bool, list[dict]]]:
    """Row groups: ``(starts a new part, rows)``, at most ``per_group`` rows, ``per_part`` rows a part."""
    batch: list[dict] = []
    in_part = 0
    for row in rows:
        batch.append(row)
        if len(batch) == per_group or in_part + len(batch) == per_part:
            yield in_part == 0, batch
            in_part = (in_part + len(batch)) % per_part
            batch = []
    if batch:
        yield in_part == 0, batch


def _write_table(folder: str, schema, rows: Rows, *, uniform: bool, rows_per_part: int, rows_per_group: int) -> dict:
    """Write a table's rows as part files of ``folder``; what ``_COMPLETE`` records of it. The fields of the rows
    are those of the first row if ``uniform``, else of any row."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    known = set(schema.names)
    extra: dict[str, None] = {}
    for row in itertools.islice(rows(), 1 if uniform else None):  # fields the schema does not know: JSON text
        extra.update((key, None) for key in row if key not in known)
    schema = pa.schema([*schema, *((key, pa.string()) for key in extra)])
    parts: list[str] = []
    total = 0
    writer = None
    try:
        for new_part, batch in _batches(rows(), per_part=rows_per_part, per_group=rows_per_group):
            if new_part:
                if writer is not None:
                    writer.close()
                parts.append(f"part-{len(parts):05d}.parquet")
                writer = pq.ParquetWriter(os.path.join(folder, parts[-1]), schema, compression="zstd")
            for row in batch:
                for key in extra:
                    if key in row:
                        row[key] = to_json(row[key], indent=None)
            try:
                records = pa.RecordBatch.from_pylist(batch, schema=schema)
            except UnicodeEncodeError:  # a lone surrogate somewhere (rare): strings as JSON writes them
                records = pa.RecordBatch.from_pylist([{k: _utf8(v) for k, v in row.items()} for row in batch], schema=schema)
            writer.write_batch(records)
            total += len(batch)
        if writer is None:  # no rows: one empty part, so that the table has its schema
            parts.append("part-00000.parquet")
            pq.write_table(schema.empty_table(), os.path.join(folder, parts[-1]), compression="zstd")
    finally:
        if writer is not None:
            writer.close()
    return {"rows": total, "parts": parts, "columns": schema.names}


def write_parquet_report(
    report: Report | CheckReport,
    directory: str | os.PathLike,
    *,
    inputs: Iterable[str | os.PathLike] = (),
    rows_per_part: int = ROWS_PER_PART,
    rows_per_group: int = ROWS_PER_GROUP,
) -> None:
    """Write ``report`` as a folder of Parquet tables (see the module's documentation).

    ``directory`` must be missing, empty or a previous Parquet output of dedup, and neither be nor hold one of
    ``inputs`` (``ConfigError`` otherwise, before anything is written); each table is replaced whole, ``report.json``
    is written last. ``OSError`` if the folder cannot be written (the stages completed before stay).
    """
    if rows_per_part < 1 or rows_per_group < 1:
        raise ValueError("rows_per_part and rows_per_group must be at least 1")
    kind = "check" if isinstance(report, CheckReport) else "scan"
    schemas = parquet_schemas(kind)
    header, tables = _tables(report)
    folder = OutputFolder(directory, inputs=inputs, kind="parquet", stages=tuple(schemas))
    for name, schema in schemas.items():
        with folder.stage(name) as (tmp, info):
            info.update(
                _write_table(
                    tmp, schema, tables[name], uniform=name in UNIFORM, rows_per_part=rows_per_part, rows_per_group=rows_per_group
                )
            )
    folder.finish(header)

