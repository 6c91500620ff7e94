"""The supported file formats, and the text of Word, PDF and HTML files.

Which suffixes are read, and as what; the text of a ``.docx`` body, of every
page of a ``.pdf`` and of an HTML page's markup (decoding HTML bytes is
:mod:`dedup.ingest.decode`'s job). The parsers (python-docx, pypdf,
BeautifulSoup) are imported on first use. Each extraction is bounded: a
``.docx``'s uncompressed size, a PDF's characters and time, and HTML in time
linear in its size.
"""

from __future__ import annotations

import io
import logging
import re
import time
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager

from dedup.errors import IngestError

__all__ = ["FORMATS", "SUPPORTED_SUFFIXES", "docx_text", "html_text", "pdf_text"]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")

#: Format name (``Document.format``) of each supported suffix, lower case.
FORMATS = {".txt": "txt", ".md": "md", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}


def megabytes(size: int) -> str:
    """A size in bytes as people read it: "3.2 MB"."""
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"


# --------------------------------------------------------------------------- HTML

_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_WIDE}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_WIDE}])")
_SPACES = re.compile(r"[ \t\r\n\f]+")
_DROPPED_TAGS = frozenset(("script", "style", "noscript", "template", "title"))
_BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "td", "th", "tr", "ul", "caption", "body", "html",
))  # fmt: skip
_PREFORMATTED = frozenset(("pre", "textarea"))
#: A run of tag starts without a ">" between them ("<a <a <a", "<a b='<a b='", "<!--<!--"): CPython's
#: HTML tokenizer (up to 3.13 at least) scans from each "<" of such a run to its end, so a run of k
#: tag starts over n characters costs it about k*n/2 steps (40 KB of "<a " took 16 s).
_UNCLOSED_RUN = re.compile(r"<[^<>]*<[^>]*")
#: Estimated tokenizer steps (see :func:`_parser`) beyond which a page is parsed by lxml: about 0.5 s.
_RESCAN_BUDGET = 20_000_000


def _parser(markup: str) -> str:
    """The parser for BeautifulSoup: "html.parser", which dedup's texts are defined by, unless the markup holds
    runs of unclosed tag starts that make it quadratic; then "lxml" (libxml2's tokenizer is linear), which
    gives the same text for well-formed pages and close to it for others."""
    cost = 0
    for run in _UNCLOSED_RUN.finditer(markup):
        cost += markup.count("<", run.start(), run.end()) * (run.end() - run.start())
        if cost > _RESCAN_BUDGET:
            return "lxml"
    return "html.parser"


