"""The one place where the stages are chained: ingest → normalize → sign →
candidates → align → report. ``scan`` is the public entry point.
"""

from __future__ import annotations

import math
import mmap
import multiprocessing as mp
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from multiprocessing import resource_tracker, shared_memory
from pathlib import Path

import numpy as np

from dedup import ingest as ingest_stage
from dedup import kernels
from dedup.arrays import member
from dedup.align import ShingleIndex, TokenSpan, align, shingle_index
from dedup.candidates import (
    HashSets,
    band_keys,
    banded_candidates,
    hash_frequencies,
    lsh_params,
    window_keys,
)
from dedup.config import ScanConfig, SignConfig
from dedup.explain import covered_mask, describe
from dedup import index as index_stage
from dedup.errors import IndexStoreError
from dedup.models import CheckedDocument, CheckReport, Document, DocumentEntry, Pair, Passage, Report, Skipped
from dedup.normalize import normalize, runs
from dedup.sign import Signed, sign, signatures
from dedup.store import FORMAT, NewDocument, Store, StoredDocument, open_store, prefix_bits_for, prepared

#: progress(stage, done, total)
Progress = Callable[[str, int, int], None]

#: A near-duplicate must also cover at least this share of the longer document.
NEAR_DUPLICATE_MIN_OTHER = 0.5
#: Documents sharing passages that cover this share of one of them are related:
#: text they share is theirs, not boilerplate.
RELATED_COVERAGE = 0.5


def _noop(stage: str, done: int, total: int) -> None:
    pass


@dataclass(frozen=True, eq=False)
class _Doc:
    doc: Document
    signed: Signed

    @property
    def norm(self):
        return self.signed.norm


def scan(
    root: str | Path,
    *,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    index: str | Path | None = None,
) -> Report:
    """Scan a folder: find near-duplicate documents and copied passages.

    With ``index`` (an archive index, see ``build_index``), the folder's
    documents are also compared with the archive; archive documents are named
    ``index:<stored path>`` in the report.

    Raises ``InputError`` if the folder cannot be read; files that cannot be
    read are listed in the report as skipped.
    """
    config = config or ScanConfig()
    progress = progress or _noop
    root = Path(root)
    documents, skipped = ingest_stage.ingest(
        root,
        include=config.include,
        exclude=config.exclude,
        include_hidden=config.include_hidden,
        progress=lambda done, total: progress("read", done, total),
    )
    return compare(documents, skipped, config=config, progress=progress, root=str(root), index=index)


def sign_documents(documents: Sequence[Document], *, config: ScanConfig, progress: Progress = _noop) -> list[Signed]:
    """Normalize and sign a batch of documents."""
    out = []
    for i, doc in enumerate(documents):
        out.append(sign(normalize(doc.text, config.normalize), config.sign))
        progress("sign", i + 1, len(documents))
    return out


def compare(
    documents: Sequence[Document],
    skipped: Sequence[Skipped] = (),
    *,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    root: str = "",
    index: str | Path | None = None,
) -> Report:
    """Find pairs among already-read documents (the part of ``scan`` after ingest)."""
    config = config or ScanConfig()
    progress = progress or _noop
    store = open_index(index, config=config)[0] if index is not None else None
    try:
        return _compare(documents, skipped, config=config, progress=progress, root=root, store=store)
    finally:
        if store is not None:
            store.close()


def _compare(
    documents: Sequence[Document], skipped: Sequence[Skipped], *, config: ScanConfig, progress: Progress, root: str,
    store: Store | None,
) -> Report:
    signed = sign_documents(documents, config=config, progress=progress)
    docs = [_Doc(d, s) for d, s in zip(documents, signed)]
    matcher = _Matcher(docs, config)

    # 1. candidates: whole documents and windows that collide in LSH
    progress("candidates", 0, 2)
    signed_docs = np.array([i for i, d in enumerate(docs) if len(d.signed.hashes)], dtype=np.int64)
    doc_signatures = signatures([docs[i].signed.hashes for i in signed_docs], config.sign)
    candidates = banded_candidates(band_keys(doc_signatures, threshold=config.candidates.doc_threshold), signed_docs)
    candidates |= _identical_pairs(docs)
    progress("candidates", 1, 2)
    # windows of CJK documents and of word documents: their bags differ in size and in how
    # alike unrelated text looks, so each has its own threshold
    for cjk in (True, False):
        keys, owners = [], []
        for i, d in enumerate(docs):
            if d.norm.mostly_cjk != cjk:
                continue
            windows = window_keys(d.signed, config)
            if len(windows):
                keys.append(windows)
                owners.append(np.full(len(windows), i))
        if keys:
            candidates |= banded_candidates(
                np.concatenate(keys),
                np.concatenate(owners),
                max_hits=config.candidates.max_window_hits,
                min_shared=config.candidates.shared_buckets(len(docs)),
            )
    progress("candidates", 2, 2)
    candidates = sorted(candidates)

    # 2. verify on the text: align every candidate pair
    matcher.align_all(candidates, workers=config.workers, progress=progress)

    # 3. boilerplate: shingles found in at least min_docs unrelated documents
    related = [(i, j) for i, j in candidates if matcher.related(i, j)]
    boiler = _boilerplate(docs, _clusters(len(docs), related), config)

    # 4. classify with boilerplate known
    pairs = [p for p in (matcher.judge(c, boiler, config) for c in candidates) if p is not None]
    archive = 0
    if store is not None:  # 5. the folder against the archive
        match = _against_archive(docs, store, config, progress, skip_same=True)
        pairs += [replace(p, b=ARCHIVE_PREFIX + p.b) for found in match.pairs for p in found]
        archive = match.archive
    pairs.sort(key=_severity)

    clusters = _cluster_paths([p for p in pairs if p.relation in ("exact", "near_duplicate")])
    return Report(
        root=root,
        documents=_entries_of(documents, skipped),
        pairs=tuple(pairs),
        clusters=clusters,
        config=config.to_dict(),
        index=store.location if store is not None else None,
        archive=archive,
    )


