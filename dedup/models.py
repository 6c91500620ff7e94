"""Records that travel between the pipeline stages.

All records are frozen dataclasses. Offsets are code-point offsets into
``Document.text``, the text as decoded (or extracted) from the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Relation = Literal["exact", "near_duplicate", "partial"]
#: Where a document of a pair comes from: the files being scanned or checked, or an archive index.
Origin = Literal["scanned", "archive"]

#: The one order of severity, most severe first.
RELATIONS: tuple[Relation, ...] = ("exact", "near_duplicate", "partial")
#: In a scan with an archive index, archive documents are named ``index:<stored path>``.
ARCHIVE_PREFIX = "index:"

#: ``progress(stage, done, total)``, called by the library as it goes.
Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A ``Progress`` that does nothing."""


def at_least(relation: Relation, worst: Relation) -> bool:
    """Whether ``relation`` is as severe as ``worst`` or more (``exact`` is at least ``partial``)."""
    return RELATIONS.index(relation) <= RELATIONS.index(worst)


class Metadata(Mapping[str, object]):
    """An immutable mapping of column name to a JSON-able value: the other columns of a dataset row."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> None:
        object.__setattr__(self, "_items", dict(items))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Metadata is immutable")

    def __getitem__(self, key: str) -> object:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items))

    def __reduce__(self):
        return (Metadata, (self._items,))

    def __repr__(self) -> str:
        return f"Metadata({self._items!r})"


@dataclass(frozen=True)
class Document:
    """One readable input file, or one row of a dataset file (JSON Lines, Parquet, CSV)."""

    path: str  # relative to the scanned folder, "/" separators; a dataset row: its id (see dedup.ingest.datasets)
    text: str  # decoded text: BOM removed, line endings kept; a dataset row: the text column's value as it is
    format: str = "txt"  # txt, md, docx, pdf, html; jsonl, parquet, csv for a dataset row
    encoding: str | None = None  # detected encoding for text formats
    metadata: Mapping[str, object] = field(default_factory=Metadata)  # a dataset row's other columns
    source: str | None = None  # a dataset row: the dataset file it was read from (as given)
    row: int | None = None  # a dataset row: its 1-based row number in that file (JSON Lines: the line number)

    def __post_init__(self) -> None:
        if not isinstance(self.metadata, Metadata):  # (a dict given: kept as an immutable copy)
            object.__setattr__(self, "metadata", Metadata(self.metadata))


@dataclass(frozen=True)
class Skipped:
    """A file that was found but could not be read."""

    path: str
    reason: str


@dataclass(frozen=True)
class Passage:
    """A span of document ``a`` that matches a span of document ``b``."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    similarity: float
    boilerplate: bool = False


@dataclass(frozen=True)
class Pair:
    """Two documents that share text, verified on the text."""

    a: str
    b: str
    relation: Relation
    similarity: float
    a_coverage: float  # share of a's (non-boilerplate) text inside passages
    b_coverage: float
    passages: tuple[Passage, ...] = ()
    differences: tuple[str, ...] = ()  # human-readable notes: what differs
    a_origin: Origin = "scanned"
    b_origin: Origin = "scanned"

    def names(self) -> tuple[str, str]:
        """How a scan report names the two documents: archive documents as ``index:<stored path>``."""
        return name(self.a, self.a_origin), name(self.b, self.b_origin)

    def severity(self) -> tuple:
        """Sort key, most severe first: relation, then the larger coverage, then similarity, then names."""
        a, b = self.names()
        return (RELATIONS.index(self.relation), -max(self.a_coverage, self.b_coverage), -self.similarity, a, b)


def name(path: str, origin: Origin) -> str:
    """A document's name in a scan report: its path, or ``index:<stored path>`` for an archive document."""
    return ARCHIVE_PREFIX + path if origin == "archive" else path


@dataclass(frozen=True)
class DocumentEntry:
    """One line of the report's document list."""

    path: str
    status: Literal["ok", "skipped"]
    chars: int | None = None
    reason: str | None = None
    format: str | None = None
    encoding: str | None = None
    metadata: Mapping[str, object] = field(default_factory=Metadata)  # a dataset row's other columns
    source: str | None = None  # a dataset row: its file
    row: int | None = None  # a dataset row: its row number in that file
    #: The text as it was read, for the reports that show it (kept for the documents a report can show; never
    #: in JSON, never compared).
    text: str | None = field(default=None, compare=False, repr=False)


def document_list(
    documents: Sequence[Document], skipped: Sequence[Skipped], *, keep_text: Collection[str] | None = None,
    chars: Sequence[int | None] = (),
) -> tuple[DocumentEntry, ...]:
    """A report's document list: every document read and every file skipped (with its reason), by path.

    Entries keep the text of the documents whose path is in ``keep_text`` (by default of every document), so
    that a report shows the text that was read, never the file as it is later. ``chars``, if given: the length of
    each document's text where the document does not hold it (None where it does)."""
    sizes = chars or [None] * len(documents)
    entries = [
        DocumentEntry(
            path=d.path, status="ok", chars=len(d.text) if n is None else n, format=d.format, encoding=d.encoding,
            metadata=d.metadata, source=d.source, row=d.row,
            text=d.text if keep_text is None or d.path in keep_text else None,
        )
        for d, n in zip(documents, sizes)
    ]
    entries += [DocumentEntry(path=s.path, status="skipped", reason=s.reason) for s in skipped]
    return tuple(sorted(entries, key=lambda e: e.path))


