"""A de-duplicated copy of the input: ``dedup dedupe SOURCE… --output DIR``.

The sources (folders, dataset files, glob patterns: what ``scan`` reads) are scanned; documents linked by
``exact`` and ``near_duplicate`` pairs form clusters (``partial`` pairs remove nothing), and one document of each
cluster is kept by ``keep``: ``first`` (input order: sources as given, a dataset's rows in order, a folder's files
by sorted path), ``longest`` (ties to the first) or ``earliest`` (the smallest ISO date or date-time of
``date_column``; rows without a parseable date sort last; ties to the first). The kept records are written to
``output`` in their input's format, unchanged: JSON Lines lines as they were (same compression), CSV records as
they were (header first), Parquet rows with the same schema, a folder's files copied with their relative paths.
Rows and files that could not be read are not written. ``DIR/decisions.jsonl`` says for every input document
whether it was kept and why.

``output`` is written into a temporary folder beside it and swapped in at the end (a re-run replaces it; a
folder that was not written by ``dedupe`` and is not empty is refused, and so is a folder that is or holds an
input, or lies inside an input folder). Inputs are never modified.
"""

from __future__ import annotations


import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path

from dedup import ingest
from dedup.config import ScanConfig
from dedup.errors import ConfigError, InputError
from dedup.executors import Executor
from dedup.models import Document, Pair, Progress, Report, Skipped, no_progress
from dedup.pipeline import compare, read_sources
from dedup.version import __version__

__all__ = ["DECISIONS_FILE", "KEEP_RULES", "MARKER_FILE", "Decision", "DedupeResult", "dedupe"]

KEEP_RULES = ("first", "longest", "earliest")
#: The keep/drop list written beside the kept records.
DECISIONS_FILE = "decisions.jsonl"
#: Marks a folder written by ``dedupe``: only such a folder (or an empty one) is replaced.
MARKER_FILE = ".dedup-dedupe"


@dataclass(frozen=True)
class Decision:
    """Whether one input document is kept, and why (one line of ``decisions.jsonl``)."""

    name: str  # as the scan report names it
    source: str  # the dataset file, or the file of a folder (the folder as given, then its relative path)
    row: int | None  # its row in a dataset file
    keep: bool
    reason: str
    kept: str | None = None  # for a dropped document: the document kept in its place
    cluster: int | None = None  # index of its cluster in the report's ``clusters``

    def to_dict(self) -> dict:
        return {
            "name": self.name, "source": self.source, "row": self.row, "keep": self.keep, "reason": self.reason,
            "kept": self.kept, "cluster": self.cluster,
        }


@dataclass(frozen=True)
class DedupeResult:
    """What ``dedupe`` read, kept and dropped, and the scan report it judged by."""

    output: str
    decisions: tuple[Decision, ...]
    skipped: tuple[Skipped, ...]  # rows and files that could not be read (not written)
    clusters: int
    report: Report

    @property
    def read(self) -> int:
        return len(self.decisions)

    @property
    def kept(self) -> int:
        return sum(1 for d in self.decisions if d.keep)

    @property
    def dropped(self) -> int:
        return sum(1 for d in self.decisions if not d.keep)


