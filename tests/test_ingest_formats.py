"""Tests for dedup.ingest's formats: Word, PDF and HTML text, damaged and empty files."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pytest

from dedup.errors import IngestError
from dedup.ingest import read_document
from dedup.models import Document

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


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    make_pdf(tmp_path / "plain.pdf", ["Secret remarks."])
    writer = PdfWriter(clone_from=tmp_path / "plain.pdf")
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    writer.write(tmp_path / "locked.pdf")
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "locked.pdf")
    assert info.value.reason == "encrypted .pdf"


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
