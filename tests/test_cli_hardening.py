"""Issue 14, the command line: where the report goes (-o), broken pipes, internal errors, names that are not
markup, scans that read nothing, skipped files, FIFOs given as documents. Through typer's CliRunner, except the
broken pipe, which needs a real pipe (a subprocess)."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dedup import DedupError
from dedup.cli import EXIT_BROKEN_PIPE, EXIT_INTERNAL, DedupGroup, app

from texts import EN_SPEECH, ZH_SPEECH, write

runner = CliRunner()
FORMATS = ["terminal", "json", "html", "csv", "jsonl"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "speeches"
    write(root / "sub" / "a.txt", ZH_SPEECH)
    write(root / "c.txt", ZH_SPEECH.replace("2019年9月18日", "2023年6月5日"))
    write(root / "en.txt", EN_SPEECH)
    write(root / "bad.pdf", b"%PDF-1.4 not really")
    return root


@pytest.fixture
def index(tmp_path: Path, folder: Path) -> Path:
    location = tmp_path / "archive.dedup"
    built = runner.invoke(app, ["index", "build", str(folder), "--index", str(location), "--no-progress"])
    assert built.exit_code == 0, built.output
    return location


@contextmanager
def fifo_watchdog(fifo: Path, seconds: float = 5.0):
    """If something still waits to read ``fifo`` after ``seconds`` (a reader that blocks on a FIFO), write to it and
    close it, so that the test fails on its assertions instead of hanging."""
    done = threading.Event()

    def unblock() -> None:
        if done.wait(seconds):
            return
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # opens only if a reader is waiting
        except OSError:
            return
        os.write(fd, "写进命名管道的文字，测试的看门狗写的。".encode())
        os.close(fd)

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


# 1. -o PATH: devices and FIFOs are written, never replaced; an input is never overwritten


def test_output_to_a_fifo_is_written_directly_and_stays_a_fifo(folder: Path, tmp_path: Path):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = runner.invoke(app, ["scan", str(folder), "-f", "json", "-o", str(fifo), "--no-progress"])
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # not replaced by a regular file
    assert json.loads(received[0].decode("utf-8"))["version"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pipe", "speeches"]  # no temporary file


def test_output_to_dev_null_leaves_the_device(folder: Path):
    before = os.stat("/dev/null")
    dev = set(os.listdir("/dev"))
    for fmt in FORMATS:
        result = runner.invoke(app, ["scan", str(folder), "-f", fmt, "-o", "/dev/null", "--no-progress"])
        assert result.exit_code == 0 and result.stdout == "", (fmt, result.output)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)
    assert not {name for name in set(os.listdir("/dev")) - dev if name.startswith(".null")}  # no temporary file


def test_output_that_is_an_input_of_one_of_several_folders_is_refused(tmp_path: Path):
    """Two folders with a file of the same name: the report names their documents ``folder:name``, and both files
    are still inputs."""
    a = write(tmp_path / "a" / "x.txt", ZH_SPEECH)
    write(tmp_path / "b" / "x.txt", ZH_SPEECH.replace("发展", "开展"))
    write(tmp_path / "b" / "y.txt", EN_SPEECH)
    for out in (a, tmp_path / "b" / "y.txt"):
        original = out.read_bytes()
        args = ["scan", str(tmp_path / "a"), str(tmp_path / "b"), "-f", "json", "-o", str(out), "--no-progress"]
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and "one of the inputs" in result.stderr, result.output
        assert out.read_bytes() == original


def test_output_that_is_an_input_is_refused_and_left_alone(folder: Path, index: Path):
    inside = folder / "c.txt"
    original = inside.read_bytes()
    scanned = runner.invoke(app, ["scan", str(folder), "-f", "csv", "-o", str(inside), "--no-progress"])
    assert scanned.exit_code == 2 and scanned.stdout == ""
    assert "c.txt" in scanned.stderr and "one of the inputs" in scanned.stderr
    assert inside.read_bytes() == original
    # the same file by another name (a symbolic link beside the folder) is the same input
    link = folder.parent / "link.txt"
    link.symlink_to(inside)
    assert runner.invoke(app, ["scan", str(folder), "-f", "json", "-o", str(link), "--no-progress"]).exit_code == 2
    assert inside.read_bytes() == original
    checked = runner.invoke(app, ["check", str(inside), "--index", str(index), "-f", "json", "-o", str(inside)])
    assert checked.exit_code == 2 and inside.read_bytes() == original
    in_folder = runner.invoke(app, ["check", str(folder), "--index", str(index), "-o", str(folder / "sub" / "a.txt")])
    assert in_folder.exit_code == 2 and (folder / "sub" / "a.txt").read_text(encoding="utf-8") == ZH_SPEECH
    kept = index.read_bytes()
    for command in (["check", str(inside)], ["scan", str(folder)]):
        over_index = runner.invoke(app, [*command, "--index", str(index), "-f", "json", "-o", str(index), "--no-progress"])
        assert over_index.exit_code == 2 and "archive.dedup" in over_index.stderr
    assert index.read_bytes() == kept


# 3. a broken pipe: one quiet exit for every format


@pytest.mark.parametrize("fmt", FORMATS)
def test_broken_pipe_exits_141_quietly_for_every_format(folder: Path, fmt: str):
    proc = subprocess.Popen(
        [sys.executable, "-m", "dedup.cli", "scan", str(folder), "-f", fmt, "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader goes away before the report is written (like `| head` that is done)
    stderr = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE == 141
    assert "Traceback" not in stderr and "Broken pipe" not in stderr and "Error" not in stderr


def test_broken_pipe_of_dedup_text_exits_141_quietly(folder: Path):
    proc = subprocess.Popen([sys.executable, "-m", "dedup.cli", "text", str(folder / "c.txt")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=60) == 141 and stderr == ""


@pytest.mark.parametrize("args", [["--help"], ["scan", "--help"], ["index", "build", "--help"]])
def test_broken_pipe_of_help_exits_141_quietly(args: list[str]):
    """Help is written by typer and rich, which end a broken pipe with exit 1 (that of ``--fail-on``): 141 here too."""
    proc = subprocess.Popen([sys.executable, "-m", "dedup.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    stderr = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=60) == 141 and stderr == ""


@pytest.mark.parametrize("args", [["check", "--help"], ["scan", "--help"]])
def test_help_cut_short_by_its_reader_exits_141_quietly(args: list[str]):
    """``dedup check --help | head -40``: the reader takes the first lines and goes; the rest of the help meets a
    closed pipe (the pipe holds 4 KB, less than the help: the command is still writing when the reader goes)."""
    proc = subprocess.Popen([sys.executable, "-m", "dedup.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fcntl.fcntl(proc.stdout.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    assert all(proc.stdout.readline() for _ in range(40))
    proc.stdout.close()
    stderr = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=60) == 141 and stderr == ""


# 4. an internal error exits 3 with one line; the traceback only when asked for


def _app_that_fails() -> typer.Typer:
    failing = typer.Typer(cls=DedupGroup)

    @failing.command()
    def bug() -> None:
        raise RuntimeError("boom\nsecond line [/]")

    @failing.command()
    def refused() -> None:
        raise DedupError("a dedup error names what to fix")

    @failing.command()
    def found() -> None:
        raise typer.Exit(1)

    return failing


def test_internal_error_exits_3_with_one_line_and_the_traceback_only_when_asked():
    failing = _app_that_fails()
    result = runner.invoke(failing, ["bug"], env={"DEDUP_DEBUG": ""})
    assert result.exit_code == EXIT_INTERNAL == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith("internal error: RuntimeError: boom\\nsecond line [/]") and "please report" in line
    assert "Traceback" not in result.stderr and result.stdout == ""
    debug = runner.invoke(failing, ["bug"], env={"DEDUP_DEBUG": "1"})
    assert debug.exit_code == 3 and "Traceback (most recent call last)" in debug.stderr and "RuntimeError: boom" in debug.stderr
    refused = runner.invoke(failing, ["refused"])
    assert refused.exit_code == 2 and refused.stderr.strip() == "Error: a dedup error names what to fix"
    assert runner.invoke(failing, ["found"]).exit_code == 1
    assert runner.invoke(failing, ["bug", "--no-such-option"]).exit_code == 2  # usage errors stay typer's


# 5. names are never rich markup; control and bidirectional characters show escaped


def test_names_are_not_markup_and_control_characters_show_escaped(tmp_path: Path):
    root = tmp_path / "names"
    write(root / "[final].txt", ZH_SPEECH)
    write(root / "x[" / "]y.txt", ZH_SPEECH.replace("2019年9月18日", "2023年6月5日"))  # shown as x[/]y.txt
    write(root / "rtl\u202etxt.exe.txt", EN_SPEECH)
    write(root / "bell\x07.txt", EN_SPEECH.replace("March 4, 2018", "May 1, 2019"))
    result = runner.invoke(app, ["scan", str(root), "--no-progress"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[final].txt" in out and "x[/]y.txt" in out
    assert "rtl\\u202etxt.exe.txt" in out and "bell\\x07.txt" in out
    assert "\u202e" not in out and "\x07" not in out
    for fmt in ("html", "csv", "jsonl"):
        shown = runner.invoke(app, ["scan", str(root), "-f", fmt, "--no-progress"])
        assert shown.exit_code == 0 and "\u202e" not in shown.stdout and "\x07" not in shown.stdout, fmt
        if fmt == "jsonl":
            assert {"rtl\\u202etxt.exe.txt", "bell\\x07.txt"} <= {json.loads(line)["a"] for line in shown.stdout.splitlines()} | {
                json.loads(line)["b"] for line in shown.stdout.splitlines()
            }
        else:
            assert "rtl\\u202etxt.exe.txt" in shown.stdout and "bell\\x07.txt" in shown.stdout, fmt
    data = runner.invoke(app, ["scan", str(root), "-f", "json", "--no-progress"])
    assert data.exit_code == 0 and data.stdout.encode("utf-8")
    assert "[final].txt" in {d["path"] for d in json.loads(data.stdout)["documents"]}


# 7. a scan that reads nothing is an error that says what it found


def test_scan_of_nothing_readable_exits_2_and_says_what_was_found(tmp_path: Path):
    broken = tmp_path / "broken"
    write(broken / "empty.txt", b"")
    write(broken / "bad.pdf", b"%PDF-1.4 not really")
    result = runner.invoke(app, ["scan", str(broken), "-f", "json", "--no-progress"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "no readable documents" in result.stderr and "2 files found" in result.stderr
    assert "empty.txt: empty file" in result.stderr and "bad.pdf: corrupt .pdf" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = runner.invoke(app, ["scan", str(empty), "--no-progress"])
    assert nothing.exit_code == 2 and nothing.stdout == ""
    assert f"no documents found in {empty} (dedup reads .txt, .md, .docx, .pdf, .html)" in nothing.stderr
    write(empty / "notes.csv", "a,b\n")  # not a document dedup reads
    assert runner.invoke(app, ["scan", str(empty), "--no-progress"]).exit_code == 2
    unmatched = runner.invoke(app, ["scan", str(broken), "--include", "*.docx", "--no-progress"])
    assert unmatched.exit_code == 2 and unmatched.stdout == ""


def test_check_of_nothing_readable_exits_2_and_says_why(folder: Path, index: Path):
    result = runner.invoke(app, ["check", str(folder / "bad.pdf"), "--index", str(index), "-f", "json", "--no-progress"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "no readable documents" in result.stderr and "bad.pdf: corrupt .pdf" in result.stderr


# 8. skipped files: listed with their reasons on stderr, for every format; counted in the terminal summary


@pytest.mark.parametrize("fmt", FORMATS)
def test_skipped_files_are_listed_on_stderr_for_every_format(folder: Path, fmt: str):
    result = runner.invoke(app, ["scan", str(folder), "-f", fmt, "--no-progress"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "1 skipped" in result.stderr and "bad.pdf: corrupt .pdf" in result.stderr
    if fmt == "json":
        (bad,) = [d for d in json.loads(result.stdout)["documents"] if d["status"] == "skipped"]
        assert bad["path"] == "bad.pdf" and bad["reason"].startswith("corrupt .pdf")
    if fmt == "terminal":  # the summary line counts them
        assert any(line.split()[:2] == ["│", "skipped"] and line.split()[2] == "1" for line in result.stdout.splitlines())


def test_nothing_skipped_says_nothing_on_stderr(folder: Path):
    (folder / "bad.pdf").unlink()
    result = runner.invoke(app, ["scan", str(folder), "-f", "csv", "--no-progress"])
    assert result.exit_code == 0 and result.stderr == ""


# 9. a FIFO given as a document: skipped with its reason, never waited for


def test_text_of_a_fifo_exits_2_with_the_reason(tmp_path: Path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with fifo_watchdog(fifo):
        result = runner.invoke(app, ["text", str(fifo)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"Error: cannot read {fifo}: ") and len(result.stderr.split(": ", 2)[2].strip()) > 3


def test_check_and_index_add_list_a_fifo_as_skipped(folder: Path, index: Path, tmp_path: Path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with fifo_watchdog(fifo):
        checked = runner.invoke(app, ["check", str(fifo), str(folder / "c.txt"), "--index", str(index), "-f", "json", "--no-progress"])
    assert checked.exit_code == 0, checked.output
    data = json.loads(checked.stdout)
    (entry,) = [d for d in data["documents"] if d["path"] == str(fifo)]
    assert entry["status"] == "skipped" and entry["reason"]
    assert f"{fifo}: {entry['reason']}" in checked.stderr
    with fifo_watchdog(fifo):
        alone = runner.invoke(app, ["check", str(fifo), "--index", str(index), "--no-progress"])
    assert alone.exit_code == 2 and f"{fifo}: {entry['reason']}" in alone.stderr
    with fifo_watchdog(fifo):
        added = runner.invoke(app, ["index", "add", str(fifo), "--index", str(index), "--no-progress"])
    assert added.exit_code == 0, added.output
    assert f"skipped {fifo}: {entry['reason']}" in added.stderr and "1 skipped" in added.stderr
