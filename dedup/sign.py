"""Shingles and MinHash signatures.

A shingle starts at every token: ``cjk_ngram`` tokens when it starts on a CJK
character, ``word_ngram`` tokens otherwise, so mixed Chinese/English text gets
character n-grams where it is Chinese and word n-grams where it is Latin.

Shingles are hashed to 32 bits with a polynomial over the token code points,
vectorized with numpy. ``shingle_hash`` is the same function on one shingle
string, so ``datasketch.MinHash(hashfunc=shingle_hash)`` fed with the shingle
strings gives exactly the signatures computed here (tests check it); the
signatures are returned as ``datasketch.MinHash`` objects of the configured
scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash

from dedup.config import WORD_WEIGHT, SignConfig
from dedup.normalize import Normalized

_P = np.uint64(0x100000001B3)  # FNV-64 prime as polynomial base
_MASK32 = np.uint64(0xFFFFFFFF)
EMPTY = np.uint32(0xFFFFFFFF)


def _fold(h: np.ndarray) -> np.ndarray:
    return ((h ^ (h >> np.uint64(32))) & _MASK32).astype(np.uint32)


def shingle_hash(shingle: str | bytes) -> int:
    """32-bit hash of one shingle (a string of token code points)."""
    if isinstance(shingle, bytes):
        shingle = shingle.decode("utf-8")
    h = 0
    for ch in shingle:
        h = (h * 0x100000001B3 + ord(ch)) & 0xFFFFFFFFFFFFFFFF
    return (h ^ (h >> 32)) & 0xFFFFFFFF


def _poly_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """Polynomial hash of every k-gram of ``codes`` (length len(codes)-k+1)."""
    n = len(codes) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _P + codes[j : j + n]
    return h


def shingle_lengths(norm: Normalized, config: SignConfig) -> np.ndarray:
    """Number of tokens of the shingle starting at each position (0 where none)."""
    n = len(norm)
    k = np.where(norm.cjk, config.cjk_ngram, config.word_ngram).astype(np.int64)
    fits = np.arange(n) + k <= n
    k = np.where(fits, k, 0)
    if n and not fits.any():  # a text shorter than one shingle is one shingle
        k[0] = n
    return k


def shingle_hashes(norm: Normalized, config: SignConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(positions, lengths, hashes)`` of every shingle of a normalized text."""
    lengths = shingle_lengths(norm, config)
    positions = np.nonzero(lengths)[0].astype(np.int32)
    if len(positions) == 0:
        return positions, lengths[positions], np.zeros(0, dtype=np.uint32)
    codes = np.frombuffer(norm.tokens.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    lengths = lengths[positions].astype(np.uint8)
    out = np.zeros(len(positions), dtype=np.uint64)
    for k in np.unique(lengths):
        sel = lengths == k
        out[sel] = _poly_hashes(codes, int(k))[positions[sel]]
    return positions, lengths, _fold(out)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) permutation parameters datasketch uses for these settings."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def permuted(hashes: np.ndarray, config: SignConfig) -> np.ndarray:
    """``num_perm × len(hashes)`` matrix of permuted hash values (datasketch affine32)."""
    a, b = permutations(config.num_perm, config.seed, config.scheme)
    with np.errstate(over="ignore"):
        hv = _fmix32(hashes.astype(np.uint32))
        return a[:, None] * hv[None, :] + b[:, None]


def make_minhash(hashvalues: np.ndarray, config: SignConfig) -> MinHash:
    """A datasketch MinHash holding ``hashvalues``."""
    return MinHash(
        num_perm=config.num_perm,
        seed=config.seed,
        scheme=config.scheme,
        hashvalues=hashvalues,
        permutations=permutations(config.num_perm, config.seed, config.scheme),
    )


def minhash_of(hashes: np.ndarray, config: SignConfig) -> MinHash:
    """MinHash of a set of shingle hashes."""
    if len(hashes) == 0:
        return make_minhash(np.full(config.num_perm, EMPTY, dtype=np.uint32), config)
    return make_minhash(permuted(hashes, config).min(axis=1), config)


