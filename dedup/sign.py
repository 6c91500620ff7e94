"""Shingles and MinHash signatures.

A shingle starts at every token: ``cjk_ngram`` tokens when it starts on a CJK
character, ``word_ngram`` tokens otherwise, so mixed Chinese/English text gets
character n-grams where it is Chinese and word n-grams where it is Latin.

Shingles are hashed to 32 bits with a polynomial over the token code points
(``h = h * 0x100000001B3 + code`` modulo 2**64, folded to 32 bits as ``h ^ h >> 32``), in compiled
loops (``dedup.sign_kernels``). Signatures are those of ``datasketch.MinHash`` of the configured
scheme: ``MinHash(hashfunc=<that hash>)`` fed with the shingle strings gives exactly the rows of
``signatures`` (tests check it against the reference hash of ``tests/reference.py``), and a row
makes a ``MinHash`` with ``MinHash(num_perm=..., seed=..., scheme=..., hashvalues=row)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from dedup import ingest
from dedup import sign_kernels as kernels
from dedup.config import WORD_WEIGHT, ScanConfig, SignConfig
from dedup.models import Document, Progress, Skipped, no_progress
from dedup.normalize import Normalized, normalize, word_code

_MASK32 = np.uint64(0xFFFFFFFF)


def _fold(h: np.ndarray) -> np.ndarray:
    return ((h ^ (h >> np.uint64(32))) & _MASK32).astype(np.uint32)


def _shingles(norm: Normalized, config: SignConfig) -> tuple[np.ndarray, np.ndarray]:
    return kernels.shingles(norm.codes, norm.cjk, config.cjk_ngram, config.word_ngram)


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int, scheme: str) -> np.ndarray:
    """The (a, b) permutation parameters datasketch's ``MinHash`` uses for these settings (rows of one array).

    Drawn as ``MinHash._init_permutations`` draws them for the ``affine32`` scheme (tested against it), without
    importing datasketch, whose LSH imports scipy: 0.4 s of every command's start-up."""
    if scheme != "affine32":
        raise ValueError(f"only the 'affine32' scheme is supported, got {scheme!r}")
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


def signatures(hash_sets: Sequence[np.ndarray], config: SignConfig, *, chunk: int = 1 << 22) -> np.ndarray:
    """MinHash values of many sets of shingle hashes, one row each (the ``hashvalues`` of datasketch's ``MinHash``
    of each set, fed the hashes as they are); the sets ``chunk`` hashes or so a compiled call (each call copies its
    sets' hashes into one array: not all of a large scan's at once)."""
    a, b = permutations(config.num_perm, config.seed, config.scheme)
    sizes = np.array([len(h) for h in hash_sets], dtype=np.int64)
    ends = np.cumsum(sizes)
    parts, start = [], 0
    while start < len(hash_sets) or not parts:
        base = int(ends[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, base + chunk, side="right")))
        sets = hash_sets[start:stop]
        offsets = np.zeros(len(sets) + 1, dtype=np.int64)
        np.cumsum(sizes[start:stop], out=offsets[1:])
        flat = np.concatenate(sets) if len(sets) else np.zeros(0, dtype=np.uint32)
        parts.append(kernels.many_min_hashes(flat.astype(np.uint32, copy=False), offsets, a, b))
        start = stop
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


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


def sign(norm: Normalized, config: SignConfig) -> Signed:
    """Shingles of one normalized document."""
    lengths, hashes = _shingles(norm, config)
    return Signed(norm=norm, shingle_lengths=lengths, hashes=hashes)


@dataclass(frozen=True, eq=False)
class SignedDocument:
    """A document with its normalized tokens and shingles: what the later stages work on."""

    doc: Document
    signed: Signed

    @property
    def norm(self) -> Normalized:
        return self.signed.norm


