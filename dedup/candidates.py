"""Candidate pairs from MinHash LSH, at document and window level.

Documents whose MinHash signatures share an LSH band are candidates, and so are documents whose
bag-of-words windows share buckets (a copied passage inside a long speech), or whose normalized
tokens are the same. The bands and rows are those datasketch's ``MinHashLSH`` picks for a
threshold (``lsh_params``, ours, tested against it), the banding is vectorized with numpy and gives
the same pairs as ``MinHashLSH`` (tested).

LSH is approximate: every candidate pair is verified on the text by ``dedup.align`` before
anything is reported.

Grouping the windows of all documents by bucket key is the one step that needs all of them at
once (the LSH band shuffle): it is asked of a ``group_by_key`` function, which an executor provides
(in one process: ``dedup.sort_kernels.sorted_groups``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dedup import set_kernels, sign_kernels, sort_kernels
from dedup.config import CandidateConfig, ScanConfig
from dedup.normalize import Normalized
from dedup.sign import Mapper, Signed, SignedDocument, bag_signed, mapped, signatures, window_signatures, window_size

#: ``group_by_key(keys, values)``: the records grouped by key, as shards ``(keys, values)`` sorted by key
#: (then value), every key's records in one shard.
GroupByKey = Callable[[np.ndarray, np.ndarray], Iterator[tuple[np.ndarray, np.ndarray]]]


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) of MinHash LSH for a Jaccard ``threshold`` with ``num_perm`` permutations.

    Two sets of Jaccard similarity ``s`` share at least one of ``b`` bands of ``r`` rows with
    probability ``P(s) = 1 - (1 - s**r)**b``. Of all ``b * r <= num_perm``, the pair chosen minimizes
    the chance of a false positive (``∫ P(s) ds`` over ``[0, threshold]``) plus that of a false
    negative (``∫ 1 - P(s) ds`` over ``[threshold, 1]``), weighed equally; the first such pair in the
    order of ``b``, then ``r``, as datasketch's ``MinHashLSH`` chooses (tested against it). ``P`` is a
    polynomial of degree ``b * r``, so Gauss-Legendre quadrature with ``num_perm // 2 + 1`` nodes
    integrates it exactly.
    """
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)

    def integral(lo: float, hi: float, values) -> float:
        return float((hi - lo) / 2 * (weights * values((hi - lo) / 2 * (nodes + 1) + lo)).sum())

    best, choice = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            false_positive = integral(0.0, threshold, lambda s: 1 - (1 - s**r) ** b)
            false_negative = integral(threshold, 1.0, lambda s: (1 - s**r) ** b)
            error = 0.5 * false_positive + 0.5 * false_negative
            if error < best:
                best, choice = error, (b, r)
    return choice


def band_keys(signatures: np.ndarray, *, threshold: float, salt: np.ndarray | None = None) -> np.ndarray:
    """``windows × bands`` LSH bucket keys of MinHash signatures (``windows × num_perm``).

    Bands and rows are those datasketch's ``MinHashLSH`` picks for the
    threshold; each band's rows are mixed into one 64-bit key (xor
    ``salt[band]`` when given, to keep kinds of keys apart; at least one value a band).
    """
    bands, rows = lsh_params(threshold, signatures.shape[1])
    salt = np.zeros(bands, dtype=np.uint64) if salt is None else salt[:bands]
    if len(salt) < bands:
        raise ValueError(f"{bands} bands need as many salt values, got {len(salt)}")
    return sign_kernels.band_keys(np.ascontiguousarray(signatures, dtype=np.uint32), bands, rows, salt)


def window_threshold(signed: Signed, config: CandidateConfig) -> float:
    """LSH threshold of a document's windows: CJK windows and word windows have their own."""
    return config.passage_threshold if signed.norm.mostly_cjk else config.word_passage_threshold


def window_keys(signed: Signed, config: ScanConfig) -> np.ndarray:
    """``windows × bands`` bucket keys of a document's bag-of-words windows (``band_keys``)."""
    return band_keys(window_values(signed, config), threshold=window_threshold(signed, config.candidates))


def window_values(signed: Signed, config: ScanConfig) -> np.ndarray:
    """``windows × num_perm`` MinHash values of a document's bag-of-words windows."""
    window = window_size(signed.norm, config.candidates.window)
    return window_signatures(bag_signed(signed), config.sign, window=window)[1]


@lru_cache(maxsize=4)
def band_salts(bands: int) -> np.ndarray:
    """A fixed random 64-bit salt per band (the same in every process and run)."""
    return np.random.default_rng(0x5EED_BA4D).integers(0, 2**64, bands, dtype=np.uint64, endpoint=False)


