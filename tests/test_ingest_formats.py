"""Tests for dedup.ingest's formats: Word, PDF and HTML text, damaged and empty files."""

from __future__ import annotations

import codecs
import io
import logging
import re
import struct
import tempfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.config import IngestConfig
from dedup.errors import ConfigError, IngestError
from dedup.ingest import read_document
from dedup.models import Document

import reference
from texts import write


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Fellow citizens, we gather today.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "cell one"
    table.cell(0, 1).text = "单元格二"
    document.add_paragraph("Thank you.")
    document.save(tmp_path / "speech.docx")
    doc = read_document(tmp_path / "speech.docx")
    assert doc == Document("speech.docx", "Fellow citizens, we gather today.\ncell one\n单元格二\nThank you.", "docx")


def make_pdf(path: Path, lines: list[str]) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 12)
    for line in lines:
        pdf.drawString(72, 720, line)
        pdf.showPage()
    pdf.save()


def test_pdf_text(tmp_path: Path) -> None:
    make_pdf(tmp_path / "speech.pdf", ["Fellow citizens, we gather today.", "Second page of remarks."])
    doc = read_document(tmp_path / "speech.pdf")
    assert doc.format == "pdf" and doc.encoding is None
    for word in ("Fellow", "citizens", "gather", "Second", "remarks"):
        assert word in doc.text
    assert doc.text.index("gather") < doc.text.index("Second")


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_encrypted_pdf(tmp_path: Path, algorithm: str) -> None:
    """Issue 14: an encrypted PDF that opens without a password is read (AES needs the cryptography package);
    one that needs a password is skipped saying so."""
    from pypdf import PdfWriter

    make_pdf(tmp_path / "plain.pdf", ["Secret remarks."])
    for user, name in (("", "open.pdf"), ("secret", "locked.pdf")):
        writer = PdfWriter(clone_from=tmp_path / "plain.pdf")
        writer.encrypt(user_password=user, owner_password="owner", algorithm=algorithm)
        writer.write(tmp_path / name)
    assert read_document(tmp_path / "open.pdf").text == read_document(tmp_path / "plain.pdf").text
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "locked.pdf")
    assert info.value.reason == "encrypted PDF: needs a password"


def test_corrupt_docx_and_pdf(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "a.docx", b"this is not a zip file")
    with zipfile.ZipFile(tmp_path / "b.docx", "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types")
    write(tmp_path / "c.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    for name in ("a.docx", "b.docx"):
        with pytest.raises(IngestError, match="corrupt .docx"):
            read_document(tmp_path / name)
    level = logging.getLogger("pypdf").level
    with caplog.at_level(logging.WARNING):
        with pytest.raises(IngestError, match="corrupt .pdf"):
            read_document(tmp_path / "c.pdf")
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert logging.getLogger("pypdf").level == level  # restored
    assert capsys.readouterr() == ("", "")


def test_html_drops_scripts_and_honours_meta_charset(tmp_path: Path) -> None:
    page = """<!DOCTYPE html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>网站标题</title><style>p { color: red }</style>
<script>var hidden = "脚本内容";</script></head>
<body><!-- 注释 --><h1>政府工作报告</h1>
<p>同志们：今天我们<b>在这里</b>召开
   全体会议。</p><p>second<br>line</p>
<noscript>请启用脚本</noscript><template><p>模板</p></template></body></html>"""
    write(tmp_path / "report.html", page.encode("gb2312"))
    doc = read_document(tmp_path / "report.html")
    assert doc.format == "html" and doc.encoding == "gb18030"
    assert doc.text == "政府工作报告\n\n同志们：今天我们在这里召开全体会议。\n\nsecond\nline"

    write(tmp_path / "short.htm", '<meta charset="GBK"><p>各位代表</p>'.encode("gbk"))
    assert read_document(tmp_path / "short.htm").text == "各位代表"


def test_empty_and_blank_files(tmp_path: Path) -> None:
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "blank.md", b" \r\n\t\n")
    write(tmp_path / "blank.html", b"<html><body><script>x()</script></body></html>")
    with pytest.raises(IngestError, match="empty file"):
        read_document(tmp_path / "empty.txt")
    for name in ("blank.md", "blank.html"):
        with pytest.raises(IngestError, match="no text"):
            read_document(tmp_path / name)


