"""The rows of dataset files, streamed: JSON Lines (plain, gzip or zstd), CSV (plain or gzip), Parquet.

A row stream yields :class:`Row` records one at a time (JSON Lines and CSV a line at a time, Parquet a record
batch at a time), each with its 1-based row number, its columns (or why it cannot be read: malformed JSON, not
a JSON object, a CSV row with the wrong number of fields) and, for JSON Lines and CSV, its bytes or text exactly
as the file holds them, so that ``dedup dedupe`` can write kept rows unchanged. What cannot be read at all (a
corrupt gzip stream, a file that is not Parquet) raises; :mod:`dedup.ingest.datasets` makes that the reason the
file is skipped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

__all__ = ["DATASET_SUFFIXES", "Row", "dataset_kind", "open_compressed", "rows"]

#: Suffixes of dataset files, and their (format, compression).
DATASET_SUFFIXES: dict[str, tuple[str, str | None]] = {
    ".jsonl": ("jsonl", None),
    ".ndjson": ("jsonl", None),
    ".jsonl.gz": ("jsonl", "gz"),
    ".ndjson.gz": ("jsonl", "gz"),
    ".jsonl.zst": ("jsonl", "zst"),
    ".ndjson.zst": ("jsonl", "zst"),
    ".parquet": ("parquet", None),
    ".csv": ("csv", None),
    ".csv.gz": ("csv", "gz"),
}
#: Parquet rows read at a time.
PARQUET_BATCH_ROWS = 1024


@dataclass(frozen=True)
class Row:
    """One row of a dataset file: its number (1-based; JSON Lines: the line number; CSV: the record after the
    header), its columns or the problem that makes it unreadable, and its raw bytes (JSON Lines) or text (CSV)."""

    number: int
    values: dict | None
    problem: str | None = None
    raw: bytes | str | None = None


def dataset_kind(path: str | os.PathLike) -> tuple[str, str | None] | None:
    """``(format, compression)`` of a dataset file by its name (``("jsonl", "gz")``), or None if it is not one."""
    name = os.path.basename(os.fsdecode(os.fspath(path))).lower()
    for suffix in sorted(DATASET_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return DATASET_SUFFIXES[suffix]
    return None


@contextmanager
def open_compressed(path: str | os.PathLike, compression: str | None, mode: str = "rb") -> Iterator[IO[bytes]]:
    """A binary stream of the file's uncompressed bytes (``mode`` ``rb`` or ``wb``), for gzip, zstd or none."""
    if compression == "gz":
        with gzip.open(path, mode) as stream:
            yield stream
    elif compression == "zst":
        import zstandard

        with open(path, mode) as raw:
            if mode == "rb":
                with io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=False)) as stream:
                    yield stream
            else:
                with zstandard.ZstdCompressor().stream_writer(raw, closefd=False) as stream:
                    yield stream
    else:
        with open(path, mode) as stream:
            yield stream


def rows(path: str | os.PathLike, fmt: str, compression: str | None, *, max_line_bytes: int) -> Iterator[Row]:
    """The rows of a dataset file, streamed. CSV's first row is its header (row number 0, its column names as
    ``values`` keys, the header text as ``raw``). Raises what the file's reader raises on a file it cannot read."""
    if fmt == "jsonl":
        return _jsonl_rows(path, compression, max_line_bytes)
    if fmt == "csv":
        return _csv_rows(path, compression, max_line_bytes)
    return _parquet_rows(path)


def _jsonl_rows(path: str | os.PathLike, compression: str | None, max_line_bytes: int) -> Iterator[Row]:
    with open_compressed(path, compression) as stream:
        number = 0
        while True:
            line = stream.readline(max_line_bytes + 1)
            if not line:
                return
            number += 1
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                while True:  # the rest of an overlong line, never held whole
                    more = stream.readline(1 << 20)
                    if not more or more.endswith(b"\n"):
                        break
                yield Row(number, None, f"line too long: over {max_line_bytes:,} bytes")
                continue
            if not line.strip():
                continue  # (a blank line, e.g. at the end: not a row)
            yield _json_row(number, line)


def _json_row(number: int, line: bytes) -> Row:
    try:
        value = json.loads(line.decode("utf-8-sig" if number == 1 else "utf-8"))
    except UnicodeDecodeError as exc:
        return Row(number, None, f"not UTF-8: {exc.reason} at byte {exc.start}", line)
    except ValueError as exc:
        return Row(number, None, f"malformed JSON: {exc}", line)
    if not isinstance(value, dict):
        return Row(number, None, f"not a JSON object: {type(value).__name__ if value is not None else 'null'}", line)
    return Row(number, value, None, line)


def _csv_rows(path: str | os.PathLike, compression: str | None, max_line_bytes: int) -> Iterator[Row]:
    if csv.field_size_limit() < max_line_bytes:  # (a long speech is one field)
        csv.field_size_limit(max_line_bytes)
    with open_compressed(path, compression) as binary, io.TextIOWrapper(binary, encoding="utf-8", newline="") as text:
        consumed: list[str] = []

        def lines() -> Iterator[str]:
            for k, line in enumerate(text):
                consumed.append(line)
                yield line.removeprefix("\ufeff") if k == 0 else line

        reader = csv.reader(lines())
        header = next(reader, None)
        if header is None:
            raise ValueError("empty file: no header row")
        yield Row(0, dict.fromkeys(header), None, "".join(consumed))
        consumed.clear()
        for number, fields in enumerate(reader, start=1):
            raw = "".join(consumed)
            consumed.clear()
            if not fields:
                yield Row(number, None, "empty row", raw)
            elif len(fields) != len(header):
                yield Row(number, None, f"{len(fields)} fields, the header has {len(header)}", raw)
            else:
                yield Row(number, dict(zip(header, fields)), None, raw)


def _parquet_rows(path: str | os.PathLike) -> Iterator[Row]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as table:
        number = 0
        for batch in table.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for values in batch.to_pylist():
                number += 1
                yield Row(number, values)


def parquet_columns(path: str | os.PathLike) -> list[str]:
    """The column names of a Parquet file (raises if it is not one)."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as table:
        return list(table.schema_arrow.names)
