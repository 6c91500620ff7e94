"""Tests for dedup.ingest: discovery, encodings and file formats."""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

import pytest

from dedup.errors import IngestError, InputError
from dedup.ingest import SUPPORTED_SUFFIXES, decode_bytes, discover, ingest, read_document
from dedup.models import Document, Skipped

SIMPLIFIED = """同志们，朋友们：
今天，我们在这里隆重集会，回顾过去一年的工作，部署新一年的任务。过去的一年，是极不平凡的一年。\
面对复杂多变的外部环境和艰巨繁重的改革发展任务，全市上下团结一心，攻坚克难，经济保持平稳增长，\
民生持续改善，社会大局和谐稳定。
这些成绩的取得，来之不易。它凝聚着广大干部群众的心血和汗水，也离不开社会各界的关心和支持。\
在此，我代表市委、市政府，向辛勤工作在各条战线上的同志们表示衷心的感谢！
我们也要清醒地看到，发展中还存在不少困难和问题：产业结构不够合理，创新能力有待提高，\
城乡区域发展不平衡，一些群众在就业、教育、医疗、住房等方面还面临不少难题。对此，我们必须高度重视，\
采取有力措施，认真加以解决。
新的一年，我们要坚持稳中求进的工作总基调，把握发展大势，突出工作重点，扎实推进各项工作。\
一是着力扩大有效投资，加快重大项目建设；二是着力推动产业升级，培育新的增长点；\
三是着力保障和改善民生，办好群众关心的实事；四是着力加强生态环境保护，建设美丽家园。
同志们，使命光荣，责任重大。让我们更加紧密地团结起来，振奋精神，开拓进取，为实现全年目标任务而努力奋斗！
"""

TRADITIONAL = """各位鄉親、各位貴賓，大家好：
今天很高興能夠和大家齊聚一堂，共同慶祝本校創校五十週年。五十年來，學校從一間只有幾位老師的小學堂，\
發展成為今天擁有數千名學生的綜合學府，這一切都要感謝歷任校長、老師們的辛勤耕耘，以及地方人士長期的支持與鼓勵。
回顧過去，我們經歷過許多艱難的時刻。颱風曾經摧毀校舍，經費也曾一度短缺，但是全體師生始終沒有放棄。\
大家同心協力，重建家園，讓學校一步一步走到今天。這份堅持與團結，正是我們最珍貴的傳統。
展望未來，教育環境面臨快速的變化。數位科技日新月異，國際競爭越來越激烈，我們必須培養學生獨立思考、\
解決問題以及與人合作的能力。學校將持續推動課程改革，加強外語與資訊教育，並且鼓勵學生積極參與社區服務，\
讓他們成為關懷社會、具有國際視野的現代公民。
最後，再次感謝各位的蒞臨，也祝福大家身體健康、萬事如意。謝謝大家！
"""

SHORT_SIMPLIFIED = "同志们，今天我们在这里召开全体会议，总结过去一年的工作。"
SHORT_TRADITIONAL = "各位鄉親，今天我們在這裡齊聚一堂，共同慶祝這個重要的日子。"


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def names(paths: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]


# --------------------------------------------------------------------------- encodings


def test_utf8() -> None:
    assert decode_bytes("Fellow citizens, 同志们".encode("utf-8")) == ("Fellow citizens, 同志们", "utf-8")


def test_utf8_sig_removes_bom() -> None:
    assert decode_bytes(b"\xef\xbb\xbf" + "你好".encode("utf-8")) == ("你好", "utf-8-sig")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(codec: str) -> None:
    text = "各位来宾，大家好！\r\nLadies and gentlemen."
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    decoded, encoding = decode_bytes(data)
    assert decoded == text
    assert encoding == ("utf-32" if codec == "utf-32" else "utf-16")


def test_utf16_without_bom_is_detected() -> None:
    text = "Plain English speech text\r\nsecond line"
    assert decode_bytes(text.encode("utf-16-le")) == (text, "utf-16-le")


@pytest.mark.parametrize("text", [SIMPLIFIED, SHORT_SIMPLIFIED])
def test_gb18030_simplified(text: str) -> None:
    assert decode_bytes(text.encode("gb18030")) == (text, "gb18030")


@pytest.mark.parametrize("text", [TRADITIONAL, SHORT_TRADITIONAL])
def test_big5_traditional(text: str) -> None:
    assert decode_bytes(text.encode("big5")) == (text, "big5")