class SignedDocuments(Sequence):
    """A scan's signed documents by number, some of them absent (None: a documents-only scan signs only those of
    candidate pairs). It pickles as a few arrays (those of ``SignedBatch`` and the texts), not as ~15 objects a
    document: what a Ray executor sends its workers as a stage's shared data (pickling objects one by one cost
    seconds a stage there)."""

    def __init__(self, size: int, present: dict[int, SignedDocument]) -> None:
        self.size = size
        self.present = present

    @classmethod
    def of(cls, docs: Sequence[SignedDocument]) -> SignedDocuments:
        return cls(len(docs), dict(enumerate(docs)))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i):  # (an int: a document or None; a slice: a list)
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.size))]
        if not -self.size <= i < self.size:
            raise IndexError(i)
        return self.present.get(i % self.size)

    def __reduce__(self):
        numbers = sorted(self.present)
        docs = [self.present[k] for k in numbers]
        groups, rest = SignedBatch([d.signed for d in docs]).pack()
        texts, _ = texts_packed([d.doc for d in docs])
        others = [replace(d.doc, text="") for d in docs]  # (names, formats, metadata; the texts are in the arrays)
        return _signed_documents, (self.size, np.array(numbers, dtype=np.int64), groups, rest, texts, others)


def _signed_documents(size, numbers, groups, rest, texts, others) -> SignedDocuments:
    signed = SignedBatch.unpack(groups, rest).signed
    docs = [replace(d, text=t) for d, t in zip(others, _split_at(*texts, "surrogatepass"))]
    return SignedDocuments(size, {k: SignedDocument(d, s) for k, d, s in zip(numbers.tolist(), docs, signed)})


#: Documents normalized and signed per job when an executor signs them.
SIGN_BATCH = 250
#: Short texts (Simplified and Traditional Chinese, English) that take signing through the compiled kernels it uses.
WARM_UP_TEXTS = (
    "各位代表：现在，我代表国务院，向大会报告政府工作，请予审议。發展經濟，服務人民，第1頁。\n" * 4,
    "Mr. Speaker, Members of Congress, my fellow Americans: tonight I report on the state of our Union, page 2.\n" * 4,
)


class Mapper(Protocol):
    """What a stage that hands out jobs needs of an executor (see ``dedup.executors``)."""

    def map(self, fn, jobs: Sequence, *, shared: object = None) -> Iterable: ...


def mapped(executor: Mapper | None, fn: Callable[[Any, Any], Any], jobs: Sequence, shared: object) -> Iterable:
    """``fn(shared, job)`` for each job, in order: by ``executor`` (``map``), or here without one."""
    return executor.map(fn, jobs, shared=shared) if executor is not None else (fn(shared, job) for job in jobs)


def sign_documents(
    documents: Sequence[Document],
    *,
    config: ScanConfig,
    progress: Progress = no_progress,
    executor: Mapper | None = None,
    batch_size: int = SIGN_BATCH,
) -> list[SignedDocument]:
    """Normalize and sign a batch of documents: here, or ``batch_size`` at a time by ``executor`` (``sign_batch``,
    the documents and the config shared); the same records either way."""
    out: list[SignedDocument] = []
    if executor is None or len(documents) <= batch_size:
        for i, doc in enumerate(documents):
            out.append(SignedDocument(doc, sign(normalize(doc.text, config.normalize), config.sign)))
            progress("sign", i + 1, len(documents))
        return out
    for (start, end), batch in in_batches(sign_batch, documents, config, executor, batch_size, progress):
        out.extend(SignedDocument(doc, signed) for doc, signed in zip(documents[start:end], batch.signed))
    return out


def in_batches(
    fn: Callable[[tuple[Sequence[Document], ScanConfig], tuple[int, int]], Any], documents: Sequence[Document],
    config: ScanConfig, executor: Mapper | None, batch_size: int, progress: Progress,
) -> Iterator[tuple[tuple[int, int], Any]]:
    """``fn((documents, config), (start, end))`` for each batch of ``batch_size`` documents, in order, with the
    batch's bounds: by ``executor`` when there are several batches (the compiled kernels loaded here first, so that
    processes forked next have them), here otherwise; progress "sign" as each batch is done."""
    jobs = [(k, min(k + batch_size, len(documents))) for k in range(0, len(documents), batch_size)]
    if executor is not None and len(jobs) > 1:
        warm_up(config)
        results = executor.map(fn, jobs, shared=(documents, config))
    else:
        results = (fn((documents, config), job) for job in jobs)
    for job, result in zip(jobs, results):
        progress("sign", job[1], len(documents))
        yield job, result


def warm_up(config: ScanConfig) -> None:
    """Load the compiled kernels signing uses (in a process about to fork the executor's: they then have them)."""
    for text in WARM_UP_TEXTS:
        sign(normalize(text, config.normalize), config.sign)


