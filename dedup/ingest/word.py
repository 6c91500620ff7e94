"""The text of a Word (.docx) file: its body's paragraphs and table cells, in document order.

A .docx is a zip of XML parts; python-docx (imported on first use) parses them
and gives each paragraph's text. Reading one is bounded: the parts' total
uncompressed size and each XML part's size before anything is parsed (a
parsed part takes some 14 times its size in memory), then the characters and
the time while the paragraphs are read. Tables are walked here, each cell
once, rather than through python-docx's ``_Row.cells``, which makes an object
for every grid column a merged cell spans (a cell saying it spans 10⁸ columns
took 16 s and 900 MB): the text is the same, cell for cell.
"""

from __future__ import annotations

import io
import re
import time
import warnings
import zipfile
from collections.abc import Iterator

from dedup.errors import IngestError
from dedup.ingest.formats import _Budget, extracting, megabytes

__all__ = ["docx_text"]

#: How an XML part begins, whatever its name (python-docx parses a part by its content type, so a name proves
#: nothing): "<" after a byte-order mark, white space or the NULs of UTF-16/32; or "<?xm" in EBCDIC.
_XML_START = re.compile(rb"(?:\xef\xbb\xbf|\xff\xfe|\xfe\xff)?[\x00\t\n\r ]*<|\x4c\x6f\xa7\x94")


