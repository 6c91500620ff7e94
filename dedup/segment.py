"""Chinese word segmentation: exactly ``jieba.Tokenizer().cut(text, HMM=False)``, without jieba's load time.

jieba loads its dictionary (a prefix dictionary of ~500,000 words and word prefixes) in 0.7–1.1 s in every process
that segments, and importing jieba costs 0.2 s more; dedup segments only a few short contexts per near-duplicate
pair (to widen a character substitution to whole words). Here the same dictionary, ``FREQ`` and ``total`` as
``jieba.Tokenizer.gen_pfdict`` makes them from the ``dict.txt`` of the installed jieba, is kept in a compact file
in this user's cache folder, which loads in a few milliseconds without importing jieba; the words beginning with
one character become a ``dict`` (jieba's own ``FREQ``, restricted to them) the first time a text holds that
character. ``Segmenter.cut`` then runs jieba's algorithm (block regexes, ``get_DAG``, ``calc``,
``__cut_DAG_NO_HMM``) step by step on them, with the same floating-point operations in the same order, so the
words are the same for any text.

The file is named after the jieba version and the size and modification time of its ``dict.txt``, written
atomically (temporary file, then ``os.replace``) and checked when read (checksum and structure): a corrupted or
truncated file is rebuilt, never trusted. It lives in ``$XDG_CACHE_HOME/dedup`` (default ``~/.cache/dedup``), or
where that cannot be written in a folder of this user's own under the temporary folder (``<tmp>/dedup-<uid>``);
where neither can be written, the dictionary is built in memory by each process that needs it (slower, the same
words). Building imports jieba; loading does not.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os
import re
import struct
import tempfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from dedup.compiled import private_temporary_folder

# jieba's block regexes (``re_han_default``, ``re_skip_default``, ``re_eng``), verbatim
RE_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)
RE_SKIP = re.compile("(\r\n|\\s)", re.U)
RE_ENG = re.compile("[a-zA-Z0-9]", re.U)

FORMAT = 1  # of the cache file; a new one when the file's layout or its meaning changes
_MAGIC = b"DDJIEBA\0"
_COUNTS = struct.Struct("<QQQqQ")  # groups, keys, blob bytes, total, bytes per frequency (4 or 8)
_EMPTY: Mapping[str, int] = MappingProxyType({})


class CacheError(ValueError):
    """A cache file that cannot be trusted: wrong key, truncated, corrupted."""


@dataclass(frozen=True)
class Source:
    """The dictionary file of the installed jieba and the name of its compact form in a cache folder."""

    path: Path
    version: str
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        return f"jieba-{self.version}-{self.size}-{self.mtime_ns}-f{FORMAT}"

    @property
    def file_name(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.key) + ".dict"


def jieba_source() -> Source:
    """Where the installed jieba's ``dict.txt`` is, and its version, size and modification time (jieba is not
    imported)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jieba is not installed: dedup needs its dictionary to segment Chinese")
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    try:
        version = importlib.metadata.version("jieba")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    info = path.stat()
    return Source(path, version, info.st_size, info.st_mtime_ns)


