"""Tests for the limits on reading one file (issue 14): IngestConfig, the size, length and time limits, files that
are not regular files (FIFOs, devices), and the rule that nothing one file holds stops a run."""

from __future__ import annotations

import math
import os
import threading
import tracemalloc
from pathlib import Path

import pytest

from dedup.config import IngestConfig, ScanConfig
from dedup.errors import ConfigError, IngestError
from dedup.ingest import decode_bytes, ingest, ingest_paths, read_document, read_files
from dedup.models import Skipped

from texts import EN_SPEECH, ZH_SPEECH, write

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def test_ingest_config_defaults_and_validation() -> None:
    limits = IngestConfig()
    assert (limits.max_file_bytes, limits.max_text_chars, limits.max_seconds, limits.max_docx_unzipped_bytes) == (
        50_000_000, 10_000_000, 60.0, 200_000_000,
    )  # fmt: skip
    assert ScanConfig().ingest == limits and ScanConfig().to_dict()["ingest"]["max_file_bytes"] == 50_000_000
    with pytest.raises(TypeError):
        IngestConfig(50)  # type: ignore[misc]  # keyword-only
    for field, bad, message in (
        ("max_file_bytes", 0, "max_file_bytes must be a whole number of at least 1, got 0"),
        ("max_text_chars", -5, "max_text_chars must be a whole number of at least 1, got -5"),
        ("max_docx_unzipped_bytes", 1.5, "max_docx_unzipped_bytes must be a whole number of at least 1, got 1.5"),
        ("max_file_bytes", True, "max_file_bytes must be a whole number of at least 1, got True"),
        ("max_seconds", 0, "max_seconds must be a number of seconds above 0, got 0"),
        ("max_seconds", math.nan, "max_seconds must be a number of seconds above 0, got nan"),
        ("max_seconds", "60", "max_seconds must be a number of seconds above 0, got '60'"),
    ):
        with pytest.raises(ConfigError) as info:
            IngestConfig(**{field: bad})
        assert str(info.value) == message


def test_file_size_limit(tmp_path: Path) -> None:
    """Issue 14 item 8: a file over max_file_bytes is not read; the reason names the limit."""
    write(tmp_path / "big.txt", "x" * 2000)
    write(tmp_path / "fits.txt", "y" * 1000)
    limits = IngestConfig(max_file_bytes=1000)
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "big.txt", limits=limits)
    assert info.value.reason == "file too large: 2,000 bytes, over the limit of 1,000 bytes (max_file_bytes)"
    assert read_document(tmp_path / "fits.txt", limits=limits).text == "y" * 1000
    docs, skipped = ingest(tmp_path, limits=limits)
    assert [d.path for d in docs] == ["fits.txt"] and [s.path for s in skipped] == ["big.txt"]
    assert read_files([("big.txt", str(tmp_path / "big.txt"))], limits=limits)[1][0].reason == info.value.reason
    assert ingest_paths([tmp_path / "big.txt"], limits=limits)[1][0].reason == info.value.reason
    write(tmp_path / "big.txt", b"x" * 2_000_000)
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "big.txt", limits=IngestConfig(max_file_bytes=1_000_000))
    assert info.value.reason == "file too large: 2.0 MB, over the limit of 1.0 MB (max_file_bytes)"


def test_text_length_limit(tmp_path: Path) -> None:
    """The characters taken from one file are bounded in every format (a PDF is stopped as it is read)."""
    write(tmp_path / "long.txt", "a" * 30)
    write(tmp_path / "long.html", "<p>" + "b" * 30 + "</p>")
    limits = IngestConfig(max_text_chars=20)
    for name in ("long.txt", "long.html"):
        with pytest.raises(IngestError) as info:
            read_document(tmp_path / name, limits=limits)
        assert info.value.reason == "text too long: 30 characters, over the limit of 20 (max_text_chars)"
    assert read_document(tmp_path / "long.txt", limits=IngestConfig(max_text_chars=30)).text == "a" * 30


