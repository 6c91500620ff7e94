"""Hostile inputs for dedup's readers, and what reading them may cost.

Files are made by builders (plain functions of a few parameters: a docx bomb of so many MB, HTML nested so deep,
a PDF whose page tree loops) and drawn by hypothesis strategies built on them (``hostile_files``, ``folders``),
so that a failure shrinks to a few bytes and a short name, and ``benchmarks/fuzz.py`` draws thousands of them
from the same strategies. Every input is a ``Hostile``: a file name (bytes: any name a folder can hold), its
bytes, and a label saying how it was made, from which it can be made again.
"""

from __future__ import annotations

import codecs
import io
import os
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from texts import EN_SPEECH, ZH_SPEECH

#: Examples each fuzz test draws (``DEDUP_FUZZ_EXAMPLES`` for a longer run).
EXAMPLES = int(os.environ.get("DEDUP_FUZZ_EXAMPLES", "0") or 0)
#: Whether the slow cases of known open problems run (else they are reported as expected failures, not run).
SLOW = os.environ.get("DEDUP_FUZZ_SLOW", "") not in ("", "0")


def fuzz_settings(examples: int) -> settings:
    """``examples`` a run in the suite (or ``DEDUP_FUZZ_EXAMPLES``), the same ones every run unless
    ``DEDUP_FUZZ_RANDOM`` is set, no deadline (budgets are checked by the tests), no database."""
    return settings(
        max_examples=EXAMPLES or examples,
        derandomize=os.environ.get("DEDUP_FUZZ_RANDOM", "") in ("", "0"),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                               HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    )


#: The suffixes dedup reads (``dedup.ingest.SUPPORTED_SUFFIXES``), and some it does not.
READ_SUFFIXES = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")
OTHER_SUFFIXES = (".TXT", ".Docx", ".doc", "", ".txt.bak")


@dataclass(frozen=True)
class Hostile:
    """One file to read: its name (bytes), its bytes, and how it was made."""

    name: bytes
    data: bytes
    label: str

    def describe(self, limit: int = 48) -> str:
        """A line naming the input: label, name and size (the reproducer's bytes are written separately)."""
        shown = repr(self.name[:limit]) + ("…" if len(self.name) > limit else "")
        return f"{self.label} name={shown} ({len(self.data)} bytes)"


# --------------------------------------------------------------------------- text and encodings

LINES = [line for line in (ZH_SPEECH + EN_SPEECH).splitlines() if line.strip()]
#: Encodings a speech may come in, and some it should not.
ENCODINGS = (
    "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "gb18030", "gbk", "big5",
    "cp950", "big5hkscs", "shift_jis", "euc-kr", "koi8-r", "cp1252", "latin-1", "utf-7",
)  # fmt: skip
#: Bytes that open files of one kind or another.
MAGIC = (
    codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE,
    b"PK\x03\x04", b"%PDF-1.7\n", b"<html>", b"\x1f\x8b", b"\x00\x00\x00\x00", b"\xff",
)  # fmt: skip


def encoded(text: str, encoding: str) -> bytes:
    """``text`` in ``encoding``, characters it cannot hold replaced."""
    return text.encode(encoding, errors="replace") if not encoding.startswith("utf") else text.encode(encoding, "surrogatepass")


def mixed(parts: list[tuple[str, str]]) -> bytes:
    """Pieces of text, each in an encoding of its own, one after the other (a file pasted together)."""
    return b"".join(encoded(text, encoding) for text, encoding in parts)


