"""Bytes → text: the encoding of a text file or of an HTML page.

A BOM decides; then UTF-16 without BOM, binary detection, strict UTF-8, and
GB18030 vs Big5 by how much the result looks like Chinese prose; other legacy
encodings fall back to charset_normalizer. HTML also honours a declared
charset. Line endings are kept.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
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


def _looks_binary(text: str) -> bool:
    """True if more than 10% of the characters are control characters."""
    if _CONTROL_RE.search(text) is None:  # the common case, in one pass
        return False
    return len(_CONTROL_RE.findall(text)) > 0.1 * len(text)


def _utf16_without_bom(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" if NUL bytes sit at alternate positions, else None."""
    half = len(data) // 2
    if half < 2 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _checked(text: str, encoding: str) -> tuple[str, str]:
    if _looks_binary(text):
        raise ValueError(_BINARY)
    return text, encoding


def _decode_cjk(data: bytes) -> tuple[str, str, float] | None:
    """(text, encoding, score) of the best decoding among GB18030, Big5 and damaged UTF-8."""
    candidates: list[tuple[str, str]] = []
    for family in (("gb18030",), ("big5", "cp950", "big5hkscs")):
        for encoding in family:
            try:
                candidates.append((data.decode(encoding), encoding))
                break
            except UnicodeDecodeError:
                continue
    # UTF-8 with a few damaged bytes (e.g. a truncated file) is still UTF-8; they become U+FFFD.
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    good = len(lenient) - len(lenient.encode("ascii", "ignore")) - bad
    if good >= 3 and bad <= max(1, good // 20):
        candidates.append((lenient, "utf-8"))
    if not candidates:
        return None
    scored = [(text, encoding, _chinese_score(text)) for text, encoding in candidates]
    return max(scored, key=lambda c: c[2])  # max() keeps the first of equal scores: GB18030 wins ties


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name) for text-file bytes; raises ValueError with a reason if undecodable/binary.

    Order: a BOM (UTF-8, UTF-16, UTF-32) decides; then UTF-16 without BOM if
    NUL bytes sit at alternate positions; other NUL bytes mean binary; then
    strict UTF-8; then GB18030 vs Big5 (and UTF-8 with a few damaged bytes,
    recorded as "utf-8" with U+FFFD in their place),
    choosing the decoding whose characters look most like Chinese prose:
    frequent characters, level-1 characters of GB2312/Big5 and Chinese
    punctuation count for it, private-use, rare-extension, kana/bopomofo and
    similar characters typical of a wrong decoding count against it. Other
    legacy encodings fall back to charset_normalizer. Line endings are kept.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                raise ValueError(f"invalid {encoding} text: {exc.reason} at byte {exc.start}") from exc
    if b"\x00" in data:
        encoding = _utf16_without_bom(data)
        if encoding is None:
            raise ValueError(_BINARY)
        try:
            return _checked(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            raise ValueError(_BINARY) from None
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    best = _decode_cjk(data)
    if best is not None and best[2] >= 0.5:
        return _checked(best[0], best[1])
    from charset_normalizer import from_bytes  # not Chinese: another legacy encoding?

    match = from_bytes(data).best()
    if match is not None:
        return _checked(str(match), codecs.lookup(match.encoding).name)
    if best is not None:
        return _checked(best[0], best[1])
    raise ValueError("unknown text encoding (not UTF-8, UTF-16, GB18030 or Big5)")


# --------------------------------------------------------------------------- HTML

_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)


def _html_charset(data: bytes) -> str | None:
    """Python codec name declared by a <meta> charset or XML declaration, if usable."""
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
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(data: bytes) -> tuple[str, str]:
    """Decode HTML bytes: a BOM first, then a declared charset, then detection (as :func:`decode_bytes`)."""
    declared = _html_charset(data)
    if declared == "cp1252" and not data.isascii():
        best = _decode_cjk(data)  # old Chinese pages are often mislabelled as Western
        if best is not None and best[2] >= 1.0:
            return _checked(best[0], best[1])
    if declared and not any(data.startswith(bom) for bom, _ in _BOMS):
        try:
            return _checked(data.decode(declared), declared)
        except UnicodeDecodeError:
            pass  # the declaration is wrong; detect instead
    return decode_bytes(data)
