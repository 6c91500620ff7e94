"""Bytes → text: the encoding of a text file or of an HTML page.

A BOM decides; then binary detection (signatures, the share of NUL bytes),
UTF-16 without BOM, strict UTF-8, and GB18030 vs Big5 by how much the result
looks like Chinese prose; other legacy encodings fall back to
charset_normalizer. HTML also honours a declared charset that is a text
encoding. Line endings are kept; only the chosen text is ever held besides the
bytes.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import warnings
from functools import lru_cache

__all__ = ["decode_bytes", "decode_html"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: The 100 most frequent Chinese characters, Simplified and Traditional forms.
_FREQUENT_HAN = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "這個們來爲為國說時會對於著着過發後裏裡種經麼學現當沒動還進樣開從實"
)

#: Punctuation that ordinary Chinese prose uses.
_CJK_PUNCTUATION = frozenset("，。、；：？！“”‘’（）《》〈〉「」『』【】—…·～　﹏")

_BINARY = "binary file, not text"
#: Control characters (Cc) other than \t \n \v \f \r and ESC.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")

# --------------------------------------------------------------------------- Chinese or not


@lru_cache(maxsize=1)
def _common_han() -> frozenset[str]:
    """Level-1 ("frequently used") characters of GB2312 and of Big5."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):  # GB2312 level 1
        for trail in range(0xA1, 0xFF):
            chars.update(bytes((lead, trail)).decode("gb2312", errors="ignore"))
    for lead in range(0xA4, 0xC7):  # Big5 level 1 (A440..C67E)
        for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF)):
            if lead < 0xC6 or trail < 0x7F:
                chars.update(bytes((lead, trail)).decode("big5", errors="ignore"))
    return frozenset(chars)


def _char_weight(ch: str, common: frozenset[str]) -> float:
    """How plausible one non-ASCII character is in Chinese prose."""
    if ch in _FREQUENT_HAN:
        return 3.0
    if ch in common or ch in _CJK_PUNCTUATION:
        return 1.0
    code = ord(ch)
    if 0x4E00 <= code <= 0x9FFF:  # other unified ideographs: rare but possible
        return 0.2
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII
        return 0.5
    if (
        code == 0xFFFD
        or 0xE000 <= code <= 0xF8FF  # private use: typical of a wrong legacy decoding
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or code >= 0x20000
    ):
        return -2.0
    if code < 0x370 and unicodedata.category(ch)[0] == "L":  # accented Latin letters: neutral
        return 0.0
    return -1.0  # kana, bopomofo, hangul, box drawing, odd symbols, controls


def _chinese_score(text: str, limit: int = 20000) -> float:
    """Average plausibility of the non-ASCII characters of ``text`` (about -2..3)."""
    common = _common_han()
    chars = [ch for ch in text[:limit] if ord(ch) > 0x7F]
    if not chars:
        return 0.0
    return sum(_char_weight(ch, common) for ch in chars) / len(chars)


# --------------------------------------------------------------------------- text files

#: Bytes decoded at a time while an encoding is tried on a whole file, so that trying one costs no
#: copy of the file (a 200 MB file took 1.1 GB when every candidate decoding was kept).
_CHUNK = 1 << 18
#: Characters of a candidate decoding that :func:`_chinese_score` looks at.
_SCORED = 20000
#: Share of NUL bytes above which a file (that is not UTF-16) is binary: text files hold none, or a
#: few stray ones; binary files hold many (images, archives, Office files: 5 to 50%).
_NUL_SHARE = 0.01
#: The bytes of the control characters :data:`_CONTROL_RE` counts that ASCII-compatible encodings share.
_CONTROL_BYTES = bytes((*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F))
#: The C1 control characters (U+0080 to U+009F) in UTF-8.
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
#: How files that are certainly not text start; they are binary whatever their bytes decode to.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF-", "a PDF file"),
    (b"PK\x03\x04", "a zip file, e.g. .docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file, e.g. .doc or .wps"),
    (b"\x1f\x8b\x08", "a gzip file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip file"),
    (b"Rar!\x1a\x07", "a RAR file"),
    (b"\x7fELF", "a program"),
)


