"""The supported file formats, and the text of Word, PDF and HTML files.

Which suffixes are read, and as what; the text of a ``.docx`` body, of every
page of a ``.pdf`` and of an HTML page's markup (decoding HTML bytes is
:mod:`dedup.ingest.decode`'s job). The parsers (python-docx, pypdf,
BeautifulSoup) are imported on first use.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from dedup.errors import IngestError

__all__ = ["FORMATS", "SUPPORTED_SUFFIXES", "docx_text", "html_text", "pdf_text"]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")

#: Format name (``Document.format``) of each supported suffix, lower case.
FORMATS = {".txt": "txt", ".md": "md", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}

# --------------------------------------------------------------------------- HTML

_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_WIDE}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_WIDE}])")
_DROPPED_TAGS = ("script", "style", "noscript", "template", "title")
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "td", "th", "tr", "ul", "caption", "body", "html",
)  # fmt: skip


def html_text(markup: str) -> str:
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


# --------------------------------------------------------------------------- Word


def docx_text(data: bytes) -> str:
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


def pdf_text(path: str, data: bytes) -> str:
    """Text of every page of a PDF, pages joined with newlines; IngestError(path, reason) if unreadable."""
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
