"""Where a scan's stages are chained: ingest → normalize and sign → candidates → align → boilerplate →
judge → report records. ``scan`` reads a folder; ``compare`` works on documents already read.

Each stage is a function of a batch of records and its config; the work that is worth spreading
(signing documents; aligning candidate pairs; the LSH band shuffle) is handed to an executor (``dedup.executors``), by
default the local one with ``config.workers`` processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dedup import boilerplate, ingest
from dedup.archive import match_archive, open_index
from dedup.candidates import HashSets, candidate_pairs
from dedup.config import ScanConfig
from dedup.errors import InputError
from dedup.executors import Executor, LocalExecutor
from dedup.match import JOBS_PER_WORKER, Matcher, clusters, duplicate_clusters
from dedup.models import Document, DocumentEntry, Progress, Report, Skipped, document_list, no_progress, skipped_lines
from dedup.sign import (
    FILE_BATCH, Signed, SignedDocument, SignedDocuments, SignedFiles, sign_documents, sign_files, warm_up,
)
from dedup.sketch import SketchedFiles, Sketches, signed_again, sketch_documents, sketch_files, sketched_candidates
from dedup.store import Store


#: A folder of at most this many files keeps its documents signed as the jobs read them; a larger one keeps their
#: sketches only, and the documents of candidate pairs are read again (``sketch.signed_again``): memory for a few
#: documents, not for all of them.
KEEP_FILES = 2000


def scan(
    root: str | Path | Sequence[str | Path],
    *,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    index: str | Path | Store | None = None,
    executor: Executor | None = None,
    keep_files: int = KEEP_FILES,
) -> Report:
    """Scan a folder: find near-duplicate documents and copied passages.

    ``root`` may also be a dataset file (JSON Lines, Parquet, CSV: one document a row, see
    ``dedup.ingest.datasets``), a glob pattern of them, or a list of folders, dataset files and patterns.

    With ``index`` (an archive index, see ``build_index``), the folder's documents are also compared
    with the archive; pairs with archive documents have ``b_origin == "archive"`` (the report names those
    documents ``index:<stored path>``).

    A folder of at most ``keep_files`` files keeps its documents signed while it is scanned (each file is read once);
    a larger one keeps only their sketches (``dedup.sketch``), and the documents of candidate pairs are read again:
    memory for those documents only, not for all. A file that changed in between is listed as skipped, not compared.

    Raises ``InputError`` if the folder cannot be read or holds no readable document (the message says what
    was found: the files skipped, with their reasons); files that cannot be read are listed in the report as
    skipped.
    """
    config = config or ScanConfig()
    progress = progress or no_progress
    executor = executor or LocalExecutor(config.workers)
    sources = [root] if isinstance(root, (str, Path)) else list(root)
    batches: list[list[ScannedFiles | SketchedFiles]] = []  # a folder's files are read and signed in jobs
    # (with an index every document is compared with the archive: all are kept)
    reader = _signing_reader(config, progress, executor, batches, keep_files=keep_files if index is None else None)
    reads, documents, skipped = read_sources(sources, config=config, progress=progress, reader=reader)
    del reader
    kept, parts, files, chars = _what_was_read(reads, batches)
    place = ", ".join(str(Path(s)) for s in sources)
    with ExitStack() as opened:
        store = opened.enter_context(open_index(index, config=config))[0] if index is not None else None
        return _compare(
            documents, skipped, config=config, progress=progress, root=place, store=store, executor=executor,
            kept=kept, sketches=parts, files=files, chars=chars,
        )


def _what_was_read(
    reads: Sequence[ingest.SourceRead], batches: list[list[ScannedFiles | SketchedFiles]]
) -> tuple[dict[int, Signed], list[Sketches | range], list[str | None], list[int | None]]:
    """What the jobs of reading gave (``batches``: a list for each folder read, emptied), in the order of the documents of
    ``reads``: the documents kept signed, by number; the sketches (a range of documents not sketched yet: those of
    dataset files); the file each document can be read again from (None: its text is here); the length of each
    document's text where it is not here (None: it is here)."""
    folders = iter(batches)
    scanned = [next(folders) if r.format == "folder" else None for r in reads]
    batches.clear()
    kept: dict[int, Signed] = {}
    parts: list[Sketches | range] = []
    files: list[str | None] = []
    chars: list[int | None] = []
    for r, f in zip(reads, scanned):
        for b in f if f is not None else [range(len(files), len(files) + len(r.documents))]:
            if isinstance(b, range):
                parts.append(b)
                files += [None] * len(b)
                chars += [None] * len(b)
                continue
            parts.append(b.sketches)
            if isinstance(b, ScannedFiles):
                kept.update(zip(range(len(files), len(files) + len(b.documents)), b.files.signed))
                files += [None] * len(b.documents)
                chars += [None] * len(b.documents)
            else:
                files += b.opened
                chars += b.chars.tolist()
    return kept, parts, files, chars