def long_line(size: int, cjk: bool) -> bytes:
    """One line of ``size`` bytes or so: a speech with its line ends taken out, repeated."""
    line = (ZH_SPEECH if cjk else EN_SPEECH).replace("\n", " ").encode("utf-8")
    return (line * (size // len(line) + 1))[:size]


def with_nuls(data: bytes, positions: list[int]) -> bytes:
    """``data`` with NUL bytes put in at (relative) positions."""
    out = bytearray(data)
    for p in sorted(positions, reverse=True):
        out.insert(p % (len(out) + 1), 0)
    return bytes(out)


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """``data`` with edits ``(kind, position, value)``: 0 flips a byte to ``value``, 1 inserts it, 2 deletes a
    byte, 3 cuts the rest off (positions are taken modulo the length)."""
    out = bytearray(data)
    for kind, position, value in edits:
        if not out:
            break
        at = position % len(out)
        if kind == 0:
            out[at] = value
        elif kind == 1:
            out.insert(at, value)
        elif kind == 2:
            del out[at]
        else:
            del out[at:]
    return bytes(out)


# --------------------------------------------------------------------------- HTML

#: Charsets a page may declare: real ones, aliases browsers know, and codecs that are not text encodings.
CHARSETS = (
    "utf-8", "gb2312", "gbk", "gb18030", "big5", "iso-8859-1", "windows-1252", "shift_jis", "utf-16", "utf-32",
    "utf-7", "x-user-defined", "nonexistent-charset", "undefined", "idna", "punycode", "unicode_escape",
    "raw_unicode_escape", "utf_16_be", "cp65001", "ascii", "mbcs",
)  # fmt: skip
#: Python codecs that turn bytes into bytes: ``bytes.decode`` refuses them with a ``LookupError``.
NOT_TEXT_CODECS = ("rot13", "base64", "hex", "zlib", "bz2", "uu", "quopri")
NESTING_TAGS = ("div", "span", "b", "p", "li", "table", "td", "pre", "textarea", "a", "font", "blockquote")


def html_page(body: str, charset: str | None, encoding: str = "utf-8") -> bytes:
    meta = f'<meta charset="{charset}">' if charset else ""
    return encoded(f"<!DOCTYPE html><html><head>{meta}<title>t</title></head><body>{body}</body></html>", encoding)


def nested_html(depth: int, tag: str = "div", closed: bool = True, text_each: bool = True) -> bytes:
    """A page with ``depth`` elements one inside the other, text in each (or only in the innermost)."""
    filler = "今天我们召开会议。" if text_each else ""
    opening = f"<{tag}>{filler}" * depth
    closing = f"</{tag}>" * depth if closed else ""
    return html_page(opening + "最里面的一段文字，讲话正文。" + closing, "utf-8")


HTML_FRAGMENTS = (
    "<!--", "-->", "<![CDATA[", "]]>", "<?php echo 1; ?>", "<!DOCTYPE", "&#0;", "&#xD800;", "&#x110000;",
    "&#99999999999;", "&nbsp;", "&", "<", ">", "<br>", "<br/>" * 3, "<pre>\r\n  a\r\n</pre>", "<script>",
    "</script>", "<style>", "<textarea>", "<p", "<p class='x\0y'>", "<table><tr><td>", "</td></tr></table>",
    "<title>", "<noscript>", "<template>", "\0", "\r", "\x1b[31m", "\u2028", "\ufeff", "<meta charset=gbk>",
)  # fmt: skip


# --------------------------------------------------------------------------- zip and docx

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
PACKAGE_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="word/document.xml"/></Relationships>'
)
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def zip_of(members: list[tuple[str, bytes]], *, compressed: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def document_xml(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}</w:body></w:document>'.encode()


def paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def docx_of(document: bytes, extra: list[tuple[str, bytes]] = ()) -> bytes:
    """A minimal .docx package whose main part is ``document`` (bytes, well formed or not)."""
    return zip_of([("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", PACKAGE_RELS),
                   ("word/document.xml", document), *extra])


def nested_tables(depth: int) -> bytes:
    """A document whose table holds a table holding a table … ``depth`` deep (python-docx walks them recursively)."""
    cell_open, cell_close = "<w:tbl><w:tr><w:tc>", "</w:tc></w:tr></w:tbl>"
    return document_xml(cell_open * depth + paragraph("最里面的表格") + cell_close * depth)


def zip_streamed(members: list[tuple[str, bytes]], name: str, head: bytes, unit: bytes, size: int, tail: bytes) -> bytes:
    """A zip with ``members`` and a member ``name`` holding ``head + unit * k + tail``, about ``size`` bytes,
    deflated as it is written (never held whole)."""
    out = io.BytesIO()
    chunk = unit * max(1, (1 << 20) // len(unit))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members:
            z.writestr(member, data)
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=size > (1 << 31)) as f:
            f.write(head)
            for _ in range(max(0, size - len(head) - len(tail)) // len(chunk)):
                f.write(chunk)
            f.write(tail)
    return out.getvalue()


def docx_grid_span(span: int) -> bytes:
    """A .docx with a one-cell table whose cell says it spans ``span`` grid columns (under 1 KB whatever the span)."""
    cell = f'<w:tc><w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>{paragraph("合并")}</w:tc>'
    return docx_of(document_xml(f"<w:tbl><w:tblGrid><w:gridCol/></w:tblGrid><w:tr>{cell}</w:tr></w:tbl>"))


def docx_bomb(megabytes: int, *, valid: bool = True) -> bytes:
    """A .docx whose document part inflates to ``megabytes`` MB: of paragraphs (valid) or of spaces in one."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>'.encode()
    unit = paragraph("安全生产").encode() if valid else b" "
    package = [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", PACKAGE_RELS)]
    return zip_streamed(package, "word/document.xml", head, unit, megabytes << 20, b"</w:body></w:document>")


def zip_bomb(megabytes: int) -> bytes:
    """A zip (named .docx) whose content-types part is ``megabytes`` MB of zeros."""
    return zip_streamed([], "[Content_Types].xml", b"", b"\0", megabytes << 20, b"")


def many_members(count: int) -> bytes:
    """A .docx with ``count`` more empty members."""
    return docx_of(document_xml(paragraph("正文")), [(f"junk/{k}.xml", b"") for k in range(count)])


@lru_cache(maxsize=1)
def docx_seed() -> bytes:
    """A real .docx (python-docx): paragraphs in Chinese and English, a table with a merged cell, a heading."""
    import docx

    document = docx.Document()
    document.add_heading("在全市秋季安全生产工作会议上的讲话", 1)
    for line in LINES[:8]:
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "合并的单元格"
    table.cell(1, 0).text = "Friends and neighbors"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- PDF


def pdf_of(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF of numbered objects (1, 2, …), its cross-reference table right whatever they hold."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, trailer_extra, xref)
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def pdf_page(content: bytes, *, content_extra: bytes = b"") -> bytes:
    """A one-page PDF whose content stream is ``content`` (with Helvetica as /F1)."""
    return pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream(content, content_extra),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def pdf_text_page(text: str = "Friends and neighbors, thank you for coming.") -> bytes:
    return pdf_page(b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1", "replace") + b") Tj ET")


def pdf_flate_bomb(megabytes: int) -> bytes:
    """A page whose content stream inflates to ``megabytes`` MB of text-showing operators."""
    compressor = zlib.compressobj(9)
    unit = b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n" * 1024
    body = b"".join(compressor.compress(unit) for _ in range((megabytes << 20) // len(unit))) + compressor.flush()
    return pdf_page(body, content_extra=b"/Filter /FlateDecode ")


def pdf_repeated_pages(pages: int) -> bytes:
    """A page tree of ``pages`` kids that are all one page (one small content stream): a few bytes a page."""
    return pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b"3 0 R " * pages + b"] /Count %d >>" % pages,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        stream(b"BT /F1 12 Tf 72 720 Td (the same page again) Tj ET"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def pdf_unknown_encoding() -> bytes:
    """A page in a font whose /Encoding is a name pypdf does not know."""
    return pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        stream(b"BT /F1 12 Tf 72 720 Td (text) Tj ET"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /NoSuchEncoding >>",
    ])


def pdf_nested_arrays(depth: int) -> bytes:
    """A catalog holding an array nested ``depth`` deep."""
    return pdf_of([b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * depth + b"]" * depth + b" >>",
                   b"<< /Type /Pages /Kids [] /Count 0 >>"])


def pdf_kids_loop() -> bytes:
    """A page tree whose node lists itself among its kids."""
    return pdf_of([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                   b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"])


def pdf_bogus_filters() -> bytes:
    """A content stream with a chain of filters that do not fit it."""
    return pdf_page(b"garbage", content_extra=b"/Filter [/FlateDecode /LZWDecode /ASCII85Decode /DCTDecode /JBIG2Decode] ")


def pdf_lying_length(length: int) -> bytes:
    """A content stream whose /Length is ``length``, whatever it holds."""
    body = b"BT /F1 12 Tf 72 720 Td (length) Tj ET"
    return pdf_page(body).replace(b"/Length %d " % len(body), b"/Length %d " % length)


def pdf_encrypted_bogus() -> bytes:
    """A PDF that says it is encrypted, with a handler that does not exist."""
    return pdf_of([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>",
                   b"<< /Filter /NoSuchHandler /V 9 /R 9 /O (x) /U (y) /P -1 >>"], trailer_extra=b"/Encrypt 3 0 R ")


@lru_cache(maxsize=1)
def pdf_seed() -> bytes:
    """A real PDF (reportlab): two pages of English, one of Chinese in a CID font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4)
    for page in (EN_SPEECH.splitlines()[:12], EN_SPEECH.splitlines()[12:], ZH_SPEECH.splitlines()[:10]):
        c.setFont("STSong-Light" if page and any(ord(ch) > 0x2E80 for ch in page[0]) else "Helvetica", 11)
        for k, line in enumerate(page):
            c.drawString(40, 800 - 16 * k, line[:70])
        c.showPage()
    c.save()
    return out.getvalue()


# --------------------------------------------------------------------------- names


def gbk_name(text: str, suffix: str) -> bytes:
    return text.encode("gbk") + suffix.encode()


def long_name(suffix: str, size: int = 255) -> bytes:
    body = "很长的文件名".encode() * 50
    return body[: size - len(suffix.encode())].decode("utf-8", "ignore").encode() + suffix.encode()


def valid_name(name: bytes) -> bytes:
    """``name`` as a folder can hold it: no "/", no NUL, not "." or "..", at most 255 bytes."""
    name = name.replace(b"/", b"_").replace(b"\0", b"_")[-255:]
    return b"_" + name if name in (b"", b".", b"..") else name


# --------------------------------------------------------------------------- strategies

_SMALL = st.integers(0, 1 << 30)


@st.composite
def names(draw: st.DrawFn, suffix: str) -> bytes:
    """A file name ending in ``suffix``: plain, Chinese in UTF-8 or GBK bytes, control characters, any bytes,
    very long, hidden."""
    kind = draw(st.sampled_from(["plain", "utf-8", "gbk", "control", "bytes", "long", "hidden", "spaces"]))
    if kind == "plain":
        stem = draw(st.text("abcxyz0123-_", min_size=1, max_size=12)).encode()
    elif kind == "utf-8":
        stem = draw(st.sampled_from(["讲话", "講話稿", "会议 纪要", "e\u0301", "🎤"])).encode()
    elif kind == "gbk":
        return valid_name(gbk_name(draw(st.sampled_from(["讲话", "中文", "会议纪要"])), suffix))
    elif kind == "control":
        stem = draw(st.text(st.sampled_from("ab\n\t\r\x1b\x7f\x01\u200b\u202e"), min_size=1, max_size=8)).encode()
    elif kind == "bytes":
        stem = draw(st.binary(min_size=1, max_size=20))
    elif kind == "long":
        return valid_name(long_name(suffix, draw(st.integers(200, 255))))
    elif kind == "hidden":
        stem = b"." + draw(st.text("abc", min_size=0, max_size=4)).encode()
    else:
        stem = b" - " + draw(st.text("ab ", min_size=0, max_size=4)).encode() + b" "
    return valid_name(stem + suffix.encode())


@st.composite
def text_files(draw: st.DrawFn, *, big: int = 1 << 16) -> Hostile:
    """Text files (.txt/.md): undecodable bytes, mixed encodings, NULs, BOMs and garbage, one long line,
    empty and one-character files, mutated speeches."""
    suffix = draw(st.sampled_from([".txt", ".md", ".txt", ".TXT"]))
    kind = draw(st.sampled_from(["raw", "encoded", "mixed", "nuls", "magic", "long line", "tiny", "mutated"]))
    if kind == "raw":
        data = draw(st.binary(max_size=2000))
    elif kind == "encoded":
        encoding = draw(st.sampled_from(ENCODINGS))
        text = draw(st.one_of(st.sampled_from(LINES), st.text(max_size=200)))
        data, kind = encoded(text, encoding), f"encoded {encoding}"
    elif kind == "mixed":
        parts = draw(st.lists(st.tuples(st.sampled_from(LINES), st.sampled_from(ENCODINGS)), min_size=2, max_size=5))
        data, kind = mixed(parts), "mixed " + "+".join(e for _, e in parts)
    elif kind == "nuls":
        base = encoded(draw(st.sampled_from(LINES)), draw(st.sampled_from(["utf-8", "gb18030", "utf-16-le"])))
        data = with_nuls(base, draw(st.lists(_SMALL, min_size=1, max_size=20)))
    elif kind == "magic":
        data = draw(st.sampled_from(MAGIC)) + draw(st.binary(max_size=200))
    elif kind == "long line":
        size = draw(st.integers(1, big))
        data, kind = long_line(size, draw(st.booleans())), f"long line {size}"
    elif kind == "tiny":
        ch = draw(st.sampled_from(["中", "a", "\n", " ", "\ufeff", "é", "\0"]))
        data = ch.encode(draw(st.sampled_from(["utf-8", "utf-16", "gb18030", "big5", "latin-1"])), "replace")
        data = draw(st.binary(min_size=1, max_size=1)) if draw(st.booleans()) else data
    else:
        base = encoded("\n".join(LINES[:6]), draw(st.sampled_from(["utf-8", "gb18030", "big5", "utf-16"])))
        data = mutate(base, draw(st.lists(st.tuples(st.integers(0, 3), _SMALL, st.integers(0, 255)), max_size=8)))
    return Hostile(draw(names(suffix)), data, f"text {kind}")


@st.composite
def html_files(draw: st.DrawFn, *, depth: int = 300, charsets: tuple[str, ...] = CHARSETS) -> Hostile:
    """HTML pages: nested, declaring charsets real and bogus, in the wrong encoding, with hostile fragments."""
    suffix = draw(st.sampled_from([".html", ".htm"]))
    kind = draw(st.sampled_from(["nested", "charset", "fragments", "mutated"]))
    if kind == "nested":
        n, tag = draw(st.integers(1, depth)), draw(st.sampled_from(NESTING_TAGS))
        closed, each = draw(st.booleans()), draw(st.booleans())
        data, kind = nested_html(n, tag, closed, each), f"nested {tag}×{n} closed={closed} text_each={each}"
    elif kind == "charset":
        charset, encoding = draw(st.sampled_from(charsets)), draw(st.sampled_from(ENCODINGS))
        data, kind = html_page(draw(st.sampled_from(LINES)), charset, encoding), f"charset {charset} in {encoding}"
    elif kind == "fragments":
        parts = draw(st.lists(st.one_of(st.sampled_from(HTML_FRAGMENTS), st.sampled_from(LINES)), max_size=30))
        data = html_page("".join(parts), draw(st.sampled_from((None, "utf-8", "gbk"))))
    else:
        base = html_page("<p>" + "</p><p>".join(LINES[:5]) + "</p>", "utf-8")
        data = mutate(base, draw(st.lists(st.tuples(st.integers(0, 3), _SMALL, st.integers(0, 255)), max_size=8)))
    return Hostile(draw(names(suffix)), data, f"html {kind}")


@st.composite
def docx_files(draw: st.DrawFn, *, bomb_mb: int = 2, members: int = 200) -> Hostile:
    """Word files: a real one mutated or truncated, minimal packages with broken or odd XML, nested tables,
    bombs of up to ``bomb_mb`` MB (0: none), zips with many members or no document."""
    kinds = ["mutated", "truncated", "xml", "tables", "members", "not a zip"] + (["bomb"] if bomb_mb else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "mutated":
        edits = draw(st.lists(st.tuples(st.integers(0, 2), _SMALL, st.integers(0, 255)), min_size=1, max_size=6))
        data = mutate(docx_seed(), edits)
    elif kind == "truncated":
        cut = draw(st.integers(0, len(docx_seed())))
        data, kind = docx_seed()[:cut], f"truncated at {cut}"
    elif kind == "xml":
        body = draw(st.lists(st.sampled_from([
            paragraph("正文"), "<w:p>", "</w:p>", "<w:tbl>", "<w:tr><w:tc>", "</w:tc></w:tr></w:tbl>", "<w:sdt>",
            "<w:sdtContent>", "</w:sdtContent></w:sdt>", "<w:t>\x01</w:t>", "&#0;", "&amp;", "<!DOCTYPE x [<!ENTITY a 'aa'>]>",
            "<w:r><w:tab/><w:br/><w:t xml:space='preserve'> a </w:t></w:r>", "<?pi x?>", "<![CDATA[x]]>", "\ufeff",
            "<w:tc><w:tcPr><w:gridSpan w:val='3'/></w:tcPr><w:p/></w:tc>", "<w:tcPr><w:gridSpan w:val='100000'/></w:tcPr>",
            "<w:tcPr><w:vMerge w:val='restart'/></w:tcPr>", "<w:tcPr><w:vMerge/></w:tcPr>", "<w:gridSpan w:val='-1'/>",
            "<w:tblGrid><w:gridCol w:w='x'/></w:tblGrid>",
        ]), max_size=20))
        data = docx_of(document_xml("".join(body)) if draw(st.booleans()) else "".join(body).encode())
    elif kind == "tables":
        n = draw(st.integers(1, 200))
        data, kind = docx_of(nested_tables(n)), f"nested tables ×{n}"
    elif kind == "bomb":
        mb, valid = draw(st.integers(1, bomb_mb)), draw(st.booleans())
        data, kind = docx_bomb(mb, valid=valid), f"bomb {mb} MB valid={valid}"
    elif kind == "members":
        n = draw(st.integers(0, members))
        data, kind = many_members(n), f"{n} members"
    else:
        data = draw(st.sampled_from([b"", b"PK", b"PK\x03\x04", b"PK\x05\x06" + bytes(18), zip_of([]),
                                     zip_of([("word/document.xml", b"<x/>")]), pdf_text_page()]))
    return Hostile(draw(names(".docx")), data, f"docx {kind}")


@st.composite
def pdf_files(draw: st.DrawFn, *, bomb_mb: int = 2, depth: int = 500) -> Hostile:
    """PDF files: a real one mutated or truncated, and hand-made ones: nested arrays, page trees that loop,
    lying lengths, bogus filters and encryption, deflate bombs of up to ``bomb_mb`` MB (0: none)."""
    kinds = ["mutated", "truncated", "nested", "loop", "filters", "length", "encrypted", "minimal"]
    kind = draw(st.sampled_from(kinds + (["bomb"] if bomb_mb else [])))
    if kind == "mutated":
        edits = draw(st.lists(st.tuples(st.integers(0, 2), _SMALL, st.integers(0, 255)), min_size=1, max_size=6))
        data = mutate(pdf_seed(), edits)
    elif kind == "truncated":
        cut = draw(st.integers(0, len(pdf_seed())))
        data, kind = pdf_seed()[:cut], f"truncated at {cut}"
    elif kind == "nested":
        n = draw(st.integers(1, depth))
        data, kind = pdf_nested_arrays(n), f"nested arrays ×{n}"
    elif kind == "loop":
        data = pdf_kids_loop()
    elif kind == "filters":
        data = pdf_bogus_filters()
    elif kind == "length":
        n = draw(st.sampled_from([0, 1, 5, 10**6, 2**31, 2**64]))
        data, kind = pdf_lying_length(n), f"length {n}"
    elif kind == "encrypted":
        data = pdf_encrypted_bogus()
    elif kind == "bomb":
        mb = draw(st.integers(1, bomb_mb))
        data, kind = pdf_flate_bomb(mb), f"flate bomb {mb} MB"
    else:
        edits = draw(st.lists(st.tuples(st.integers(0, 3), _SMALL, st.integers(0, 255)), max_size=4))
        data = mutate(pdf_text_page(draw(st.sampled_from(LINES[-8:]))), edits)
    return Hostile(draw(names(".pdf")), data, f"pdf {kind}")


@st.composite
def misnamed_files(draw: st.DrawFn) -> Hostile:
    """A file of one kind named as another (a PDF called .txt, a .docx called .html …), or named so that it is not
    read at all."""
    data = draw(st.sampled_from([b"", b"x", docx_of(document_xml(paragraph("正文"))), pdf_text_page(),
                                 html_page("<p>正文</p>", "gbk", "gbk"), "正文".encode("utf-16")]))
    suffix = draw(st.sampled_from(READ_SUFFIXES + OTHER_SUFFIXES))
    return Hostile(draw(names(suffix)), data, f"misnamed as {suffix or '(no suffix)'}")


def hostile_files(*, big: int = 1 << 16, bomb_mb: int = 2, pdf_bomb_mb: int = 0, depth: int = 300,
                  charsets: tuple[str, ...] = CHARSETS) -> st.SearchStrategy[Hostile]:
    """Any hostile file. ``big``: longest generated text; ``bomb_mb``: largest .docx bomb, ``pdf_bomb_mb``: largest
    PDF bomb (0: none; reading one takes seconds a MB); ``depth``: deepest nesting; ``charsets``: what HTML pages
    may declare."""
    return st.one_of(text_files(big=big), html_files(depth=depth, charsets=charsets),
                     docx_files(bomb_mb=bomb_mb), pdf_files(bomb_mb=pdf_bomb_mb, depth=depth), misnamed_files())


@st.composite
def folders(draw: st.DrawFn, files: st.SearchStrategy[Hostile], *, most: int = 6) -> list[tuple[bytes, Hostile]]:
    """A folder's files, as ``(folder inside it, file)``: hostile files beside speeches that copy each other (so that
    the scan has pairs to align), some in sub-folders (one of them with a GBK name)."""
    chosen = draw(st.lists(files, min_size=1, max_size=most))
    speeches = draw(st.lists(st.sampled_from([
        Hostile(b"copy-a.txt", ZH_SPEECH.encode(), "speech"), Hostile(b"copy-b.txt", ZH_SPEECH.encode("gb18030"), "speech"),
        Hostile(b"copy-c.html", html_page(ZH_SPEECH.replace("\n", "<br>"), "gbk", "gbk"), "speech"),
        Hostile(b"part.txt", (EN_SPEECH + "\n" + ZH_SPEECH[: len(ZH_SPEECH) // 2]).encode(), "speech"),
    ]), max_size=4, unique=True))
    where = st.sampled_from([b"", b"sub", "子目录".encode("gbk"), b"a/b/c"])
    out = [(draw(where), f) for f in chosen] + [(b"", s) for s in speeches]
    seen, unique = set(), []
    for folder, f in out:  # one file a name
        if (folder, f.name.lower()) not in seen:
            seen.add((folder, f.name.lower()))
            unique.append((folder, f))
    return unique


# --------------------------------------------------------------------------- hand-made cases

#: Known problems, by name: where a case fails because of one (issue 14's ingest part; and what this suite found that
#: is not an open item yet, marked NEW). Fixed since: .docx bombs and the table-cell bomb (max_docx_xml_bytes, tables
#: walked a cell at a time, time and text limits between paragraphs), PDF flate bombs (max_pdf_content_bytes), pypdf's
#: messages on the console.
KNOWN = {
    "pdf repeated pages": "over this suite's budget, within IngestConfig.max_seconds (60 s): a 120 KB PDF whose "
    "20,000 pages are one small page takes 9 to 13 s (0.5 to 0.7 ms a page; 90,000 pages reach the 60 s limit from "
    "540 KB)",
}


@dataclass(frozen=True)
class Case:
    """A hand-made file: its name, how it is made, its suffix; ``known``: the open problem it fails by (a key of
    ``KNOWN``); ``slow``: it takes long to fail."""

    name: str
    make: Callable[[], bytes]
    suffix: str
    known: str | None = None
    slow: bool = False

    def hostile(self) -> Hostile:
        return Hostile(self.name.encode() + self.suffix.encode(), self.make(), f"case {self.name}")


CASES = [
    Case("docx-bomb-200MB-of-spaces", lambda: docx_bomb(200, valid=False), ".docx"),
    Case("zip-bomb-200MB-of-zeros", lambda: zip_bomb(200), ".docx"),
    Case("docx-bomb-10MB-of-paragraphs", lambda: docx_bomb(10), ".docx"),
    Case("docx-bomb-50MB-of-paragraphs", lambda: docx_bomb(50), ".docx"),
    Case("docx-5000-members", lambda: many_members(5000), ".docx"),
    Case("docx-cell-spanning-10^6-columns", lambda: docx_grid_span(10**6), ".docx"),
    Case("docx-cell-spanning-10^8-columns", lambda: docx_grid_span(10**8), ".docx"),
    Case("docx-tables-2000-deep", lambda: docx_of(nested_tables(2000)), ".docx"),
    Case("docx-empty-zip", lambda: zip_of([]), ".docx"),
    Case("pdf-flate-bomb-100MB", lambda: pdf_flate_bomb(100), ".pdf"),
    Case("pdf-flate-bomb-5MB", lambda: pdf_flate_bomb(5), ".pdf"),
    Case("pdf-20000-pages-of-one-page", lambda: pdf_repeated_pages(20_000), ".pdf", known="pdf repeated pages", slow=True),
    Case("pdf-unknown-font-encoding", pdf_unknown_encoding, ".pdf"),
    Case("pdf-arrays-100000-deep", lambda: pdf_nested_arrays(100_000), ".pdf"),
    Case("pdf-page-tree-loop", pdf_kids_loop, ".pdf"),
    Case("pdf-bogus-filters", pdf_bogus_filters, ".pdf"),
    Case("pdf-length-2**64", lambda: pdf_lying_length(2**64), ".pdf"),
    Case("pdf-bogus-encryption", pdf_encrypted_bogus, ".pdf"),
    Case("html-div-20000-deep", lambda: nested_html(20_000), ".html"),
    Case("html-b-5000-unclosed", lambda: nested_html(5000, "b", closed=False), ".html"),
    Case("html-table-3000-deep", lambda: nested_html(3000, "table"), ".html"),
    *[Case(f"html-charset-{c}", lambda c=c: html_page("正文", c), ".html") for c in NOT_TEXT_CODECS],
    Case("html-charset-utf-16-in-utf-8", lambda: html_page("正文", "utf-16"), ".html"),
    Case("text-one-line-8MB", lambda: long_line(8 << 20, True), ".txt"),
    Case("text-nul-in-utf-8", lambda: with_nuls("安全生产工作会议".encode(), [3]), ".txt"),
    Case("text-utf-8-gbk-big5-mixed", lambda: mixed([(LINES[0], "utf-8"), (LINES[1], "gbk"), (LINES[2], "big5")]), ".txt"),
    Case("text-empty", lambda: b"", ".txt"),
    Case("text-one-byte-ff", lambda: b"\xff", ".txt"),
    Case("text-bom-only", lambda: b"\xef\xbb\xbf", ".md"),
]


def known_problem(f: Hostile, detail: str = "") -> str | None:
    """The known problem a failure of a drawn file is (by how it was made, and the failure's ``detail``), or None."""
    for c in CASES:
        if f.label == f"case {c.name}":
            return c.known
    return known_by_detail(detail)


def known_by_detail(detail: str) -> str | None:  # noqa: ARG001 (none at present)
    """The known problem a failure is by what it says (whatever the input), or None. None is known so at present (the
    last was pypdf's messages shown on the console, fixed)."""
    return None
