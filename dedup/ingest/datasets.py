"""Dataset files as documents: each row of a JSON Lines, Parquet or CSV file is one document.

A row's document is named by its id column (its string form: ``12`` for the number 12), its text is the text
column's value exactly as the row holds it (offsets index into it), and its other columns travel as
``Document.metadata``; ``Document.source`` and ``Document.row`` say where it was read. A row that cannot be a
document is a :class:`~dedup.models.Skipped` entry named ``file:row`` with its reason (a missing id or text
column, a duplicate id, an empty or whitespace-only text, a text that is not a string, malformed JSON, a text
over ``IngestConfig.max_text_chars``); a file that cannot be read at all (corrupt compression, not Parquet, a
column missing from the whole file) is one entry named by the file. Nothing a file holds stops a run.

:func:`read_sources` reads what ``dedup scan SOURCE…`` is given: folders, dataset files and glob patterns of
them. Names are unique across sources: a name that two sources both give (the same id in two files, the same
relative path in two folders) is qualified, for every document of those sources, as ``source:name`` (the source
as given: ``a.jsonl:17``, ``2019/:speech.txt``).
"""

from __future__ import annotations

import glob
import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from dedup.config import IngestConfig, ScanConfig
from dedup.errors import InputError
from dedup.ingest.files import display_name
from dedup.ingest.read import Reader, ingest, ingest_paths
from dedup.ingest.tables import Row, dataset_kind, parquet_columns, rows
from dedup.models import Document, Metadata, Skipped

__all__ = ["SourceRead", "expand_sources", "ingest_sources", "read_dataset", "read_sources"]

GLOB_CHARACTERS = "*?["


@dataclass(frozen=True)
class SourceRead:
    """What one source gave: its documents (named uniquely across the sources read together) and the files or rows
    skipped; ``local_names`` are the documents' names within the source (a folder's: relative paths)."""

    source: str  # as given, as display_name shows it
    path: Path
    format: str  # "folder", "jsonl", "parquet" or "csv"
    compression: str | None
    documents: list[Document]
    skipped: list[Skipped]
    local_names: list[str] = field(default_factory=list)


def max_line_bytes(limits: IngestConfig) -> int:
    """Longest JSON Lines line or CSV field read: room for a text at the character limit written as JSON escapes."""
    return 6 * limits.max_text_chars + 1_000_000


def expand_sources(sources: Sequence[str | os.PathLike]) -> list[Path]:
    """The sources with glob patterns expanded (sorted; a path that exists is taken as it is, even with ``*`` or
    ``[`` in its name); the same file given twice is read once. ``InputError`` for a pattern that matches nothing."""
    out: list[Path] = []
    seen: set[str] = set()
    for source in sources:
        given = os.fsdecode(os.fspath(source))
        if not os.path.lexists(given) and any(c in given for c in GLOB_CHARACTERS):
            matches = sorted(glob.glob(given, recursive=True))
            if not matches:
                raise InputError(f"no file matches {display_name(given)}")
            found = [Path(m) for m in matches]
        else:
            found = [Path(given)]
        for path in found:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                out.append(path)
    return out