# --------------------------------------------------------------------------- issue 14: bounded extraction


def zipped_docx(tmp_path: Path, name: str, extra: dict[str, bytes]) -> Path:
    """A real .docx (one paragraph) with more parts added."""
    import docx

    document = docx.Document()
    document.add_paragraph("Fellow citizens, we gather today.")
    document.save(tmp_path / "plain.docx")
    with zipfile.ZipFile(tmp_path / "plain.docx") as source, zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            out.writestr(item, source.read(item))
        for part, data in extra.items():
            out.writestr(part, data)
    return tmp_path / name


def test_docx_zip_bomb_is_skipped(tmp_path: Path) -> None:
    """Issue 14 item 3: a .docx expanding past max_docx_unzipped_bytes is skipped before it is inflated."""
    bomb = zipped_docx(tmp_path, "bomb.docx", {"word/media/zeros.bin": bytes(3_000_000)})
    assert bomb.stat().st_size < 100_000
    with pytest.raises(IngestError) as info:
        read_document(bomb, limits=IngestConfig(max_docx_unzipped_bytes=2_000_000))
    with zipfile.ZipFile(bomb) as archive:
        size = sum(item.file_size for item in archive.infolist()) / 1e6
    assert info.value.reason == (
        f".docx expands to {size:.1f} MB uncompressed, over the limit of 2.0 MB (max_docx_unzipped_bytes): a zip bomb?"
    )
    assert read_document(bomb).text == "Fellow citizens, we gather today."  # within the default limit


