"""Find input files and read them into :class:`~dedup.models.Document` records.

This is the only module that opens input files. Text formats are decoded
byte-exactly (BOM removed, line endings kept) so that offsets into
``Document.text`` are code-point offsets into what the file says.

Supported formats: plain text (``.txt``, ``.md``), Word (``.docx``, via
python-docx), PDF (``.pdf``, via pypdf) and HTML (``.html``/``.htm``, via
BeautifulSoup with the standard-library parser).
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import stat
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from fnmatch import fnmatch
from functools import lru_cache
from pathlib import Path

from dedup.errors import IngestError, InputError
from dedup.models import Document, Skipped

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")

_FORMATS = {".txt": "txt", ".md": "md", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}

# --------------------------------------------------------------------------- discovery


def _matches(relpath: str, pattern: str) -> bool:
    """Glob ``pattern`` against a POSIX relative path (see :func:`discover`)."""
    pattern = pattern.replace("\\", "/").removeprefix("./")
    if pattern.endswith("/"):  # "drafts/" means everything below a folder
        pattern += "*"
    if "/" not in pattern:
        return fnmatch(relpath.rsplit("/", 1)[-1], pattern) or fnmatch(relpath, pattern)
    if fnmatch(relpath, pattern):
        return True
    return pattern.startswith("**/") and _matches(relpath, pattern[3:])


def _walk(
    root: Path, include: Sequence[str], exclude: Sequence[str], include_hidden: bool
) -> tuple[list[tuple[str, str]], list[Skipped]]:
    """(relpath, path as a string) of every selected file, plus folders that could not be listed."""
    if not root.exists():
        raise InputError(f"folder not found: {root}")
    if not root.is_dir():
        raise InputError(f"not a folder: {root} (give the folder that holds the documents)")
    try:
        with os.scandir(root):
            pass
    except OSError as exc:
        raise InputError(f"cannot list folder {root}: {exc.strerror or exc}") from exc

    root_stat = root.stat()
    visited = {(root_stat.st_dev, root_stat.st_ino)}
    found: list[tuple[str, str]] = []  # paths as strings: a Path a file cost 4 µs (0.4 s for 100,000 files)
    problems: list[Skipped] = []

    def on_error(exc: OSError) -> None:
        rel = os.path.relpath(exc.filename, root).replace(os.sep, "/") if exc.filename else "."
        problems.append(Skipped(path=rel + "/", reason=f"cannot list folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        base = Path(dirpath)
        folder = os.path.relpath(dirpath, root).replace(os.sep, "/")
        folder = "" if folder == "." else folder + "/"
        kept = []
        # Real folders before symbolic links, so a folder keeps its own name if it has an alias.
        for name in sorted(dirnames, key=lambda n: (os.path.islink(base / n), n)):
            if name.startswith(".") and not include_hidden:
                continue
            try:
                st = os.stat(base / name)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key not in visited:  # a folder reached twice (symlink loop or alias) is walked once
                visited.add(key)
                kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            if name.startswith(".") and not include_hidden:
                continue
            if os.path.splitext(name)[1].lower() not in SUPPORTED_SUFFIXES:
                continue
            rel = folder + name
            if include and not any(_matches(rel, p) for p in include):
                continue
            if any(_matches(rel, p) for p in exclude):
                continue
            full = os.path.join(dirpath, name)
            try:
                regular = stat.S_ISREG(os.stat(full).st_mode)
            except OSError as exc:
                reason = "broken symbolic link" if os.path.islink(full) else (exc.strerror or str(exc))
                problems.append(Skipped(path=rel, reason=reason))
                continue
            if regular:  # never open FIFOs, sockets or devices that happen to be named *.txt
                found.append((rel, full))
    found.sort(key=lambda item: item[0])
    return found, problems


def discover(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
) -> list[Path]:
    """Files under root with a supported suffix, sorted by relative path.

    Symbolic links are followed, but every folder is walked once (folders are
    identified by device and inode), so link loops cannot hang the scan.
    Names starting with "." are skipped unless ``include_hidden``.
    ``include``/``exclude`` are glob patterns matched against the POSIX path
    relative to ``root``; a pattern without "/" also matches the file name at
    any depth, a leading "**/" also matches at the top level and a trailing
    "/" selects everything below a folder. With ``include`` a file must match
    one pattern; a file matching any ``exclude`` pattern is dropped.

    Raises :class:`InputError` if ``root`` is missing, not a folder or unreadable.
    """
    found, _ = _walk(Path(root), include, exclude, include_hidden)
    return [Path(path) for _, path in found]


# --------------------------------------------------------------------------- decoding

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


# --------------------------------------------------------------------------- formats

_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_WIDE}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_WIDE}])")
_DROPPED_TAGS = ("script", "style", "noscript", "template", "title")
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "td", "th", "tr", "ul", "caption", "body", "html",
)  # fmt: skip


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


def _decode_html(data: bytes) -> tuple[str, str]:
    """Decode HTML bytes: a BOM first, then a declared charset, then detection."""
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


def _html_text(markup: str) -> str:
    """Visible text of an HTML page, one block element per line."""
    from bs4 import BeautifulSoup, NavigableString
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(_DROPPED_TAGS):
        tag.decompose()
    for node in soup.find_all(string=True):
        if isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction)):
            node.extract()
        elif not node.find_parent(("pre", "textarea")):
            text = _CJK_LINE_BREAK.sub("", str(node))  # as browsers do between CJK characters
            node.replace_with(NavigableString(re.sub(r"[ \t\r\n\f]+", " ", text)))
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(NavigableString("\n"))
        tag.insert_after(NavigableString("\n"))
    lines = [line.strip() for line in soup.get_text().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _docx_text(data: bytes) -> str:
    """Paragraph and table-cell text of a .docx body, in document order."""
    import docx
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def blocks(element, parent) -> Iterator[str]:  # noqa: ANN001 (python-docx objects)
        for child in element.iterchildren():
            if child.tag == qn("w:p"):
                yield Paragraph(child, parent).text
            elif child.tag == qn("w:tbl"):
                for row in Table(child, parent).rows:
                    seen: set[int] = set()
                    for cell in row.cells:  # a merged cell appears once per grid column
                        if id(cell._tc) not in seen:
                            seen.add(id(cell._tc))
                            yield from blocks(cell._tc, cell)
            elif child.tag == qn("w:sdt"):  # content control wrapping paragraphs or tables
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    yield from blocks(content, parent)

    document = docx.Document(io.BytesIO(data))
    return "\n".join(blocks(document.element.body, document))


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Keep pypdf's warnings about damaged files off the console, then restore."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _pdf_text(path: str, data: bytes) -> str:
    """Text of every page of a PDF, pages joined with newlines."""
    from pypdf import PasswordType, PdfReader

    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data))
        except Exception as exc:
            raise IngestError(path, f"corrupt .pdf: {exc}") from exc
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except Exception as exc:  # e.g. AES without the cryptography package
                raise IngestError(path, f"encrypted .pdf ({exc})") from exc
            if not opened:
                raise IngestError(path, "encrypted .pdf")
        try:
            return "\n".join(page.extract_text() or "" for page in reader.pages)
        except Exception as exc:
            raise IngestError(path, f"corrupt .pdf: {exc}") from exc


# --------------------------------------------------------------------------- reading


def read_document(path: str | Path, *, relpath: str | None = None) -> Document:
    """Read one file; raises IngestError(path_str, reason) when it cannot be read.

    ``Document.path`` is ``relpath`` (a POSIX path relative to the scanned
    folder) or, without it, the file name.
    """
    where = os.fspath(path)  # a string throughout: a Path a file cost more than decoding it
    suffix = os.path.splitext(where)[1]
    fmt = _FORMATS.get(suffix.lower())
    if fmt is None:
        raise IngestError(where, f"unsupported file type {suffix or '(none)'!r}")
    try:
        with open(where, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise IngestError(where, exc.strerror or str(exc)) from exc
    if not data:
        raise IngestError(where, "empty file")

    encoding: str | None = None
    try:
        if fmt in ("txt", "md"):
            text, encoding = decode_bytes(data)
        elif fmt == "html":
            markup, encoding = _decode_html(data)
    except ValueError as exc:  # undecodable or binary: the message is the reason
        raise IngestError(where, str(exc)) from exc
    try:
        if fmt == "html":
            text = _html_text(markup)
        elif fmt == "docx":
            try:
                text = _docx_text(data)
            except Exception as exc:
                raise IngestError(where, f"corrupt .docx: {exc}") from exc
        elif fmt == "pdf":
            text = _pdf_text(where, data)
    except IngestError:
        raise
    except Exception as exc:  # a parser bug must not stop the scan
        raise IngestError(where, f"cannot read .{fmt}: {type(exc).__name__}: {exc}") from exc

    if not text.strip():
        raise IngestError(where, "no text")
    return Document(path=relpath if relpath is not None else os.path.basename(where), text=text, format=fmt, encoding=encoding)


def ingest(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """discover + read_document for each file; a bad file becomes a Skipped with its reason, the scan goes on.

    Folders below ``root`` that cannot be listed are reported as skipped
    entries whose path ends with "/". ``progress(done, total)`` is called
    after each file. Both lists are in path order.
    """
    found, skipped = _walk(Path(root), include, exclude, include_hidden)
    documents: list[Document] = []
    total = len(found)
    for done, (rel, path) in enumerate(found, start=1):
        try:
            documents.append(read_document(path, relpath=rel))
        except IngestError as exc:
            skipped.append(Skipped(path=rel, reason=exc.reason))
        if progress is not None:
            progress(done, total)
    skipped.sort(key=lambda s: s.path)
    return documents, skipped


def find_files(
    root: Path, *, include: Sequence[str] = (), exclude: Sequence[str] = (), include_hidden: bool = False
) -> tuple[list[tuple[str, str]], list[Skipped]]:
    """``discover`` as ``(relative path, path as a string)``, and the folders that could not be listed (as skipped)."""
    return _walk(Path(root), include, exclude, include_hidden)


def read_files(found: Sequence[tuple[str, str | Path]]) -> tuple[list[Document], list[Skipped]]:
    """``read_document`` for each ``(relative path, path)``; a file that cannot be read is skipped with its reason."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for rel, path in found:
        try:
            documents.append(read_document(path, relpath=rel))
        except IngestError as exc:
            skipped.append(Skipped(path=rel, reason=exc.reason))
    return documents, skipped


def shown_path(path: Path, base: Path | None) -> str:
    """How a file is named in reports and indexes: relative to ``base`` if inside it, else as given."""
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def ingest_paths(
    paths: Sequence[Path],
    *,
    base: Path | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """``ingest`` for a mix of files and folders (``dedup check FILE…``, ``dedup index add DIR|FILE…``).

    Documents are named relative to ``base`` when they lie inside it, else by
    the path as given (a folder's files: the folder as given, then their path
    inside it). A missing path is an ``InputError``; an unreadable file is
    skipped with its reason.
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for p in map(Path, paths):
        if p.is_dir():
            docs, bad = ingest(p, include=include, exclude=exclude, include_hidden=include_hidden)
            documents += [replace(d, path=shown_path(p / d.path, base)) for d in docs]
            skipped += [replace(s, path=shown_path(p / s.path, base)) for s in bad]
        elif p.exists():
            try:
                documents.append(read_document(p, relpath=shown_path(p, base)))
            except IngestError as exc:
                skipped.append(Skipped(path=shown_path(p, base), reason=exc.reason))
        else:
            raise InputError(f"{p}: no such file or folder")
        if progress is not None:
            progress(len(documents) + len(skipped), len(documents) + len(skipped))
    return documents, skipped