def sign_batch(shared: tuple[Sequence[Document], ScanConfig], job: tuple[int, int]) -> SignedBatch:
    """Normalize and sign ``documents[start:end]`` (a stage function: ``shared`` is ``(documents, config)``, ``job``
    is ``(start, end)``)."""
    documents, config = shared
    start, end = job
    return SignedBatch([sign(normalize(d.text, config.normalize), config.sign) for d in documents[start:end]])


@dataclass(frozen=True, eq=False)
class SignedBatch:
    """What signing a batch of documents gives (``Signed`` records, in order); it packs into a few arrays
    (``dedup.executors``: the local executor hands them over in shared memory)."""

    signed: list[Signed]

    _ARRAYS = ("starts", "ends", "cjk", "breaks", "heavy")

    def pack(self) -> tuple[tuple[tuple[np.ndarray, ...], ...], tuple]:
        norms = [s.norm for s in self.signed]
        tokens = np.frombuffer("".join(n.tokens for n in norms).encode("utf-32-le"), dtype="<u4")
        words = np.frombuffer("".join(n.all_words for n in norms).encode("utf-8"), dtype=np.uint8)
        word_ends = np.cumsum([len(n.all_words.encode("utf-8")) for n in norms], dtype=np.int64)
        sizes = np.array([len(n) for n in norms], dtype=np.int64)
        hash_sizes = np.array([len(s.hashes) for s in self.signed], dtype=np.int64)
        columns = tuple(
            np.concatenate([np.zeros(0, dtype)] + [getattr(n, name) for n in norms if getattr(n, name) is not None]).astype(dtype, copy=False)
            for name, dtype in zip(self._ARRAYS, (np.int32, np.int32, bool, bool, bool))
        )
        lengths = np.concatenate([np.zeros(0, np.uint8), *(s.shingle_lengths for s in self.signed)])
        hashes = np.concatenate([np.zeros(0, np.uint32), *(s.hashes for s in self.signed)])
        rest = [(n.page_markers, n.converted, n.breaks is not None, n.heavy is not None) for n in norms]
        return ((tokens, words, word_ends, sizes, hash_sizes, *columns, lengths, hashes),), rest

    @classmethod
    def unpack(cls, groups: Sequence[tuple[np.ndarray, ...]], rest: list) -> SignedBatch:
        ((tokens, words, word_ends, sizes, hash_sizes, starts, ends, cjk, breaks, heavy, lengths, hashes),) = groups
        text, all_words = tokens.tobytes().decode("utf-32-le"), _split_at(words, word_ends)
        out, at, h, b, v = [], 0, 0, 0, 0  # token, hash, breaks and heavy offsets
        for k, (n, m, (markers, converted, has_breaks, has_heavy)) in enumerate(zip(sizes.tolist(), hash_sizes.tolist(), rest)):
            norm = Normalized(
                text[at : at + n], starts[at : at + n], ends[at : at + n], cjk[at : at + n],
                all_words[k],
                breaks[b : b + n] if has_breaks else None, markers, converted, heavy[v : v + n] if has_heavy else None,
            )
            out.append(Signed(norm=norm, shingle_lengths=lengths[at : at + n], hashes=hashes[h : h + m]))
            at, h, b, v = at + n, h + m, b + n * has_breaks, v + n * has_heavy
        return cls(out)


def _split_at(utf8: np.ndarray, byte_ends: np.ndarray, errors: str = "strict") -> list[str]:
    """The texts whose UTF-8 bytes, joined, are ``utf8``, each ending at ``byte_ends``."""
    bounds = [0, *byte_ends.tolist()]
    raw = utf8.tobytes()
    return [raw[a:b].decode("utf-8", errors) for a, b in zip(bounds, bounds[1:])]


#: Files read and signed per job when an executor reads them (``sign_files``).
FILE_BATCH = 250


def read_signed(config: ScanConfig, found: Sequence[tuple[str, str]]) -> tuple[list[Document], list[Skipped], list[Signed]]:
    """Read a batch of files ``(name, path)`` (``ingest.read_files``, within ``config.ingest``) and normalize and sign
    the documents read: the documents, the files skipped (each in the order found) and the documents' ``Signed``."""
    documents, skipped = ingest.read_files(found, limits=config.ingest)
    return documents, skipped, [sign(normalize(d.text, config.normalize), config.sign) for d in documents]