#: Files a job of reading and signing holds at least (a folder of fewer is read in this process).
MIN_FILE_JOB = 32


#: Why a documents-only scan skips a file whose text changed between its first reading and the second (the
#: documents of candidate pairs are read again).
CHANGED = "changed while it was being scanned (scan again)"


def scan_files(config: ScanConfig, found: Sequence[tuple[str, str]]) -> ScannedFiles:
    """Read, normalize, sign and sketch a batch of files ``(name, path)``, keeping the signed documents (a stage
    function: ``executor.map`` runs it with the config shared)."""
    files = sign_files(config, found)
    return ScannedFiles(files, Sketches.of(files.signed, config))


@dataclass(frozen=True, eq=False)
class ScannedFiles:
    """What a scan keeps of a batch of files read in a job when it keeps their signed documents: ``SignedFiles``, and
    the documents' ``Sketches``; it packs into arrays as they do."""

    files: SignedFiles
    sketches: Sketches

    @property
    def documents(self) -> list[Document]:
        return self.files.documents

    @property
    def skipped(self) -> list[Skipped]:
        return self.files.skipped

    def pack(self) -> tuple[tuple[tuple[np.ndarray, ...], ...], tuple]:
        groups, rest = self.files.pack()
        sketches, _ = self.sketches.pack()
        return (*groups, *sketches), (len(groups), rest)

    @classmethod
    def unpack(cls, groups: Sequence[tuple[np.ndarray, ...]], rest: tuple) -> ScannedFiles:
        count, rest = rest
        return cls(SignedFiles.unpack(groups[:count], rest), Sketches.unpack(groups[count:], ()))


