"""The stored format of an archive index, and its version: one module owns it.

An index holds plain data only, never pickles, so an index handed over by someone else cannot run
code when opened:

- meta: JSON values: ``magic`` (``MAGIC``: a dedup index), ``format`` (``FORMAT``), the
  parameters that must match for signatures and buckets to be comparable (``matching``), the
  LSH bands and rows, the versions of dedup and datasketch that built it, the folder it was built
  from (``root``) and, in SQLite, the key-prefix bits of its bucket rows (``prefix_bits``);
- documents: path, format, encoding, size, a digest of the normalized tokens and the original
  text (UTF-8 in an LZ4 frame; zlib in indexes of format 1), so that ``check`` can report passages
  even when the archive folder has moved;
- LSH buckets: 64-bit bucket keys (see ``dedup.index``) mapped to document ids. SQLite keeps them
  in rows of one key prefix (the top ``prefix_bits`` bits); a row keeps of each key its low 32 bits,
  so the prefix and those bits tell keys apart (indexes of format 1 and 2 kept whole keys; a row
  says which by its length). Redis keeps them in datasketch's ``RedisSetStorage`` layout;
- boilerplate: the long-shingle hashes judged boilerplate in the archive, one sorted array of
  little-endian uint32 (read whole at every check, so it is one blob).

Format history: 1 (zlib texts, rows of whole keys), 2 (rows of whole keys), 3 (LZ4 texts, rows of
key suffixes). This version writes format 3 and reads all three.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from importlib.metadata import version

import lz4.frame
import numpy as np

from dedup import set_kernels
from dedup.candidates import lsh_params
from dedup.config import ScanConfig
from dedup.errors import IndexStoreError
from dedup.version import __version__

#: Written into every index; a file without it is not a dedup index.
MAGIC = "dedup-index"
FORMAT = 3
#: Formats this dedup reads. Format 1 kept the texts zlib-compressed (a stored text says which by its first
#: bytes); formats 1 and 2 kept whole 64-bit keys in bucket rows (a row says which by its length).
READABLE_FORMATS = (1, 2, 3)
_LZ4_MAGIC = b"\x04\x22\x4d\x18"  # an LZ4 frame starts with it; a zlib stream never does
#: Buckets are grouped by the top bits of their key: one row per group and write. An index built
#: at once uses fewer bits when it is small (``prefix_bits_for``, recorded as meta ``prefix_bits``).
PREFIX_BITS = 24
#: The key-prefix bits an index may record (``prefix_bits_for`` gives 8 to ``PREFIX_BITS``; rows keep the low 32
#: bits of each key, so a prefix of more than 32 bits would lose bits of it).
MIN_PREFIX_BITS, MAX_PREFIX_BITS = 8, 32


# --------------------------------------------------------------------------- meta


def meta_for(config: ScanConfig) -> dict:
    """What an index records about how it was built; ``check_meta`` compares it on every open."""
    return {
        "magic": MAGIC,
        "format": FORMAT,
        "matching": matching(config),
        "datasketch": version("datasketch"),
        "dedup": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "bands": bands_for(config),
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


def check_meta(meta: dict | None, config: ScanConfig, location: str) -> dict:
    """An index's recorded meta; raises ``IndexStoreError`` if it is no dedup index, of a format this dedup
    does not read, built with other parameters than ``config``, or if its recorded values are not what dedup
    writes (``prefix_bits`` 8 to 32, the LSH bands of the parameters, the folder it was built from)."""
    if not isinstance(meta, dict) or meta.get("magic") != MAGIC:
        raise IndexStoreError(f"{location}: not a dedup index")
    fmt = meta.get("format")
    if type(fmt) is not int or fmt not in READABLE_FORMATS:
        raise IndexStoreError(
            f"{location}: index format {fmt!r}, this dedup reads formats "
            f"{', '.join(map(str, READABLE_FORMATS))}; rebuild it"
        )
    want, have = matching(config), meta.get("matching")
    if have != want:
        diffs = _differences(have if isinstance(have, dict) else {}, want)
        raise IndexStoreError(
            f"{location}: built with other MinHash/LSH parameters ({'; '.join(diffs)}); "
            "rebuild it with 'dedup index build' or use the parameters it was built with"
        )
    bits = meta.get("prefix_bits", PREFIX_BITS)
    if type(bits) is not int or not MIN_PREFIX_BITS <= bits <= MAX_PREFIX_BITS:
        raise damaged(location, f"prefix_bits {bits!r}, where dedup writes {MIN_PREFIX_BITS} to {MAX_PREFIX_BITS}")
    if "bands" in meta:
        bands, expected = meta["bands"], bands_for(config)
        if not isinstance(bands, dict) or set(bands) != set(expected) or not all(
            isinstance(b, list) and len(b) == 2 and all(type(x) is int and x > 0 for x in b) for b in bands.values()
        ):
            raise damaged(location, f"LSH bands {bands!r}, where dedup writes {expected!r}")
        if bands != expected:
            diffs = [f"{k}: index {bands[k]}, now {expected[k]}" for k in sorted(expected) if bands[k] != expected[k]]
            raise IndexStoreError(
                f"{location}: built with other LSH bands and rows ({'; '.join(diffs)}): its bucket keys are not this "
                "dedup's; rebuild it with 'dedup index build'"
            )
    if not isinstance(meta.get("root"), (str, type(None))):
        raise damaged(location, f"root {meta['root']!r} is not a folder")
    return meta


def bands_for(config: ScanConfig) -> dict[str, list[int]]:
    """The LSH (bands, rows) of each level, as an index records them (meta ``bands``)."""
    c = config.candidates
    return {
        "document": list(lsh_params(c.doc_threshold, config.sign.num_perm)),
        "cjk_window": list(lsh_params(c.passage_threshold, config.sign.num_perm)),
        "word_window": list(lsh_params(c.word_passage_threshold, config.sign.num_perm)),
    }


def _differences(have: dict, want: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(have) | set(want)):
        a, b = have.get(key), want.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: index {a!r}, now {b!r}")
    return out


# --------------------------------------------------------------------------- texts and hashes


def pack_text(text: str) -> bytes:
    """A document's text as stored: UTF-8 in an LZ4 frame."""
    return lz4.frame.compress(text.encode("utf-8"))


