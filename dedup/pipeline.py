"""The one place where the stages are chained: ingest → normalize → sign →
candidates → align → report. ``scan`` is the public entry point.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dedup import ingest as ingest_stage
from dedup.align import ShingleIndex, TokenSpan, align, shingle_index
from dedup.candidates import (
    band_keys,
    banded_candidates,
    common_hashes,
    group_frequency,
    member,
)
from dedup.config import ScanConfig
from dedup.explain import covered_mask, describe
from dedup.models import Document, DocumentEntry, Pair, Passage, Report, Skipped
from dedup.normalize import normalize, runs
from dedup.sign import Signed, bag_signed, sign, signatures, window_minhashes, window_size

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


def scan(root: str | Path, *, config: ScanConfig | None = None, progress: Progress | None = None) -> Report:
    """Scan a folder: find near-duplicate documents and copied passages.

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
    return compare(documents, skipped, config=config, progress=progress, root=str(root))


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
) -> Report:
    """Find pairs among already-read documents (the part of ``scan`` after ingest)."""
    config = config or ScanConfig()
    progress = progress or _noop
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
    for cjk, threshold in ((True, config.candidates.passage_threshold), (False, config.candidates.word_passage_threshold)):
        keys, owners = [], []
        for i, d in enumerate(docs):
            if d.norm.mostly_cjk != cjk:
                continue
            size = window_size(d.norm, config.candidates.window)
            windows = window_minhashes(bag_signed(d.signed), config.sign, window=size)
            if windows:
                keys.append(band_keys(np.stack([hv for _, _, hv in windows]), threshold=threshold))
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
    pairs.sort(key=_severity)

    clusters = _cluster_paths(docs, [p for p in pairs if p.relation in ("exact", "near_duplicate")])
    entries = [DocumentEntry(path=d.path, status="ok", chars=len(d.text), format=d.format, encoding=d.encoding) for d in documents]
    entries += [DocumentEntry(path=s.path, status="skipped", reason=s.reason) for s in skipped]
    entries.sort(key=lambda e: e.path)
    return Report(root=root, documents=tuple(entries), pairs=tuple(pairs), clusters=clusters, config=config.to_dict())


_INDEX_CACHE = 4096  # per-document shingle indexes kept for reuse
_CHUNK = 2000  # candidate pairs per unit of work for the worker processes
_FORKED: _Matcher | None = None


def _align_chunk(chunk: Sequence[tuple[int, int]]) -> list[list[TokenSpan]]:
    """Worker process: align a chunk of pairs with the matcher inherited through fork."""
    assert _FORKED is not None
    return [_FORKED.spans(i, j) for i, j in chunk]


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
        global _FORKED
        _FORKED = self  # read by the forked workers (fork shares memory: the documents are not copied)
        try:
            with mp.get_context("fork").Pool(workers) as pool:
                done = 0
                for chunk, results in zip(chunks, pool.imap(_align_chunk, chunks)):
                    self._spans.update(zip(chunk, results))
                    done += len(chunk)
                    progress("align", done, len(pairs))
        finally:
            _FORKED = None

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

    def judge(self, pair: tuple[int, int], boiler: Sequence[np.ndarray], config: ScanConfig) -> Pair | None:
        """The verified pair, or None when it shares nothing but boilerplate.

        ``boiler`` holds each document's boilerplate-token mask.
        """
        i, j = pair
        a, b = self.docs[i], self.docs[j]
        spans = self.spans(i, j)
        bp_a, bp_b = boiler[i], boiler[j]
        exact = len(a.norm) > 0 and a.norm.tokens == b.norm.tokens and a.norm.converted == b.norm.converted
        if exact and not spans:
            spans = [TokenSpan(0, len(a.norm), 0, len(b.norm), 1.0)]
        flagged = [(s, _is_boilerplate(s, a.norm.weights, bp_a, b.norm.weights, bp_b, config.min_passage)) for s in spans]
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


def _cluster_paths(docs: Sequence[_Doc], pairs: Sequence[Pair]) -> tuple[tuple[str, ...], ...]:
    index = {d.doc.path: i for i, d in enumerate(docs)}
    labels = _clusters(len(docs), [(index[p.a], index[p.b]) for p in pairs])
    groups: dict[int, list[str]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(docs[i].doc.path)
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


def _boilerplate(docs: Sequence[_Doc], labels: Sequence[int], config: ScanConfig) -> list[np.ndarray]:
    """Per document, the tokens that are boilerplate.

    Boilerplate is text found in at least ``min_docs_boilerplate`` unrelated
    documents that either sits at the edges of the documents (page
    furniture, stock openings and closings: within the first or last
    ``EDGE`` of the text in most of them) or recurs in a sizeable share of the
    corpus (``FREQUENT``). A passage copied into a few other speeches is in
    the middle of them and stays a copy.

    Documents that are near-duplicates of each other (or otherwise share most
    of their text) count once, so a speech uploaded five times is not
    boilerplate, but page furniture on pages of different speeches is.
    """
    long_config = replace(config.sign, **BOILERPLATE_NGRAM)
    uniques, edges = [], []  # per document: distinct long-shingle hashes, and bits: which are at an edge
    for d in docs:
        x = sign(d.norm, long_config)
        n, pos = len(x.norm), x.positions
        at_edge = (pos < EDGE * n) | (pos + x.lengths > (1 - EDGE) * n)
        u = np.sort(x.hashes)
        u = u[np.concatenate([[True], u[1:] != u[:-1]])] if len(u) else u
        edge = np.zeros(len(u), dtype=bool)
        edge[np.searchsorted(u, x.hashes[at_edge])] = True
        uniques.append(u)
        edges.append(np.packbits(edge))
    min_docs = config.min_docs_boilerplate
    common, common_df = common_hashes(uniques, min_docs=min_docs)
    groups = group_frequency(uniques, labels, common, common_df)
    # per document, the common hashes it holds (as indices into ``common``) and those it holds at an edge
    held, held_at_edge = [], []
    for u, e in zip(uniques, edges):
        idx = np.searchsorted(common, u)
        found = common[np.minimum(idx, len(common) - 1)] == u if len(common) else np.zeros(len(u), dtype=bool)
        held.append(idx[found].astype(np.int32))
        held_at_edge.append(idx[found & np.unpackbits(e, count=len(u)).view(bool)])
    del uniques, edges
    candidate = groups >= min_docs
    frequent = groups >= max(min_docs, FREQUENT * len(set(labels)))
    # how many documents hold each candidate at an edge
    edge_counts = np.bincount(np.concatenate([np.zeros(0, dtype=np.int64), *held_at_edge]), minlength=len(common))
    del held_at_edge
    boiler = frequent | (candidate & (edge_counts > 0) & (edge_counts * 2 >= common_df))
    out = []
    for d, h in zip(docs, held):
        values = common[h[boiler[h]]]
        if not len(values):  # most documents hold no boilerplate: no second pass
            out.append(np.zeros(len(d.norm), dtype=bool))
            continue
        x = sign(d.norm, long_config)
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
    for s, e in zip(*(x.tolist() for x in runs(~mask))):
        if 0 < s and e < len(mask) and e - s <= slot:
            out[s:e] = True
    return out


_RELATION_RANK = {"exact": 0, "near_duplicate": 1, "partial": 2}


def _severity(pair: Pair):
    return (_RELATION_RANK[pair.relation], -max(pair.a_coverage, pair.b_coverage), -pair.similarity, pair.a, pair.b)