def test_gb_vs_big5_on_ambiguous_bytes() -> None:
    """Short runs of characters whose bytes decode under both codecs still pick the right one."""
    for source, codec in ((SIMPLIFIED, "gb18030"), (TRADITIONAL, "big5")):
        han = "".join(ch for ch in source if "\u4e00" <= ch <= "\u9fff")
        for start in range(0, len(han) - 8, 7):
            chunk = han[start : start + 8]
            data = chunk.encode(codec)
            try:
                data.decode("gb18030"), data.decode("big5")
            except UnicodeDecodeError:
                continue
            assert decode_bytes(data) == (chunk, codec)


def test_crlf_is_kept(tmp_path: Path) -> None:
    for name, codec in (("a.txt", "utf-8"), ("b.txt", "gb18030"), ("c.txt", "big5")):
        base = SHORT_TRADITIONAL if codec == "big5" else SHORT_SIMPLIFIED
        text = f"{base}\r\n第二行\r\n\r\n"
        write(tmp_path / name, text.encode(codec))
        doc = read_document(tmp_path / name)
        assert doc.text == text
        assert "\r\n" in doc.text


def test_binary_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(ValueError, match="binary"):
        decode_bytes(bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 4 + b"abc")
    write(tmp_path / "image.txt", bytes(range(256)))
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "image.txt")
    assert info.value.reason == "binary file, not text"


# --------------------------------------------------------------------------- discovery


def test_discover_finds_supported_files_sorted(tmp_path: Path) -> None:
    for rel in ("b.txt", "a.MD", "sub/c.docx", "sub/deep/d.pdf", "e.html", "f.HTM", "g.py", "h.doc", "noext"):
        write(tmp_path / rel, "x")
    found = discover(tmp_path)
    assert names(found, tmp_path) == ["a.MD", "b.txt", "e.html", "f.HTM", "sub/c.docx", "sub/deep/d.pdf"]
    assert ".txt" in SUPPORTED_SUFFIXES


def test_hidden_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path / "visible.txt", "x")
    write(tmp_path / ".hidden.txt", "x")
    write(tmp_path / ".git" / "inside.txt", "x")
    write(tmp_path / "sub" / ".secret" / "deep.txt", "x")
    assert names(discover(tmp_path), tmp_path) == ["visible.txt"]
    assert names(discover(tmp_path, include_hidden=True), tmp_path) == [
        ".git/inside.txt",
        ".hidden.txt",
        "sub/.secret/deep.txt",
        "visible.txt",
    ]


def test_include_and_exclude(tmp_path: Path) -> None:
    for rel in ("top.txt", "top.md", "sub/a.txt", "sub/b.md", "sub/deep/c.txt", "other/d.pdf"):
        write(tmp_path / rel, "x")
    assert names(discover(tmp_path, include=["*.md"]), tmp_path) == ["sub/b.md", "top.md"]
    assert names(discover(tmp_path, include=["**/*.md"]), tmp_path) == ["sub/b.md", "top.md"]
    assert names(discover(tmp_path, include=["sub/*.txt"]), tmp_path) == ["sub/a.txt", "sub/deep/c.txt"]
    assert names(discover(tmp_path, exclude=["*.txt"]), tmp_path) == ["other/d.pdf", "sub/b.md", "top.md"]
    assert names(discover(tmp_path, include=["sub/*"], exclude=["sub/deep/*"]), tmp_path) == ["sub/a.txt", "sub/b.md"]
    assert names(discover(tmp_path, exclude=["sub/"]), tmp_path) == ["other/d.pdf", "top.md", "top.txt"]


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    write(tmp_path / "sub" / "b.txt", "x")
    os.symlink(tmp_path, tmp_path / "sub" / "up")  # sub/up -> its parent
    os.symlink(tmp_path / "sub", tmp_path / "alias")  # a second name for sub
    assert names(discover(tmp_path), tmp_path) == ["a.txt", "sub/b.txt"]


def test_broken_symlink_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "hello")
    os.symlink(tmp_path / "missing.txt", tmp_path / "dangling.txt")
    assert names(discover(tmp_path), tmp_path) == ["a.txt"]
    docs, skipped = ingest(tmp_path)
    assert [d.path for d in docs] == ["a.txt"]
    assert skipped == [Skipped("dangling.txt", "broken symbolic link")]