def unpack_text(blob: bytes, where: str, chars: int) -> str:
    """A stored text (an LZ4 frame, or zlib in format 1) of ``chars`` characters; ``IndexStoreError`` naming
    ``where`` if damaged. Decompressed at most ``4 * chars`` bytes (UTF-8 takes up to 4 bytes a character), so
    that a tampered text (a decompression bomb) is refused before it fills the memory."""
    if not isinstance(blob, bytes) or isinstance(chars, bool) or not isinstance(chars, int) or chars < 0:
        raise damaged(where, "a stored text or its length is not what an index holds")
    cap = 4 * chars
    try:
        data, complete = (_lz4_at_most if blob[:4] == _LZ4_MAGIC else _zlib_at_most)(blob, cap + 1)
        if len(data) > cap or not complete:
            raise ValueError(f"it does not expand to {chars} characters")
        text = data.decode("utf-8")
    except (RuntimeError, zlib.error, ValueError) as err:  # (UnicodeDecodeError is a ValueError)
        raise damaged(where, f"a stored text is damaged: {err}") from None
    if len(text) != chars:
        raise damaged(where, f"a stored text is damaged: {len(text)} characters where {chars} were stored")
    return text


#: LZ4 output asked for at once (the decompressor sets aside as much as it is asked for).
_LZ4_PIECE = 4 << 20


def _lz4_at_most(blob: bytes, limit: int) -> tuple[bytes, bool]:
    """An LZ4 frame decompressed, at most ``limit`` bytes of it (in pieces); whether that was the whole frame."""
    stream = lz4.frame.LZ4FrameDecompressor()
    pieces, size, data = [], 0, blob
    while size < limit:
        piece = stream.decompress(data, max_length=min(_LZ4_PIECE, limit - size))
        data = b""
        pieces.append(piece)
        size += len(piece)
        if stream.eof or stream.needs_input or not piece:  # (the end; or an incomplete frame)
            break
    return b"".join(pieces), stream.eof


def _zlib_at_most(blob: bytes, limit: int) -> tuple[bytes, bool]:
    """A zlib stream decompressed, at most ``limit`` bytes of it; whether that was the whole stream."""
    stream = zlib.decompressobj()
    data = stream.decompress(blob, limit)
    return data, stream.eof