def sign_files(config: ScanConfig, found: Sequence[tuple[str, str]]) -> SignedFiles:
    """``read_signed`` as a stage function (``executor.map`` runs it with the config shared)."""
    return SignedFiles(*read_signed(config, found))


@dataclass(frozen=True, eq=False)
class SignedFiles:
    """What reading and signing a batch of files gives: the documents, the files skipped and the documents'
    ``Signed``; it packs into arrays (the texts and those of a ``SignedBatch``) as ``SignedBatch`` does."""

    documents: list[Document]
    skipped: list[Skipped]
    signed: list[Signed]

    def pack(self) -> tuple[tuple[tuple[np.ndarray, ...], ...], tuple]:
        (arrays,), rest = SignedBatch(self.signed).pack()
        texts, records = texts_packed(self.documents)
        return (arrays, texts), (rest, records, self.skipped)

    @classmethod
    def unpack(cls, groups: Sequence[tuple[np.ndarray, ...]], rest: tuple) -> SignedFiles:
        arrays, texts = groups
        signed_rest, records, skipped = rest
        return cls(texts_unpacked(texts, records), skipped, SignedBatch.unpack((arrays,), signed_rest).signed)


def texts_packed(documents: Sequence[Document]) -> tuple[tuple[np.ndarray, np.ndarray], list[tuple[str, str, str | None]]]:
    """A folder's documents as two arrays (their texts' UTF-8 bytes, joined, and where each ends) and a record of
    each (path, format, encoding): how results holding them travel (``texts_unpacked`` gives them back)."""
    texts = [d.text.encode("utf-8", "surrogatepass") for d in documents]
    ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
    return (np.frombuffer(b"".join(texts), dtype=np.uint8), ends), [(d.path, d.format, d.encoding) for d in documents]


def texts_unpacked(texts: tuple[np.ndarray, np.ndarray], records: Sequence[tuple[str, str, str | None]]) -> list[Document]:
    """The documents ``texts_packed`` made arrays of."""
    joined, ends = texts
    return [
        Document(path=p, text=t, format=f, encoding=e)
        for (p, f, e), t in zip(records, _split_at(joined, ends, "surrogatepass"))
    ]


def window_size(norm: Normalized, window: int) -> int:
    """Window length in tokens for a document: ``window`` CJK characters or the same size in words."""
    return window if norm.mostly_cjk else max(8, round(window / WORD_WEIGHT))


def window_signatures(
    signed: Signed, config: SignConfig, *, window: int, skip: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """MinHash values of overlapping windows: the first shingle of each window, and the windows' hash values
    (``windows × num_perm``).

    Windows are ``window`` shingles long and start every ``window // 2`` shingles. Shingles flagged in
    ``skip`` are left out; a window with fewer than a quarter of its shingles left is dropped.
    """
    n = len(signed.hashes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, config.num_perm), dtype=np.uint32)
    stride = max(1, window // 2)
    a, b = permutations(config.num_perm, config.seed, config.scheme)
    skip = np.zeros(n, dtype=bool) if skip is None else skip
    blocks, kept = kernels.block_min_hashes(signed.hashes, skip, stride, a, b)
    if len(blocks) > 1:  # a window is two successive blocks
        blocks, kept = np.minimum(blocks[:-1], blocks[1:]), kept[:-1] + kept[1:]
    ok = np.flatnonzero(kept >= max(1, window // 4))
    return ok * stride, blocks[ok]


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
    return np.array(sorted(word_code(w) for w in STOPWORDS), dtype=np.uint64)


def bag_features(norm: Normalized) -> np.ndarray:
    """Order-free features per token (0 where none), for bag-of-words similarity.

    A Latin word that is not a stopword is its own feature; a CJK character
    followed by two more gives the character trigram. Used where word order
    was shuffled or words replaced, which breaks shingles.
    """
    return kernels.bag_features(norm.codes, norm.cjk, _stopword_codes())


def bag_signed(signed: Signed) -> Signed:
    """The document's bag-of-words features as one-token "shingles" (for window signatures).

    Windows of these still look alike when words were shuffled or replaced.
    """
    feats = bag_features(signed.norm)
    present = feats != 0
    f = feats[present]
    return Signed(norm=signed.norm, shingle_lengths=present.astype(np.uint8), hashes=_fold(f ^ (f >> np.uint64(29))))
