"""The one boilerplate policy, for ``scan``, ``check``, ``index build`` and ``index add``.

Boilerplate is text found in at least ``min_docs_boilerplate`` unrelated documents that either sits
at the edges of the documents (page furniture, stock openings and closings: within the first or
last ``EDGE`` of the text in most of them) or recurs in a sizeable share of the corpus
(``FREQUENT`` of its groups). A passage copied into a few other speeches is in the middle of them
and stays a copy.

It is judged on long shingles (``BOILERPLATE_NGRAM``): recurring common phrases (高质量发展, "the
American people") are not boilerplate, recurring lines and paragraphs are. Documents that are
related (near-duplicates of each other, or sharing most of their text: one group label) count
once, so a speech uploaded five times is not boilerplate, but page furniture on pages of different
speeches is. Short gaps between boilerplate runs (names, dates, file names in a template) count as
boilerplate too. A pair's passage made of stock phrases strung together in an order only the two share
is theirs all the same (``dedup.match.own_text``, given ``TokenMasks.stock``): the shingles across the
joins are not boilerplate.

The callers differ only in how they know which documents are related: a scan and a check from
their aligned pairs (``dedup.match.Matcher.related``), a build and an add from the documents'
MinHash estimates (``related_labels``), without aligning.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from dedup import set_kernels
from dedup.arrays import member
from dedup.candidates import FILTER_BITS, HashSets, banded_candidates, hash_frequencies, lsh_params
from dedup.config import ScanConfig, SignConfig
from dedup.explain import covered_mask
from dedup.match import BOILERPLATE_NGRAM, RELATED_COVERAGE, clusters
from dedup.normalize import Normalized, runs
from dedup.sign import Mapper, Signed, SignedDocument, mapped, sign
from dedup.sort_kernels import radix_order

#: Share of the text at either end of a document where page furniture sits.
EDGE = 0.25
#: Text in this share of the (unrelated) documents is boilerplate wherever it is.
FREQUENT = 0.02
#: Gaps of up to this many tokens between boilerplate runs are template slots, boilerplate too.
TEMPLATE_SLOT = 8

NO_HASHES = np.zeros(0, dtype=np.uint32)


def token_masks(
    docs: Sequence[SignedDocument | None],
    labels: Sequence[int],
    config: ScanConfig,
    *,
    known: np.ndarray = NO_HASHES,
    population: int | None = None,
    wanted: Collection[int] | None = None,
    sets: Sequence[HashSets] | None = None,
    executor: Mapper | None = None,
) -> TokenMasks:
    """Per document, the tokens that are boilerplate among ``docs`` (``labels``: one related group per document),
    or in ``known`` (sorted long-shingle hashes judged boilerplate before, e.g. an archive's); and the long-shingle
    hashes they come from (``TokenMasks.stock``).

    ``wanted``: the documents whose masks are needed (a scan's: those of candidate pairs); the others get a
    mask with nothing marked (None in ``docs``: a document not signed, an empty mask). All documents count in what
    is boilerplate, whatever ``wanted``. ``sets``: the documents' ``long_shingle_sets``, in parts (a batch of
    documents each, in order), if already known. ``executor``: runs the work per document and per part of the
    hash range in its jobs (here without one)."""
    parts = list(sets) if sets is not None else [long_shingle_sets([d.norm for d in docs])]
    wanted = list(range(len(docs))) if wanted is None else sorted(wanted)
    chunks = [wanted[k : k + MASK_BATCH] for k in range(0, len(wanted), MASK_BATCH)]
    uniques = [u for batch in mapped(executor, unique_sets, chunks, docs) for u in batch]
    within = None
    if len(wanted) * 4 <= len(docs):  # the frequencies that matter: those of the wanted documents' hashes
        within = set_kernels.hash_filter(np.concatenate([NO_HASHES, *uniques]), FILTER_BITS)
    boiler = boilerplate_of(parts, labels, config, population=population, within=within, executor=executor)
    del parts
    jobs = [list(zip(chunk, uniques[k : k + len(chunk)])) for k, chunk in zip(range(0, len(wanted), MASK_BATCH), chunks)]
    out = TokenMasks(np.zeros(len(d.norm) if d is not None else 0, dtype=bool) for d in docs)
    for chunk, found in zip(chunks, mapped(executor, masks_batch, jobs, (docs, boiler, known, config))):
        for i, mask in zip(chunk, found):
            out[i] = mask
    out.stock = np.union1d(boiler, known).astype(np.uint32)
    return out


class TokenMasks(list):
    """Per document, its boilerplate-token mask (a list of them); ``stock``: the long-shingle hashes judged
    boilerplate (sorted), for ``Matcher.judge`` to tell a pair's own text from them."""

    stock: np.ndarray = NO_HASHES


#: Documents per job of ``token_masks``.
MASK_BATCH = 500


def unique_sets(docs: Sequence[SignedDocument], wanted: Sequence[int]) -> list[np.ndarray]:
    """The distinct long-shingle hashes (sorted) of the documents ``wanted`` (a stage function: ``docs`` shared)."""
    return [long_shingle_set(docs[i].norm)[0] for i in wanted]


def masks_batch(
    shared: tuple[Sequence[SignedDocument], np.ndarray, np.ndarray, ScanConfig], job: Sequence[tuple[int, np.ndarray]]
) -> list[np.ndarray]:
    """The boilerplate masks of documents (``job``: the number of each and its ``unique_sets``; a stage function:
    ``shared`` is the documents, the boilerplate hashes found, those known before, and the config)."""
    docs, boiler, known, config = shared
    held = [u[member(u, boiler) | member(u, known)] for _, u in job]  # sorted, as the sets
    return masks([docs[i] for i, _ in job], held, config)


def boilerplate_of(
    sets: Sequence[HashSets], labels: Sequence[int], config: ScanConfig, *, population: int | None = None,
    within: np.ndarray | None = None, executor: Mapper | None = None,
) -> np.ndarray:
    """The sorted long-shingle hashes that are boilerplate, from the documents' long-shingle sets (flagged: at an
    edge) and ``labels``, one related group per document. ``population``: how many groups the frequency is
    measured against (by default, those of ``labels``). ``within``, ``executor``: as ``hash_frequencies`` takes them
    (only hashes that pass the filter ``within`` are judged)."""
    min_docs = config.min_docs_boilerplate
    common, common_df, edge_df, groups = hash_frequencies(sets, labels, min_docs=min_docs, within=within, executor=executor)
    candidate = groups >= min_docs
    population = len(set(labels)) if population is None else population
    frequent = groups >= max(min_docs, FREQUENT * population)
    # at an edge: in the first or last EDGE of at least half the documents that hold it
    return common[frequent | (candidate & (edge_df > 0) & (edge_df * 2 >= common_df))].astype(np.uint32)


def long_shingles(norm: Normalized, config: SignConfig) -> Signed:
    """The long shingles of a document (``BOILERPLATE_NGRAM``)."""
    return sign(norm, _long_shingle_config(config))


@lru_cache(maxsize=4)
def _long_shingle_config(config: SignConfig) -> SignConfig:
    return replace(config, **BOILERPLATE_NGRAM)


def long_shingle_set(norm: Normalized) -> tuple[np.ndarray, np.ndarray]:
    """A document's distinct long-shingle hashes (sorted), and which of them are at an edge (bool): any of its
    shingles reaches into the first or last ``EDGE`` of the tokens."""
    ngram = BOILERPLATE_NGRAM
    flagged = set_kernels.edge_flagged_shingles(norm.codes, norm.cjk, ngram["cjk_ngram"], ngram["word_ngram"], EDGE)
    return set_kernels.flagged_runs(flagged[radix_order(flagged)])  # sorted: by hash, then edge flag


def long_shingle_hash_sets(docs: Sequence[SignedDocument]) -> tuple[list[np.ndarray], HashSets]:
    """The documents' distinct long-shingle hashes, and as ``HashSets`` flagged where at an edge."""
    sets = [long_shingle_set(d.norm) for d in docs]
    return [u for u, _ in sets], HashSets.of([u for u, _ in sets], [e for _, e in sets])


def long_shingle_sets(norms: Sequence[Normalized]) -> HashSets:
    """``long_shingle_hash_sets`` as ``HashSets`` only, in one compiled call (what a build keeps of a chunk)."""
    return HashSets.of_shingles(norms, **BOILERPLATE_NGRAM, edge=EDGE)


def masks(docs: Sequence[SignedDocument | None], held: Sequence[np.ndarray], config: ScanConfig) -> list[np.ndarray]:
    """Per document, the tokens covered by the boilerplate long shingles it holds (``held``, sorted), template
    slots filled. Most documents hold none: no second pass over them."""
    out = []
    for d, values in zip(docs, held):
        if d is None:  # (a document not signed: a documents-only scan signs only those of candidate pairs)
            out.append(np.zeros(0, dtype=bool))
            continue
        if not len(values):
            out.append(np.zeros(len(d.norm), dtype=bool))
            continue
        x = long_shingles(d.norm, config.sign)
        flags = member(x.hashes, values)
        pos = x.positions[flags]
        ranges = np.stack([pos, pos + x.lengths[flags]], axis=1)
        out.append(fill_slots(covered_mask(len(x.norm), ranges), TEMPLATE_SLOT))
    return out


def fill_slots(mask: np.ndarray, slot: int = TEMPLATE_SLOT) -> np.ndarray:
    """Also mark short unmarked gaps between marked runs: the slots of a template (names, dates, file names)."""
    if not mask.any():
        return mask
    out = mask.copy()
    starts, ends = runs(~mask)
    inside = (starts > 0) & (ends < len(mask)) & (ends - starts <= slot)
    for s, e in zip(starts[inside].tolist(), ends[inside].tolist()):
        out[s:e] = True
    return out


@dataclass(frozen=True, eq=False)
class Resemblance:
    """What finding related documents without aligning needs of them, one row each: MinHash, document bucket
    keys, shingles."""

    hashvalues: np.ndarray  # documents × num_perm
    document_keys: np.ndarray  # documents × bands (a row of zeros where there are no shingles)
    shingles: np.ndarray  # number of shingles of each document

    @classmethod
    def of(cls, entries: Sequence, config: ScanConfig) -> Resemblance:
        """From index entries (``dedup.index.Entry``)."""
        bands = lsh_params(config.candidates.doc_threshold, config.sign.num_perm)[0]
        keys = np.zeros((len(entries), bands), dtype=np.uint64)
        for row, e in enumerate(entries):
            keys[row, : len(e.document_keys)] = e.document_keys
        hashvalues = np.stack([e.hashvalues for e in entries]) if entries else np.zeros((0, config.sign.num_perm), np.uint32)
        return cls(hashvalues, keys, np.array([e.shingles for e in entries], dtype=np.int64))

    @classmethod
    def joined(cls, parts: Sequence[Resemblance]) -> Resemblance:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("hashvalues", "document_keys", "shingles")))


def related_labels(docs: Resemblance) -> list[int]:
    """Groups of documents that share most of one's shingles (document LSH, then the MinHash estimate):
    related, as ``Matcher.related`` would find them, without aligning."""
    with_keys = np.flatnonzero(docs.shingles > 0)
    pairs = banded_candidates(docs.document_keys[with_keys], with_keys) if len(with_keys) else set()
    hv, n = docs.hashvalues, docs.shingles
    related = [(i, j) for i, j in pairs if estimated_containment(hv[i], n[i], hv[j], n[j]) >= RELATED_COVERAGE]
    return clusters(len(n), related)


def estimated_containment(hashvalues_a: np.ndarray, shingles_a: int, hashvalues_b: np.ndarray, shingles_b: int) -> float:
    """Share of the smaller document's shingles found in the other, estimated from the MinHashes."""
    if not shingles_a or not shingles_b:
        return 0.0
    j = float(np.mean(hashvalues_a == hashvalues_b))
    return min(1.0, j * (shingles_a + shingles_b) / ((1 + j) * min(shingles_a, shingles_b)))
