"""The supported file formats, the text of HTML files, and the budget the Word and PDF readers share.

Which suffixes are read, and as what; the text of an HTML page's markup
(decoding HTML bytes is :mod:`dedup.ingest.decode`'s job), in time linear in
its size, by BeautifulSoup (imported on first use). The text of a ``.docx``
is :mod:`dedup.ingest.word`'s, of a ``.pdf`` :mod:`dedup.ingest.pdf`'s; both
count the characters and watch the clock as they extract (:class:`_Budget`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from dedup.errors import IngestError

__all__ = ["FORMATS", "SUPPORTED_SUFFIXES", "extracting", "html_text", "megabytes"]

SUPPORTED_SUFFIXES: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")

#: Format name (``Document.format``) of each supported suffix, lower case.
FORMATS = {".txt": "txt", ".md": "md", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}


def megabytes(size: int) -> str:
    """A size in bytes as people read it: "3.2 MB"."""
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size:,} bytes"


# --------------------------------------------------------------------------- the budget of a Word or PDF file


class _Stop(BaseException):
    """Stops an extraction in the middle once a limit is passed. Not an Exception: pypdf recovers from any
    Exception raised while it extracts a form XObject, and would go on."""


class _Budget:
    """The characters and time a file's text may take. Called by pypdf for every piece of text it extracts; the
    Word reader counts each paragraph. ``at`` says where the extraction is ("page 3 of 10", "paragraph 12")."""

    def __init__(self, max_chars: int, deadline: float, max_seconds: float) -> None:
        self.max_chars, self.deadline, self.max_seconds = max_chars, deadline, max_seconds
        self.chars = 0  # characters extracted so far
        self.at = ""

    def __call__(self, text: str, *_: object) -> None:
        self.chars += len(text)
        self.check()

    def check(self, *, clock: bool = True) -> None:
        if self.chars > self.max_chars:
            raise _Stop(f"text too long: over the limit of {self.max_chars:,} characters (max_text_chars) by {self.at}")
        if clock and time.monotonic() > self.deadline:
            raise _Stop(f"too slow: over the limit of {self.max_seconds:g} s (max_seconds) at {self.at}")


@contextmanager
def extracting(where: str, kind: str) -> Iterator[None]:
    """Where the text of a Word or PDF file is extracted: a limit passed (``_Stop``) is the reason the file is
    skipped; any other error says it is a corrupt ``.kind`` file."""
    try:
        yield
    except _Stop as stop:
        raise IngestError(where, str(stop)) from None
    except Exception as exc:
        raise IngestError(where, f"corrupt .{kind}: {exc}") from exc


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