_INDEX_CACHE = 4096  # per-document shingle indexes kept for reuse
_CHUNK = 2000  # candidate pairs per unit of work for the worker processes


def _align_chunk(matcher: _Matcher, chunk: Sequence[tuple[int, int]]) -> list[list[TokenSpan]]:
    """Align a chunk of pairs (in a worker process: with the matcher inherited through fork)."""
    return [matcher.spans(i, j) for i, j in chunk]


class _Matcher:
    """Aligns pairs (caching the alignment) and turns them into ``Pair`` records."""

    def __init__(self, docs: Sequence[_Doc], config: ScanConfig) -> None:
        self.docs = docs
        self.config = config
        self._spans: dict[tuple[int, int], list[TokenSpan]] = {}
        self._indexes: dict[int, ShingleIndex] = {}

    def index(self, i: int) -> ShingleIndex:
        index = self._indexes.pop(i, None)  # put back last: the least recently used goes first
        if index is None:
            if len(self._indexes) >= _INDEX_CACHE:
                self._indexes.pop(next(iter(self._indexes)))
            index = shingle_index(self.docs[i].signed, max_repeats=self.config.candidates.max_shingle_repeats)
        self._indexes[i] = index
        return index

    def align_all(self, pairs: Sequence[tuple[int, int]], *, workers: int, progress: Progress) -> None:
        """Align every pair, in ``workers`` forked processes when there are many pairs."""
        workers = workers or os.cpu_count() or 1
        chunks = [pairs[k : k + _CHUNK] for k in range(0, len(pairs), _CHUNK)]
        if workers < 2 or len(chunks) < 2 or "fork" not in mp.get_all_start_methods():
            for n, (i, j) in enumerate(pairs):
                self.spans(i, j)
                progress("align", n + 1, len(pairs))
            return
        done = 0  # the documents reach the workers through fork, not copied
        for chunk, results in zip(chunks, _forked_map(_align_chunk, chunks, workers=workers, shared=self)):
            self._spans.update(zip(chunk, results))
            done += len(chunk)
            progress("align", done, len(pairs))

    def spans(self, i: int, j: int) -> list[TokenSpan]:
        key = (i, j)
        if key not in self._spans:
            self._spans[key] = align(
                self.docs[i].signed,
                self.docs[j].signed,
                config=self.config.align,
                min_passage=self.config.min_passage,
                index_a=self.index(i),
                index_b=self.index(j),
            )
        return self._spans[key]

    def related(self, i: int, j: int) -> bool:
        """Whether the passages of a pair cover much of either document (before boilerplate is known)."""
        spans = self.spans(i, j)
        if not spans:
            return False
        a, b = self.docs[i].norm, self.docs[j].norm
        cov_a = _coverage(a.weights, np.zeros(len(a), dtype=bool), [(s.a0, s.a1) for s in spans])
        cov_b = _coverage(b.weights, np.zeros(len(b), dtype=bool), [(s.b0, s.b1) for s in spans])
        return max(cov_a, cov_b) >= RELATED_COVERAGE

    def flagged_spans(
        self, pair: tuple[int, int], boiler: Sequence[np.ndarray], config: ScanConfig
    ) -> tuple[bool, list[tuple[TokenSpan, bool]]]:
        """Whether the pair is exact, and its aligned spans (an exact pair: at least the whole text), each
        with whether it is boilerplate (``boiler``: each document's boilerplate-token mask)."""
        i, j = pair
        a, b = self.docs[i].norm, self.docs[j].norm
        spans = self.spans(i, j)
        exact = len(a) > 0 and a.tokens == b.tokens and a.converted == b.converted
        if exact and not spans:
            spans = [TokenSpan(0, len(a), 0, len(b), 1.0)]
        return exact, [(s, _is_boilerplate(s, a.weights, boiler[i], b.weights, boiler[j], config.min_passage)) for s in spans]

    def judge(self, pair: tuple[int, int], boiler: Sequence[np.ndarray], config: ScanConfig) -> Pair | None:
        """The verified pair, or None when it shares nothing but boilerplate.

        ``boiler`` holds each document's boilerplate-token mask.
        """
        i, j = pair
        a, b = self.docs[i], self.docs[j]
        bp_a, bp_b = boiler[i], boiler[j]
        exact, flagged = self.flagged_spans(pair, boiler, config)
        spans = [s for s, _ in flagged]
        content = [s for s, is_bp in flagged if not is_bp]
        if not content:
            return None
        cov_a = _coverage(a.norm.weights, bp_a, [(s.a0, s.a1) for s in content])
        cov_b = _coverage(b.norm.weights, bp_b, [(s.b0, s.b1) for s in content])
        if exact:
            relation = "exact"
        elif max(cov_a, cov_b) >= config.threshold and min(cov_a, cov_b) >= NEAR_DUPLICATE_MIN_OTHER:
            relation = "near_duplicate"
        else:
            relation = "partial"
        similarity = 1.0 if exact else _pair_similarity(a, b, bp_a, bp_b, content)
        passages = tuple(
            Passage(*a.norm.span(s.a0, s.a1), *b.norm.span(s.b0, s.b1), similarity=s.similarity, boilerplate=is_bp)
            for s, is_bp in flagged
        )
        differences = ()
        if relation != "partial":
            differences = describe(a.doc, a.norm, b.doc, b.norm, spans, relation=relation, boiler_a=bp_a, boiler_b=bp_b)
        return Pair(
            a=a.doc.path,
            b=b.doc.path,
            relation=relation,
            similarity=round(similarity, 4),
            a_coverage=round(cov_a, 4),
            b_coverage=round(cov_b, 4),
            passages=passages,
            differences=differences,
        )