def skipped_lines(skipped: Iterable[Skipped | DocumentEntry], *, limit: int = 10) -> list[str]:
    """Files skipped, as lines ``path: reason`` (the first ``limit``), then one line with how many more and their
    reasons counted (the part of a reason before its first ": ", e.g. ``corrupt .pdf ×12``)."""
    rows = [(s.path, s.reason or "") for s in skipped if not isinstance(s, DocumentEntry) or s.status == "skipped"]
    lines = [f"{path}: {reason}" for path, reason in rows[:limit]]
    if len(rows) > limit:
        counts = Counter(reason.split(": ", 1)[0] for _, reason in rows[limit:])
        lines.append(f"… and {len(rows) - limit} more: " + ", ".join(f"{r} ×{n}" for r, n in counts.most_common()))
    return lines


class _DocumentCounts:
    """``scanned`` and ``skipped`` of a report's ``documents``."""

    documents: tuple[DocumentEntry, ...]

    @property
    def scanned(self) -> int:
        return sum(1 for d in self.documents if d.status == "ok")

    @property
    def skipped(self) -> int:
        return sum(1 for d in self.documents if d.status == "skipped")

    def texts(self) -> dict[str, str]:
        """The texts the report's documents had when they were read, by path (those kept: the documents a
        report can show side by side)."""
        return {d.path: d.text for d in self.documents if d.text is not None}


@dataclass(frozen=True)
class Report(_DocumentCounts):
    """Everything a scan found."""

    root: str
    documents: tuple[DocumentEntry, ...]
    pairs: tuple[Pair, ...]
    clusters: tuple[tuple[str, ...], ...]
    config: dict = field(default_factory=dict)
    index: str | None = None  # the archive index scanned with the folder, if any
    archive: int = 0  # documents in that archive

    @staticmethod
    def names(pair: Pair) -> tuple[str, str]:
        """The two documents' names as this report shows them (archive documents as ``index:<stored path>``)."""
        return pair.names()

    def pairs_by_relation(self) -> dict[str, int]:
        counts = {r: 0 for r in RELATIONS}
        for p in self.pairs:
            counts[p.relation] += 1
        return counts


@dataclass(frozen=True)
class CheckedDocument:
    """One document checked against an archive index, the way thesis checkers report it.

    ``sources`` are pairs with ``a`` = this document and ``b`` = an archive
    document (its path as stored in the index); a source's ratio is its
    ``a_coverage``. Sorted by that ratio, largest first.
    """

    path: str
    chars: int
    copy_ratio: float  # share of its text (boilerplate left out) found in the archive, all sources together
    largest_source_ratio: float  # the largest share found in one archive document
    sources: tuple[Pair, ...] = ()


@dataclass(frozen=True)
class CheckReport(_DocumentCounts):
    """Everything ``dedup check`` found: each checked document against the archive."""

    index: str  # where the index is: a file path, or a redis:// address without password
    archive: int  # documents in the archive
    documents: tuple[DocumentEntry, ...]  # the files given to check, readable or skipped
    checked: tuple[CheckedDocument, ...]
    config: dict = field(default_factory=dict)

    @staticmethod
    def names(pair: Pair) -> tuple[str, str]:
        """The two documents' names as this report shows them: every source is an archive document, named by its
        stored path."""
        return pair.a, pair.b

    @property
    def pairs(self) -> tuple[Pair, ...]:
        """Every (checked document, source) pair."""
        return tuple(p for c in self.checked for p in c.sources)


@dataclass(frozen=True)
class IndexUpdate:
    """What ``build_index``, ``add_to_index`` or ``remove_from_index`` changed."""

    location: str
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    documents: int = 0  # in the index afterwards


@dataclass(frozen=True)
class IndexInfo:
    """What ``dedup index info`` shows."""

    location: str
    documents: int
    size_bytes: int
    meta: dict
    paths: tuple[str, ...] | None = None  # every stored path, sorted (when asked for)

    def to_dict(self) -> dict:
        """What ``dedup index info --format json`` prints: location, size, the recorded parameters (and paths)."""
        meta = self.meta
        data = {
            "index": self.location,
            "documents": self.documents,
            "size_bytes": self.size_bytes,
            **{key: meta.get(key) for key in ("root", "created", "dedup", "datasketch", "format")},
            **meta.get("matching", {}),
            "bands": meta.get("bands"),
        }
        if self.paths is not None:
            data["paths"] = list(self.paths)
        return data
