"""Issue 14: ``dedup.open_output``, where a report file is written: regular files replaced once complete, special
files written directly, inputs refused."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

import dedup


def test_a_regular_file_is_replaced_only_once_the_report_is_complete(tmp_path: Path):
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError):
        with dedup.open_output(target) as out:
            out.write("half a report")
            raise RuntimeError("the report failed")
    assert target.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["r.json"]
    with dedup.open_output(target) as out:
        out.write("新的报告\n")
    assert target.read_bytes() == "新的报告\n".encode("utf-8")


def test_through_a_symbolic_link_the_file_is_replaced_and_the_link_stays(tmp_path: Path):
    real = tmp_path / "reports" / "r.csv"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    with dedup.open_output(link) as out:
        out.write("new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


def test_a_fifo_and_a_device_are_written_directly(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with dedup.open_output(fifo) as out:
        out.write("through the pipe")
    reader.join(timeout=10)
    assert got == [b"through the pipe"] and stat.S_ISFIFO(fifo.lstat().st_mode)
    with dedup.open_output("/dev/null") as out:
        out.write("nothing")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(OSError):  # a full device says so, and stays a device
        with dedup.open_output("/dev/full") as out:
            out.write("x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_an_input_is_refused_by_name_link_or_hard_link(tmp_path: Path):
    source = tmp_path / "speech.txt"
    source.write_text("原文", encoding="utf-8")
    (tmp_path / "alias.txt").symlink_to(source)
    os.link(source, tmp_path / "hard.txt")
    for target in (source, tmp_path / "alias.txt", tmp_path / "hard.txt"):
        with pytest.raises(dedup.ConfigError, match="one of the inputs"):
            with dedup.open_output(target, inputs=[tmp_path / "other.txt", source]):
                pass
        with pytest.raises(dedup.ConfigError):
            dedup.check_output(target, [str(source)])
    assert source.read_text(encoding="utf-8") == "原文"
    dedup.check_output(tmp_path / "new.txt", [source])  # a new file is no input
    dedup.check_output(tmp_path / "other.txt", [source, tmp_path / "missing.txt"])
