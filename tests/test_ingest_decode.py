"""Tests for dedup.ingest's decoding: BOMs, UTF-16 without BOM, GB18030 vs Big5, binary files, HTML charsets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup.errors import IngestError
from dedup.ingest import decode_bytes, read_document

from texts import EN_SPEECH, write

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


# --------------------------------------------------------------------------- text files


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


# --------------------------------------------------------------------------- HTML


def test_html_without_charset_is_detected(tmp_path: Path) -> None:
    write(tmp_path / "t.html", f"<html><body><p>{TRADITIONAL}</p></body></html>".encode("big5"))
    doc = read_document(tmp_path / "t.html")
    assert doc.encoding == "big5"
    assert "各位鄉親" in doc.text and "謝謝大家！" in doc.text


# --------------------------------------------------------------------------- issue 14: binary by proportion


def test_a_few_stray_nuls_do_not_make_a_text_binary(tmp_path: Path) -> None:
    """Issue 14 item 7: 3 NUL bytes made a whole text file "binary"; they are read (and kept: offsets stay)."""
    for codec in ("utf-8", "gb18030", "big5"):
        base = TRADITIONAL if codec == "big5" else SIMPLIFIED
        text = base[:100] + "\x00" + base[100:200] + "\x00\x00" + base[200:]
        assert decode_bytes(text.encode(codec)) == (text, codec)
    write(tmp_path / "nuls.txt", "Fellow citizens,\x00 we gather today to open the library.\x00\n" * 3 + EN_SPEECH)
    assert read_document(tmp_path / "nuls.txt").text.count("\x00") == 6


def test_binary_by_share_and_signature() -> None:
    text = SIMPLIFIED.encode("utf-8")
    assert decode_bytes(text + b"\x00" * (len(text) // 200))[1] == "utf-8"  # NULs: 0.5% of the bytes...
    with pytest.raises(ValueError, match="^binary file, not text$"):
        decode_bytes(text + b"\x00" * (len(text) // 20))  # ...5%: binary
    with pytest.raises(ValueError, match="^binary file, not text$"):
        decode_bytes(b"abc\x01\x02\x03\x04defgh\x05\x06\x07")  # control bytes, no NUL
    with pytest.raises(ValueError, match="^binary file, not text$"):
        decode_bytes("abc\x85\x90\x9f\x80defgh\x81\x82".encode("utf-8"))  # C1 controls in UTF-8: no control byte
    assert decode_bytes("abc\x85defghijklmnopq".encode("utf-8"))[1] == "utf-8"  # (one is not 10%)
    for data, kind in (
        (b"PK\x03\x04\x14\x00" + text, "a zip file, e.g. .docx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + text, "an old Office file, e.g. .doc or .wps"),
        (b"%PDF-1.7\n" + text, "a PDF file"),
        (b"\xff\xd8\xff\xe0" + text, "a JPEG image"),
    ):
        with pytest.raises(ValueError) as info:
            decode_bytes(data)
        assert str(info.value) == f"binary file, not text ({kind})"


@pytest.mark.parametrize(
    "label", ["hex", "base64", "rot13", "zlib", "x-user-defined", "no-such-charset", "undefined", "unicode_escape",
              "raw_unicode_escape", "idna", "utf-7", "cp037", "utf-32", "hz"],
)  # fmt: skip
def test_unknown_or_bogus_charset_labels_fall_back_to_detection(tmp_path: Path, label: str) -> None:
    """Issue 14 item 2: <meta charset="hex"> raised LookupError and aborted the run: a label that is not a text
    encoding a page can be written in (unknown, a bytes codec, EBCDIC, escapes) is ignored and the encoding detected."""
    body = f"<p>{SIMPLIFIED}</p>".encode("gb18030")
    for name, head in (
        ("meta.html", f'<html><head><meta charset="{label}"></head><body>'.encode()),
        ("content.htm", f'<meta http-equiv="Content-Type" content="text/html; charset={label}">'.encode()),
        ("xml.html", f'<?xml version="1.0" encoding="{label}"?><html><body>'.encode()),
    ):
        write(tmp_path / name, head + body)
        doc = read_document(tmp_path / name)
        assert doc.encoding == "gb18030" and "同志们，朋友们：" in doc.text, (label, name)


def test_a_label_that_is_a_text_encoding_is_still_honoured(tmp_path: Path) -> None:
    write(tmp_path / "koi8.html", '<meta charset="koi8-r"><p>Уважаемые коллеги</p>'.encode("koi8-r"))
    assert read_document(tmp_path / "koi8.html").text == "Уважаемые коллеги"
    write(tmp_path / "sjis.html", '<meta charset="Shift_JIS"><p>皆さん、こんにちは</p>'.encode("shift_jis"))
    assert read_document(tmp_path / "sjis.html").encoding == "shift_jis"


# --------------------------------------------------------------------------- issue 14: what benchmarks/encoding_detection.py found


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("text", [SHORT_SIMPLIFIED, SHORT_TRADITIONAL, SIMPLIFIED, TRADITIONAL])
def test_chinese_utf16_without_bom(codec: str, text: str) -> None:
    """Chinese in UTF-16 without BOM has NUL bytes only in its ASCII characters (often none): it was "binary"."""
    assert decode_bytes(text.encode(codec)) == (text, codec)


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("gb2312", "utf-8", SIMPLIFIED),  # a template's label on a page saved as UTF-8
        ("gb2312", "big5", TRADITIONAL),
        ("big5", "gb18030", SIMPLIFIED),
        ("gbk", "utf-8", SHORT_SIMPLIFIED),
    ],
)
def test_mislabelled_chinese_pages(tmp_path: Path, label: str, codec: str, text: str) -> None:
    """A GB or Big5 label does not win over bytes that say otherwise (both decoders accept most CJK bytes)."""
    write(tmp_path / "page.html", f'<meta charset="{label}"><p>{text}</p>'.encode(codec))
    doc = read_document(tmp_path / "page.html")
    assert (doc.encoding, doc.text) == (codec, read_document(write(tmp_path / "right.html", f"<p>{text}</p>")).text)


@pytest.mark.parametrize(("label", "codec", "text"), [("gb2312", "gb18030", SHORT_SIMPLIFIED), ("big5", "big5", SHORT_TRADITIONAL)])
def test_right_chinese_labels_are_kept(tmp_path: Path, label: str, codec: str, text: str) -> None:
    write(tmp_path / "page.html", f'<meta charset="{label}"><p>{text}</p>'.encode(codec))
    assert read_document(tmp_path / "page.html").encoding == codec