def raw_zip(parts: list[tuple[str, bytes, bytes]]) -> bytes:
    """A zip file of deflated parts ``(name, what its headers declare, the deflate stream it holds)``."""
    out, central = bytearray(), bytearray()
    for name, declared, stream in parts:
        crc, offset, encoded = zlib.crc32(declared), len(out), name.encode()
        sizes = (crc, len(stream), len(declared), len(encoded))
        out += b"PK\x03\x04" + struct.pack("<HHHHHIIIHH", 20, 0, 8, 0, 0x21, *sizes, 0) + encoded + stream
        central += b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0, offset)
        central += encoded
    return bytes(out + central + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(parts), len(parts), len(central), len(out), 0))


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def test_docx_that_lies_about_its_sizes_is_read_with_a_cap(tmp_path: Path) -> None:
    """A zip can declare small sizes for parts that inflate much further: each part is inflated a chunk at a
    time up to the size it declares, so the lie costs nothing (zipfile alone inflates up to 2 GB at once)."""
    with zipfile.ZipFile(zipped_docx(tmp_path, "source.docx", {})) as source:
        parts = [(item.filename, source.read(item)) for item in source.infolist()]
    tail = bytes(40_000_000)  # what the body's deflate stream holds after the size it declares
    lying = [(name, data, deflated(data + tail if name == "word/document.xml" else data)) for name, data in parts]
    write(tmp_path / "liar.docx", raw_zip(lying))
    assert (tmp_path / "liar.docx").stat().st_size < 200_000
    tracemalloc.start()
    try:
        doc = read_document(tmp_path / "liar.docx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert doc.text == "Fellow citizens, we gather today."
    assert peak < 10_000_000, f"inflated {peak:,} bytes"


def shared_stream_pdf(path: Path, pages: int, lines: int) -> Path:
    """A PDF whose ``pages`` pages all point at one content stream of ``lines`` lines (pypdf shares the stream of a
    page added again): a small file holding pages × lines lines of text."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    one = io.BytesIO()
    pdf = canvas.Canvas(one)
    pdf.setFont("Helvetica", 6)
    text = pdf.beginText(20, 820)
    for _ in range(lines):
        text.textLine("Fellow citizens, we gather today to open the library of our city. " * 2)
    pdf.drawText(text)
    pdf.showPage()
    pdf.save()
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(PdfReader(io.BytesIO(one.getvalue())).pages[0] if not writer.pages else writer.pages[0])
    writer.write(path)
    reader = PdfReader(path)
    assert len({page.get("/Contents").idnum for page in reader.pages}) == 1
    return path


def test_pdf_pages_sharing_one_content_stream_stop_at_the_character_limit(tmp_path: Path) -> None:
    """Issue 14 item 4: pages sharing one content stream gave 189 million characters in over 180 s: the text is
    bounded, checked as pages are read, and the reason names the limit and where it stopped."""
    pdf = shared_stream_pdf(tmp_path / "shared.pdf", pages=200, lines=60)
    assert pdf.stat().st_size < 100_000  # about 8,000 characters a page: 1.6 million in all
    started = time.monotonic()
    with pytest.raises(IngestError) as info:
        read_document(pdf, limits=IngestConfig(max_text_chars=50_000))
    assert time.monotonic() - started < 2
    assert re.fullmatch(
        r"text too long: over the limit of 50,000 characters \(max_text_chars\) by page (\d+) of 200", info.value.reason
    )
    assert 2 <= int(info.value.reason.rsplit(" ", 3)[1]) <= 10


def test_pdf_time_budget_is_checked_between_and_within_pages(tmp_path: Path) -> None:
    pdf = shared_stream_pdf(tmp_path / "slow.pdf", pages=300, lines=60)
    started = time.monotonic()
    with pytest.raises(IngestError) as info:
        read_document(pdf, limits=IngestConfig(max_seconds=0.3))
    assert time.monotonic() - started < 1.5  # all 300 pages take seconds
    assert re.fullmatch(r"too slow: over the limit of 0.3 s \(max_seconds\) at page \d+ of 300", info.value.reason)


def test_pdf_drawing_one_form_many_times_stops_within_the_page(tmp_path: Path) -> None:
    """One page can draw one form (a text XObject) thousands of times: the limit stops it inside the page."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "form.pdf"))
    pdf.setFont("Helvetica", 6)
    pdf.beginForm("speech")
    text = pdf.beginText(20, 820)
    for _ in range(20):
        text.textLine("Fellow citizens, we gather today to open the library.")
    pdf.drawText(text)
    pdf.endForm()
    for _ in range(2000):
        pdf.doForm("speech")
    pdf.showPage()
    pdf.save()
    started = time.monotonic()
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "form.pdf", limits=IngestConfig(max_text_chars=100_000))
    assert time.monotonic() - started < 2  # (all of it: 2.2 million characters, 4 s)
    assert info.value.reason == "text too long: over the limit of 100,000 characters (max_text_chars) by page 1 of 1"


# --------------------------------------------------------------------------- issue 14: HTML in linear time


def test_deeply_nested_and_wide_html_in_linear_time(tmp_path: Path) -> None:
    """Issue 14 item 5: 100,000 nested <div>s took over 180 s (10,000: 57 s); no recursion, no quadratic walk."""
    n = 10_000
    pages = {
        "nested.html": "<html><body>" + "<div>段" * n + "</div>" * n + "</body></html>",
        "wide.html": "<html><body>" + "<p>段</p>" * n + "</body></html>",
        "unclosed.html": "<body>" + "<p>x<span>y" * n,
    }
    for name, page in pages.items():
        write(tmp_path / name, page)
        started = time.monotonic()
        text = read_document(tmp_path / name).text
        assert time.monotonic() - started < 5, name
        assert text.count("段") == n or text.count("y") == n


def test_markup_that_makes_the_standard_parser_quadratic(tmp_path: Path) -> None:
    """CPython's HTML tokenizer scans from each "<" of a run of unclosed tag starts to its end (30 KB of "<a "
    took it 16 s): such pages are parsed by lxml."""
    for name, page in {"a.html": "<p>kept</p>" + "<a " * 50_000, "q.html": "<p>kept</p>" + "<a b='" * 50_000}.items():
        write(tmp_path / name, page)
        started = time.monotonic()
        assert read_document(tmp_path / name).text.startswith("kept")
        assert time.monotonic() - started < 5