def _id_name(value: object) -> str | None:
    """A row's id as a name: a string, or the string form of a number (12.0 → "12"); None if it cannot be one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    return None


def jsonable(value: object) -> object:
    """A column's value as JSON can hold it: dates as ISO text, bytes as text, containers with their items so."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(jsonable(v) for v in value)
    return str(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return f"a number ({value})"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _document(row: Row, shown: str, fmt: str, config: ScanConfig, seen: dict[str, int]) -> Document | str:
    """The document of a row, or why there is none."""
    if row.problem is not None or row.values is None:
        return row.problem or "unreadable row"
    values, id_column, text_column = row.values, config.id_column, config.text_column
    if id_column not in values:
        return f"no id: missing column {id_column!r}"
    name = _id_name(values[id_column])
    if name is None:
        if isinstance(values[id_column], str):
            return "empty id"
        return f"bad id: {_kind(values[id_column])}, not a string or a number"
    if text_column not in values:
        return f"no text: missing column {text_column!r}"
    text = values[text_column]
    if not isinstance(text, str):
        return f"text is {_kind(text)}, not a string"
    limit = config.ingest.max_text_chars
    if len(text) > limit:
        return f"text too long: {len(text):,} characters, over the limit of {limit:,} (max_text_chars)"
    if not text:
        return "empty text"
    if text.isspace():
        return "text is only whitespace"
    if name in seen:
        return f"duplicate id {name!r} (first at row {seen[name]})"
    seen[name] = row.number
    metadata = Metadata({str(k): jsonable(v) for k, v in values.items() if k not in (id_column, text_column)})
    encoding = "utf-8" if fmt != "parquet" else None
    return Document(path=name, text=text, format=fmt, encoding=encoding, metadata=metadata, source=shown, row=row.number)


def read_dataset(path: str | os.PathLike, *, config: ScanConfig | None = None) -> tuple[list[Document], list[Skipped]]:
    """The documents of a dataset file, in row order, and the rows (``file:row``) or the file that could not be read,
    with their reasons. Columns: ``config.id_column`` and ``config.text_column``."""
    config = config or ScanConfig()
    where = os.fsdecode(os.fspath(path))
    shown = display_name(Path(where).as_posix())
    kind = dataset_kind(where)
    if kind is None:
        raise InputError(f"{shown}: not a dataset file (.jsonl, .ndjson, .jsonl.gz, .jsonl.zst, .parquet, .csv, .csv.gz)")
    fmt, compression = kind
    if not os.path.isfile(where):
        reason = "no such file" if not os.path.lexists(where) else "not a regular file"
        return [], [Skipped(path=shown, reason=reason)]
    documents: list[Document] = []
    skipped: list[Skipped] = []
    seen: dict[str, int] = {}
    columns = {config.id_column: 0, config.text_column: 0}
    number = 0
    try:
        if fmt == "parquet":
            _check_columns(shown, parquet_columns(where), config)
        for row in rows(where, fmt, compression, max_line_bytes=max_line_bytes(config.ingest)):
            number = row.number
            if row.number == 0:  # a CSV header
                _check_columns(shown, list(row.values or ()), config)
                continue
            for column in columns:
                columns[column] += row.values is not None and column in row.values
            made = _document(row, shown, fmt, config, seen)
            if isinstance(made, Document):
                documents.append(made)
            else:
                skipped.append(Skipped(path=f"{shown}:{row.number}", reason=made))
    except _MissingColumn as missing:
        return [], [Skipped(path=shown, reason=str(missing))]
    except Exception as exc:  # corrupt compression, not Parquet, not UTF-8: the file's reason, never a traceback
        message = " ".join(str(exc).split())
        message = message if len(message) <= 200 else message[:199] + "…"
        after = f" (after row {number})" if number else ""
        skipped.append(Skipped(path=shown, reason=f"cannot read .{fmt}{after}: {type(exc).__name__}: {message}"))
        return documents, skipped
    if number and not documents:  # a column no row has: one reason for the file, not one per row
        absent = [c for c, n in columns.items() if n == 0]
        if absent:
            return [], [Skipped(path=shown, reason=f"no column {absent[0]!r} in any row (--id-column, --text-column)")]
    if not number:
        skipped.append(Skipped(path=shown, reason="no rows"))
    return documents, skipped


class _MissingColumn(Exception):
    pass


def _check_columns(shown: str, names: list[str], config: ScanConfig) -> None:
    for option, column in (("--id-column", config.id_column), ("--text-column", config.text_column)):
        if column not in names:
            listed = ", ".join(repr(n) for n in names[:12]) + (", …" if len(names) > 12 else "")
            raise _MissingColumn(f"no column {column!r} ({option}); its columns: {listed}")


def _qualified(reads: list[SourceRead]) -> list[SourceRead]:
    """Names unique across sources: the documents of every source that shares a name with another are named
    ``source:name`` (until no name is shared: then every source is qualified)."""
    if len(reads) < 2:
        return reads
    counts = Counter(d.path for r in reads for d in r.documents)
    per_source = [set(d.path for d in r.documents) for r in reads]
    clash = [any(counts[n] > 1 for n in names) for names in per_source]
    for attempt in (clash, [True] * len(reads)):
        out = [
            replace(
                r, documents=[replace(d, path=f"{r.source}:{d.path}") for d in r.documents],
                skipped=[s if r.format != "folder" else replace(s, path=f"{r.source}:{s.path}") for s in r.skipped],
            ) if qualify and r.source else r
            for r, qualify in zip(reads, attempt)
        ]
        names = [d.path for r in out for d in r.documents]
        if len(names) == len(set(names)):
            return out
    return out


def read_sources(
    sources: Sequence[str | os.PathLike],
    *,
    config: ScanConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
    reader: Reader | None = None,
) -> list[SourceRead]:
    """Read folders (as ``ingest`` does, with ``config``'s include, exclude and hidden rules, and ``reader`` if
    given), dataset files and glob patterns of them, each a :class:`SourceRead`, in the order given (a pattern's
    matches sorted). Raises
    ``InputError`` for a missing source, a file that is not a dataset, or a pattern that matches nothing."""
    config = config or ScanConfig()
    reads = []
    paths = expand_sources(sources)
    for k, path in enumerate(paths):
        shown = display_name(path.as_posix())
        kind = dataset_kind(path)
        if kind is not None and not path.is_dir():
            if not os.path.lexists(path):
                raise InputError(f"dataset file not found: {shown}")
            documents, skipped = read_dataset(path, config=config)
            fmt, compression = kind
        else:
            if path.is_file():
                raise InputError(
                    f"not a folder: {shown} (give the folder that holds the documents, or a dataset file: .jsonl, "
                    ".ndjson, .jsonl.gz, .jsonl.zst, .parquet, .csv or .csv.gz)"
                )
            each = None if progress is None or len(paths) > 1 else progress
            documents, skipped = ingest(
                path, include=config.include, exclude=config.exclude, include_hidden=config.include_hidden,
                progress=each, limits=config.ingest, reader=reader,
            )
            fmt, compression = "folder", None
        reads.append(SourceRead(shown, path, fmt, compression, documents, skipped, [d.path for d in documents]))
        if progress is not None and len(paths) > 1:
            progress(k + 1, len(paths))
    return _qualified(reads)


def ingest_sources(
    paths: Sequence[str | os.PathLike], *, base: Path | None = None, config: ScanConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """``ingest_paths`` (files and folders, named relative to ``base``) where dataset files and glob patterns of them
    may stand among the paths (``dedup check``, ``dedup index add``): their rows are documents named by id."""
    config = config or ScanConfig()
    expanded = expand_sources(paths)
    datasets = [p for p in expanded if dataset_kind(p) is not None and not p.is_dir()]
    for p in datasets:
        if not os.path.lexists(p):
            raise InputError(f"{display_name(p.as_posix())}: no such file or folder")
    others = [p for p in expanded if p not in datasets]
    documents: list[Document] = []
    skipped: list[Skipped] = []
    if others:
        documents, skipped = ingest_paths(
            others, base=base, include=config.include, exclude=config.exclude, include_hidden=config.include_hidden,
            progress=progress, limits=config.ingest,
        )
    if datasets:
        reads = [SourceRead(display_name(p.as_posix()), p, "", None, *read_dataset(p, config=config)) for p in datasets]
        if documents:
            reads.insert(0, SourceRead("", Path(), "files", None, documents, skipped))
        reads = _qualified(reads)
        documents = [d for r in reads for d in r.documents]
        skipped = [s for r in reads for s in r.skipped]
    return documents, skipped