def _is_boilerplate(span: TokenSpan, wa: np.ndarray, bp_a: np.ndarray, wb: np.ndarray, bp_b: np.ndarray, min_passage: float) -> bool:
    """A passage is boilerplate when, without its boilerplate text, less than ``min_passage`` is left on a side."""
    rest_a = float(wa[span.a0 : span.a1][~bp_a[span.a0 : span.a1]].sum())
    rest_b = float(wb[span.b0 : span.b1][~bp_b[span.b0 : span.b1]].sum())
    return min(rest_a, rest_b) < min_passage


def _coverage(weights: np.ndarray, boiler: np.ndarray, ranges: list[tuple[int, int]]) -> float:
    content = ~boiler
    total = float(weights[content].sum())
    if total == 0:
        return 0.0
    inside = covered_mask(len(weights), ranges) & content
    return float(weights[inside].sum()) / total


def _pair_similarity(a: _Doc, b: _Doc, bp_a, bp_b, spans: Sequence[TokenSpan]) -> float:
    """Dice-style similarity of the two documents' content: matched size over total size."""
    wa, wb = a.norm.weights, b.norm.weights
    total = float(wa[~bp_a].sum() + wb[~bp_b].sum())
    if total == 0:
        return 0.0
    matched = sum(s.similarity * (float(wa[s.a0 : s.a1].sum()) + float(wb[s.b0 : s.b1].sum())) for s in spans)
    return min(1.0, matched / total)


def _identical_pairs(docs: Sequence[_Doc]) -> set[tuple[int, int]]:
    by_tokens: dict[str, list[int]] = {}
    for i, d in enumerate(docs):
        if len(d.norm):
            by_tokens.setdefault(d.norm.tokens, []).append(i)
    return {(g[x], g[y]) for g in by_tokens.values() for x in range(len(g)) for y in range(x + 1, len(g))}


def _clusters(n: int, edges) -> list[int]:
    """Connected-component label of each of ``n`` nodes."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [find(x) for x in range(n)]


def _cluster_paths(pairs: Sequence[Pair]) -> tuple[tuple[str, ...], ...]:
    paths = sorted({p.a for p in pairs} | {p.b for p in pairs})
    index = {path: i for i, path in enumerate(paths)}
    labels = _clusters(len(paths), [(index[p.a], index[p.b]) for p in pairs])
    groups: dict[int, list[str]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(paths[i])
    return tuple(sorted(tuple(sorted(g)) for g in groups.values() if len(g) > 1))


#: Boilerplate is judged on long shingles: recurring common phrases (高质量发展,
#: "the American people") are not boilerplate, recurring lines and paragraphs are.
BOILERPLATE_NGRAM = {"cjk_ngram": 15, "word_ngram": 6}
#: Share of the text at either end of a document where page furniture sits.
EDGE = 0.25
#: Text in this share of the (unrelated) documents is boilerplate wherever it is.
FREQUENT = 0.02
#: Gaps of up to this many tokens between boilerplate runs are template slots, boilerplate too.
TEMPLATE_SLOT = 8


def _boilerplate(
    docs: Sequence[_Doc], labels: Sequence[int], config: ScanConfig, *, known: np.ndarray | None = None,
    population: int | None = None,
) -> list[np.ndarray]:
    """Per document, the tokens that are boilerplate (see ``boilerplate_hashes``), or in ``known`` (sorted)."""
    uniques, sets = _long_shingle_hash_sets(docs, config)
    boiler = _boilerplate_of([sets], labels, config, population=population)
    known = _NO_HASHES if known is None else known
    held = [u[member(u, boiler) | member(u, known)] for u in uniques]  # sorted, as the sets
    del uniques, sets
    return boilerplate_masks(docs, held, config)


def _long_shingles(d: _Doc, config: ScanConfig) -> Signed:
    return sign(d.norm, _long_shingle_config(config.sign))


@lru_cache(maxsize=4)
def _long_shingle_config(config: SignConfig) -> SignConfig:
    return replace(config, **BOILERPLATE_NGRAM)


def boilerplate_hashes(
    docs: Sequence[_Doc], labels: Sequence[int], config: ScanConfig, *, population: int | None = None
) -> np.ndarray:
    """Sorted long-shingle hashes that are boilerplate among ``docs``.

    Boilerplate is text found in at least ``min_docs_boilerplate`` unrelated
    documents that either sits at the edges of the documents (page
    furniture, stock openings and closings: within the first or last
    ``EDGE`` of the text in most of them) or recurs in a sizeable share of the
    corpus (``FREQUENT`` of ``population`` groups, by default the groups of
    ``labels``). A passage copied into a few other speeches is in the middle
    of them and stays a copy.

    Documents that are near-duplicates of each other (or otherwise share most
    of their text: the same label) count once, so a speech uploaded five
    times is not boilerplate, but page furniture on pages of different
    speeches is.
    """
    return _boilerplate_of([_long_shingle_hash_sets(docs, config)[1]], labels, config, population=population)


def _long_shingle_sets(d: _Doc, config: ScanConfig) -> tuple[np.ndarray, np.ndarray]:
    """A document's distinct long-shingle hashes (sorted), and which of them are at an edge (bool)."""
    c = _long_shingle_config(config.sign)
    flagged = kernels.edge_flagged_shingles(d.norm.codes, d.norm.cjk, c.cjk_ngram, c.word_ngram, EDGE)
    flagged.sort()  # by hash, then edge flag
    return kernels.flagged_runs(flagged)


def _long_shingle_hash_sets(docs: Sequence[_Doc], config: ScanConfig) -> tuple[list[np.ndarray], HashSets]:
    """The documents' distinct long-shingle hashes, and as ``HashSets`` flagged where at an edge."""
    sets = [_long_shingle_sets(d, config) for d in docs]
    return [u for u, _ in sets], HashSets.of([u for u, _ in sets], [e for _, e in sets])