def html_text(markup: str) -> str:
    """Visible text of an HTML page, one block element per line, in time linear in the markup.

    Scripts, styles, templates, ``<noscript>`` and titles are dropped, and so are
    comments, declarations and processing instructions; whitespace runs become
    one space (a line break between two CJK characters disappears, as browsers
    do) except inside ``<pre>``/``<textarea>``; ``<br>`` is a line break and
    every block element starts and ends a line. The page is parsed by
    BeautifulSoup with the standard-library parser (with lxml if the markup
    would make that parser quadratic, see :func:`_parser`, or if it rejects
    the markup) and walked once, without recursion, so that 100,000 nested
    elements cost what 100,000 siblings do.
    """
    from bs4 import BeautifulSoup, CData, NavigableString, ParserRejectedMarkup, Tag
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    hidden = (Comment, Declaration, Doctype, ProcessingInstruction)
    kept = (NavigableString, CData)  # what get_text() takes of the strings inside <pre> (not <rt>'s, say)
    try:
        soup = BeautifulSoup(markup, _parser(markup))
    except ParserRejectedMarkup:  # the standard-library parser gave up (e.g. on "<![<![")
        soup = BeautifulSoup(markup, "lxml")
    try:
        parts: list[str] = []
        preformatted = 0  # open <pre>/<textarea> elements around the current node
        stack: list[tuple[Iterator, str]] = [(iter(soup.contents), "")]
        while stack:
            children, name = stack[-1]
            node = next(children, None)
            if node is None:  # the end of an element
                stack.pop()
                if name in _BLOCK_TAGS:
                    parts.append("\n")
                preformatted -= name in _PREFORMATTED
            elif isinstance(node, Tag):
                if node.name in _DROPPED_TAGS:
                    continue
                if node.name == "br":
                    parts.append("\n")
                    continue
                if node.name in _BLOCK_TAGS:
                    parts.append("\n")
                preformatted += node.name in _PREFORMATTED
                stack.append((iter(node.contents), node.name))
            elif isinstance(node, hidden):
                continue
            elif preformatted:
                if type(node) in kept:
                    parts.append(str(node))
            else:  # as browsers do between CJK characters, then collapse white space
                parts.append(_SPACES.sub(" ", _CJK_LINE_BREAK.sub("", str(node))))
    finally:
        soup.decompose()  # (iterative; frees the tree now rather than at the next garbage collection)
    lines = [line.strip() for line in "".join(parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# --------------------------------------------------------------------------- Word


def _unzipped(where: str, data: bytes, limit: int) -> io.BytesIO:
    """The .docx rebuilt with its parts stored uncompressed, each read with a cap; IngestError past ``limit``.

    The sizes a zip declares are checked first (a zip bomb says what it expands to), then every part
    is inflated a chunk at a time and counted, so a zip that lies about its sizes is caught too (it
    fails its CRC check, or stops at the size it declared). python-docx then reads the rebuilt zip,
    where nothing is left to inflate.
    """
    over = f"over the limit of {megabytes(limit)} (max_docx_unzipped_bytes): a zip bomb?"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            declared = sum(p.file_size for p in parts)
            if declared > limit:
                raise IngestError(where, f".docx expands to {megabytes(declared)} uncompressed, {over}")
            rebuilt = io.BytesIO()
            total = 0
            with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_STORED) as out, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ("Duplicate name": kept as they are, python-docx reads the last)
                for part in parts:
                    chunks = []
                    with archive.open(part) as member:
                        while chunk := member.read(1 << 20):
                            total += len(chunk)
                            if total > limit:
                                raise IngestError(where, f".docx expands to more than {megabytes(limit)} uncompressed, {over}")
                            chunks.append(chunk)
                    out.writestr(part.filename, b"".join(chunks))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise IngestError(where, f"corrupt .docx: {exc}") from exc
    rebuilt.seek(0)
    return rebuilt


def docx_text(data: bytes, *, where: str = "", max_unzipped: int = 200_000_000) -> str:
    """Paragraph and table-cell text of a .docx body, in document order; IngestError(where, reason) if unreadable.

    A .docx whose parts expand to more than ``max_unzipped`` bytes is not read.
    """
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

    package = _unzipped(where, data, max_unzipped)
    try:
        document = docx.Document(package)
        return "\n".join(blocks(document.element.body, document))
    except Exception as exc:
        raise IngestError(where, f"corrupt .docx: {exc}") from exc


# --------------------------------------------------------------------------- PDF


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


class _Stop(BaseException):
    """Stops pypdf in the middle of a page once a limit is passed. Not an Exception: pypdf recovers from any
    Exception raised while it extracts a form XObject, and would go on."""


class _Budget:
    """The characters and time a PDF's text may take; called by pypdf for every piece of text it extracts."""

    def __init__(self, max_chars: int, deadline: float, max_seconds: float) -> None:
        self.max_chars, self.deadline, self.max_seconds = max_chars, deadline, max_seconds
        self.chars = 0  # characters extracted so far
        self.at = ""  # "page 3 of 10", for the reason

    def __call__(self, text: str, *_: object) -> None:
        self.chars += len(text)
        self.check()

    def check(self, *, clock: bool = True) -> None:
        if self.chars > self.max_chars:
            raise _Stop(f"text too long: over the limit of {self.max_chars:,} characters (max_text_chars) by {self.at}")
        if clock and time.monotonic() > self.deadline:
            raise _Stop(f"too slow: over the limit of {self.max_seconds:g} s (max_seconds) at {self.at}")


def pdf_text(
    where: str, data: bytes, *, max_chars: int = 10_000_000, deadline: float | None = None, max_seconds: float = 60.0
) -> str:
    """Text of every page of a PDF, pages joined with newlines; IngestError(where, reason) if unreadable.

    AES- and RC4-encrypted PDFs that open without a password (most do) are read; one that needs a
    password is skipped saying so. Extraction stops, and the file is skipped with a reason naming
    the limit, once the text passes ``max_chars`` characters or the clock passes ``deadline``
    (``time.monotonic()``; by default ``max_seconds`` from now), checked between pages and while
    a page's text is extracted (pages can share one content stream, or draw one form many times).
    """
    from pypdf import PasswordType, PdfReader

    deadline = time.monotonic() + max_seconds if deadline is None else deadline
    with _quiet_pypdf():
        try:
            reader = PdfReader(io.BytesIO(data))
        except Exception as exc:
            raise IngestError(where, f"corrupt .pdf: {exc}") from exc
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except Exception as exc:  # an encryption scheme pypdf does not know
                raise IngestError(where, f"encrypted PDF: cannot decrypt it ({exc})") from exc
            if not opened:
                raise IngestError(where, "encrypted PDF: needs a password")
        budget = _Budget(max_chars, deadline, max_seconds)
        texts: list[str] = []
        try:
            count = len(reader.pages)
            for number, page in enumerate(reader.pages, start=1):
                budget.at = f"page {number:,} of {count:,}"
                budget.chars += number > 1  # the newline that joins it to the page before
                budget.check()
                done = budget.chars
                text = page.extract_text(visitor_text=budget) or ""
                budget.chars = done + len(text)
                budget.check(clock=False)
                texts.append(text)
        except _Stop as stop:
            raise IngestError(where, str(stop)) from None
        except Exception as exc:
            raise IngestError(where, f"corrupt .pdf: {exc}") from exc
        return "\n".join(texts)
