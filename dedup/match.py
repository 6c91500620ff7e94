"""Judge candidate pairs: align them, measure what their passages cover, name the relation, group clusters.

``Matcher`` aligns pairs of a batch of signed documents (caching each document's seed index and
each pair's alignment) and turns an aligned pair into a ``Pair`` record once the boilerplate of
each document is known (``dedup.boilerplate``):

- ``exact``: the same normalized tokens;
- ``near_duplicate``: passages cover at least ``threshold`` of one document and
  ``NEAR_DUPLICATE_MIN_OTHER`` of the other (boilerplate left out);
- ``partial``: any other pair with a passage that is not boilerplate.

Severity (``dedup.models.RELATIONS``, ``Pair.severity``) orders them; clusters are the connected
groups of exact and near-duplicate pairs.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np

from dedup import sign_kernels
from dedup.align import TokenSpan, align
from dedup.align_kernels import covered_weight
from dedup.arrays import member
from dedup.config import ScanConfig
from dedup.explain import covered_mask, describe
from dedup.models import Pair, Passage, Progress, no_progress
from dedup.normalize import Normalized
from dedup.seed import ShingleIndex, cumulative_weights, shingle_index
from dedup.sign import Mapper, SignedDocument, mapped

#: A near-duplicate must also cover at least this share of the longer document.
NEAR_DUPLICATE_MIN_OTHER = 0.5
#: Documents sharing passages that cover this share of one of them are related:
#: text they share is theirs, not boilerplate.
RELATED_COVERAGE = 0.5
#: Per-document seed indexes a matcher keeps for reuse.
INDEX_CACHE = 4096
#: Per-document token weights a matcher keeps for reuse while it judges pairs.
WEIGHTS_CACHE = 256
#: Long shingles: boilerplate is judged on them (``dedup.boilerplate``), and a pair's own shared text told from its
#: boilerplate by them (``own_text``).
BOILERPLATE_NGRAM = {"cjk_ngram": 15, "word_ngram": 6}
#: Candidate pairs per batch of alignment work.
ALIGN_BATCH = 2000
#: Batches a worker gets at least, when there are enough pairs (the batches of the workers even out).
JOBS_PER_WORKER = 4


class Matcher:
    """Aligns pairs of ``docs`` (caching the alignment) and turns them into ``Pair`` records."""

    def __init__(self, docs: Sequence[SignedDocument], config: ScanConfig) -> None:
        self.docs = docs
        self.config = config
        self._spans: dict[tuple[int, int], list[TokenSpan]] = {}
        self._related: dict[tuple[int, int], bool] = {}  # ``related`` of the pairs aligned by an executor's jobs
        self._indexes: dict[int, ShingleIndex] = {}
        self._weights: dict[int, np.ndarray] = {}

    def index(self, i: int) -> ShingleIndex:
        """Document ``i``'s seed index (the last ``INDEX_CACHE`` asked for are kept)."""
        return _recent(
            self._indexes, i, INDEX_CACHE,
            lambda: shingle_index(self.docs[i].signed, max_repeats=self.config.candidates.max_shingle_repeats),
        )

    def align_all(
        self,
        pairs: Sequence[tuple[int, int]],
        *,
        executor: Mapper | None = None,
        progress: Progress = no_progress,
        batch_size: int = ALIGN_BATCH,
    ) -> None:
        """Align every pair, in batches of ``batch_size`` handed to ``executor`` (the matcher is shared with
        whatever runs them); without one, here."""
        if executor is None:
            for n, (i, j) in enumerate(pairs):
                self.spans(i, j)
                progress("align", n + 1, len(pairs))
            return
        batches = _batches(pairs, batch_size, getattr(executor, "workers", 1))
        done = 0
        for batch, results in zip(batches, executor.map(align_batch, batches, shared=self)):
            for pair, (spans, related) in zip(batch, results):
                self._spans[pair], self._related[pair] = spans, related
            done += len(batch)
            progress("align", done, len(pairs))

    def __getstate__(self) -> dict:  # (sent to other processes without its seed indexes: they are made again there)
        return {**self.__dict__, "_indexes": {}, "_weights": {}}

    def weights(self, i: int) -> np.ndarray:
        """Document ``i``'s ``Normalized.weights`` (the last ``WEIGHTS_CACHE`` asked for are kept: a document is in
        many pairs)."""
        return _recent(self._weights, i, WEIGHTS_CACHE, lambda: self.docs[i].norm.weights)

    def judge_all(
        self,
        pairs: Sequence[tuple[int, int]],
        boiler: Sequence[np.ndarray] | Mapping[int, np.ndarray],
        *,
        stock: np.ndarray | None = None,
        executor: Mapper | None = None,
        progress: Progress = no_progress,
        batch_size: int = ALIGN_BATCH,
    ) -> list[Pair]:
        """``judge`` every pair (those that share nothing but boilerplate left out), in batches of ``batch_size``
        handed to ``executor`` (the matcher, ``boiler`` and ``stock`` are shared with whatever runs them); without
        one, here."""
        batches = _batches(pairs, batch_size, getattr(executor, "workers", 1))
        boiler = {i: boiler[i] for pair in pairs for i in pair}  # (what the jobs need: not a mask per document)
        results = mapped(executor, judge_batch, batches, (self, boiler, stock))
        out: list[Pair] = []
        done = 0
        for batch, judged in zip(batches, results):
            out += [p for p in judged if p is not None]
            done += len(batch)
            progress("judge", done, len(pairs))
        return out

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
        if (i, j) in self._related:
            return self._related[i, j]
        spans = self.spans(i, j)
        if not spans:
            return False
        parts = np.array([(s.a0, s.a1, s.b0, s.b1) for s in spans], dtype=np.int64)
        cov_a = _covered_share(parts, self._cumulative(i))
        cov_b = _covered_share(np.ascontiguousarray(parts[:, [2, 3, 0, 1]]), self._cumulative(j))
        return max(cov_a, cov_b) >= RELATED_COVERAGE

    def _cumulative(self, i: int) -> np.ndarray:
        """Document ``i``'s cumulative token weights: its seed index's if cached (no index is made for them)."""
        index = self._indexes.get(i)
        return index.weights if index is not None else cumulative_weights(self.docs[i].norm)

    def flagged_spans(
        self, pair: tuple[int, int], boiler: Sequence[np.ndarray] | Mapping[int, np.ndarray], *,
        weights: tuple[np.ndarray, np.ndarray] | None = None, stock: np.ndarray | None = None,
    ) -> tuple[bool, list[tuple[TokenSpan, bool]], tuple[np.ndarray, np.ndarray]]:
        """Whether the pair is exact, its aligned spans (an exact pair: at least the whole text), each with whether
        it is boilerplate, and the two documents' boilerplate masks for this pair (``boiler``: each document's
        boilerplate-token mask; ``weights``: the two documents' ``Normalized.weights`` where known).

        ``stock``: the long-shingle hashes judged boilerplate (sorted). Where given, the text of a passage that
        both documents share beyond it is theirs, not boilerplate (``own_text``): a passage strung together of stock
        phrases, each found in many documents, in an order only these two share, is a copy.
        """
        i, j = pair
        a, b = self.docs[i].norm, self.docs[j].norm
        wa, wb = weights if weights is not None else (a.weights, b.weights)
        bp_a, bp_b = boiler[i], boiler[j]
        spans = self.spans(i, j)
        exact = len(a) > 0 and a.tokens == b.tokens and a.converted == b.converted
        if exact and not spans:
            spans = [TokenSpan(0, len(a), 0, len(b), 1.0)]
        min_passage = self.config.min_passage
        flagged = [(s, is_boilerplate(s, wa, bp_a, wb, bp_b, min_passage)) for s in spans]
        for k, (s, is_bp) in enumerate(flagged if stock is not None else ()):
            if not is_bp:
                continue
            if min(float(wa[s.a0 : s.a1][bp_a[s.a0 : s.a1]].sum()), float(wb[s.b0 : s.b1][bp_b[s.b0 : s.b1]].sum())) < min_passage:
                continue  # (too little boilerplate in it to be a copy's own text)
            own_a, own_b = own_text(a, b, s, stock)
            own_a, own_b = own_a & bp_a, own_b & bp_b  # stock phrases joined in an order only these two share
            if min(float(wa[own_a].sum()), float(wb[own_b].sum())) >= min_passage:
                bp_a, bp_b = bp_a & ~own_a, bp_b & ~own_b
                flagged[k] = (s, False)
        return exact, flagged, (bp_a, bp_b)

    def judge(
        self, pair: tuple[int, int], boiler: Sequence[np.ndarray] | Mapping[int, np.ndarray], *,
        stock: np.ndarray | None = None, b_origin: str = "scanned",
    ) -> Pair | None:
        """The verified pair, or None when it shares nothing but boilerplate.

        ``boiler`` holds each document's boilerplate-token mask, ``stock`` the boilerplate long-shingle hashes
        (``flagged_spans``); ``b_origin`` says where document ``j`` comes from (``archive``: an archived document).
        """
        i, j = pair
        a, b = self.docs[i], self.docs[j]
        weights = (self.weights(i), self.weights(j))  # (asked for by each step below)
        exact, flagged, (bp_a, bp_b) = self.flagged_spans(pair, boiler, weights=weights, stock=stock)
        spans = [s for s, _ in flagged]
        content = [s for s, is_bp in flagged if not is_bp]
        if not content:
            return None
        cov_a = coverage(weights[0], bp_a, [(s.a0, s.a1) for s in content])
        cov_b = coverage(weights[1], bp_b, [(s.b0, s.b1) for s in content])
        threshold = self.config.threshold
        if exact:
            relation = "exact"
        elif max(cov_a, cov_b) >= threshold and min(cov_a, cov_b) >= NEAR_DUPLICATE_MIN_OTHER:
            relation = "near_duplicate"
        else:
            relation = "partial"
        similarity = 1.0 if exact else pair_similarity(a, b, bp_a, bp_b, content, weights=weights)
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
            b_origin=b_origin,  # type: ignore[arg-type]
        )