def _boilerplate_of(
    sets: Sequence[HashSets], labels: Sequence[int], config: ScanConfig, *, population: int | None
) -> np.ndarray:
    """``boilerplate_hashes`` from the documents' long-shingle sets (flagged: at an edge), ``labels`` one per document."""
    min_docs = config.min_docs_boilerplate
    common, common_df, edge_df, groups = hash_frequencies(sets, labels, min_docs=min_docs)
    candidate = groups >= min_docs
    population = len(set(labels)) if population is None else population
    frequent = groups >= max(min_docs, FREQUENT * population)
    # at an edge: in the first or last EDGE of at least half the documents that hold it
    return common[frequent | (candidate & (edge_df > 0) & (edge_df * 2 >= common_df))].astype(np.uint32)


def boilerplate_masks(docs: Sequence[_Doc], held: Sequence[np.ndarray], config: ScanConfig) -> list[np.ndarray]:
    """Per document, the tokens covered by the boilerplate long shingles it holds (``held``, sorted), template
    slots filled. Most documents hold none: no second pass over them."""
    out = []
    for d, values in zip(docs, held):
        if not len(values):
            out.append(np.zeros(len(d.norm), dtype=bool))
            continue
        x = _long_shingles(d, config)
        flags = member(x.hashes, values)
        pos = x.positions[flags]
        ranges = np.stack([pos, pos + x.lengths[flags]], axis=1)
        out.append(_fill_slots(covered_mask(len(x.norm), ranges), TEMPLATE_SLOT))
    return out


def _fill_slots(mask: np.ndarray, slot: int) -> np.ndarray:
    """Also mark short unmarked gaps between marked runs: the slots of a template (names, dates, file names)."""
    if not mask.any():
        return mask
    out = mask.copy()
    starts, ends = runs(~mask)
    inside = (starts > 0) & (ends < len(mask)) & (ends - starts <= slot)
    for s, e in zip(starts[inside].tolist(), ends[inside].tolist()):
        out[s:e] = True
    return out


_RELATION_RANK = {"exact": 0, "near_duplicate": 1, "partial": 2}


def _severity(pair: Pair):
    return (_RELATION_RANK[pair.relation], -max(pair.a_coverage, pair.b_coverage), -pair.similarity, pair.a, pair.b)


# --------------------------------------------------------------------------- archive index

#: In a scan with an index, archive documents are named ``index:<stored path>``.
ARCHIVE_PREFIX = "index:"
#: Documents written per transaction while building an index.
_BUILD_BATCH = 2000
#: Index entries computed together (see ``index.entries``).
_ENTRY_BATCH = 64
#: Files read and signed per job of a worker process while building an index.
_INDEX_CHUNK = 250
_NO_HASHES = np.zeros(0, dtype=np.uint32)
_NO_KEYS = np.zeros(0, dtype=np.uint64)
#: Where shared-memory segments are files (Linux), and the room always left free there.
_SHM = Path("/dev/shm")
_SHM_SPARE = 32 << 20
#: Building an index sorts its bucket entries one part of the key space at a time.
_KEY_PART_BITS = 4
_KEY_PARTS = 1 << _KEY_PART_BITS


@dataclass(frozen=True)
class IndexUpdate:
    """What ``build_index``, ``add_to_index`` or ``remove_from_index`` changed."""

    location: str
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    documents: int = 0  # in the index afterwards


def _entries(docs: Sequence[_Doc], config: ScanConfig, progress: Progress) -> list[index_stage.Entry]:
    out: list[index_stage.Entry] = []
    for k in range(0, len(docs), _ENTRY_BATCH):
        out.extend(index_stage.entries([d.signed for d in docs[k : k + _ENTRY_BATCH]], config))
        progress("index", len(out), len(docs))
    return out


@dataclass(frozen=True, eq=False)
class _Resemblance:
    """What the related groups need of documents, one row each: MinHash, document bucket keys, shingles."""

    hashvalues: np.ndarray  # documents × num_perm
    document_keys: np.ndarray  # documents × bands (a row of zeros where there are no shingles)
    shingles: np.ndarray  # number of shingles of each document

    @classmethod
    def of(cls, entries: Sequence[index_stage.Entry], config: ScanConfig) -> _Resemblance:
        bands = lsh_params(config.candidates.doc_threshold, config.sign.num_perm)[0]
        keys = np.zeros((len(entries), bands), dtype=np.uint64)
        for row, e in enumerate(entries):
            keys[row, : len(e.document_keys)] = e.document_keys
        hashvalues = np.stack([e.hashvalues for e in entries]) if entries else np.zeros((0, config.sign.num_perm), np.uint32)
        return cls(hashvalues, keys, np.array([e.shingles for e in entries], dtype=np.int64))

    @classmethod
    def joined(cls, parts: Sequence[_Resemblance]) -> _Resemblance:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("hashvalues", "document_keys", "shingles")))


def _related_labels(docs: _Resemblance) -> list[int]:
    """Groups of documents that share most of one's shingles (document LSH, then the MinHash estimate):
    related, as ``_Matcher.related`` would find them, without aligning."""
    with_keys = np.flatnonzero(docs.shingles > 0)
    pairs = banded_candidates(docs.document_keys[with_keys], with_keys) if len(with_keys) else set()
    hv, n = docs.hashvalues, docs.shingles
    related = [(i, j) for i, j in pairs if index_stage.estimated_containment(hv[i], n[i], hv[j], n[j]) >= RELATED_COVERAGE]
    return _clusters(len(n), related)