def banded_candidates(
    keys: np.ndarray,
    owners: np.ndarray,
    *,
    max_hits: int | None = None,
    min_shared: int = 1,
    group_by_key: GroupByKey = sort_kernels.sorted_groups,
    salted: bool = False,
    grouped_records: int | None = None,
) -> set[tuple[int, int]]:
    """Pairs of owners whose windows share an LSH bucket (MinHash LSH, vectorized).

    ``keys`` comes from ``band_keys`` and ``owners[w]`` is the document of
    window ``w``. A bucket holding windows of more than ``max_hits + 1``
    documents is stock text: it makes no pairs. Pairs that share fewer than
    ``min_shared`` buckets are left out (a single chance collision).

    With ``min_shared=1``, the same pairs as inserting every window into datasketch's ``MinHashLSH`` and
    querying each (tested), at a fraction of the cost and memory for millions
    of windows: the records of all bands grouped by ``group_by_key`` at once, or of as many bands at a time as make
    about ``grouped_records`` records (by default ``GROUPED_RECORDS``), a band's keys salted with ``band_salts``
    (locally one sort in one process, on Ray one shuffle). ``salted``: the keys come salted already
    (``window_records``': when all bands are grouped at once, they are grouped as they are, without a copy).
    """
    if len(keys) == 0:
        return set()
    owners = owners.astype(np.int64)
    span = int(owners.max()) + 1  # a pair (i, j) is coded as i * span + j
    limit = (max_hits + 1) if max_hits is not None else len(keys)
    # the bands in one shuffle, or a few at a time when there are many windows: each band's keys xor a salt of its
    # own (a bijection within a band), so that the buckets of two bands stay apart
    bands = keys.shape[1]
    owners = owners.astype(np.int32 if span < 1 << 31 else np.int64)
    step = max(1, min(bands, (grouped_records or GROUPED_RECORDS) // max(1, len(keys))))
    coded = []
    for first in range(0, bands, step):
        part = np.ascontiguousarray(keys[:, first : first + step], dtype=np.uint64)
        if not salted:
            part = part ^ band_salts(bands)[first : first + step]
        records = np.repeat(owners, part.shape[1])  # (row-major, as the keys)
        coded += [bucket_pairs(k, o, span=span, limit=limit) for k, o in group_by_key(part.ravel(), records)]
        del part, records
    if not coded:
        return set()
    pairs, shared = np.unique(np.concatenate(coded), return_counts=True)
    pairs = pairs[shared >= min_shared]
    return set(zip((pairs // span).tolist(), (pairs % span).tolist()))


#: ``banded_candidates`` groups at most about this many records at once (a few bands at a time): their sort's arrays
#: beside the keys take about 20 bytes a record.
GROUPED_RECORDS = 1 << 23


def bucket_pairs(keys: np.ndarray, owners: np.ndarray, *, span: int, limit: int) -> np.ndarray:
    """The owner pairs of buckets, coded ``i * span + j`` (``i < j``), one per bucket they share: of records
    sorted by key, then owner (a shard of ``group_by_key``). Buckets of more than ``limit`` owners make none
    (``sort_kernels.bucket_pair_codes``)."""
    return sort_kernels.bucket_pair_codes(keys, owners.astype(np.int64, copy=False), span, limit)


def candidate_pairs(
    docs: Sequence[SignedDocument], config: ScanConfig, *, group_by_key: GroupByKey = sort_kernels.sorted_groups,
    executor: Mapper | None = None,
) -> list[tuple[int, int]]:
    """Candidate pairs ``(i, j)``, ``i < j``, of a batch of signed documents, sorted: documents whose MinHash
    collides in LSH, documents whose windows share buckets, and documents with the same normalized tokens (the
    windows' keys made ``WINDOW_BATCH`` documents a job, by ``executor`` if given)."""
    signed_docs = np.array([i for i, d in enumerate(docs) if len(d.signed.hashes)], dtype=np.int64)
    doc_signatures = signatures([docs[i].signed.hashes for i in signed_docs], config.sign)
    found = document_pairs(doc_signatures, signed_docs, config, group_by_key=group_by_key)
    found |= identical_pairs(docs)
    if not config.passages:  # documents only: no window candidates
        return sorted(found)
    jobs = [(k, min(k + WINDOW_BATCH, len(docs))) for k in range(0, len(docs), WINDOW_BATCH)]
    # windows of CJK documents and of word documents: their bags differ in size and in how
    # alike unrelated text looks, so each has its own threshold
    made: tuple[list, list] = ([], [])  # (keys, owners) of each job, of the word documents, of the CJK ones
    for batch in mapped(executor if len(jobs) > 1 else None, window_batch, jobs, (docs, config)):
        for kind, part in zip(made, batch):
            if part is not None:
                kind.append(tuple(np.array(a) for a in part))  # (owned: a job's result is freed whole once read)
    found |= window_pairs(made, len(docs), config, group_by_key=group_by_key)
    return sorted(found)


def window_pairs(
    made: tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]], size: int, config: ScanConfig,
    *, group_by_key: GroupByKey = sort_kernels.sorted_groups,
) -> set[tuple[int, int]]:
    """Pairs of documents whose windows share buckets (``banded_candidates``), of ``size`` documents: ``made`` holds
    the salted window keys and their owners (``window_records``) in parts, a list for the word documents and one for
    the CJK ones. The lists are emptied as their parts are joined (each kind's keys are held once)."""
    found: set[tuple[int, int]] = set()
    for parts in reversed(made):
        if not parts:
            continue
        key_parts, owner_parts = [k for k, _ in parts], [o for _, o in parts]
        parts.clear()  # (``joined`` frees each part as it copies it)
        keys, owners = joined(key_parts), joined(owner_parts)
        found |= banded_candidates(
            keys, owners, max_hits=config.candidates.max_window_hits,
            min_shared=config.candidates.shared_buckets(size), group_by_key=group_by_key, salted=True,
        )
        del keys, owners
    return found


def joined(parts: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(parts)`` that empties ``parts`` as it goes: each part is dropped once copied (the window keys
    of a large scan are held once, not twice)."""
    out = np.empty((sum(len(p) for p in parts), *parts[0].shape[1:]), dtype=parts[0].dtype)
    at = 0
    for k in range(len(parts)):
        part, parts[k] = parts[k], None
        out[at : at + len(part)] = part
        at += len(part)
    return out


#: Documents a job of ``window_batch`` makes the window keys of.
WINDOW_BATCH = 500


def window_batch(
    shared: tuple[Sequence[SignedDocument], ScanConfig], job: tuple[int, int]
) -> tuple[tuple[np.ndarray, np.ndarray] | None, tuple[np.ndarray, np.ndarray] | None]:
    """``window_records`` of documents ``start:end`` (a stage function: ``shared`` is the documents and the config)."""
    docs, config = shared
    start, end = job
    return window_records([docs[i].signed for i in range(start, end)], config, first=start)


def window_records(
    signed: Sequence[Signed], config: ScanConfig, *, first: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray] | None, tuple[np.ndarray, np.ndarray] | None]:
    """The window keys (``window_keys``, salted: ``band_salts``) of signed documents and their owners, the documents
    numbered from ``first`` (``windows × bands`` uint64, and int64), of the word documents then of the CJK ones
    (indexed by ``mostly_cjk``; None: no such window), the documents' windows in order."""
    out: tuple[tuple[list, list], tuple[list, list]] = (([], []), ([], []))
    for i, s in enumerate(signed, first):
        windows = window_keys(s, config)
        if len(windows):
            windows ^= band_salts(windows.shape[1])
            keys, owners = out[s.norm.mostly_cjk]
            keys.append(windows)
            owners.append(np.full(len(windows), i))
    return tuple((np.concatenate(k), np.concatenate(o)) if k else None for k, o in out)  # type: ignore[return-value]


def document_pairs(
    hashvalues: np.ndarray, owners: np.ndarray, config: ScanConfig, *, group_by_key: GroupByKey = sort_kernels.sorted_groups
) -> set[tuple[int, int]]:
    """Pairs of documents whose MinHash signatures (``hashvalues``, one row each of documents ``owners``) collide in
    the document LSH (``config.candidates.doc_threshold``)."""
    keys = band_keys(hashvalues, threshold=config.candidates.doc_threshold)
    return banded_candidates(keys, owners, group_by_key=group_by_key)


def identical_pairs(docs: Sequence[SignedDocument]) -> set[tuple[int, int]]:
    """Pairs of documents with the same normalized tokens (none empty)."""
    return same_key_pairs([d.norm.tokens if len(d.norm) else None for d in docs])


def same_key_pairs(keys: Sequence[Hashable | None]) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of positions with the same key (None: none)."""
    by_key: dict[Hashable, list[int]] = {}
    for i, key in enumerate(keys):
        if key is not None:
            by_key.setdefault(key, []).append(i)
    return {(g[x], g[y]) for g in by_key.values() for x in range(len(g)) for y in range(x + 1, len(g))}


#: ``HashSets`` are grouped by this many top bits of the hashes, and counted one such part at a time.
SET_PART_BITS = 4
_LOW_BITS = 32 - SET_PART_BITS
#: Bits of the filter (``set_kernels.hash_filter``) a scan gives ``hash_frequencies(within=...)``.
FILTER_BITS = 27


@dataclass(frozen=True, eq=False)
class HashSets:
    """Documents' distinct uint32 hashes, each with a flag (e.g. "at an edge of the document"), in two arrays.

    Grouped by the top ``SET_PART_BITS`` bits of the hash (so that a part of the hash range is counted
    at a time), in document order within a part; each value keeps the hash's other bits, then the flag
    in its lowest bit. Few objects to send between processes, whatever the number of documents.
    """

    values: np.ndarray  # uint32
    counts: np.ndarray  # documents × parts: how many values each document has in each part

    @classmethod
    def of(cls, hash_sets: Sequence[np.ndarray], flags: Sequence[np.ndarray] | None = None) -> HashSets:
        """From each document's distinct hashes and their flags (bool; none flagged if not given)."""
        sizes = np.array([len(h) for h in hash_sets], dtype=np.int64)
        hashes = np.concatenate([np.zeros(0, np.uint32), *hash_sets]).astype(np.uint32, copy=False)
        coded = (hashes & np.uint32((1 << _LOW_BITS) - 1)) << np.uint32(1)
        if flags is not None and len(coded):
            coded |= np.concatenate(flags)
        part_of = (hashes >> np.uint32(_LOW_BITS)).astype(np.uint8)
        return cls(*set_kernels.group_parts(coded, part_of, sizes, 1 << SET_PART_BITS))

    @classmethod
    def of_shingles(cls, norms: Sequence[Normalized], *, cjk_ngram: int, word_ngram: int, edge: float) -> HashSets:
        """``of`` the documents' distinct shingle hashes (``dedup.sign.sign`` with these n-gram sizes), each
        flagged where one of its shingles reaches into the first or last ``edge`` (a share) of the tokens; in
        one compiled call for all (``set_kernels.long_shingle_sets``), without sorting each document's set."""
        offsets = np.zeros(len(norms) + 1, dtype=np.int64)
        np.cumsum([len(n) for n in norms], out=offsets[1:])
        codes = np.concatenate([np.zeros(0, "<u4"), *(n.codes for n in norms)])
        cjk = np.concatenate([np.zeros(0, bool), *(n.cjk for n in norms)])
        return cls(*set_kernels.long_shingle_sets(
            codes, cjk, offsets, cjk_ngram, word_ngram, edge, _LOW_BITS, 1 << SET_PART_BITS
        ))


def hash_frequencies(
    sets: Sequence[HashSets], groups: Sequence[int], *, min_docs: int, within: np.ndarray | None = None,
    executor: Mapper | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The hashes held by at least ``min_docs`` documents of ``sets`` (sorted), and for each: how many
    documents hold it, how many of those have it flagged, and in how many distinct ``groups`` it occurs.

    ``groups`` has one label per document of all the sets, in order (documents of one label, e.g.
    near-duplicates of each other, count once in the last figure). ``within``: a filter of hashes
    (``set_kernels.hash_filter``, of 6 bits or more): only hashes that pass it are counted (the others'
    figures are not needed; those that pass are counted exactly). One part of the hash range at a
    time (one sort each: most hashes are held by one document), the parts as jobs of ``executor`` if given.
    """
    labels = np.asarray(groups, dtype=np.uint64)
    if len(labels) and int(labels.max()) >= 1 << 32:
        raise ValueError("group labels must fit in 32 bits")
    shared = (list(sets), labels, max(1, min_docs), within)
    parts = range(1 << SET_PART_BITS)
    out = mapped(executor, part_frequencies, parts, shared)
    return tuple(np.concatenate(column) for column in zip(*out))  # type: ignore[return-value]


def part_frequencies(
    shared: tuple[Sequence[HashSets], np.ndarray, int, np.ndarray | None], part: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``hash_frequencies`` of the hashes of one part (a stage function: ``shared`` is the sets, the documents' group
    labels, ``min_docs`` and the filter or None)."""
    sets, labels, min_docs, within = shared
    bits = (len(within) * 64).bit_length() - 1 if within is not None else 0  # (the filter has 2**bits bits)
    values, counts = [np.zeros(0, np.uint32)], [np.zeros(0, np.int64)]
    for s in sets:
        start = int(s.counts[:, :part].sum())
        v, c = s.values[start : start + int(s.counts[:, part].sum())], s.counts[:, part]
        if within is not None:
            v, c = set_kernels.filter_part(v, np.ascontiguousarray(c), within, bits, _LOW_BITS, part)
        values.append(v)
        counts.append(c)
    coded = set_kernels.grouped_coded(np.concatenate(values), np.concatenate(counts), labels)
    coded.sort()
    low, docs, flagged, distinct_groups = set_kernels.run_frequencies(coded, min_docs)
    return (np.uint32(part) << np.uint32(_LOW_BITS)) | low.astype(np.uint32), docs, flagged, distinct_groups