def _recent(cache: dict, key: int, limit: int, make):
    """``cache[key]``, made by ``make()`` if absent; the least recently used go first beyond ``limit`` (dicts keep
    their insertion order: a value asked for is put back last)."""
    value = cache.pop(key, None)
    if value is None:
        if len(cache) >= limit:
            cache.pop(next(iter(cache)))
        value = make()
    cache[key] = value
    return value


def _batches(pairs: Sequence[tuple[int, int]], batch_size: int, workers: int) -> list[Sequence[tuple[int, int]]]:
    """``pairs`` cut into batches of ``batch_size``, smaller when there are fewer pairs than ``JOBS_PER_WORKER`` batches
    a worker (so that all workers have some, and none is left with the last of them alone)."""
    batch_size = max(1, min(batch_size, -(-len(pairs) // (JOBS_PER_WORKER * max(1, workers)))))
    return [pairs[k : k + batch_size] for k in range(0, len(pairs), batch_size)]


def align_batch(matcher: Matcher, pairs: Sequence[tuple[int, int]]) -> list[tuple[list[TokenSpan], bool]]:
    """Align a batch of pairs of the matcher's documents, and say whether each is ``related`` (a stage function:
    ``executor.map`` runs it)."""
    return [(matcher.spans(i, j), matcher.related(i, j)) for i, j in pairs]


def judge_batch(
    shared: tuple[Matcher, Mapping[int, np.ndarray], np.ndarray | None], pairs: Sequence[tuple[int, int]]
) -> list[Pair | None]:
    """``Matcher.judge`` a batch of pairs (a stage function: ``shared`` is the matcher, the documents' boilerplate
    masks and the boilerplate long-shingle hashes)."""
    matcher, boiler, stock = shared
    return [matcher.judge(pair, boiler, stock=stock) for pair in pairs]


def own_text(a: Normalized, b: Normalized, span: TokenSpan, stock: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Token masks of two documents: the text of a passage (``span``) covered by long shingles (``BOILERPLATE_NGRAM``)
    that both its sides hold and that are not ``stock`` (boilerplate hashes, sorted), unless most of those they share
    are stock. Stock phrases strung together in the same order share the shingles across their joins; boilerplate,
    and a quotation many documents make in other words, share few beyond it."""
    own_a, own_b = np.zeros(len(a), dtype=bool), np.zeros(len(b), dtype=bool)
    (pos_a, end_a, ha), (pos_b, end_b, hb) = _long_shingles_in(a, span.a0, span.a1), _long_shingles_in(b, span.b0, span.b1)
    both = np.intersect1d(ha, hb)
    theirs = both[~member(both, stock)]
    if len(theirs) * 2 <= len(both):
        return own_a, own_b
    ka, kb = member(ha, theirs), member(hb, theirs)
    own_a[:] = covered_mask(len(a), np.stack([pos_a[ka], end_a[ka]], axis=1))
    own_b[:] = covered_mask(len(b), np.stack([pos_b[kb], end_b[kb]], axis=1))
    return own_a, own_b


def _long_shingles_in(norm: Normalized, x0: int, x1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The long shingles inside tokens ``x0:x1`` of a document (a shingle's hash is that of its tokens alone): where
    each starts and ends, and its hash."""
    codes = np.frombuffer(norm.tokens[x0:x1].encode("utf-32-le"), dtype="<u4")  # (as ``Normalized.codes``)
    lengths, hashes = sign_kernels.shingles(codes, norm.cjk[x0:x1], BOILERPLATE_NGRAM["cjk_ngram"], BOILERPLATE_NGRAM["word_ngram"])
    starts = np.flatnonzero(lengths)
    return starts + x0, starts + x0 + lengths[starts], hashes


def is_boilerplate(span: TokenSpan, wa: np.ndarray, bp_a: np.ndarray, wb: np.ndarray, bp_b: np.ndarray, min_passage: float) -> bool:
    """A passage is boilerplate when, without its boilerplate text, less than ``min_passage`` is left on a side."""
    rest_a = float(wa[span.a0 : span.a1][~bp_a[span.a0 : span.a1]].sum())
    rest_b = float(wb[span.b0 : span.b1][~bp_b[span.b0 : span.b1]].sum())
    return min(rest_a, rest_b) < min_passage


def coverage(weights: np.ndarray, boiler: np.ndarray | None, ranges: list[tuple[int, int]]) -> float:
    """Share of a document's (non-boilerplate) weight inside ``ranges`` of tokens (``boiler`` None: no boilerplate)."""
    content = ~boiler if boiler is not None else None
    total = float((weights[content] if content is not None else weights).sum())
    if total == 0:
        return 0.0
    inside = covered_mask(len(weights), ranges)
    return float(weights[inside & content if content is not None else inside].sum()) / total


def _covered_share(parts: np.ndarray, cumulative: np.ndarray) -> float:
    """Share of a document's weight (``cumulative``: its cumulative token weights) that the a-sides of ``parts``
    (``(a0, a1, b0, b1)`` rows) cover, each token once: ``coverage`` without boilerplate, without a mask."""
    total = float(cumulative[-1])
    return covered_weight(parts, 0, len(cumulative) - 1, cumulative) / total if total > 0 else 0.0


def pair_similarity(
    a: SignedDocument, b: SignedDocument, bp_a, bp_b, spans: Sequence[TokenSpan], *,
    weights: tuple[np.ndarray, np.ndarray] | None = None,
) -> float:
    """Dice-style similarity of the two documents' content: matched size over total size (``weights``: the two
    documents' ``Normalized.weights`` where known)."""
    wa, wb = weights if weights is not None else (a.norm.weights, b.norm.weights)
    total = float(wa[~bp_a].sum() + wb[~bp_b].sum())
    if total == 0:
        return 0.0
    matched = sum(s.similarity * (float(wa[s.a0 : s.a1].sum()) + float(wb[s.b0 : s.b1].sum())) for s in spans)
    return min(1.0, matched / total)


def clusters(n: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """Connected-component label of each of ``n`` nodes (union-find; a label is its component's smallest node)."""
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


def duplicate_clusters(pairs: Sequence[Pair]) -> tuple[tuple[str, ...], ...]:
    """Groups of documents (by name, ``Pair.names``) linked by exact and near-duplicate pairs, each sorted."""
    linked = [p.names() for p in pairs if p.relation in ("exact", "near_duplicate")]
    return tuple(sorted(tuple(sorted(g)) for g in groups(linked) if len(g) > 1))


def groups(edges: Sequence[tuple[Hashable, Hashable]]) -> list[list]:
    """The connected groups of the nodes of ``edges``, each in sorted order of its nodes."""
    nodes = sorted({x for e in edges for x in e})
    at = {x: k for k, x in enumerate(nodes)}
    out: dict[int, list] = {}
    for k, label in enumerate(clusters(len(nodes), [(at[x], at[y]) for x, y in edges])):
        out.setdefault(label, []).append(nodes[k])
    return list(out.values())
