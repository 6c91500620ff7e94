"""Sketches: what a documents-only scan keeps of each document until its candidate pairs are known.

A documents-only scan (``ScanConfig(passages=False)``) compares whole documents: its candidates come from
the documents' MinHash signatures (document LSH) and from identical normalized texts, its boilerplate from
their long-shingle sets, and only the documents of candidate pairs are aligned. So the jobs that sign the
documents keep of each only those (``Sketches``: a row of ``num_perm`` MinHash values, a digest of the
normalized tokens, the long-shingle set; about 4 bytes a character and 0.5 KB a document), not its tokens,
their offsets and its shingle hashes (about 30 bytes a character). The documents of candidate pairs (a few
in a hundred of a large corpus) are signed again for alignment (``dedup.pipeline``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from dedup import ingest, sign_kernels
from dedup.boilerplate import long_shingle_sets
from dedup.candidates import GroupByKey, HashSets, document_pairs, same_key_pairs, window_pairs, window_records
from dedup.config import ScanConfig
from dedup.models import Document, Progress, Skipped, no_progress
from dedup.normalize import Normalized, normalize
from dedup.sign import (
    FILE_BATCH, SIGN_BATCH, Mapper, Signed, SignedDocument, in_batches, mapped, sign, sign_documents, sign_files,
    signatures,
)

#: Bytes of the digest of a document's normalized tokens (identical texts are candidates; the pair is verified).
DIGEST_BYTES = 16


@dataclass(frozen=True, eq=False)
class Sketches:
    """What a documents-only scan keeps of a batch of signed documents, one row each, in arrays."""

    hashvalues: np.ndarray  # documents × num_perm MinHash values (uint32; meaningless where ``shingles`` is 0)
    shingles: np.ndarray  # shingles of each document (int64; 0: no signature)
    digests: np.ndarray  # documents × DIGEST_BYTES (uint8): ``token_digest`` of each
    tokens: np.ndarray  # normalized tokens of each document (int64; 0: nothing to compare)
    long_shingles: HashSets  # ``boilerplate.long_shingle_sets`` of the documents
    #: a scan with passages: ``candidates.window_records`` of the documents, numbered in the batch from 0 (of the word
    #: documents, of the CJK ones; None: no such window); ``(None, None)`` in a documents-only scan
    windows: tuple[tuple[np.ndarray, np.ndarray] | None, tuple[np.ndarray, np.ndarray] | None] = (None, None)

    @classmethod
    def of(cls, signed: Sequence[Signed], config: ScanConfig) -> Sketches:
        digests = np.zeros((len(signed), DIGEST_BYTES), dtype=np.uint8)
        for row, s in zip(digests, signed):
            row[:] = token_digest(s.norm)
        return cls(
            hashvalues=signatures([s.hashes for s in signed], config.sign),
            shingles=np.array([len(s.hashes) for s in signed], dtype=np.int64),
            digests=digests,
            tokens=np.array([len(s.norm) for s in signed], dtype=np.int64),
            long_shingles=long_shingle_sets([s.norm for s in signed]),
            windows=window_records(signed, config) if config.passages else (None, None),
        )

    def __len__(self) -> int:
        return len(self.shingles)

    def without_windows(self) -> Sketches:
        return replace(self, windows=(None, None))

    def pack(self) -> tuple[tuple[tuple[np.ndarray, ...], ...], tuple]:
        s = self.long_shingles
        windows = tuple(w if w is not None else _NO_WINDOWS for w in self.windows)  # (a group each: freed on its own)
        return ((self.hashvalues, self.shingles, self.digests, self.tokens), (s.values, s.counts), *windows), ()

    @classmethod
    def unpack(cls, groups: Sequence[tuple[np.ndarray, ...]], rest: tuple) -> Sketches:
        (hashvalues, shingles, digests, tokens), sets, *windows = groups
        kinds = tuple((keys, owners) if len(owners) else None for keys, owners in windows)
        return cls(hashvalues, shingles, digests, tokens, HashSets(*sets), kinds)  # type: ignore[arg-type]


_NO_WINDOWS = (np.zeros((0, 0), dtype=np.uint64), np.zeros(0, dtype=np.int64))


def token_digest(norm: Normalized) -> np.ndarray:
    """``DIGEST_BYTES`` bytes (uint8) that tell a document's normalized tokens from others' (``sign_kernels.digest``)."""
    return sign_kernels.digest(norm.codes).view(np.uint8)


def sketch_batch(shared: tuple[Sequence[Document], ScanConfig], job: tuple[int, int]) -> Sketches:
    """Normalize, sign and sketch ``documents[start:end]`` (a stage function: ``shared`` is ``(documents, config)``)."""
    documents, config = shared
    start, end = job
    return Sketches.of([sign(normalize(d.text, config.normalize), config.sign) for d in documents[start:end]], config)


def sketch_documents(
    documents: Sequence[Document], *, config: ScanConfig, progress: Progress = no_progress, executor: Mapper | None = None,
    batch_size: int = SIGN_BATCH,
) -> list[Sketches]:
    """The documents' sketches, ``batch_size`` documents a part (in order), by ``executor`` when there are several
    parts (here otherwise)."""
    return [part for _, part in in_batches(sketch_batch, documents, config, executor, batch_size, progress)]


@dataclass(frozen=True, eq=False)
class SketchedFiles:
    """What reading and sketching a batch of files gives: the documents without their texts (``text`` is empty; the
    texts of the documents of candidate pairs are read again, ``signed_again``), the files skipped, the documents'
    ``Sketches``, the path each was read from and the length of its text; it packs into arrays."""

    documents: list[Document]
    skipped: list[Skipped]
    sketches: Sketches
    opened: list[str]
    chars: np.ndarray  # int64

    def pack(self) -> tuple[tuple[tuple[np.ndarray, ...], ...], tuple]:
        groups, _ = self.sketches.pack()
        records = [(d.path, d.format, d.encoding) for d in self.documents]
        return (*groups, (self.chars,)), (records, self.skipped, self.opened)

    @classmethod
    def unpack(cls, groups: Sequence[tuple[np.ndarray, ...]], rest: tuple) -> SketchedFiles:
        *sketches, (chars,) = groups
        records, skipped, opened = rest
        documents = [Document(path=p, text="", format=f, encoding=e) for p, f, e in records]
        return cls(documents, skipped, Sketches.unpack(sketches, ()), opened, chars)


def sketch_files(config: ScanConfig, found: Sequence[tuple[str, str]]) -> SketchedFiles:
    """Read, normalize, sign and sketch a batch of files ``(name, path)`` (a stage function: ``executor.map`` runs it
    with the config shared; at most ``FILE_BATCH`` files a job)."""
    documents, skipped = ingest.read_files(found, limits=config.ingest)
    signed = [sign(normalize(d.text, config.normalize), config.sign) for d in documents]
    paths = dict(found)
    return SketchedFiles(
        [replace(d, text="") for d in documents], skipped, Sketches.of(signed, config), [paths[d.path] for d in documents],
        np.array([len(d.text) for d in documents], dtype=np.int64),
    )


def signed_again(
    documents: Sequence[Document], files: Sequence[str | None], parts: Sequence[Sketches], wanted: Sequence[int], *,
    config: ScanConfig, executor: Mapper | None = None, kept: Mapping[int, Signed] | None = None,
) -> tuple[dict[int, SignedDocument], list[int]]:
    """The documents ``wanted`` (numbers into ``documents``) signed, by number: those in ``kept`` as they are there;
    those read from a file (``files[i]``, the path; None: the text is in ``documents``) read again and signed in
    ``executor``'s jobs, and kept only if their normalized tokens are those sketched (``parts``, the sketches of all
    the documents in order); the numbers of those whose file changed or can no longer be read since."""
    kept = kept or {}
    digests = np.concatenate([np.zeros((0, DIGEST_BYTES), np.uint8), *(p.digests for p in parts)])
    again = [i for i in wanted if i not in kept and files and files[i] is not None]
    rest = sorted(set(wanted) - set(again) - set(kept))
    jobs = [[(documents[i].path, files[i]) for i in again[k : k + FILE_BATCH]] for k in range(0, len(again), FILE_BATCH)]
    results = mapped(executor, sign_files, jobs, config)
    read = {d.path: SignedDocument(d, s) for batch in results for d, s in zip(batch.documents, batch.signed)}
    out: dict[int, SignedDocument] = {}
    changed = []
    for i in again:
        d = read.get(documents[i].path)
        if d is None or not np.array_equal(token_digest(d.norm), digests[i]):
            changed.append(i)
        else:
            out[i] = d
    out.update(zip(rest, sign_documents([documents[i] for i in rest], config=config, executor=executor)))
    out.update((i, SignedDocument(documents[i], kept[i])) for i in wanted if i in kept)
    return out, changed


def sketched_candidates(parts: list[Sketches], config: ScanConfig, *, group_by_key: GroupByKey) -> list[tuple[int, int]]:
    """The candidate pairs ``(i, j)``, ``i < j``, sorted, of the documents of ``parts`` (in order) that
    ``candidates.candidate_pairs`` gives of them: MinHash LSH collisions, identical tokens and, in a scan with passages,
    windows that share buckets. The windows are taken out of ``parts`` (in place: grouped once, then freed)."""
    shingles = np.concatenate([np.zeros(0, np.int64), *(p.shingles for p in parts)])
    signed = np.flatnonzero(shingles > 0)
    hashvalues = np.concatenate([np.zeros((0, config.sign.num_perm), np.uint32), *(p.hashvalues for p in parts)])
    found = document_pairs(hashvalues[signed], signed, config, group_by_key=group_by_key)
    tokens = np.concatenate([np.zeros(0, np.int64), *(p.tokens for p in parts)])
    digests = np.concatenate([np.zeros((0, DIGEST_BYTES), np.uint8), *(p.digests for p in parts)])
    found |= same_key_pairs([row.tobytes() if n else None for row, n in zip(digests, tokens.tolist())])
    found |= window_pairs(_taken_windows(parts), len(tokens), config, group_by_key=group_by_key)
    return sorted(found)


def _taken_windows(parts: list[Sketches]) -> tuple[list, list]:
    """The window records of ``parts`` (in order), their owners numbered in the scan, of the word documents and of
    the CJK ones; taken out of ``parts``, in place (``window_pairs`` joins them one by one: a part's segment is then
    freed)."""
    made: tuple[list, list] = ([], [])
    first = 0
    for k in range(len(parts)):
        for kind, records in zip(made, parts[k].windows):
            if records is not None:
                kind.append((records[0], records[1] + first))
        first += len(parts[k])
        parts[k] = parts[k].without_windows()
    return made


__all__ = [
    "FILE_BATCH", "SketchedFiles", "Sketches", "signed_again", "sketch_documents", "sketch_files", "sketched_candidates",
]