def damaged(where: str, what: str) -> IndexStoreError:
    """The error for an index whose stored data is not what dedup writes (tampered with, or damaged)."""
    return IndexStoreError(f"{where}: index damaged ({what}); rebuild it with 'dedup index build'")


def u4_blob(values: np.ndarray) -> bytes:
    """Little-endian uint32 values as bytes: document ids, key suffixes, hashes (boilerplate: sorted)."""
    return np.ascontiguousarray(values, dtype="<u4").tobytes()


def hashes_of(blob: bytes, where: str) -> np.ndarray:
    """The stored boilerplate hashes (a read-only view); ``IndexStoreError`` naming ``where`` if damaged."""
    if not isinstance(blob, bytes) or len(blob) % 4:
        raise damaged(where, "the stored boilerplate is not an array of 4-byte hashes")
    return np.frombuffer(blob, dtype="<u4")


# --------------------------------------------------------------------------- bucket rows (SQLite)

Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def prefix_bits_for(entries: int) -> int:
    """Key-prefix bits for an index of this many bucket entries: rows of 192 to 384 entries on average (under
    3,100 bytes, so that SQLite keeps them in their b-tree page, not in overflow pages), at most
    ``PREFIX_BITS``."""
    return int(min(PREFIX_BITS, max(8, math.floor(math.log2(max(1, entries) / 192)))))


def bucket_rows(keys: np.ndarray, ids: np.ndarray, bits: int) -> Rows:
    """(key, id) entries as bucket rows, one per key prefix, in prefix order: the prefixes, where each row's
    entries start (one bound more, at the end), and the entries' key suffixes (their low 32 bits, what a row of
    format 3 keeps) and ids."""
    suffixes, ids, prefixes, bounds = set_kernels.group_by_prefix(
        np.ascontiguousarray(keys, dtype="<u8"), np.ascontiguousarray(ids, dtype="<u4"), np.uint64(64 - bits)
    )
    return prefixes, bounds, suffixes, ids


def row_blobs(rows: Rows) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``bucket_rows`` as ``(prefix, keys blob, ids blob)`` per row; the blobs are slices of the arrays, not
    copies (sqlite3 binds any contiguous buffer as a BLOB: here, their little-endian bytes)."""
    prefixes, bounds, suffixes, ids = rows
    suffixes, ids = (np.ascontiguousarray(a, dtype="<u4") for a in (suffixes, ids))
    b = bounds.tolist()
    return ((p, suffixes[b[r] : b[r + 1]], ids[b[r] : b[r + 1]]) for r, p in enumerate(prefixes.tolist()))


def cut(keys: np.ndarray, bits: int) -> np.ndarray:
    """What tells keys apart in rows: the prefix (top ``bits`` bits, the row) above the key's low 32 bits."""
    return ((keys >> np.uint64(64 - bits)) << np.uint64(32)) | (keys & np.uint64(0xFFFFFFFF))


def row_arrays(rows: Sequence[tuple[int, bytes, bytes]], where: str = "index") -> Rows:
    """Bucket rows ``(prefix, keys blob, ids blob)`` as arrays: each row's prefix, where its entries start
    (one bound more, at the end), and the entries' keys (their low 32 bits) and ids.

    A row of format 3 keeps 4-byte key suffixes; of formats 1 and 2, whole 8-byte keys (told apart by length).
    A row that is neither (tampered with) is an ``IndexStoreError`` naming ``where``.
    """
    kblobs = []
    for prefix, kb, ib in rows:  # (checked with few operations: a lookup reads thousands of rows)
        if type(kb) is not bytes or type(ib) is not bytes or type(prefix) is not int or len(ib) & 3:
            raise damaged(where, f"a bucket row of prefix {prefix!r} is not one dedup writes")
        if len(kb) == len(ib):
            kblobs.append(kb)
        elif len(kb) == 2 * len(ib):
            kblobs.append(np.frombuffer(kb, dtype="<u8").astype("<u4").tobytes())
        else:
            raise damaged(where, f"a bucket row of prefix {prefix!r} is not one dedup writes")
    bounds = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r[2]) // 4 for r in rows], out=bounds[1:])
    return (
        np.array([r[0] for r in rows], dtype=np.uint64),
        bounds,
        np.frombuffer(b"".join(kblobs), dtype="<u4"),
        np.frombuffer(b"".join(r[2] for r in rows), dtype="<u4"),
    )