def _finishes(job, seconds: float = 10.0):  # noqa: ANN001, ANN202
    """Run ``job`` in a thread; fail (instead of hanging the suite) if it does not return in time."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(job()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    return result[0]


@needs_fifo
def test_fifos_and_devices_are_never_opened(tmp_path: Path) -> None:
    """Issue 14 item 6: a FIFO (or a device) given as a file or found in a folder is skipped at once with the
    reason: opening a FIFO blocks until a writer comes, reading /dev/zero never ends."""
    write(tmp_path / "docs" / "speech.txt", EN_SPEECH)
    os.mkfifo(tmp_path / "docs" / "pipe.txt")
    os.mkfifo(tmp_path / "pipe.md")
    fifo = "not a regular file: a named pipe (FIFO)"

    def read_fifo() -> str:
        with pytest.raises(IngestError) as info:
            read_document(tmp_path / "pipe.md")
        return info.value.reason

    assert _finishes(read_fifo) == fifo
    docs, skipped = _finishes(lambda: ingest(tmp_path / "docs"))
    assert [d.path for d in docs] == ["speech.txt"] and skipped == [Skipped("pipe.txt", fifo)]
    paths = [tmp_path / "pipe.md", tmp_path / "docs"]
    devices = [p for p in (Path("/dev/zero"), Path("/dev/null")) if p.exists()]
    docs, skipped = _finishes(lambda: ingest_paths(paths + devices, base=tmp_path))
    assert [d.path for d in docs] == ["docs/speech.txt"]
    assert [(s.path, s.reason) for s in skipped][:2] == [("pipe.md", fifo), ("docs/pipe.txt", fifo)]
    assert {s.reason for s in skipped[2:]} <= {"not a regular file: a character device"}
    assert len(skipped) == 2 + len(devices)


def test_a_file_that_cannot_be_read_never_stops_the_run(tmp_path: Path) -> None:
    """Issue 14 item 2: whatever one file holds, it becomes a skipped entry with a reason and the others are read."""
    write(tmp_path / "a_good.txt", ZH_SPEECH)
    write(tmp_path / "hex.html", b'<meta charset="hex"><p>' + ZH_SPEECH.encode("gb18030") + b"</p>")  # (LookupError)
    write(tmp_path / "binary.txt", bytes(range(256)) * 4)
    write(tmp_path / "huge.txt", "z" * 5000)
    write(tmp_path / "bomb.docx", b"PK\x03\x04" + b"\x00" * 100)
    write(tmp_path / "rejected.htm", "<p>kept</p>" + "<![" * 50)  # the standard-library parser rejects it
    docs, skipped = ingest(tmp_path, limits=IngestConfig(max_file_bytes=4000))
    assert [(d.path, d.encoding) for d in docs] == [("a_good.txt", "utf-8"), ("hex.html", "gb18030"), ("rejected.htm", "utf-8")]
    assert "同志们：今天我们召开全市秋季安全生产工作会议" in docs[1].text and docs[2].text.startswith("kept")
    assert [s.path for s in skipped] == ["binary.txt", "bomb.docx", "huge.txt"]
    assert all(s.reason for s in skipped)


def test_decoding_holds_one_text_besides_the_bytes() -> None:
    """Issue 14 item 8: detecting the encoding of a big file no longer keeps every candidate decoding: decoding
    2.7 MB of GB18030 allocated 7.0 times its size (a 200 MB file took 1.1 GB), now about twice (the text)."""
    data = (ZH_SPEECH * 2000).encode("gb18030")  # GB18030, Big5 and damaged UTF-8 are all tried
    tracemalloc.start()
    try:
        text, encoding = decode_bytes(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert encoding == "gb18030" and text == ZH_SPEECH * 2000
    assert peak < 3 * len(data), f"{peak / len(data):.2f} times the bytes"