HTML_CASES = [
    "<p>one<p>two<p>three", "<ul><li>a<li>b</ul>", "<table><tr><td>a<td>b</table>", "<pre>\nline1\n  line2</pre>",
    "<p>a &nbsp; b &amp; c &copy; &#128; &#x4e2d; &unknown; &amp</p>", "<div><p>x</div>y</p>", "<b><i>x</b>y</i>",
    "<html><head><title>T</title><meta charset=utf-8></head><body>正文<br>第二行</body></html>", "<p>字\n  字</p>",
    "<textarea>  a\n b </textarea>", "<!-- c --><p>x</p><!--unclosed", "<p>a<script>var x='<p>';</script>b</p>",
    "<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>", "<pre>a<rt>x</rt><!--c-->b<br>c<p>d</p></pre>",
    "<p>x</p><![CDATA[data]]>", "<?php echo 1 ?><p>y</p>", "before<html><body>x</body></html>after",
    "<noscript><p>n</p></noscript>m", "<p>a<br/>b<br />c</p>", "<h1>T</h1>body text", "<select><option>a<option>b</select>",
    "<p>x<table><tr><td>y</td></tr></table>z</p>", "<svg><title>s</title><text>t</text></svg>", "<template><p>t</p></template>v",
    "<p>\u3000全角空格\u3000</p>", "<div>a</span>b</div>", "<p>a</p>\r\n<p>b</p>", "<pre><pre>x</pre>\n y \n</pre> z ",
    "<br><div></div><br>", "<p>a\x0bb\x85c\u2028d</p>", "<textarea><p>not a tag</p></textarea>", "<title>a<p>b</title>c",
]


def html_of(markup: str) -> str:
    """What read_document makes of a page (as UTF-8 with BOM), or "" if it says it holds no text."""
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "page.html", codecs.BOM_UTF8 + markup.encode("utf-8"))
        try:
            return read_document(path).text
        except IngestError as exc:
            assert exc.reason == "no text"
            return ""


def test_html_text_is_what_it_was() -> None:
    """The linear walker gives the text the tree-editing one gave (tests/reference.py), on awkward markup too."""
    for markup in HTML_CASES:
        assert html_of(markup) == reference.html_text(markup), markup


_TOKENS = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<pre>", "</pre>", "<br>", "<span>", "</span>", "<b>", "</b>", "<li>", "<td>",
    "<table>", "</table>", "<script>x<y</script>", "<title>t</title>", "<!--c-->", "<textarea>", "</textarea>",
    "<rt>", "</rt>", "<![CDATA[d]]>", "<!DOCTYPE html>", "<?pi?>", "&amp;", "&nbsp;", " ", "\n", "\t", "\r\n",
    "字", "词", "word", "Word.", "，", "\u3000", "<html>", "<body>", "</body>", "<h2>", "</h2>",
])  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_TOKENS, max_size=40))
def test_html_text_is_what_it_was_on_random_markup(tokens: list[str]) -> None:
    markup = "".join(tokens)
    assert html_of(markup) == reference.html_text(markup)


# --------------------------------------------------------------------------- fuzz findings: .docx tables and limits, PDF content


def docx_file(tmp_path: Path, name: str, data: bytes) -> Path:
    return write(tmp_path / name, data)


