"""The archive index stage: LSH bucket keys of documents and of their windows, and queries on a store.

Bucket keys are those of ``dedup.candidates.band_keys`` (datasketch's bands
and rows for the thresholds), salted with the level and band so that all
levels share one key space:

- document level: the document's MinHash, ``doc_threshold``;
- passage level: the bag-of-words windows, ``passage_threshold`` (CJK) or
  ``word_passage_threshold`` (Latin words), the same windows ``scan`` uses.

A query applies ``scan``'s rules: any shared document bucket, or at least
``min_shared_buckets`` shared window buckets that are not stock text (held by
more than ``max_window_hits`` documents), or the same normalized tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np

from dedup import candidates as candidates_stage
from dedup import kernels
from dedup.arrays import distinct
from dedup.candidates import band_keys, lsh_params
from dedup.config import ScanConfig
from dedup.errors import IndexStoreError
from dedup.sign import Signed, signatures
from dedup.store import FORMAT, MAGIC, READABLE_FORMATS, Store

LEVEL_DOCUMENT, LEVEL_CJK_WINDOW, LEVEL_WORD_WINDOW = 0, 1, 2
_NO_KEYS = np.zeros(0, dtype=np.uint64)


@lru_cache(maxsize=None)
def _salt(level: int, bands: int) -> np.ndarray:
    """Per band (for up to ``bands`` bands), what keys of one level are xored with: distinct from every
    other level and band."""
    x = np.arange(bands, dtype=np.uint64) + np.uint64(level << 16)
    with np.errstate(over="ignore"):  # splitmix64
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


@dataclass(frozen=True, eq=False)
class Entry:
    """What the index keeps of one document besides its text: its MinHash, bucket keys and digest."""

    hashvalues: np.ndarray  # the document's MinHash
    document_keys: np.ndarray  # bands of the document's MinHash (empty without shingles)
    window_keys: np.ndarray  # windows × bands
    digest: bytes  # of the normalized tokens: equal digests, exact duplicates
    shingles: int  # number of shingles
    keys: np.ndarray  # every bucket key the document is stored under, distinct


def entry(signed: Signed, config: ScanConfig) -> Entry:
    """Index entry of one signed document."""
    return entries([signed], config)[0]


def entries(signed: Sequence[Signed], config: ScanConfig) -> list[Entry]:
    """Index entries of a batch of signed documents (``entry`` of each; the MinHashes and bucket keys of
    the batch computed together)."""
    hv = signatures([s.hashes for s in signed], config.sign)
    has = np.array([len(s.hashes) > 0 for s in signed], dtype=bool)
    doc_keys = np.zeros((len(signed), 0), dtype=np.uint64)
    if has.any():
        keys = band_keys(hv[has], threshold=config.candidates.doc_threshold, salt=_salt(LEVEL_DOCUMENT, config.sign.num_perm))
        doc_keys = np.zeros((len(signed), keys.shape[1]), dtype=np.uint64)
        doc_keys[has] = keys
    windows = _window_keys(signed, config)
    document_keys = [doc_keys[k] if has[k] else doc_keys[k, :0] for k in range(len(signed))]
    own = [a for k in range(len(signed)) for a in (document_keys[k], windows[k].ravel())]
    sizes = np.zeros(len(signed) + 1, dtype=np.int64)
    np.cumsum([len(d) + windows[k].size for k, d in enumerate(document_keys)], out=sizes[1:])
    keys, counts = kernels.distinct_segments(np.concatenate([_NO_KEYS, *own]), sizes)  # each document's own
    ends = np.cumsum(counts)
    return [
        Entry(hv[k], document_keys[k], windows[k], digest(s), len(s.hashes), keys[ends[k] - counts[k] : ends[k]])
        for k, s in enumerate(signed)
    ]


def _window_keys(signed: Sequence[Signed], config: ScanConfig) -> list[np.ndarray]:
    """``windows × bands`` bucket keys of each document's windows, salted by kind (CJK or word windows); the
    band keys of all the windows of a kind computed at once."""
    c = config.candidates
    out: list[np.ndarray] = [np.zeros((0, 0), dtype=np.uint64)] * len(signed)
    for level, cjk in ((LEVEL_CJK_WINDOW, True), (LEVEL_WORD_WINDOW, False)):
        docs = [k for k, s in enumerate(signed) if s.norm.mostly_cjk == cjk]
        if not docs:
            continue
        values = [candidates_stage.window_values(signed[k], config) for k in docs]
        threshold = candidates_stage.window_threshold(signed[docs[0]], c)
        keys = band_keys(np.concatenate(values), threshold=threshold, salt=_salt(level, config.sign.num_perm))
        for k, part in zip(docs, np.split(keys, np.cumsum([len(v) for v in values])[:-1])):
            out[k] = part
    return out


def digest(signed: Signed) -> bytes:
    """Identity of the normalized text: documents with equal digests are exact duplicates."""
    h = hashlib.blake2b(signed.norm.codes, digest_size=16)  # of the tokens in UTF-32-LE
    h.update(signed.norm.converted.to_bytes(8, "little"))
    return h.digest()


def estimated_containment(hashvalues_a: np.ndarray, shingles_a: int, hashvalues_b: np.ndarray, shingles_b: int) -> float:
    """Share of the smaller document's shingles found in the other, estimated from the MinHashes."""
    if not shingles_a or not shingles_b:
        return 0.0
    j = float(np.mean(hashvalues_a == hashvalues_b))
    return min(1.0, j * (shingles_a + shingles_b) / ((1 + j) * min(shingles_a, shingles_b)))