@dataclass(frozen=True, eq=False)
class Signed:
    """A document's normalized tokens and its shingles.

    Kept for every document of a scan, so it stores little: the length of the
    shingle starting at each token (0: none) and the hashes of the shingles.
    """

    norm: Normalized
    shingle_lengths: np.ndarray  # uint8 per token: tokens in the shingle starting there, 0 if none
    hashes: np.ndarray  # uint32 hash of each shingle, in token order

    @property
    def positions(self) -> np.ndarray:
        """Token index where each shingle starts."""
        return np.flatnonzero(self.shingle_lengths).astype(np.int32)

    @property
    def lengths(self) -> np.ndarray:
        """Tokens in each shingle."""
        return self.shingle_lengths[self.shingle_lengths > 0]


def _signed(norm: Normalized, positions: np.ndarray, lengths: np.ndarray, hashes: np.ndarray) -> Signed:
    per_token = np.zeros(len(norm), dtype=np.uint8)
    per_token[positions] = lengths
    return Signed(norm=norm, shingle_lengths=per_token, hashes=hashes)


def sign(norm: Normalized, config: SignConfig) -> Signed:
    """Shingles of one normalized document."""
    positions, lengths, hashes = shingle_hashes(norm, config)
    return _signed(norm, positions, lengths, hashes)


def window_size(norm: Normalized, window: int) -> int:
    """Window length in tokens for a document: ``window`` CJK characters or the same size in words."""
    return window if norm.mostly_cjk else max(8, round(window / WORD_WEIGHT))


def window_minhashes(
    signed: Signed, config: SignConfig, *, window: int, skip: np.ndarray | None = None
) -> list[tuple[int, int, np.ndarray]]:
    """Hash values of overlapping windows: ``(start_token, end_token, hashvalues)``.

    Windows are ``window`` tokens long and start every ``window // 2`` tokens.
    Shingles flagged in ``skip`` (e.g. boilerplate) are left out; a window
    with fewer than a quarter of its shingles left is dropped.
    """
    n = len(signed.hashes)
    if n == 0:
        return []
    stride = max(1, window // 2)
    perm = permuted(signed.hashes, config)
    keep = np.ones(n, dtype=bool) if skip is None else ~skip
    if skip is not None:
        perm[:, skip] = EMPTY
    block_starts = np.arange(0, n, stride)
    blocks = np.minimum.reduceat(perm, block_starts, axis=1)
    counts = np.add.reduceat(keep.astype(np.int64), block_starts)
    out = []
    nblocks = len(block_starts)
    last = max(1, nblocks - 1) if n > stride else 1
    for i in range(last):
        j = min(i + 2, nblocks)
        kept = int(counts[i:j].sum())
        if kept < max(1, window // 4):
            continue
        hv = blocks[:, i:j].min(axis=1)
        out.append((int(block_starts[i]), int(min(n, block_starts[i] + window)), hv))
    return out


# Common English function words: left out of bag-of-words features.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves also us let""".split()
)


@lru_cache(maxsize=1)
def _stopword_codes() -> np.ndarray:
    from dedup.normalize import word_code

    return np.array(sorted(word_code(w) for w in STOPWORDS), dtype=np.uint64)


def bag_features(norm: Normalized) -> np.ndarray:
    """Order-free features per token (0 where none), for bag-of-words similarity.

    A Latin word that is not a stopword is its own feature; a CJK character
    followed by two more gives the character trigram. Used where word order
    was shuffled or words replaced, which breaks shingles.
    """
    n = len(norm)
    codes = np.frombuffer(norm.tokens.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    feats = np.where(norm.cjk, np.uint64(0), codes)
    stop = _stopword_codes()
    at = np.minimum(np.searchsorted(stop, feats), len(stop) - 1)
    feats[stop[at] == feats] = 0
    if n > 2:
        all3 = norm.cjk[:-2] & norm.cjk[1:-1] & norm.cjk[2:]
        c = codes & np.uint64(0x3FFFF)  # CJK code points fit in 18 bits
        trigram = (c[:-2] << np.uint64(36)) | (c[1:-1] << np.uint64(18)) | c[2:] | np.uint64(1 << 63)
        feats[:-2] = np.where(all3, trigram, feats[:-2])
    return feats


def bag_signed(signed: Signed) -> Signed:
    """The document's bag-of-words features as one-token "shingles" (for window signatures).

    Windows of these still look alike when words were shuffled or replaced.
    """
    feats = bag_features(signed.norm)
    positions = np.nonzero(feats)[0]
    f = feats[positions]
    hashes = _fold(f ^ (f >> np.uint64(29)))
    return _signed(signed.norm, positions, np.ones(len(positions), dtype=np.uint8), hashes)