def _unzipped(where: str, data: bytes, limit: int, xml_limit: int) -> io.BytesIO:
    """The .docx rebuilt with its parts stored uncompressed, each read with a cap; IngestError past ``limit`` in
    all, or past ``xml_limit`` for one XML part.

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
                    chunks: list[bytes] = []
                    size, xml = 0, False
                    with archive.open(part) as member:
                        while chunk := member.read(1 << 20):
                            total += len(chunk)
                            if total > limit:
                                raise IngestError(where, f".docx expands to more than {megabytes(limit)} uncompressed, {over}")
                            xml = xml or (not chunks and _XML_START.match(chunk) is not None)
                            size += len(chunk)
                            if xml and size > xml_limit:
                                name = part.filename if len(part.filename) <= 100 else part.filename[:99] + "…"
                                over_xml = f"over the limit of {megabytes(xml_limit)} (max_docx_xml_bytes)"
                                raise IngestError(where, f"XML part too large: {name!r} expands {over_xml}")
                            chunks.append(chunk)
                    out.writestr(part.filename, b"".join(chunks))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, OSError) as exc:
        raise IngestError(where, f"corrupt .docx: {exc}") from exc
    rebuilt.seek(0)
    return rebuilt


class _GridRow:
    """One ``w:tr`` of a table: its cells as python-docx's ``_Row.cells`` resolves them, each ``w:tc`` looked at once.

    A ``w:tc`` whose ``vMerge`` is "continue" stands for the cell at the same grid offset in the row above
    (``CT_Tc._tc_above``: ``CT_Row.tc_at_grid_offset`` of that row), and that one for the cell above it, up to
    the cell that holds the text; a cell spanning no grid column (``gridSpan`` 0 or less) gives nothing. Grid
    offsets count ``w:gridBefore`` and the ``gridSpan`` of the cells before; each value is read once, in the order
    python-docx reads them, so that a malformed one fails as it did there. The row above is looked up by offset
    in time linear in its cells (python-docx walks the row for each offset, and sums the spans before each cell).
    """

    def __init__(self, tr, above: _GridRow | None) -> None:  # noqa: ANN001 (python-docx's CT_Row)
        self.tr, self.above = tr, above
        self.tcs = tr.tc_lst
        self.spans: list[int | None] = [None] * len(self.tcs)
        self.before: int | None = None  # w:gridBefore
        self.prefix = [0]  # self.prefix[i]: the spans of the first i cells, summed (as far as computed)
        self.roots: list = []  # for each w:tc, the w:tc holding its text
        self.starts: dict[int, int] = {}  # grid offset -> index of the w:tc that tc_at_grid_offset finds there
        self.looked = 0  # cells examined by lookups so far
        self.highest: int | None = None  # the highest grid offset at which they start

    def span(self, i: int) -> int:
        if self.spans[i] is None:
            self.spans[i] = self.tcs[i].grid_span
        return self.spans[i]

    def grid_before(self) -> int:
        if self.before is None:
            self.before = self.tr.grid_before
        return self.before

    def offset(self, i: int) -> int:
        """``CT_Tc.grid_offset`` of cell ``i``: the grid columns before it."""
        before = self.grid_before()
        while len(self.prefix) <= i:
            self.prefix.append(self.prefix[-1] + self.span(len(self.prefix) - 1))
        return before + self.prefix[i]

    def at(self, offset: int) -> int:
        """Index of ``CT_Row.tc_at_grid_offset(offset)``: the first cell starting at ``offset`` before any cell
        starting beyond it; ValueError as it raises."""
        self.grid_before()
        while offset not in self.starts and (self.highest is None or self.highest < offset) and self.looked < len(self.tcs):
            start = self.offset(self.looked)
            if self.highest is None or start > self.highest:
                self.starts[start], self.highest = self.looked, start
            self.looked += 1
        if offset in self.starts:
            return self.starts[offset]
        raise ValueError(f"no `tc` element at grid_offset={offset}")

    def cells(self) -> list:
        """The ``w:tc`` elements whose text this row shows, in order, each once (all resolved before any is read,
        as ``_Row.cells`` does)."""
        shown, seen = [], set()
        for i, tc in enumerate(self.tcs):
            if tc.vMerge == "continue":
                if self.above is None:
                    raise ValueError("no tr above topmost tr in w:tbl")
                root = self.above.roots[self.above.at(self.offset(i))]
            else:
                root = tc
            self.roots.append(root)
            if (root.grid_span if root is not tc else self.span(i)) >= 1 and id(root) not in seen:
                seen.add(id(root))
                shown.append(root)
        return shown


def _blocks(element, tags: tuple[str, str, str, str, str]) -> Iterator[str]:  # noqa: ANN001 (an lxml element)
    """The text of each paragraph in ``element`` (the body, a cell, a content control), in document order:
    tables cell by cell, row by row; content controls (``w:sdt``) as the paragraphs and tables they hold."""
    from docx.text.paragraph import Paragraph

    p, tbl, tr, sdt, sdt_content = tags
    for child in element.iterchildren():
        if child.tag == p:
            yield Paragraph(child, None).text
        elif child.tag == tbl:
            row = None
            for each in child.iterchildren(tr):
                row = _GridRow(each, row)
                for cell in row.cells():
                    yield from _blocks(cell, tags)
        elif child.tag == sdt:
            content = child.find(sdt_content)
            if content is not None:
                yield from _blocks(content, tags)


def docx_text(
    data: bytes,
    *,
    where: str = "",
    max_unzipped: int = 200_000_000,
    max_xml: int = 10_000_000,
    max_chars: int = 10_000_000,
    deadline: float | None = None,
    max_seconds: float = 60.0,
) -> str:
    """Paragraph and table-cell text of a .docx body, in document order; IngestError(where, reason) if unreadable.

    A .docx whose parts expand to more than ``max_unzipped`` bytes, or one of whose XML parts expands to
    more than ``max_xml``, is not read. Reading stops, and the file is skipped with a reason naming the
    limit, once the text passes ``max_chars`` characters or the clock passes ``deadline``
    (``time.monotonic()``; by default ``max_seconds`` from now), checked after each paragraph. A
    vertically merged cell's text is given again for each row it spans, as python-docx gives it.
    """
    import docx
    from docx.oxml.ns import qn

    deadline = time.monotonic() + max_seconds if deadline is None else deadline
    package = _unzipped(where, data, max_unzipped, max_xml)
    budget = _Budget(max_chars, deadline, max_seconds)
    texts: list[str] = []
    with extracting(where, "docx"):
        document = docx.Document(package)
        tags = (qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:sdt"), qn("w:sdtContent"))
        for number, text in enumerate(_blocks(document.element.body, tags), start=1):
            budget.chars += len(text) + (number > 1)  # (and the newline that joins it to the one before)
            if budget.chars > max_chars or time.monotonic() > deadline:
                budget.at = f"paragraph {number:,}"
                budget.check()
            texts.append(text)
    return "\n".join(texts)
