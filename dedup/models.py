"""Records that travel between the pipeline stages.

All records are frozen dataclasses. Offsets are code-point offsets into
``Document.text``, the text as decoded (or extracted) from the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Relation = Literal["exact", "near_duplicate", "partial"]

#: Order of severity, most severe first.
RELATIONS: tuple[Relation, ...] = ("exact", "near_duplicate", "partial")


@dataclass(frozen=True)
class Document:
    """One readable input file."""

    path: str  # relative to the scanned folder, "/" separators
    text: str  # decoded text: BOM removed, line endings kept
    format: str = "txt"  # txt, md, docx, pdf, html
    encoding: str | None = None  # detected encoding for text formats


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


@dataclass(frozen=True)
class DocumentEntry:
    """One line of the report's document list."""

    path: str
    status: Literal["ok", "skipped"]
    chars: int | None = None
    reason: str | None = None
    format: str | None = None
    encoding: str | None = None


class _DocumentCounts:
    """``scanned`` and ``skipped`` of a report's ``documents``."""

    documents: tuple[DocumentEntry, ...]

    @property
    def scanned(self) -> int:
        return sum(1 for d in self.documents if d.status == "ok")

    @property
    def skipped(self) -> int:
        return sum(1 for d in self.documents if d.status == "skipped")


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

    @property
    def pairs(self) -> tuple[Pair, ...]:
        """Every (checked document, source) pair."""
        return tuple(p for c in self.checked for p in c.sources)