def read_timed(path: Path, limits: IngestConfig | None = None) -> tuple[str, float, int]:
    """(the text or the reason it was skipped, seconds, peak of Python's allocations in bytes)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        try:
            out = read_document(path, limits=limits).text
        except IngestError as exc:
            out = exc.reason
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, time.monotonic() - started, peak


@st.composite
def merged_tables(draw: st.DrawFn) -> bytes:
    """A .docx (python-docx) of paragraphs and tables with cells merged across and down (cell.merge), a table nested
    in a cell, a table inside a content control of the body."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_paragraph("开头")
    for t in range(draw(st.integers(1, 3))):
        rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
        table = document.add_table(rows=rows, cols=cols)
        for i in range(rows):
            for j in range(cols):
                table.cell(i, j).text = f"{t}:{i}.{j}"
        for _ in range(draw(st.integers(0, 3))):
            i1, j1 = draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))
            i2, j2 = draw(st.integers(i1, rows - 1)), draw(st.integers(j1, cols - 1))
            try:
                table.cell(i1, j1).merge(table.cell(i2, j2))
            except Exception:  # noqa: BLE001 (python-docx refuses merges that cut a merged cell)
                pass
        if draw(st.booleans()):
            inner = table.cell(draw(st.integers(0, rows - 1)), draw(st.integers(0, cols - 1))).add_table(rows=2, cols=2)
            inner.cell(0, 0).merge(inner.cell(1, 0)).text = "内层合并"
            inner.cell(1, 1).add_paragraph("inner second paragraph")
        document.add_paragraph(f"表后 {t}")
    if draw(st.booleans()):  # the first table inside a content control
        body = document.element.body
        first = body.find(qn("w:tbl"))
        control, content = body.makeelement(qn("w:sdt"), {}), body.makeelement(qn("w:sdtContent"), {})
        first.addprevious(control)
        control.append(content)
        content.append(first)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(merged_tables())
def test_docx_table_text_is_what_it_was(data: bytes) -> None:
    """Tables are walked a cell at a time, no longer through python-docx's row.cells (an object for every grid column
    a merged cell spans): the text is python-docx's, cell for cell (tests/reference.py), or both fail alike."""
    try:
        expected = reference.docx_text(data)
    except ValueError as exc:  # (merges python-docx made but cannot read back)
        expected = f"corrupt .docx: {exc}"
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "t.docx", data)
        try:
            text = read_document(path).text
        except IngestError as exc:
            text = exc.reason
    assert text == expected


def test_docx_merged_cells_spans_and_content_controls(tmp_path: Path) -> None:
    """What a table gives, as python-docx's row.cells does: a cell spanning columns once; a cell merged down again in
    each row it spans; a cell spanning no column (gridSpan 0) nothing; a row starting late (gridBefore) finds the
    cell above by its grid offset; a content control and a table inside a cell are read."""
    from fuzz.hostile import docx_of, document_xml, paragraph

    def tc(text: str, props: str = "") -> str:
        return f"<w:tc>{'<w:tcPr>' + props + '</w:tcPr>' if props else ''}{paragraph(text) if text else '<w:p/>'}</w:tc>"

    rows = [
        tc("A", '<w:gridSpan w:val="2"/>') + tc("B", '<w:vMerge w:val="restart"/>') + tc("zero", '<w:gridSpan w:val="0"/>'),
        tc("C") + tc("D") + tc("", "<w:vMerge/>"),
        tc("", '<w:vMerge w:val="continue"/>'),
    ]
    trs = [f"<w:tr>{rows[0]}</w:tr>", f"<w:tr>{rows[1]}</w:tr>",
           f'<w:tr><w:trPr><w:gridBefore w:val="2"/></w:trPr>{rows[2]}</w:tr>']
    nested = "<w:tbl><w:tr><w:tc>" + paragraph("内") + "</w:tc></w:tr></w:tbl>"
    control = f"<w:tc><w:sdt><w:sdtContent>{paragraph('控件')}{nested}</w:sdtContent></w:sdt><w:p/></w:tc>"
    body = paragraph("前") + "<w:tbl>" + "".join(trs) + f"<w:tr>{control}</w:tr></w:tbl>" + paragraph("后")
    path = docx_file(tmp_path, "cells.docx", docx_of(document_xml(body)))
    assert read_document(path).text == "\n".join(["前", "A", "B", "C", "D", "B", "B", "控件", "内", "", "后"])
    plain = docx_of(document_xml(paragraph("前") + "<w:tbl>" + "".join(trs) + "</w:tbl>" + paragraph("后")))
    assert read_document(docx_file(tmp_path, "plain.docx", plain)).text == reference.docx_text(plain)


