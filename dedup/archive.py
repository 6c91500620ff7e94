"""The archive index: check documents against it, add to it, remove from it, say what it holds.

An archive is a ``Store`` (``dedup.store``): a SQLite file, a Redis address, or a store object
(e.g. ``dedup.store.memory.MemoryStore``). Every function takes its ``location`` as any of those;
a store given as an object is used as it is and left open, one given by location is opened and
closed. ``dedup.build`` builds a new index of a folder.

A check compares documents with the archive only (never the archive with itself): the index's
LSH buckets give candidate archive documents (``dedup.index.candidates``), which are aligned
on their stored texts and judged with ``scan``'s rules; boilerplate is the archive's (recorded when
it was indexed) and what the documents share with unrelated archive documents.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup import boilerplate, index, ingest
from dedup.config import ScanConfig
from dedup.errors import IndexStoreError
from dedup.executors import Executor, LocalExecutor
from dedup.match import Matcher, clusters, coverage
from dedup.models import (
    CheckedDocument,
    CheckReport,
    Document,
    IndexInfo,
    IndexUpdate,
    Pair,
    Progress,
    document_list,
    no_progress,
)
from dedup.sign import SignedDocument, sign_documents
from dedup.store import Store, StoredDocument, open_store
from dedup.store.format import FORMAT, check_meta

#: Where an index is: a file path, a ``redis://`` address, or a store object.
Location = str | Path | Store


@contextmanager
def open_index(
    location: Location, *, config: ScanConfig | None = None, read_only: bool = True
) -> Iterator[tuple[Store, dict]]:
    """An existing index and its recorded meta; ``IndexStoreError`` if it cannot be used with ``config``.
    A store opened here is closed at the end of the block; a store object given is left open. Opened to read only
    (an index in a read-only file or folder can be checked against), unless ``read_only`` is False (to change it:
    an index that cannot be written is refused at once)."""
    if isinstance(location, Store):
        yield location, check_meta(location.read_meta(), config or ScanConfig(), location.location)
        return
    with open_store(location, read_only=read_only) as store:
        yield store, check_meta(store.read_meta(), config or ScanConfig(), store.location)


def index_info(location: Location, *, config: ScanConfig | None = None, paths: bool = False) -> IndexInfo:
    """What an index holds: documents, size and the parameters it was built with (and, with ``paths``,
    every stored path)."""
    with open_index(location, config=config) as (store, meta):
        return IndexInfo(
            location=store.location, documents=store.count(), size_bytes=store.size_bytes(), meta=meta,
            paths=tuple(store.paths()) if paths else None,
        )


def archive_texts(location: Location, paths: Sequence[str], *, config: ScanConfig | None = None) -> dict[str, str]:
    """The stored texts of archive documents, by stored path (for showing passages); paths not stored are left out."""
    with open_index(location, config=config) as (store, _):
        return {s.path: s.text for s in store.load(store.ids(list(paths)).values())}


def archive_text_loader(
    location: Location | None, paths: Iterable[str], *, config: ScanConfig | None = None
) -> Callable[[str], str]:
    """Texts of archive documents by stored path, for a report's side-by-side views: all of ``paths`` (those
    the report names) read from the index in one opening, when the first is asked for (a JSON report never
    asks); a path not stored (any more), or no index, gives an empty text."""
    texts: dict[str, str] = {}
    wanted = set(paths)

    def load(path: str) -> str:
        if location is None:
            return ""
        if path not in texts:  # the first one shown (or one not in the report): read with the others
            asked = sorted((wanted - texts.keys()) | {path})
            texts.update(dict.fromkeys(asked, ""))
            texts.update(archive_texts(location, asked, config=config))
        return texts[path]

    return load


def _signed_archive(stored: Sequence[StoredDocument], config: ScanConfig, executor: Executor | None = None) -> list[SignedDocument]:
    """Archived documents ready to align (normalized again from their stored text: it is fast)."""
    documents = [Document(path=s.path, text=s.text, format=s.format, encoding=s.encoding) for s in stored]
    return sign_documents(documents, config=config, executor=executor)


def add_to_index(
    paths: Sequence[str | Path],
    location: Location,
    *,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> IndexUpdate:
    """Add files and folders to an index, in one atomic change; a document stored under the same path is replaced.
    Dataset files (and glob patterns of them) add their rows, stored under their ids.

    Documents are stored relative to the folder the index was built from when
    they lie inside it. Boilerplate is judged among the new documents and the
    archived documents they resemble. Documents are signed by ``executor`` (by default in ``config.workers``
    processes).
    """
    config = config or ScanConfig()
    progress = progress or no_progress
    executor = executor or LocalExecutor(config.workers)
    with open_index(location, config=config, read_only=False) as (store, meta):
        documents, skipped = ingest.ingest_sources(
            [Path(p) for p in paths], base=Path(meta["root"]) if meta.get("root") else None, config=config
        )
        docs = sign_documents(documents, config=config, progress=progress, executor=executor)
        entries = index.document_entries(docs, config, progress)
        stored_paths = store.ids([d.path for d in documents])
        size = store.count() + len(docs)
        near = set().union(*(index.candidates(store, e, config, documents=size) for e in entries))
        near -= set(stored_paths.values())
        neighbours = _signed_archive(store.load(near), config, executor)
        related = boilerplate.Resemblance.of(entries + index.document_entries(neighbours, config), config)
        sets = boilerplate.long_shingle_hash_sets(docs + neighbours)[1]
        boiler = boilerplate.boilerplate_of([sets], boilerplate.related_labels(related), config, population=size)
        if meta.get("format") != FORMAT:  # texts written now are in this format's form (older ones stay readable)
            store.write_meta({"format": FORMAT})
        store.add(index.new_documents(docs, entries), boilerplate=boiler, replace=True)
        added = tuple(d.path for d in documents if d.path not in stored_paths)
        replaced = tuple(d.path for d in documents if d.path in stored_paths)
        return IndexUpdate(store.location, added=added, replaced=replaced, skipped=tuple(skipped), documents=store.count())


def remove_from_index(paths: Sequence[str], location: Location, *, config: ScanConfig | None = None) -> IndexUpdate:
    """Remove documents by stored path, or every document under a stored folder path ("speeches/2010/"), or under a
    folder on disk (its documents' stored paths; the folder the index was built from: all of them).

    A path that names nothing (empty, blank or only slashes: an unset shell variable, ``"$DIR/"``) is refused
    (``IndexStoreError``) before anything is removed: it once matched every stored path. ``.`` is the folder it
    names on disk, like any other folder path, not "every stored path" wherever the command runs.
    """
    with open_index(location, config=config, read_only=False) as (store, meta):
        base = Path(meta["root"]) if meta.get("root") else None
        everything, wanted = False, set()
        for p in paths:
            name = str(p).replace(os.sep, "/")
            if not name.replace("/", "").replace("\\", "").strip():
                raise IndexStoreError(
                    f"{store.location}: {str(p)!r} names no document; name stored paths or folders "
                    "(as 'dedup index info --list' shows them) or folders on disk"
                )
            # a stored path as shown (a backslash may be an escape, \udcbd), or typed with Windows separators
            wanted |= {name.rstrip("/"), name.replace("\\", "/").rstrip("/")}
            if Path(p).exists():
                if base is not None and Path(p).resolve() == base.resolve():
                    everything = True  # (the folder the index was built from, named on disk)
                else:
                    wanted.add(ingest.shown_path(Path(p), base))
        stored = store.paths()
        chosen = {s for s in stored if everything or any(s == n or s.startswith(n + "/") for n in wanted)}
        removed = store.remove(sorted(chosen))
        return IndexUpdate(store.location, removed=tuple(removed), documents=store.count())


@dataclass(frozen=True)
class ArchiveMatch:
    """For each of a batch of documents: its verified pairs with archive documents and its copy ratio."""

    pairs: list[list[Pair]]
    copy_ratios: list[float]
    archive: int  # documents in the archive


def match_archive(
    docs: Sequence[SignedDocument],
    store: Store,
    config: ScanConfig,
    *,
    executor: Executor | None = None,
    progress: Progress = no_progress,
    skip_same: bool = False,
) -> ArchiveMatch:
    """Verified pairs of each document with the archive (never archive with archive), ``b`` the archive document.

    Boilerplate is the archive's (recorded when it was indexed) and what these documents share with at
    least ``min_docs_boilerplate`` unrelated archived ones. With ``skip_same``, an archived document with
    the same path and text (the same file, already indexed) is not compared.
    """
    entries = index.document_entries(docs, config)
    archived = store.count()
    size = archived + len(docs)
    found = [index.candidates(store, e, config, documents=size) for e in entries]
    stored = store.load(set().union(*found))
    archive = _signed_archive(stored, config, executor)
    at = {s.id: len(docs) + k for k, s in enumerate(stored)}
    local = list(docs) + archive
    found_pairs = sorted((i, at[c]) for i, ids in enumerate(found) for c in ids if c in at)
    same = [(i, j) for i, j in found_pairs if skip_same and local[j].doc.path == docs[i].doc.path and local[j].doc.text == docs[i].doc.text]
    pairs = sorted(set(found_pairs) - set(same))
    matcher = Matcher(local, config)
    matcher.align_all(pairs, executor=executor, progress=progress)
    # a document and its own archived copy are one for boilerplate, as related documents are
    labels = clusters(len(local), same + [(i, j) for i, j in pairs if matcher.related(i, j)])
    boiler = boilerplate.token_masks(local, labels, config, known=store.boilerplate(), population=size)
    per_doc: list[list[Pair]] = [[] for _ in docs]
    covered: list[list[tuple[int, int]]] = [[] for _ in docs]
    own = [np.zeros(len(d.norm), dtype=bool) for d in docs]
    for i, j in pairs:
        pair = matcher.judge((i, j), boiler, stock=boiler.stock, b_origin="archive")
        if pair is None:
            continue
        per_doc[i].append(pair)
        _, flagged, (bp_i, _) = matcher.flagged_spans((i, j), boiler, stock=boiler.stock)
        covered[i] += [(s.a0, s.a1) for s, is_bp in flagged if not is_bp]
        own[i] |= boiler[i] & ~bp_i  # (text of the pair's own: boilerplate for the rest)
    ratios = [round(coverage(d.norm.weights, boiler[i] & ~own[i], covered[i]), 4) for i, d in enumerate(docs)]
    for p in per_doc:
        p.sort(key=lambda x: (-x.a_coverage, x.severity()))
    return ArchiveMatch(per_doc, ratios, archived)


def check(
    paths: Sequence[str | Path],
    location: Location,
    *,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> CheckReport:
    """Check documents against an archive index, the way thesis checkers do.

    Each document gets its total copy ratio (share of its text found in the
    archive), its largest single-source ratio and its sources with the copied
    passages. The documents are compared with the archive only. ``paths`` may hold dataset files (and glob
    patterns of them): each row is a document, named by its id.
    """
    config = config or ScanConfig()
    progress = progress or no_progress
    executor = executor or LocalExecutor(config.workers)
    with open_index(location, config=config) as (store, _):
        documents, skipped = ingest.ingest_sources(
            [Path(p) for p in paths], config=config, progress=lambda done, total: progress("read", done, total)
        )
        docs = sign_documents(documents, config=config, progress=progress, executor=executor)
        match = match_archive(docs, store, config, executor=executor, progress=progress)
        checked = tuple(
            CheckedDocument(
                path=d.doc.path,
                chars=len(d.doc.text),
                copy_ratio=ratio,
                largest_source_ratio=max((p.a_coverage for p in sources), default=0.0),
                sources=tuple(sources),
            )
            for d, sources, ratio in zip(docs, match.pairs, match.copy_ratios)
        )
        return CheckReport(
            index=store.location,
            archive=match.archive,
            documents=document_list(documents, skipped),
            checked=checked,
            config=config.to_dict(),
        )
