"""The naive baseline: near-duplicate search written the way the libraries' docs suggest.

- shingles: the same as dedup's (a shingle starts at every token: 5 tokens when it starts on a
  CJK character, 3 word tokens otherwise; a text shorter than one shingle is one shingle), over
  the tokens of ``dedup.normalize.normalize``, so only hashing, LSH and alignment differ;
- ``datasketch.MinHash(num_perm=128)`` fed with ``m.update(shingle.encode("utf8"))`` for each
  distinct shingle (default hash: SHA-1, 32 bits), as in datasketch's MinHash example;
- ``datasketch.MinHashLSH(threshold=0.4, num_perm=128)``: every document inserted, then every
  document queried;
- ``rapidfuzz.fuzz.partial_ratio_alignment(shorter, longer)`` on each candidate pair: the best
  matching window of the longer text for the whole shorter one, with its score.

    from naive import naive_scan
    pairs = naive_scan(texts)   # [NaivePair(i, j, score, alignment), ...]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz
from rapidfuzz.distance import ScoreAlignment

from dedup.config import NormalizeConfig, SignConfig
from dedup.normalize import Normalized, normalize

NUM_PERM = 128
THRESHOLD = 0.4


def shingles(text: str, *, sign: SignConfig | None = None, norm: NormalizeConfig | None = None) -> set[str]:
    """The distinct shingles of ``text`` (strings of token code points), as dedup defines them."""
    return token_shingles(normalize(text, norm), sign=sign)


def token_shingles(tokens: Normalized, *, sign: SignConfig | None = None) -> set[str]:
    """The distinct shingles of already normalized text."""
    sign = sign or SignConfig()
    toks, cjk = tokens.tokens, tokens.cjk.tolist()
    n = len(toks)
    if n == 0:
        return set()
    out = set()
    for i in range(n):
        k = sign.cjk_ngram if cjk[i] else sign.word_ngram
        if i + k <= n:
            out.add(toks[i : i + k])
    if not out:  # a text shorter than one shingle is one shingle
        out.add(toks)
    return out


def naive_signature(text: str) -> MinHash:
    return naive_token_signature(normalize(text))


def naive_token_signature(tokens: Normalized) -> MinHash:
    """``naive_signature`` of already normalized text."""
    m = MinHash(num_perm=NUM_PERM)
    for s in token_shingles(tokens):
        m.update(s.encode("utf8"))
    return m


def naive_signatures(texts: Sequence[str]) -> list[MinHash]:
    """One ``datasketch.MinHash`` per text, built with ``MinHash.update`` per shingle."""
    return [naive_signature(t) for t in texts]


def naive_candidates(signatures: Sequence[MinHash], *, threshold: float = THRESHOLD) -> list[tuple[int, int]]:
    """Pairs (i < j) that collide in ``MinHashLSH``: insert every document, query every document."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    for i, m in enumerate(signatures):
        lsh.insert(i, m)
    pairs = set()
    for i, m in enumerate(signatures):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


@dataclass(frozen=True)
class NaivePair:
    i: int
    j: int
    score: float  # partial_ratio, 0..100
    alignment: ScoreAlignment  # src: the shorter text (i or j, see ``shorter``), dest: the longer one
    shorter: int  # index of the text that was aligned as a whole


def naive_align(texts: Sequence[str], pairs: Sequence[tuple[int, int]]) -> list[NaivePair]:
    """``partial_ratio_alignment`` of each pair, shorter text against longer."""
    out = []
    for i, j in pairs:
        s, l = (i, j) if len(texts[i]) <= len(texts[j]) else (j, i)
        al = fuzz.partial_ratio_alignment(texts[s], texts[l])
        out.append(NaivePair(i, j, al.score, al, s))
    return out


def naive_scan(texts: Sequence[str], *, timings: dict | None = None) -> list[NaivePair]:
    """The whole naive pipeline on a list of texts; ``timings`` (if given) gets seconds per stage."""
    t0 = time.perf_counter()
    sigs = naive_signatures(texts)
    t1 = time.perf_counter()
    pairs = naive_candidates(sigs)
    t2 = time.perf_counter()
    aligned = naive_align(texts, pairs)
    t3 = time.perf_counter()
    if timings is not None:
        timings.update(signatures=t1 - t0, lsh=t2 - t1, align=t3 - t2, candidates=len(pairs))
    return aligned