def _new_documents(docs: Sequence[_Doc], entries: Sequence[index_stage.Entry], *, keys: bool = True) -> list[NewDocument]:
    """The documents to archive, with their bucket keys (or, ``keys`` False, none: a build writes them apart)."""
    return [
        NewDocument(
            path=d.doc.path, text=d.doc.text, format=d.doc.format, encoding=d.doc.encoding, digest=e.digest,
            keys=e.keys if keys else _NO_KEYS,
        )
        for d, e in zip(docs, entries)
    ]


@dataclass(frozen=True, eq=False)
class _IndexedChunk:
    """What building an index keeps of a chunk of files, in few objects (it goes from a worker process to
    the writing one): records without keys and texts, bucket keys, and what boilerplate needs."""

    records: list[NewDocument]  # prepared (compressed text), without keys
    keys: np.ndarray  # bucket keys of the documents, grouped by part of the key space (``_KEY_PART_BITS``)
    key_parts: np.ndarray  # documents × parts: how many keys each document has in each part
    long_shingles: HashSets  # distinct long-shingle hashes of the documents, flagged: at an edge
    resemblance: _Resemblance

    def __reduce__(self) -> tuple:
        """Pickled (by a worker process, for the writing one) with its arrays as ``_Arrays``: in a
        shared-memory segment, not in the pickle; so are the records' stored texts, joined, in a segment
        of their own (freed once written, while the arrays are kept to the end)."""
        r, h = self.resemblance, self.long_shingles
        arrays = (self.keys, self.key_parts, h.values, h.counts, r.hashvalues, r.document_keys, r.shingles)
        texts = [d.stored_text for d in self.records]  # (prepared: compressed)
        ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
        joined = np.frombuffer(b"".join(texts), dtype=np.uint8)
        records = [(d.path, d.format, d.encoding, d.digest, d.length) for d in self.records]
        return _unpickled_chunk, (records, _Arrays(arrays), _Arrays((joined, ends)))


@dataclass(frozen=True, eq=False)
class _Arrays:
    """Arrays that go to another process in a shared-memory segment instead of in the pickle: ~15 KB of arrays
    a document cost more through a pipe than computing them does. The segment is removed when unpickled (or,
    if never, by multiprocessing's resource tracker), so such a pickle is for another live process only, not
    to be kept. Where shared memory has no room (``_share``), the arrays go in the pickle."""

    arrays: tuple[np.ndarray, ...]

    def __reduce__(self) -> tuple:
        shared = _share(self.arrays)
        return (_Arrays, (self.arrays,)) if shared is None else (_unpickled_arrays, shared)


def _unpickled_arrays(name: str, layout: tuple) -> _Arrays:
    return _Arrays(tuple(_unshare(name, layout)))


def _unpickled_chunk(records: list[tuple], arrays: _Arrays, texts: _Arrays) -> _IndexedChunk:
    keys, key_parts, values, counts, hashvalues, document_keys, shingles = arrays.arrays
    joined, ends = texts.arrays
    view, bounds = memoryview(joined), [0, *ends.tolist()]  # (sqlite3 binds a view as a BLOB)
    documents = [
        NewDocument(path, "", fmt, encoding, digest, _NO_KEYS, view[a:b], chars)
        for (path, fmt, encoding, digest, chars), a, b in zip(records, bounds, bounds[1:])
    ]
    return _IndexedChunk(
        documents, keys, key_parts, HashSets(values, counts), _Resemblance(hashvalues, document_keys, shingles)
    )


def _share(arrays: Sequence[np.ndarray]) -> tuple[str, tuple[tuple[str, tuple[int, ...], int], ...]] | None:
    """Copy arrays into a new shared-memory segment: its name, and the dtype, shape and offset of each.

    ``None`` (the arrays then go in the pickle) where segments are not files of ``/dev/shm`` or it has
    little room left: its size is limited (64 MB in a default Docker container), and writing beyond the
    limit would kill the process, while the writing process keeps what it received mapped until the end.
    """
    arrays = [np.ascontiguousarray(a) for a in arrays]
    size = sum(a.nbytes for a in arrays)
    try:
        room = shutil.disk_usage(_SHM).free
    except OSError:
        return None
    if room < 4 * size + _SHM_SPARE:
        return None
    segment = shared_memory.SharedMemory(create=True, size=max(1, size))
    try:
        layout, at = [], 0
        for a in arrays:
            segment.buf[at : at + a.nbytes] = a.reshape(-1).view(np.uint8)
            layout.append((a.dtype.str, a.shape, at))
            at += a.nbytes
    finally:
        segment.close()
    return segment.name, tuple(layout)


def _unshare(name: str, layout: Sequence[tuple[str, tuple[int, ...], int]]) -> list[np.ndarray]:
    """The arrays ``_share`` put in segment ``name``, as views of its memory (a private mapping of its file,
    freed with the last of them); the segment's name removed."""
    path = _SHM / name.lstrip("/")
    fd = os.open(path, os.O_RDONLY)
    try:
        mapped = mmap.mmap(fd, os.fstat(fd).st_size, access=mmap.ACCESS_COPY)
    finally:
        os.close(fd)
        os.unlink(path)
        resource_tracker.unregister(f"/{name.lstrip('/')}", "shared_memory")  # as ``SharedMemory.unlink`` does
    return _arrays_in(mapped, layout)


def _arrays_in(buffer: object, layout: Sequence[tuple[str, tuple[int, ...], int]]) -> list[np.ndarray]:
    return [np.frombuffer(buffer, dtype=dtype, count=math.prod(shape), offset=at).reshape(shape) for dtype, shape, at in layout]


def _index_files(config: ScanConfig, found: Sequence[tuple[str, str]]) -> tuple[_IndexedChunk, list[Skipped]]:
    """Read, normalize and sign a chunk of files for the index (runs in a worker process: ``_forked_map``)."""
    documents, skipped = ingest_stage.read_files(found)
    return _indexed_chunk(documents, config), skipped