def parse_date(value: object) -> datetime | None:
    """An ISO date or date-time (``2021-03-04``, ``2021-03-04T10:00:00Z``) as a UTC date-time, else None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
            except ValueError:
                return None
    else:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _keeper(members: Sequence[Document], order: dict[str, int], keep: str, date_column: str | None) -> Document:
    if keep == "longest":
        return min(members, key=lambda d: (-len(d.text), order[d.path]))
    if keep == "earliest":
        def key(d: Document) -> tuple:
            moment = parse_date(d.metadata.get(date_column)) if date_column else None
            return (moment is None, moment or datetime.min, order[d.path])
        return min(members, key=key)
    return min(members, key=lambda d: order[d.path])


def _why_dropped(name: str, kept: str, members: Sequence[str], pairs: dict[frozenset, Pair]) -> str:
    """Why a document is dropped: its pair with the kept document, or (linked through others) its strongest pair
    inside the cluster."""
    def said(pair: Pair, other: str) -> str:
        if pair.relation == "exact":
            return f"exact copy of {other}"
        return f"near_duplicate of {other} (similarity {pair.similarity:.2f})"

    direct = pairs.get(frozenset((name, kept)))
    if direct is not None:
        return said(direct, kept)
    linked = [(pairs[frozenset((name, m))], m) for m in members if frozenset((name, m)) in pairs]
    if not linked:  # (clusters are made of such pairs: not expected)
        return f"in a cluster kept as {kept}"
    pair, other = min(linked, key=lambda item: (item[0].relation != "exact", -item[0].similarity, item[1]))
    return f"{said(pair, other)}, in a cluster kept as {kept}"


def decide(
    reads: Sequence[ingest.SourceRead], report: Report, *, keep: str = "first", date_column: str | None = None
) -> list[Decision]:
    """Keep or drop each document of ``reads`` (in input order), by the clusters of ``report``."""
    documents = {d.path: d for r in reads for d in r.documents}
    order = {name: k for k, name in enumerate(documents)}
    pairs = {frozenset(p.names()): p for p in report.pairs if p.relation != "partial"}
    verdict: dict[str, tuple[bool, str, str | None, int | None]] = {}
    for number, cluster in enumerate(report.clusters):
        members = [documents[n] for n in cluster if n in documents]
        kept = _keeper(members, order, keep, date_column)
        for d in members:
            if d is kept:
                verdict[d.path] = (True, f"kept: {keep} of a cluster of {len(members)}", None, number)
            else:
                reason = _why_dropped(d.path, kept.path, [m.path for m in members if m is not d], pairs)
                verdict[d.path] = (False, reason, kept.path, number)
    decisions = []
    for r in reads:
        for d, local in zip(r.documents, r.local_names):
            source = d.source if d.source is not None else f"{r.source.rstrip('/')}/{local}"
            keep_it, reason, kept, cluster = verdict.get(d.path, (True, "kept: no duplicate", None, None))
            decisions.append(Decision(d.path, source, d.row, keep_it, reason, kept, cluster))
    return decisions


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(output: str | os.PathLike, inputs: Sequence[Path]) -> Path:
    """The output folder, absolute; ``InputError`` if it is or holds an input, lies inside an input folder, is not a
    folder, or is a non-empty folder that ``dedupe`` did not write."""
    out = Path(os.path.abspath(output))
    shown = ingest.display_name(str(output))
    for real in (False, True):
        where = Path(os.path.realpath(out)) if real else out
        for p in inputs:
            given = Path(os.path.realpath(p)) if real else Path(os.path.abspath(p))
            name = ingest.display_name(str(p))
            if given == where:
                raise InputError(f"--output {shown} is one of the inputs ({name}); give a new folder")
            if _inside(given, where):
                raise InputError(f"--output {shown} holds the input {name}; give a folder outside the inputs")
            if os.path.isdir(p) and _inside(where, given):
                raise InputError(f"--output {shown} is inside the input folder {name}; give a folder outside it")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise InputError(f"--output {shown} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER_FILE).is_file():
            raise InputError(
                f"--output {shown} is a folder that dedup dedupe did not write and it is not empty; "
                "give a new or empty folder (it is replaced on each run)"
            )
    return out


def _base(paths: Sequence[Path]) -> Path:
    """The folder the outputs' relative paths start from: the sources' common folder."""
    places = [os.path.abspath(p if p.is_dir() else p.parent) for p in paths]
    return Path(os.path.commonpath(places))


def _check_targets(paths: Sequence[Path]) -> None:
    """InputError if a dataset file would be written over the decisions file or the marker."""
    base = _base(paths)
    for p in paths:
        if not p.is_dir() and os.path.relpath(os.path.abspath(p), base) in (DECISIONS_FILE, MARKER_FILE):
            raise InputError(
                f"{ingest.display_name(str(p))}: its copy would be written over the output's {DECISIONS_FILE}; "
                "rename the file or give it with another"
            )


def _write_dataset(read: ingest.SourceRead, kept: set[int], target: Path, config: ScanConfig) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if read.format == "parquet":
        _write_parquet(read.path, kept, target)
        return
    limit = ingest.datasets.max_line_bytes(config.ingest)
    with ingest.open_compressed(target, read.compression, "wb") as out:
        for row in ingest.rows(read.path, read.format, read.compression, max_line_bytes=limit):
            if (row.number in kept or (row.number == 0 and read.format == "csv")) and row.raw is not None:
                out.write(row.raw if isinstance(row.raw, bytes) else row.raw.encode("utf-8"))


def _write_parquet(source: Path, kept: set[int], target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(source) as table:
        compression = "snappy"
        if table.metadata.num_row_groups and table.metadata.num_columns:
            compression = table.metadata.row_group(0).column(0).compression.lower()
            compression = "none" if compression == "uncompressed" else compression
            compression = compression if compression in ("none", "snappy", "gzip", "brotli", "zstd", "lz4") else "snappy"
        with pq.ParquetWriter(target, table.schema_arrow, compression=compression) as writer:
            first = 1
            for batch in table.iter_batches(batch_size=ingest.tables.PARQUET_BATCH_ROWS):
                mask = pa.array([first + k in kept for k in range(batch.num_rows)])
                first += batch.num_rows
                writer.write_batch(batch.filter(mask))


def _write_output(
    reads: Sequence[ingest.SourceRead], decisions: Sequence[Decision], folder: Path, config: ScanConfig
) -> None:
    base = _base([r.path for r in reads])
    kept_names = {d.name for d in decisions if d.keep}
    for r in reads:
        if r.format == "folder":
            start = Path(os.path.relpath(os.path.abspath(r.path), base))
            for d, local in zip(r.documents, r.local_names):
                if d.path in kept_names:
                    target = folder / start / ingest.real_name(local)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(r.path / ingest.real_name(local), target)
        else:
            kept = {d.row for d in r.documents if d.path in kept_names and d.row is not None}
            _write_dataset(r, kept, folder / os.path.relpath(os.path.abspath(r.path), base), config)
    with open(folder / DECISIONS_FILE, "w", encoding="utf-8") as out:
        for d in decisions:
            out.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
    (folder / MARKER_FILE).write_text(
        json.dumps({"written_by": "dedup dedupe", "dedup": __version__}) + "\n", encoding="utf-8"
    )


def _swap_in(written: Path, out: Path) -> None:
    """Move the finished folder to ``out``, replacing what a previous run wrote there."""
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(written, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(written, out)


def dedupe(
    sources: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    keep: str = "first",
    date_column: str | None = None,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> DedupeResult:
    """Write the sources minus their exact and near-duplicate copies to the folder ``output`` (see the module).

    Raises ``ConfigError`` for an unknown ``keep`` or ``earliest`` without ``date_column``, ``InputError`` for an
    ``output`` that cannot be used (before anything is read) and as ``scan`` does for sources with nothing readable.
    """
    config = config or ScanConfig()
    progress = progress or no_progress
    if keep not in KEEP_RULES:
        raise ConfigError(f"keep must be one of {', '.join(KEEP_RULES)}, got {keep!r}")
    if keep == "earliest" and not date_column:
        raise ConfigError("keep 'earliest' needs a date column (--date-column)")
    given = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    paths = ingest.expand_sources(given)
    out = check_output_folder(output, paths)
    _check_targets(paths)
    reads, documents, skipped = read_sources(paths, config=config, progress=progress)
    place = ", ".join(str(Path(s)) for s in given)
    documents_only = replace(config, passages=False)  # (partial pairs remove nothing: not looked for)
    report = compare(documents, skipped, config=documents_only, progress=progress, root=place, executor=executor)
    decisions = decide(reads, report, keep=keep, date_column=date_column)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = Path(tempfile.mkdtemp(prefix=f".{out.name}.dedupe-", dir=out.parent))
    try:
        os.chmod(written, 0o777 & ~_umask())
        _write_output(reads, decisions, written, config)
        _swap_in(written, out)
    except BaseException:
        shutil.rmtree(written, ignore_errors=True)
        raise
    clusters = sum(1 for c in report.clusters if len(c) > 1)
    return DedupeResult(str(output), tuple(decisions), tuple(skipped), clusters, report)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