def _looks_binary(text: str) -> bool:
    """True if more than 10% of the characters are control characters (counted a chunk at a time)."""
    if _CONTROL_RE.search(text) is None:  # the common case, in one pass
        return False
    limit, found = 0.1 * len(text), 0
    for start in range(0, len(text), _CHUNK):
        found += len(_CONTROL_RE.findall(text, start, start + _CHUNK))
        if found > limit:
            return True
    return False


def _control_bytes(data: bytes) -> int:
    """How many bytes of ``data`` are C0 control characters (``_CONTROL_BYTES``).

    In every encoding tried after UTF-16 a byte below 0x20 is that control character, never part of
    another character, so this is what the text would say, told before any decoding is tried.
    """
    found = 0
    for start in range(0, len(data), _CHUNK):
        chunk = data[start : start + _CHUNK]
        found += len(chunk) - len(chunk.translate(None, _CONTROL_BYTES))
    return found


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" if NUL bytes sit at alternate positions, else None."""
    half = len(data) // 2
    if half < 2 or len(data) % 2:
        return None
    even = odd = 0
    for start in range(0, len(data), _CHUNK):  # (_CHUNK is even: the positions keep their parity)
        chunk = data[start : start + _CHUNK]
        even, odd = even + chunk[0::2].count(0), odd + chunk[1::2].count(0)
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _checked(text: str, encoding: str) -> tuple[str, str]:
    if _looks_binary(text):
        raise ValueError(_BINARY)
    return text, encoding


def _trial(data: bytes, encoding: str, errors: str = "strict") -> tuple[str, int, int] | None:
    """Decode ``data`` a chunk at a time without keeping the text: the first characters :func:`_chinese_score`
    looks at, the U+FFFD and the non-ASCII characters of the whole; None if it does not decode."""
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    view, head, replaced, wide = memoryview(data), "", 0, 0
    try:
        for start in range(0, len(data), _CHUNK):
            piece = decoder.decode(view[start : start + _CHUNK], final=start + _CHUNK >= len(data))
            if not start:
                head = piece[:_SCORED]
            replaced += piece.count("\ufffd")
            wide += len(piece) - len(piece.encode("ascii", "ignore"))
    except UnicodeDecodeError:
        return None
    return head, replaced, wide