#: Two short speeches, Chinese and English, that take a build through every compiled kernel it uses.
_WARM_UP_TEXTS = (
    "各位代表：现在，我代表国务院，向大会报告政府工作，请予审议，并请全国政协委员提出意见。\n" * 6,
    "Mr. Speaker, Mr. Vice President, Members of Congress, my fellow Americans: tonight I report on the state "
    "of our Union, and I ask for your help.\n" * 6,
)


def _warm_up(config: ScanConfig) -> None:
    """Load the compiled kernels a build uses from numba's cache (0.3-0.5 s in each process that first calls
    them) by indexing two short texts: in the building process while it lists the folder, so that the worker
    processes it forks then have them loaded."""
    chunk = _indexed_chunk([Document(path=str(k), text=t) for k, t in enumerate(_WARM_UP_TEXTS)], config)
    _folder_boilerplate([chunk], config)
    kernels.group_by_prefix(chunk.keys, np.zeros(len(chunk.keys), dtype=np.uint32), np.uint64(64 - _KEY_PART_BITS))


def _indexed_chunk(documents: Sequence[Document], config: ScanConfig) -> _IndexedChunk:
    docs = [_Doc(d, s) for d, s in zip(documents, sign_documents(documents, config=config))]
    entries = _entries(docs, config, _noop)
    records = [prepared(n) for n in _new_documents(docs, entries, keys=False)]
    keys = np.concatenate([_NO_KEYS, *(e.keys for e in entries)])
    keys, key_parts = kernels.group_parts(
        keys, (keys >> np.uint64(64 - _KEY_PART_BITS)).astype(np.uint8), np.array([len(e.keys) for e in entries]), _KEY_PARTS
    )
    return _IndexedChunk(
        records=records,
        keys=keys,
        key_parts=key_parts,
        long_shingles=HashSets.of_shingles([d.norm for d in docs], **BOILERPLATE_NGRAM, edge=EDGE),
        resemblance=_Resemblance.of(entries, config),
    )


def _folder_boilerplate(chunks: Sequence[_IndexedChunk], config: ScanConfig) -> np.ndarray:
    """The boilerplate of a folder being indexed, from what its chunks keep (related documents count once)."""
    chunks = [c for c in chunks if len(c.key_parts)]
    if not chunks:
        return _NO_HASHES
    labels = _related_labels(_Resemblance.joined([c.resemblance for c in chunks]))
    return _boilerplate_of([c.long_shingles for c in chunks], labels, config, population=None)


_SHARED: tuple | None = None  # (function, shared object) for the processes ``_forked_map`` and ``_beside`` fork


def _call_shared(job: object) -> object:
    """In a forked process: the function of ``_SHARED`` on its shared object and ``job``."""
    assert _SHARED is not None
    fn, shared = _SHARED
    return fn(shared, job)


def _can_fork(workers: int) -> bool:
    return (workers or os.cpu_count() or 1) >= 2 and "fork" in mp.get_all_start_methods()


def _forked_map(fn: Callable, jobs: Sequence, *, workers: int, shared: object = None):
    """``fn(shared, job)`` for each job, in order, in ``workers`` forked processes when there are several jobs.

    ``shared`` reaches the processes through fork (shared memory, never pickled); only the jobs and
    the results are. Without fork or with one worker, in this process.
    """
    global _SHARED
    if not _can_fork(workers) or len(jobs) < 2:
        yield from (fn(shared, job) for job in jobs)
        return
    _SHARED = (fn, shared)
    resource_tracker.ensure_running()  # one tracker for all: shared memory the workers make is tracked here too
    try:
        with mp.get_context("fork").Pool(workers or os.cpu_count()) as pool:
            yield from pool.imap(_call_shared, jobs)
    finally:
        _SHARED = None


@contextmanager
def _beside(fn: Callable, args: tuple, *, workers: int):
    """Run ``fn(*args)`` in a forked process while the body runs; yields a function that waits for its result.

    The arguments reach the process through fork, as in ``_forked_map``. With ``workers`` 1, or
    where there is no fork, ``fn`` runs in this process when its result is asked for.
    """
    global _SHARED
    if not _can_fork(workers):
        yield lambda: fn(*args)
        return
    _SHARED = (_apply, (fn, args))
    try:
        with mp.get_context("fork").Pool(1) as pool:
            _SHARED = None  # the process has forked with it
            yield pool.apply_async(_call_shared, (None,)).get
    finally:
        _SHARED = None


def _apply(call: tuple[Callable, tuple], _: object) -> object:
    fn, args = call
    return fn(*args)