def test_root_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        discover(tmp_path / "missing")
    file = write(tmp_path / "speech.txt", "x")
    with pytest.raises(InputError, match="not a folder"):
        discover(file)
    with pytest.raises(InputError):
        ingest(file)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path: Path) -> None:
    locked = write(tmp_path / "locked.txt", "secret words")
    locked.chmod(0)
    try:
        with pytest.raises(IngestError, match="Permission denied"):
            read_document(locked)
        docs, skipped = ingest(tmp_path)
        assert docs == [] and skipped == [Skipped("locked.txt", "Permission denied")]
    finally:
        locked.chmod(0o644)
    folder = tmp_path / "closed"
    folder.mkdir(mode=0)
    try:
        with pytest.raises(InputError, match="cannot list"):
            discover(folder)
    finally:
        folder.chmod(0o755)


def test_os_error_becomes_ingest_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs also as root: an OSError while opening is reported with the OS reason."""
    import dedup.ingest as module

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    write(tmp_path / "a.txt", "hello")
    monkeypatch.setattr(module, "open", refuse, raising=False)
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "a.txt")
    assert info.value.reason == "Permission denied"


# --------------------------------------------------------------------------- formats


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


def _make_pdf(path: Path, lines: list[str]) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 12)
    for line in lines:
        pdf.drawString(72, 720, line)
        pdf.showPage()
    pdf.save()


def test_pdf_text(tmp_path: Path) -> None:
    _make_pdf(tmp_path / "speech.pdf", ["Fellow citizens, we gather today.", "Second page of remarks."])
    doc = read_document(tmp_path / "speech.pdf")
    assert doc.format == "pdf" and doc.encoding is None
    for word in ("Fellow", "citizens", "gather", "Second", "remarks"):
        assert word in doc.text
    assert doc.text.index("gather") < doc.text.index("Second")


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    _make_pdf(tmp_path / "plain.pdf", ["Secret remarks."])
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


def test_html_without_charset_is_detected(tmp_path: Path) -> None:
    write(tmp_path / "t.html", f"<html><body><p>{TRADITIONAL}</p></body></html>".encode("big5"))
    doc = read_document(tmp_path / "t.html")
    assert doc.encoding == "big5"
    assert "各位鄉親" in doc.text and "謝謝大家！" in doc.text


def test_empty_and_blank_files(tmp_path: Path) -> None:
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "blank.md", b" \r\n\t\n")
    write(tmp_path / "blank.html", b"<html><body><script>x()</script></body></html>")
    with pytest.raises(IngestError, match="empty file"):
        read_document(tmp_path / "empty.txt")
    for name in ("blank.md", "blank.html"):
        with pytest.raises(IngestError, match="no text"):
            read_document(tmp_path / name)


def test_read_document_paths_and_formats(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "Notes.MD", "# Title\n")
    doc = read_document(tmp_path / "sub" / "Notes.MD")
    assert (doc.path, doc.format, doc.encoding) == ("Notes.MD", "md", "utf-8")
    assert read_document(tmp_path / "sub" / "Notes.MD", relpath="sub/Notes.MD").path == "sub/Notes.MD"


# --------------------------------------------------------------------------- ingest


def test_ingest_keeps_going_and_reports_progress(tmp_path: Path) -> None:
    write(tmp_path / "b" / "gb.txt", SIMPLIFIED.encode("gb18030"))
    write(tmp_path / "a.txt", "Hello\r\nworld")
    write(tmp_path / "c.docx", b"broken")
    write(tmp_path / "d.txt", b"")
    write(tmp_path / "e.txt", b"\x00\x01\x02\x03binary\x00")
    calls: list[tuple[int, int]] = []
    docs, skipped = ingest(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert [d.path for d in docs] == ["a.txt", "b/gb.txt"]
    assert docs[0].text == "Hello\r\nworld"
    assert docs[1].text == SIMPLIFIED and docs[1].encoding == "gb18030"
    assert [s.path for s in skipped] == ["c.docx", "d.txt", "e.txt"]
    assert skipped[0].reason.startswith("corrupt .docx")
    assert skipped[1].reason == "empty file"
    assert skipped[2].reason == "binary file, not text"
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_ingest_passes_filters(tmp_path: Path) -> None:
    write(tmp_path / "keep.txt", "keep")
    write(tmp_path / "drop.txt", "drop")
    write(tmp_path / ".hidden.txt", "hidden")
    docs, skipped = ingest(tmp_path, exclude=["drop*"])
    assert [d.path for d in docs] == ["keep.txt"] and skipped == []
    docs, _ = ingest(tmp_path, include=["*.txt"], include_hidden=True)
    assert [d.path for d in docs] == [".hidden.txt", "drop.txt", "keep.txt"]