def _decode_cjk(data: bytes, *, utf16: bool = False) -> tuple[str, str, float] | None:
    """(encoding, errors, score) of the best decoding among GB18030, Big5 and damaged UTF-8 (and with ``utf16``,
    UTF-16 without BOM; decode it with ``data.decode(encoding, errors)``)."""
    candidates: list[tuple[str, str, str]] = []  # (first characters, encoding, errors)
    families = (("gb18030",), ("big5", "cp950", "big5hkscs"))
    if utf16 and len(data) % 2 == 0:
        families += (("utf-16-le",), ("utf-16-be",))
    for family in families:
        for encoding in family:
            trial = _trial(data, encoding)
            if trial is not None:
                candidates.append((trial[0], encoding, "strict"))
                break
    # UTF-8 with a few damaged bytes (e.g. a truncated file) is still UTF-8; they become U+FFFD.
    head, bad, wide = _trial(data, "utf-8", "replace") or ("", 0, 0)
    good = wide - bad
    if good >= 3 and bad <= max(1, good // 20):
        candidates.append((head, "utf-8", "replace"))
    if not candidates:
        return None
    scored = [(encoding, errors, _chinese_score(head)) for head, encoding, errors in candidates]
    scored = [c for c in scored if not c[0].startswith("utf-16") or c[2] >= 1.0]  # (UTF-16 only if it reads as prose)
    return max(scored, key=lambda c: c[2], default=None)  # max() keeps the first of equal scores: GB18030 wins ties


def _chinese_utf16(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" if ``data`` decodes as one of them into text that reads as Chinese prose, else None.

    Chinese in UTF-16 without a BOM has NUL bytes only where it has ASCII characters (newlines, digits),
    often too few for :func:`_utf16_without_bom`; a wrong decoding of other bytes as UTF-16 gives
    Hangul, private-use and rare characters, which read as nothing like prose.
    """
    if len(data) % 2 or len(data) < 4:
        return None
    scored = []
    for encoding in ("utf-16-le", "utf-16-be"):
        trial = _trial(data, encoding)
        if trial is not None:
            scored.append((_chinese_score(trial[0]), encoding))
    best = max(scored, default=None)
    return best[1] if best is not None and best[0] >= 1.0 else None


def _signature(data: bytes) -> str | None:
    """What kind of binary file ``data`` starts like, if it does."""
    return next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name) for text-file bytes; raises ValueError with a reason if undecodable/binary.

    Order: a BOM (UTF-8, UTF-16, UTF-32) decides; then a binary file's
    signature (PNG, JPEG, GIF, PDF, zip, Office, gzip, 7-Zip, RAR, ELF) means
    binary; UTF-16 without BOM if NUL bytes sit at alternate positions; other
    NUL bytes mean binary if they are more than 1% of the bytes (a text with a
    few stray NULs is read, the NULs kept), and so do control bytes if they
    are more than 10%; then strict UTF-8; then GB18030 vs
    Big5 (and UTF-8 with a few damaged bytes, recorded as "utf-8" with U+FFFD
    in their place), choosing the decoding whose characters look most like
    Chinese prose: frequent characters, level-1 characters of GB2312/Big5 and
    Chinese punctuation count for it, private-use, rare-extension,
    kana/bopomofo and similar characters typical of a wrong decoding count
    against it. Other legacy encodings fall back to charset_normalizer. A text
    more than 10% control characters is binary. Line endings are kept.
    Candidate encodings are tried a chunk at a time, so that only the chosen
    text is ever held besides the bytes.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise ValueError(f"invalid {encoding} text: {exc.reason} at byte {exc.start}") from exc
    kind = _signature(data)
    if kind is not None:
        raise ValueError(f"{_BINARY} ({kind})")
    controls = _control_bytes(data)  # (NULs among them: most files have none of either, told in one pass)
    nuls = data.count(0) if controls else 0
    if nuls:
        encoding = _utf16_without_bom(data)
        if encoding is not None:
            try:
                return _checked(data.decode(encoding), encoding)
            except UnicodeDecodeError:
                raise ValueError(_BINARY) from None
    if nuls > _NUL_SHARE * len(data) or controls > 0.1 * len(data):  # (as :func:`_looks_binary`, before decoding)
        encoding = _chinese_utf16(data)  # (whose bytes can be NULs and controls)
        if encoding is None:
            raise ValueError(_BINARY)
        return _checked(data.decode(encoding), encoding)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:  # (no control byte, and no C1 control in UTF-8: no control character, nothing to count in the text)
        return (text, "utf-8") if not controls and _C1_UTF8.search(data) is None else _checked(text, "utf-8")
    best = _decode_cjk(data, utf16=True)
    if best is not None and best[2] >= 0.5:
        return _checked(data.decode(best[0], best[1]), best[0])
    from charset_normalizer import from_bytes  # not Chinese: another legacy encoding?

    match = from_bytes(data).best()
    if match is not None:
        return _checked(str(match), codecs.lookup(match.encoding).name)
    if best is not None:
        return _checked(data.decode(best[0], best[1]), best[0])
    raise ValueError("unknown text encoding (not UTF-8, UTF-16, GB18030 or Big5)")


# --------------------------------------------------------------------------- HTML

_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
#: ASCII that a page's encoding must decode as ASCII: a declaration written in ASCII can only be
#: true of an ASCII-compatible text encoding (as every encoding browsers know, but UTF-16, is). This
#: rules out what Python decodes but no page is written in: escapes, EBCDIC, IDNA, UTF-7, HZ.
_ASCII_PROBES = (bytes(range(0x20, 0x7F)) + b"\t\n\r", b"\\u0041", b"xn--fiqs8s")


@lru_cache(maxsize=64)
def _page_encoding(name: str) -> str | None:
    """Python codec name of a declared label if it is an ASCII-compatible text encoding, else None."""
    try:
        codec = codecs.lookup(name).name
        with warnings.catch_warnings():  # ("invalid escape sequence" from the escape codecs)
            warnings.simplefilter("ignore")
            if all(probe.decode(codec) == probe.decode("ascii") for probe in _ASCII_PROBES):
                return codec
    except (LookupError, UnicodeError):  # unknown, not a text encoding ("hex", "rot13"), or "undefined"
        pass
    return None


def _html_charset(data: bytes) -> str | None:
    """Python codec name declared by a <meta> charset or XML declaration, if usable (else detection decides)."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = (match.group(1) or match.group(2)).decode("ascii").lower()
    if name in ("gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "cp936", "gb18030"):
        return "gb18030"  # browsers read GB2312/GBK labels as GB18030's superset
    if name.startswith("utf-16"):
        return "utf-8"  # a file that can be scanned for ASCII <meta> is not UTF-16
    if name in ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252"):
        return "cp1252"  # as browsers do
    return _page_encoding(name)


#: Chinese encodings a page may declare wrongly (and whose decoders accept most other CJK bytes).
_CJK_LABELLED = frozenset(("gb18030", "gbk", "gb2312", "big5", "cp950", "big5hkscs"))
#: How much better (in :func:`_chinese_score`) another Chinese decoding must read than the declared one.
_MISLABEL_MARGIN = 0.5


def _mislabelled_cjk(data: bytes, declared: str) -> tuple[str, str] | None:
    """(encoding, errors) of a page declared GB or Big5 whose bytes say otherwise: valid UTF-8 (GB and Big5
    text is not, beyond a few characters), or the other of GB and Big5 reading much more like Chinese prose
    than the declared one (both decoders accept most double-byte pairs); None to keep the declaration."""
    try:
        data.decode("utf-8")
        return "utf-8", "strict"
    except UnicodeDecodeError:
        pass
    trial = _trial(data, declared)
    best = _decode_cjk(data)
    if best is None or best[0] == declared or best[1] != "strict":
        return None
    if trial is None or best[2] >= _chinese_score(trial[0]) + _MISLABEL_MARGIN:
        return best[0], best[1]
    return None


def decode_html(data: bytes) -> tuple[str, str]:
    """Decode HTML bytes: a BOM first, then a declared charset, then detection (as :func:`decode_bytes`).

    A declared charset that is unknown, not a text encoding (``charset="hex"``) or wrong for the
    bytes is ignored: the encoding is detected instead.
    """
    declared = _html_charset(data)
    if declared == "cp1252" and not data.isascii():
        best = _decode_cjk(data)  # old Chinese pages are often mislabelled as Western
        if best is not None and best[2] >= 1.0:
            return _checked(data.decode(best[0], best[1]), best[0])
    if declared in _CJK_LABELLED and not data.isascii() and not any(data.startswith(bom) for bom, _ in _BOMS):
        better = _mislabelled_cjk(data, declared)  # a template's GB2312 label on a UTF-8 or Big5 page
        if better is not None:
            return _checked(data.decode(better[0], better[1]), better[0])
    if declared and not any(data.startswith(bom) for bom, _ in _BOMS):
        try:
            return _checked(data.decode(declared), declared)
        except (UnicodeError, LookupError):
            pass  # the declaration is wrong; detect instead
    return decode_bytes(data)