def build_index(
    root: str | Path, location: str | Path, *, config: ScanConfig | None = None, progress: Progress | None = None
) -> IndexUpdate:
    """Index a folder (same reading, normalization and boilerplate rules as ``scan``).

    Files are read and signed in ``config.workers`` processes, a chunk at a
    time, and written as they come; boilerplate is judged over the whole
    folder at the end. A file index is written next to ``location`` and moved
    into place when complete, so an existing index is replaced only by a
    finished one.
    """
    config = config or ScanConfig()
    progress = progress or _noop
    root = Path(root)
    with ThreadPoolExecutor(1) as beside_listing:  # (listing the folder is mostly waiting for the system)
        warm = beside_listing.submit(_warm_up, config)
        found, skipped = ingest_stage.find_files(
            root, include=config.include, exclude=config.exclude, include_hidden=config.include_hidden
        )
        warm.result()
    meta = {**index_stage.meta_for(config), "root": str(root.resolve())}
    added: list[str] = []
    jobs = [found[k : k + _INDEX_CHUNK] for k in range(0, len(found), _INDEX_CHUNK)]

    def fill(store: Store) -> None:
        store.write_meta(meta)
        chunks: list[_IndexedChunk] = []  # what boilerplate needs of each document (no records, no keys)
        parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(_KEY_PARTS)]  # bucket entries
        pending: list[_IndexedChunk] = []

        def flush() -> None:
            ids = np.array(store.add([r for c in pending for r in c.records], boilerplate=_NO_HASHES, replace=False), np.uint32)
            first = 0
            for c in pending:  # its keys come grouped by part
                owners, first = ids[first : first + len(c.records)], first + len(c.records)
                bounds = np.concatenate([[0], np.cumsum(c.key_parts.sum(axis=0))])
                for p in range(_KEY_PARTS):
                    parts[p].append((c.keys[bounds[p] : bounds[p + 1]], np.repeat(owners, c.key_parts[:, p])))
            pending.clear()

        for chunk, bad in _forked_map(_index_files, jobs, workers=config.workers, shared=config):
            chunks.append(replace(chunk, records=[], keys=_NO_KEYS))  # what boilerplate needs
            added.extend(r.path for r in chunk.records)
            pending.append(chunk)
            skipped.extend(bad)
            if sum(len(c.records) for c in pending) >= _BUILD_BATCH:
                flush()
            progress("index", len(added) + len(skipped), len(found))
        flush()
        progress("write", 0, _KEY_PARTS + 1)
        # boilerplate over the whole folder (related documents count once), in another process meanwhile
        with _beside(_folder_boilerplate, (chunks, config), workers=config.workers) as boiler:
            # bucket entries a part of the key space at a time (less to sort at once), each laid out in a
            # thread while the part before is written (in worker processes, which outnumbered the cores and
            # had to send the parts back, the write phase took longer)
            store.write_meta({"prefix_bits": prefix_bits_for(sum(len(k) for p in parts for k, _ in p))})

            def layout(p: int) -> tuple[np.ndarray, ...]:
                keys, owners = zip(*parts[p]) if parts[p] else ((), ())
                parts[p] = []
                return store.prepare_buckets(np.concatenate([*keys, _NO_KEYS]), np.concatenate([*owners, _NO_HASHES]))

            with ThreadPoolExecutor(1) as beside_writes:
                laid_out = beside_writes.submit(layout, 0)
                for p in range(_KEY_PARTS):
                    part = laid_out.result()
                    if p + 1 < _KEY_PARTS:
                        laid_out = beside_writes.submit(layout, p + 1)
                    store.add_prepared_buckets(part)
                    del part
                    progress("write", p + 1, _KEY_PARTS + 1)
            store.add([], boilerplate=boiler(), replace=False)
        progress("write", _KEY_PARTS + 1, _KEY_PARTS + 1)

    where = _write_new_index(location, fill)
    return IndexUpdate(location=where, added=tuple(added), skipped=tuple(sorted(skipped, key=lambda s: s.path)), documents=len(added))


def _write_new_index(location: str | Path, fill: Callable[[Store], None]) -> str:
    """Create an index at ``location`` with ``fill``; a file index appears only when complete."""
    text = str(location)
    if text.startswith(("redis://", "rediss://")):
        with open_store(text, create=True) as store:
            store.clear()
            fill(store)
            return store.location
    target = Path(location)
    if target.is_dir():
        raise IndexStoreError(f"{target}: is a folder; give the index file to create, e.g. {target / 'archive.dedup'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.building")
    for p in _sqlite_files(tmp):
        p.unlink(missing_ok=True)
    try:
        with open_store(tmp, create=True, fresh=True) as store:
            fill(store)
        for p in _sqlite_files(target)[1:]:  # a stale journal would be applied to the new file
            p.unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        for p in _sqlite_files(tmp):
            p.unlink(missing_ok=True)
    return str(target)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def open_index(location: str | Path, *, config: ScanConfig | None = None) -> tuple[Store, dict]:
    """An existing index and its recorded parameters; ``IndexStoreError`` if it cannot be used with ``config``."""
    store = open_store(location)
    try:
        meta = index_stage.check_meta(store, config or ScanConfig())
    except BaseException:
        store.close()
        raise
    return store, meta


def index_info(location: str | Path, *, config: ScanConfig | None = None, paths: bool = False) -> index_stage.IndexInfo:
    """What an index holds: documents, size and the parameters it was built with (and, with ``paths``,
    every stored path)."""
    store, meta = open_index(location, config=config)
    with store:
        return index_stage.IndexInfo(
            location=store.location, documents=store.count(), size_bytes=store.size_bytes(), meta=meta,
            paths=tuple(store.paths()) if paths else None,
        )


def _signed_archive(stored: Sequence[StoredDocument], config: ScanConfig) -> list[_Doc]:
    """Archived documents ready to align (normalized again from their stored text: it is fast)."""
    documents = [Document(path=s.path, text=s.text, format=s.format, encoding=s.encoding) for s in stored]
    return [_Doc(d, s) for d, s in zip(documents, sign_documents(documents, config=config))]


def add_to_index(
    paths: Sequence[str | Path], location: str | Path, *, config: ScanConfig | None = None, progress: Progress | None = None
) -> IndexUpdate:
    """Add files and folders to an index, in one atomic change; a document stored under the same path is replaced.

    Documents are stored relative to the folder the index was built from when
    they lie inside it. Boilerplate is judged among the new documents and the
    archived documents they resemble.
    """
    config = config or ScanConfig()
    progress = progress or _noop
    store, meta = open_index(location, config=config)
    with store:
        documents, skipped = ingest_stage.ingest_paths(
            [Path(p) for p in paths], base=Path(meta["root"]) if meta.get("root") else None,
            include=config.include, exclude=config.exclude, include_hidden=config.include_hidden,
        )
        docs = [_Doc(d, s) for d, s in zip(documents, sign_documents(documents, config=config, progress=progress))]
        entries = _entries(docs, config, progress)
        stored_paths = store.ids([d.path for d in documents])
        archived = store.count()
        size = archived + len(docs)
        near = set().union(*(index_stage.candidates(store, e, config, documents=size) for e in entries))
        near -= set(stored_paths.values())
        neighbours = _signed_archive(store.load(near), config)
        local = docs + neighbours
        labels = _related_labels(_Resemblance.of(entries + _entries(neighbours, config, _noop), config))
        boiler = boilerplate_hashes(local, labels, config, population=size)
        if meta.get("format") != FORMAT:  # texts written now are in this format's form (older ones stay readable)
            store.write_meta({"format": FORMAT})
        store.add(_new_documents(docs, entries), boilerplate=boiler, replace=True)
        added = tuple(d.path for d in documents if d.path not in stored_paths)
        replaced = tuple(d.path for d in documents if d.path in stored_paths)
        return IndexUpdate(store.location, added=added, replaced=replaced, skipped=tuple(skipped), documents=store.count())