def candidates(store: Store, e: Entry, config: ScanConfig, *, documents: int) -> set[int]:
    """Ids of archived documents that may share text with the entry's document (verify them on the text).

    ``documents``, the size of the archive, sets how many window buckets must be shared, as in ``scan``.
    """
    windows = distinct(e.window_keys.ravel())
    found, ids = store.lookup(np.concatenate([e.document_keys, windows]))
    out = set(ids[np.isin(found, e.document_keys)].tolist())
    at_window = np.isin(found, windows)
    if at_window.any():
        pairs = np.unique(np.stack([found[at_window], ids[at_window].astype(np.uint64)], axis=1), axis=0)
        keys, per_key = np.unique(pairs[:, 0], return_counts=True)
        stock = keys[per_key > config.candidates.max_window_hits]
        shared = pairs[~np.isin(pairs[:, 0], stock), 1]
        docs, counts = np.unique(shared, return_counts=True)
        out |= set(docs[counts >= config.candidates.shared_buckets(documents)].astype(np.int64).tolist())
    out |= set(store.with_digest(e.digest))
    return out


def meta_for(config: ScanConfig) -> dict:
    """What an index records about how it was built; ``check_meta`` compares it on every open."""
    import datasketch

    from dedup import __version__

    c = config.candidates
    return {
        "magic": MAGIC,
        "format": FORMAT,
        "matching": matching(config),
        "datasketch": datasketch.__version__,
        "dedup": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "bands": {
            "document": lsh_params(c.doc_threshold, config.sign.num_perm),
            "cjk_window": lsh_params(c.passage_threshold, config.sign.num_perm),
            "word_window": lsh_params(c.word_passage_threshold, config.sign.num_perm),
        },
    }


def matching(config: ScanConfig) -> dict:
    """The parameters that must be equal for signatures and buckets to be comparable."""
    c = config.candidates
    return {
        "sign": asdict(config.sign),
        "normalize": asdict(config.normalize),
        "lsh": {
            "doc_threshold": c.doc_threshold,
            "passage_threshold": c.passage_threshold,
            "word_passage_threshold": c.word_passage_threshold,
            "window": c.window,
        },
    }


def check_meta(store: Store, config: ScanConfig) -> dict:
    """The index's recorded parameters; raises ``IndexStoreError`` if it is no dedup index or was built otherwise."""
    meta = store.read_meta()
    if not meta or meta.get("magic") != MAGIC:
        raise IndexStoreError(f"{store.location}: not a dedup index")
    if meta.get("format") not in READABLE_FORMATS:
        raise IndexStoreError(
            f"{store.location}: index format {meta.get('format')!r}, this dedup reads formats "
            f"{', '.join(map(str, READABLE_FORMATS))}; rebuild it"
        )
    want, have = matching(config), meta.get("matching")
    if have != want:
        diffs = _differences(have if isinstance(have, dict) else {}, want)
        raise IndexStoreError(
            f"{store.location}: built with other MinHash/LSH parameters ({'; '.join(diffs)}); "
            "rebuild it with 'dedup index build' or use the parameters it was built with"
        )
    return meta


def _differences(have: dict, want: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(have) | set(want)):
        a, b = have.get(key), want.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: index {a!r}, now {b!r}")
    return out


@dataclass(frozen=True)
class IndexInfo:
    """What ``dedup index info`` shows."""

    location: str
    documents: int
    size_bytes: int
    meta: dict
    paths: tuple[str, ...] | None = None  # every stored path, sorted (when asked for)