def _signing_reader(
    config: ScanConfig, progress: Progress, executor: Executor, out: list, *, keep_files: int | None = None
) -> ingest.Reader:
    """An ``ingest.Reader`` that reads a folder's files in batches, signs and sketches them in ``executor``'s jobs
    (here if they are one batch, as ``sign_documents`` does), and adds what the jobs gave to ``out``, a list for each
    folder (progress: "sign", the files of the folder done). The jobs keep the signed documents (``scan_files``) of a
    folder of at most ``keep_files`` files (None: of any folder), only their sketches otherwise
    (``sketch_files``). A job holds ``FILE_BATCH`` files, fewer so that each worker gets ``JOBS_PER_WORKER``
    of them, but not fewer than ``MIN_FILE_JOB``."""
    def read(found: Sequence[tuple[str, str]], each: Callable[[int, int], None] | None) -> tuple[list[Document], list[Skipped]]:
        job = scan_files if keep_files is None or len(found) <= keep_files else sketch_files
        size = max(MIN_FILE_JOB, min(FILE_BATCH, -(-len(found) // (JOBS_PER_WORKER * getattr(executor, "workers", 1)))))
        jobs = [found[k : k + size] for k in range(0, len(found), size)]
        if len(jobs) > 1:
            warm_up(config)  # the compiled kernels loaded here: processes forked next have them
        documents: list[Document] = []
        skipped: list[Skipped] = []
        scanned = []
        done = 0
        batches = executor.map(job, jobs, shared=config) if len(jobs) > 1 else (job(config, j) for j in jobs)
        for files, batch in zip(jobs, batches):
            documents += batch.documents
            skipped += batch.skipped
            scanned.append(batch)
            done += len(files)
            if each is not None:
                each(done, len(found))
            progress("sign", done, len(found))
        out.append(scanned)
        return documents, skipped

    return read


def read_sources(
    sources: Sequence[str | Path], *, config: ScanConfig, progress: Progress = no_progress, reader: ingest.Reader | None = None
) -> tuple[list[ingest.SourceRead], list[Document], list[Skipped]]:
    """Read folders and dataset files: what each gave, all their documents, all that was skipped (a folder's files
    read by ``reader`` if given, see ``ingest.read_sources``). Raises ``InputError`` when none of them holds a
    readable document (saying what was found)."""
    reads = ingest.read_sources(
        sources, config=config, progress=lambda done, total: progress("read", done, total), reader=reader
    )
    documents = [d for r in reads for d in r.documents]
    skipped = [s for r in reads for s in r.skipped]
    if not documents:
        raise InputError(no_documents_message(", ".join(str(Path(s)) for s in sources), skipped))
    return reads, documents, skipped


def no_documents_message(place: str, skipped: Sequence[Skipped | DocumentEntry]) -> str:
    """What a scan (or a check) that read no document found in ``place`` (a folder, "the files given"), and how to
    fix it: the files skipped with their reasons (``skipped``: ``Skipped`` records or a report's documents)."""
    kinds = ", ".join(s for s in ingest.SUPPORTED_SUFFIXES if s != ".htm")
    lines = skipped_lines(skipped)
    if not lines:
        return f"no documents found in {place} (dedup reads {kinds})"
    count = sum(1 for s in skipped if not isinstance(s, DocumentEntry) or s.status == "skipped")
    found = "\n".join(f"  {line}" for line in lines)
    return (
        f"no readable documents in {place}: {count} file{'s' if count > 1 else ''} found, none could be read:\n"
        f"{found}\nfix or convert them (dedup reads {kinds} files with text), or give other files"
    )


def compare(
    documents: Sequence[Document],
    skipped: Sequence[Skipped] = (),
    *,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    root: str = "",
    index: str | Path | Store | None = None,
    executor: Executor | None = None,
) -> Report:
    """Find pairs among already-read documents (the part of ``scan`` after ingest)."""
    config = config or ScanConfig()
    with ExitStack() as opened:  # an index that cannot be used is said before any work is done
        store = opened.enter_context(open_index(index, config=config))[0] if index is not None else None
        return _compare(
            documents, skipped, config=config, progress=progress or no_progress, root=root, store=store,
            executor=executor or LocalExecutor(config.workers),
        )


def _compare(
    documents: Sequence[Document], skipped: Sequence[Skipped], *, config: ScanConfig, progress: Progress, root: str,
    store: Store | None, executor: Executor, kept: Mapping[int, Signed] | None = None,
    sketches: list[Sketches | range] | None = None, files: Sequence[str | None] = (), chars: Sequence[int | None] = (),
) -> Report:
    """Find the pairs of ``documents`` (and, with ``store``, their pairs with the archive). ``kept``: the documents
    signed already, by number; ``sketches``: the documents' sketches in order, a range of documents not sketched yet
    (by default one for all; the list is emptied as its parts are used); ``files``: the file each document can be
    read again from (None: its text is in ``documents``); ``chars``: the length of a text not in ``documents``."""
    kept = kept or {}
    if store is None:  # sketches first, then the candidates' documents
        docs, candidates, long_shingles, changed = _sketched(
            documents, sketches or [], files, kept, config=config, progress=progress, executor=executor
        )
        shown_documents = [docs.present[k].doc if k in docs.present else d for k, d in enumerate(documents)]  # (read again)
        chars = [None if k in docs.present else n for k, n in enumerate(chars)]
        if changed:  # files that changed since they were read: not compared, listed as skipped
            gone = set(changed)
            skipped = [*skipped, *(Skipped(documents[k].path, CHANGED) for k in changed)]
            chars = [n for k, n in enumerate(chars) if k not in gone]
            shown_documents = [d for k, d in enumerate(shown_documents) if k not in gone]
    else:  # every document is compared with the archive: all of them signed
        shown_documents = documents
        signed = [kept.get(k) for k in range(len(documents))] if kept else ()
        docs = SignedDocuments.of(_signed_documents(documents, signed, config=config, progress=progress, executor=executor))
        # 1. candidates: whole documents and windows that collide in LSH
        progress("candidates", 0, 1)
        if sketches and all(isinstance(p, Sketches) for p in sketches):
            long_shingles: list[HashSets] | None = [p.long_shingles for p in sketches]  # type: ignore[union-attr]
            candidates = sketched_candidates(sketches, config, group_by_key=executor.group_by_key)  # type: ignore[arg-type]
        else:
            long_shingles = None
            candidates = candidate_pairs(docs, config, group_by_key=executor.group_by_key, executor=executor)
        progress("candidates", 1, 1)

    # 2. verify on the text: align every candidate pair
    matcher = Matcher(docs, config)
    matcher.align_all(candidates, executor=executor, progress=progress)
    paired = {x for pair in candidates for x in pair}  # only the documents of candidate pairs are judged

    # 3. boilerplate: long shingles found in at least min_docs unrelated documents
    related = [(i, j) for i, j in candidates if matcher.related(i, j)]
    boiler = boilerplate.token_masks(
        docs, clusters(len(docs), related), config, wanted=paired, sets=long_shingles, executor=executor
    )
    del long_shingles

    # 4. judge each pair with boilerplate known
    pairs = matcher.judge_all(candidates, boiler, stock=boiler.stock, executor=executor, progress=progress)
    archive = 0
    if store is not None:  # 5. the folder against the archive
        match = match_archive(docs, store, config, executor=executor, progress=progress, skip_same=True)
        pairs += [p for found in match.pairs for p in found]
        archive = match.archive
    if not config.passages:  # documents only: whole-document relations, without passages
        pairs = [replace(p, passages=()) for p in pairs if p.relation in ("exact", "near_duplicate")]
    pairs.sort(key=lambda p: p.severity())
    shown = {p.a for p in pairs if p.a_origin == "scanned"} | {p.b for p in pairs if p.b_origin == "scanned"}
    return Report(
        root=root,
        documents=document_list(shown_documents, skipped, keep_text=shown, chars=chars),  # the texts shown, as they were read
        pairs=tuple(pairs),
        clusters=duplicate_clusters(pairs),
        config=config.to_dict(),
        index=store.location if store is not None else None,
        archive=archive,
    )


def _signed_documents(
    documents: Sequence[Document], signed: Sequence[Signed | None], *, config: ScanConfig, progress: Progress,
    executor: Executor,
) -> list[SignedDocument]:
    """The documents signed: with their ``Signed`` where known (``signed``, if given, has one for each document or
    None), the others signed here or by ``executor`` (``sign_documents``)."""
    if not signed:
        return sign_documents(documents, config=config, progress=progress, executor=executor)
    missing = [k for k, s in enumerate(signed) if s is None]
    more = iter(sign_documents([documents[k] for k in missing], config=config, progress=progress, executor=executor))
    return [SignedDocument(d, s) if s is not None else next(more) for d, s in zip(documents, signed)]


def _sketched(
    documents: Sequence[Document], parts: list[Sketches | range], files: Sequence[str | None], kept: Mapping[int, Signed],
    *, config: ScanConfig, progress: Progress, executor: Executor,
) -> tuple[SignedDocuments, list[tuple[int, int]], list[HashSets], list[int]]:
    """A scan's candidates from sketches: the documents sketched (``parts``: their ``Sketches`` in order, a range of
    documents where they are not known yet, by default one for all; emptied), the candidate pairs from the sketches,
    and only the documents of candidate pairs signed (``kept``: those signed already; those read from ``files`` read
    again: ``sketch.signed_again``); with the long-shingle sets of all, and the documents whose file changed since
    (their pairs left out)."""
    known: list[Sketches] = []
    for part in parts or [range(len(documents))]:
        if isinstance(part, range):
            known += sketch_documents(documents[part.start : part.stop], config=config, progress=progress, executor=executor)
        else:
            known.append(part)
    parts.clear()  # (the caller's list: the windows of the sketches are freed once grouped, below)
    progress("candidates", 0, 1)
    candidates = sketched_candidates(known, config, group_by_key=executor.group_by_key)
    progress("candidates", 1, 1)
    wanted = sorted({x for pair in candidates for x in pair})
    signed, changed = signed_again(documents, files, known, wanted, config=config, executor=executor, kept=kept)
    if changed:  # (they keep their numbers, and count in the boilerplate as they were read)
        gone = set(changed)
        candidates = [(i, j) for i, j in candidates if i not in gone and j not in gone]
    return SignedDocuments(len(documents), signed), candidates, [p.long_shingles for p in known], changed