def remove_from_index(paths: Sequence[str], location: str | Path, *, config: ScanConfig | None = None) -> IndexUpdate:
    """Remove documents by stored path, or every document under a stored folder path ("speeches/2010/")."""
    store, meta = open_index(location, config=config)
    with store:
        stored = store.paths()
        base = Path(meta["root"]) if meta.get("root") else None
        chosen: list[str] = []
        for p in paths:
            names = {str(p).replace("\\", "/").rstrip("/")}
            if Path(p).exists():
                names.add(ingest_stage.shown_path(Path(p), base))
            for name in names:
                chosen += [s for s in stored if name == "." or s == name or s.startswith(name + "/")]
        removed = store.remove(sorted(set(chosen)))
        return IndexUpdate(store.location, removed=tuple(removed), documents=store.count())


@dataclass(frozen=True)
class _ArchiveMatch:
    """For each of a batch of documents: its verified pairs with archive documents and its copy ratio."""

    pairs: list[list[Pair]]
    copy_ratios: list[float]
    archive: int  # documents in the archive


def _against_archive(
    docs: Sequence[_Doc], store: Store, config: ScanConfig, progress: Progress, *, skip_same: bool = False
) -> _ArchiveMatch:
    """Verified pairs of each document with the archive (never archive with archive).

    Boilerplate is the archive's (recorded when it was indexed) and what these
    documents share with at least ``min_docs_boilerplate`` unrelated archived
    ones. With ``skip_same``, an archived document with the same path and text
    (the same file, already indexed) is not compared.
    """
    entries = _entries(docs, config, _noop)
    archived = store.count()
    size = archived + len(docs)
    found = [index_stage.candidates(store, e, config, documents=size) for e in entries]
    stored = store.load(set().union(*found))
    archive = _signed_archive(stored, config)
    at = {s.id: len(docs) + k for k, s in enumerate(stored)}
    local = list(docs) + archive
    found_pairs = sorted((i, at[c]) for i, ids in enumerate(found) for c in ids if c in at)
    same = [(i, j) for i, j in found_pairs if skip_same and local[j].doc.path == docs[i].doc.path and local[j].doc.text == docs[i].doc.text]
    pairs = sorted(set(found_pairs) - set(same))
    matcher = _Matcher(local, config)
    matcher.align_all(pairs, workers=config.workers, progress=progress)
    # a document and its own archived copy are one for boilerplate, as related documents are
    labels = _clusters(len(local), same + [(i, j) for i, j in pairs if matcher.related(i, j)])
    boiler = _boilerplate(local, labels, config, known=store.boilerplate(), population=size)
    per_doc: list[list[Pair]] = [[] for _ in docs]
    covered: list[list[tuple[int, int]]] = [[] for _ in docs]
    for i, j in pairs:
        pair = matcher.judge((i, j), boiler, config)
        if pair is None:
            continue
        per_doc[i].append(pair)
        covered[i] += [(s.a0, s.a1) for s, is_bp in matcher.flagged_spans((i, j), boiler, config)[1] if not is_bp]
    ratios = [round(_coverage(d.norm.weights, boiler[i], covered[i]), 4) for i, d in enumerate(docs)]
    for p in per_doc:
        p.sort(key=lambda x: (-x.a_coverage, _severity(x)))
    return _ArchiveMatch(per_doc, ratios, archived)


def check(
    paths: Sequence[str | Path], location: str | Path, *, config: ScanConfig | None = None, progress: Progress | None = None
) -> CheckReport:
    """Check documents against an archive index, the way thesis checkers do.

    Each document gets its total copy ratio (share of its text found in the
    archive), its largest single-source ratio and its sources with the copied
    passages. The documents are compared with the archive only.
    """
    config = config or ScanConfig()
    progress = progress or _noop
    store, _ = open_index(location, config=config)
    with store:
        documents, skipped = ingest_stage.ingest_paths(
            [Path(p) for p in paths], include=config.include, exclude=config.exclude, include_hidden=config.include_hidden,
            progress=lambda done, total: progress("read", done, total),
        )
        docs = [_Doc(d, s) for d, s in zip(documents, sign_documents(documents, config=config, progress=progress))]
        match = _against_archive(docs, store, config, progress)
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
            documents=_entries_of(documents, skipped),
            checked=checked,
            config=config.to_dict(),
        )


def _entries_of(documents: Sequence[Document], skipped: Sequence[Skipped]) -> tuple[DocumentEntry, ...]:
    entries = [DocumentEntry(path=d.path, status="ok", chars=len(d.text), format=d.format, encoding=d.encoding) for d in documents]
    entries += [DocumentEntry(path=s.path, status="skipped", reason=s.reason) for s in skipped]
    return tuple(sorted(entries, key=lambda e: e.path))


def archive_texts(location: str | Path, paths: Sequence[str], *, config: ScanConfig | None = None) -> dict[str, str]:
    """The stored texts of archive documents, by stored path (for showing passages)."""
    store, _ = open_index(location, config=config)
    with store:
        return {s.path: s.text for s in store.load(store.ids(list(paths)).values())}