def test_docx_cell_spanning_10_to_the_8_columns_is_read_at_once(tmp_path: Path) -> None:
    """The fuzz suite's table bomb: 951 bytes whose cell says it spans 10^8 grid columns took 16 s and 900 MB."""
    from fuzz.hostile import docx_grid_span

    text, seconds, peak = read_timed(docx_file(tmp_path, "span.docx", docx_grid_span(10**8)))
    assert text == "合并" and seconds < 8 and peak < 20_000_000


def tall_merge(rows: int, text: str) -> bytes:
    """A one-column table whose first cell, holding ``text``, is merged down ``rows`` rows."""
    from fuzz.hostile import docx_of, document_xml, paragraph

    first = f'<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>{paragraph(text)}</w:tc></w:tr>'
    rest = "<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc></w:tr>" * (rows - 1)
    return docx_of(document_xml(f"<w:tbl><w:tblGrid><w:gridCol/></w:tblGrid>{first}{rest}</w:tbl>"))


def test_docx_cell_merged_down_many_rows_in_linear_time(tmp_path: Path) -> None:
    """python-docx finds a merged cell's text through every row above it, again for each row (500 rows: 10 s; past
    about 1,000 rows, RecursionError): the rows are walked once, each finding its cell in the row above."""
    assert read_document(docx_file(tmp_path, "short.docx", tall_merge(60, "长"))).text == reference.docx_text(
        tall_merge(60, "长"))
    text, seconds, _ = read_timed(docx_file(tmp_path, "tall.docx", tall_merge(3000, "长")))
    assert text == "\n".join(["长"] * 3000)


def test_docx_text_and_time_limits_are_checked_between_paragraphs(tmp_path: Path) -> None:
    """max_text_chars and max_seconds stop a .docx while its paragraphs are read, as they stop a PDF between pages:
    a cell of 1,000 characters merged down 3,000 rows gives 3 million characters from 2 KB."""
    from fuzz.hostile import docx_bomb

    path = docx_file(tmp_path, "tall.docx", tall_merge(3000, "长" * 1000))
    assert path.stat().st_size < 5_000
    text, seconds, peak = read_timed(path, IngestConfig(max_text_chars=100_000))
    assert text == "text too long: over the limit of 100,000 characters (max_text_chars) by paragraph 100"
    assert seconds < 5 and peak < 20_000_000
    assert read_document(path, limits=IngestConfig(max_text_chars=3_002_999)).text.count("长") == 3_000_000
    slow = docx_file(tmp_path, "slow.docx", docx_bomb(3))  # 3 MB of paragraphs: seconds to read
    text, seconds, _ = read_timed(slow, IngestConfig(max_seconds=0.3))
    assert re.fullmatch(r"too slow: over the limit of 0.3 s \(max_seconds\) at paragraph [\d,]+", text), text
    assert seconds < 5  # (the reason says the clock stopped it; read whole, 3 MB takes about 2 s)


def test_docx_xml_part_limit(tmp_path: Path) -> None:
    """The fuzz suite's docx bomb: 150 KB whose body inflates to 50 MB of paragraphs took 40 to 60 s and 750 MB
    (python-docx parses a part whole first). An XML part is refused past max_docx_xml_bytes as it is inflated,
    whatever its name; photos (parts that are not XML) are not held to it."""
    from fuzz.hostile import docx_bomb

    text, seconds, peak = read_timed(docx_file(tmp_path, "bomb.docx", docx_bomb(50)))
    assert text == "XML part too large: 'word/document.xml' expands over the limit of 10.0 MB (max_docx_xml_bytes)"
    assert seconds < 5 and peak < 60_000_000
    limits = IngestConfig(max_docx_xml_bytes=500_000)  # (python-docx's own styles take 440 KB)
    photo = zipped_docx(tmp_path, "photo.docx", {"word/media/image1.jpeg": b"\xff\xd8\xff\xe0" + bytes(600_000)})
    assert read_document(photo, limits=limits).text == "Fellow citizens, we gather today."
    odd = zipped_docx(tmp_path, "odd.docx", {"customXml/item1.bin": b"\xef\xbb\xbf  <?xml version='1.0'?><a>" + bytes(600_000)})
    with pytest.raises(IngestError) as info:
        read_document(odd, limits=limits)
    assert info.value.reason == "XML part too large: 'customXml/item1.bin' expands over the limit of 0.5 MB (max_docx_xml_bytes)"