@dataclass(eq=False)
class Dictionary:
    """jieba's ``FREQ`` and ``total``, looked up by the first character of the words.

    ``origin`` says where it came from: ``"cache"`` (read from ``path``), ``"built"`` (built, and written to
    ``path``) or ``"memory"`` (built; no cache folder could be written, ``path`` is None).
    """

    total: int
    origin: str
    path: Path | None
    heads: np.ndarray  # <u4: the first characters, sorted; one group of keys each
    bounds: np.ndarray  # int64 (groups + 1): the groups' first key
    offsets: np.ndarray  # int64 (groups + 1): the groups' first byte in blob
    freqs: np.ndarray  # <u4 or <i8: each key's frequency (0: only a prefix of words)
    blob: bytes | memoryview  # the keys, sorted, each followed by "\n", in UTF-8
    groups: dict[str, Mapping[str, int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """How many keys (words and word prefixes) ``FREQ`` has."""
        return len(self.freqs)

    def starting_with(self, ch: str) -> Mapping[str, int]:
        """The keys of ``FREQ`` that begin with ``ch``, and their frequencies."""
        group = self.groups.get(ch)
        if group is None:
            code = ord(ch)
            g = int(np.searchsorted(self.heads, code))
            if g < len(self.heads) and self.heads[g] == code:
                b0, b1, o0, o1 = self.bounds[g], self.bounds[g + 1], self.offsets[g], self.offsets[g + 1]
                keys = str(self.blob[o0 : o1 - 1], "utf-8").split("\n")
                if len(keys) != b1 - b0 or keys[0][:1] != ch or keys[-1][:1] != ch:
                    raise CacheError(f"the group of {ch!r} does not match its keys")  # (a checksum right, by hand)
                group = dict(zip(keys, self.freqs[b0:b1].tolist()))
            else:
                group = _EMPTY
            self.groups[ch] = group
        return group

    def to_bytes(self, key: str) -> bytes:
        """The cache file's contents, under ``key``: see ``from_bytes``."""
        name = key.encode("utf-8")
        freqs = self.freqs.astype("<u4" if self.freqs.max() < 2**32 else "<i8")
        parts = [
            _MAGIC, struct.pack("<I", len(name)), name,
            _COUNTS.pack(len(self.heads), len(self.freqs), len(self.blob), self.total, freqs.itemsize),
            self.bounds.astype("<i8").tobytes(), self.offsets.astype("<i8").tobytes(),
            freqs.tobytes(), self.heads.astype("<u4").tobytes(), self.blob,
        ]
        body = b"".join(parts)
        return body + struct.pack("<I", zlib.crc32(body))

    @classmethod
    def from_bytes(cls, data: bytes, key: str, path: Path | None = None) -> Dictionary:
        """A dictionary read from a cache file's contents, checked: ``CacheError`` unless it is whole and made
        under ``key``."""
        view = memoryview(data)
        if len(data) < len(_MAGIC) + 8 or data[: len(_MAGIC)] != _MAGIC:
            raise CacheError("not a dictionary cache file")
        if zlib.crc32(view[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
            raise CacheError("checksum mismatch: truncated or corrupted")
        pos = len(_MAGIC)
        (n_name,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if bytes(view[pos : pos + n_name]) != key.encode("utf-8"):
            raise CacheError("made from another dictionary")
        pos += n_name
        try:
            n_groups, n_keys, n_blob, total, width = _COUNTS.unpack_from(data, pos)
        except struct.error as exc:
            raise CacheError("truncated") from exc
        pos += _COUNTS.size
        if width not in (4, 8) or len(data) != pos + 16 * (n_groups + 1) + width * n_keys + 4 * n_groups + n_blob + 4:
            raise CacheError("wrong length")

        def array(dtype: str, count: int) -> np.ndarray:
            nonlocal pos
            out = np.frombuffer(data, dtype=dtype, count=count, offset=pos)
            pos += out.nbytes
            return out

        bounds, offsets = array("<i8", n_groups + 1), array("<i8", n_groups + 1)
        freqs, heads = array("<u4" if width == 4 else "<i8", n_keys), array("<u4", n_groups)
        blob = view[pos : pos + n_blob]
        if width == 8 and (freqs < 0).any():
            raise CacheError("negative frequencies")
        _check(total, heads, bounds, offsets, freqs, blob)
        return cls(total, "cache", path, heads, bounds, offsets, freqs, blob)

    @classmethod
    def from_freq(cls, freq: Mapping[str, int], total: int, origin: str = "built", path: Path | None = None) -> Dictionary:
        """The compact form of jieba's ``FREQ`` and ``total``."""
        keys = sorted(freq)
        if not keys or any(not k or "\n" in k for k in keys):
            raise ValueError("a dictionary key is empty or holds a line break")
        firsts = np.fromiter((ord(k[0]) for k in keys), dtype=np.uint32, count=len(keys))
        starts = np.flatnonzero(np.concatenate(([True], firsts[1:] != firsts[:-1])))
        bounds = np.append(starts, len(keys)).astype(np.int64)
        blob_parts = [k.encode("utf-8") + b"\n" for k in keys]
        ends = np.cumsum(np.fromiter(map(len, blob_parts), dtype=np.int64, count=len(keys)))
        offsets = np.concatenate(([0], ends))[bounds]
        freqs = np.fromiter((freq[k] for k in keys), dtype=np.int64, count=len(keys))
        if (freqs < 0).any():
            raise ValueError("a negative frequency in the dictionary")
        blob = b"".join(blob_parts)
        _check(total, firsts[starts], bounds, offsets, freqs, blob)
        return cls(total, origin, path, firsts[starts], bounds, offsets, freqs, blob)


def _check(total, heads, bounds, offsets, freqs, blob) -> None:
    """``CacheError`` unless the arrays describe a well-formed dictionary: groups in order, each of whole keys."""
    n_groups, n_keys = len(heads), len(freqs)
    if not n_keys or total <= 0 or len(bounds) != n_groups + 1 or len(offsets) != n_groups + 1:
        raise CacheError("bad counts")
    if (np.diff(heads.astype(np.int64)) <= 0).any() or (np.diff(bounds) <= 0).any() or (np.diff(offsets) <= 0).any():
        raise CacheError("groups out of order")
    if bounds[0] != 0 or bounds[-1] != n_keys or offsets[0] != 0 or offsets[-1] != len(blob):
        raise CacheError("groups do not cover the keys")
    text = np.frombuffer(blob, dtype=np.uint8)
    if np.count_nonzero(text == 10) != n_keys or (text[offsets[1:] - 1] != 10).any():
        raise CacheError("groups do not hold whole keys")


def build(source: Source) -> tuple[dict[str, int], int]:
    """jieba's ``FREQ`` and ``total`` for the dictionary of ``source``, made by jieba itself."""
    import jieba

    with open(source.path, "rb") as f:
        return jieba.Tokenizer.gen_pfdict(f)


def user_cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/dedup`` (default ``~/.cache/dedup``); None where there is no home folder."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    try:
        root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    except (RuntimeError, KeyError):  # (no home folder)
        return None
    return root / "dedup" if root.is_absolute() else None


def cache_folders() -> list[Path]:
    """The folders the dictionary is cached in, in order of preference."""
    return [f for f in (user_cache_folder(), private_temporary_folder(name="dedup")) if f is not None]


def _read(folder: Path, source: Source) -> Dictionary | None:
    path = folder / source.file_name
    try:
        return Dictionary.from_bytes(path.read_bytes(), source.key, path)
    except (OSError, ValueError):  # (missing, unreadable, or CacheError: rebuilt)
        return None


def _write(folder: Path, data: bytes, name: str) -> Path | None:
    """``data`` written atomically as ``folder/name``; None where the folder cannot be written."""
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".dict")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / name)
    except (OSError, ValueError):
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return None
    return folder / name


def load_dictionary(folders: Sequence[str | Path] | None = None, source: Source | None = None) -> Dictionary:
    """jieba's dictionary, read from the first of ``folders`` (default: ``cache_folders()``) that holds a sound
    copy; else built (jieba imported) and written to the first of them that can be written; else built in memory."""
    source = source or jieba_source()
    folders = [Path(f) for f in (cache_folders() if folders is None else folders)]
    for folder in folders:
        found = _read(folder, source)
        if found is not None:
            return found
    freq, total = build(source)
    compact = Dictionary.from_freq(freq, total)
    data = compact.to_bytes(source.key)
    for folder in folders:
        path = _write(folder, data, source.file_name)
        if path is not None:
            compact.path = path
            return compact
    compact.origin = "memory"
    return compact


class Segmenter:
    """``jieba.Tokenizer().cut(text, HMM=False)``, word for word, on a ``Dictionary``."""

    def __init__(self, dictionary: Dictionary) -> None:
        self.dictionary = dictionary
        self.log_total = math.log(dictionary.total)

    def cut(self, sentence: str) -> list[str]:
        """The words of ``sentence``, as jieba's ``cut(sentence, HMM=False)`` gives them."""
        out: list[str] = []
        for blk in RE_HAN.split(sentence):
            if not blk:
                continue
            if RE_HAN.match(blk):
                out += self._cut_block(blk)
            else:
                for x in RE_SKIP.split(blk):
                    if RE_SKIP.match(x):
                        out.append(x)
                    else:
                        out += x
        return out

    def dag(self, sentence: str) -> list[list[int]]:
        """jieba's ``get_DAG``: for each position, the ends (inclusive) of the words that start there."""
        n = len(sentence)
        dag = []
        for k in range(n):
            freq = self.dictionary.starting_with(sentence[k])
            ends = []
            i = k
            frag = sentence[k]
            while i < n and frag in freq:
                if freq[frag]:
                    ends.append(i)
                i += 1
                frag = sentence[k : i + 1]
            if not ends:
                ends.append(k)
            dag.append(ends)
        return dag

    def route(self, sentence: str, dag: list[list[int]]) -> list[tuple[float, int]]:
        """jieba's ``calc``: the best (log-probability, word end) from each position on."""
        n = len(sentence)
        route: list = [None] * (n + 1)
        route[n] = (0, 0)
        log = math.log
        logtotal = self.log_total
        for idx in range(n - 1, -1, -1):
            get = self.dictionary.starting_with(sentence[idx]).get
            route[idx] = max((log(get(sentence[idx : x + 1]) or 1) - logtotal + route[x + 1][0], x) for x in dag[idx])
        return route

    def _cut_block(self, sentence: str) -> list[str]:
        """jieba's ``__cut_DAG_NO_HMM``: single ASCII letters and digits in a row are one word."""
        route = self.route(sentence, self.dag(sentence))
        out = []
        x = 0
        n = len(sentence)
        buf = ""
        while x < n:
            y = route[x][1] + 1
            l_word = sentence[x:y]
            if RE_ENG.match(l_word) and len(l_word) == 1:
                buf += l_word
                x = y
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(l_word)
                x = y
        if buf:
            out.append(buf)
        return out


def load_segmenter(folders: Sequence[str | Path] | None = None) -> Segmenter:
    """A segmenter on jieba's dictionary, from (or into) the cache ``folders`` (default: ``cache_folders()``)."""
    return Segmenter(load_dictionary(folders))


__all__ = [
    "FORMAT", "RE_ENG", "RE_HAN", "RE_SKIP", "CacheError", "Dictionary", "Segmenter", "Source", "build", "cache_folders", "jieba_source",
    "load_dictionary", "load_segmenter", "user_cache_folder",
]