def pdf_drawing_a_form(content: bytes, *, page: bytes = b"BT /F1 12 Tf 72 760 Td (page) Tj ET q /Fm1 Do Q") -> bytes:
    """A one-page PDF whose page draws one form XObject holding ``content`` (deflated)."""
    from fuzz.hostile import pdf_of, stream

    return pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> >>",
        stream(page),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        stream(zlib.compress(content, 9), b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Filter /FlateDecode "
                                          b"/Resources << /Font << /F1 5 0 R >> >> "),
    ])


def test_pdf_content_stream_limit(tmp_path: Path) -> None:
    """The fuzz suite's PDF bomb: 16 KB whose page inflates to 5 MB of text operators took 12 to 19 s and 220 MB
    (pypdf parses a content stream whole before any text comes out). A page, or a form it draws, whose content can
    show text is refused past max_pdf_content_bytes before it is parsed."""
    from fuzz.hostile import pdf_flate_bomb

    text, seconds, _ = read_timed(write(tmp_path / "bomb.pdf", pdf_flate_bomb(5)))
    assert text == ("content too large: 5.2 MB of drawing instructions on page 1 of 1, over the limit of 2.0 MB "
                    "(max_pdf_content_bytes)")
    assert seconds < 5
    bomb = write(tmp_path / "small-bomb.pdf", pdf_flate_bomb(1))
    assert read_document(bomb).text.count("bomb") == 28 * 1024  # (1 MB: within the default limit)
    with pytest.raises(IngestError, match=r": content too large: 1\.0 MB .* over the limit of 0\.5 MB \(max_pdf_content_bytes\)$"):
        read_document(bomb, limits=IngestConfig(max_pdf_content_bytes=500_000))
    lines = b"BT /F1 12 Tf 72 720 Td (form) Tj ET\n" * 80_000  # 2.9 MB
    text, seconds, _ = read_timed(write(tmp_path / "form.pdf", pdf_drawing_a_form(lines)))
    assert text == ("content too large: 2.9 MB of drawing instructions in a form drawn on page 1 of 1, over the limit "
                    "of 2.0 MB (max_pdf_content_bytes)")
    assert seconds < 5
    assert read_document(write(tmp_path / "small-form.pdf", pdf_drawing_a_form(lines[:36_000]))).text == "page\n" + "form" * 1000


def test_pdf_page_that_cannot_show_text_is_not_parsed(tmp_path: Path) -> None:
    """A figure (paths only, no text operator) gives no text: it is not parsed, whatever its size (pypdf parsed 3 MB
    of paths in 3 s, for nothing), and the limit does not refuse it."""
    from fuzz.hostile import pdf_page

    figure = write(tmp_path / "figure.pdf", pdf_page(zlib.compress(b"10 10 m 20 20 l S\n" * 170_000), content_extra=b"/Filter /FlateDecode "))
    with pytest.raises(IngestError) as info:
        read_document(figure)
    assert info.value.reason == "no text"
    text, seconds, _ = read_timed(figure)
    assert text == "no text" and seconds < 5


def test_new_limits_defaults_and_validation() -> None:
    limits = IngestConfig()
    assert (limits.max_docx_xml_bytes, limits.max_pdf_content_bytes) == (10_000_000, 2_000_000)
    for field in ("max_docx_xml_bytes", "max_pdf_content_bytes"):
        with pytest.raises(ConfigError) as info:
            IngestConfig(**{field: 0})
        assert str(info.value) == f"{field} must be a whole number of at least 1, got 0"
