"""Tests for dedup.ingest's file finding: suffixes, hidden names, globs, symbolic links, unreadable folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dedup.errors import InputError
from dedup.ingest import SUPPORTED_SUFFIXES, find_files, ingest, ingest_paths
from dedup.models import Skipped

from texts import write


def names(root: Path, **options: object) -> list[str]:
    """Relative paths that find_files selects, after checking that nothing was skipped."""
    found, skipped = find_files(root, **options)  # type: ignore[arg-type]
    assert skipped == []
    return [rel for rel, _ in found]


def test_finds_supported_files_sorted(tmp_path: Path) -> None:
    for rel in ("b.txt", "a.MD", "sub/c.docx", "sub/deep/d.pdf", "e.html", "f.HTM", "g.py", "h.doc", "noext"):
        write(tmp_path / rel, "x")
    found, skipped = find_files(tmp_path)
    assert [rel for rel, _ in found] == ["a.MD", "b.txt", "e.html", "f.HTM", "sub/c.docx", "sub/deep/d.pdf"]
    readable = "dedup reads .txt, .md, .docx, .pdf, .html, .htm"
    assert sorted(skipped, key=lambda s: s.path) == [  # every file is accounted for
        Skipped("g.py", f"unsupported file type .py; {readable}"),
        Skipped("h.doc", f"unsupported file type .doc; {readable}"),
        Skipped("noext", f"unsupported file type (no suffix); {readable}"),
    ]
    for rel, path in found:  # the path as a string, usable to open the file
        assert isinstance(path, str)
        assert path == os.path.join(tmp_path, *rel.split("/"))
    assert ".txt" in SUPPORTED_SUFFIXES


def test_hidden_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path / "visible.txt", "x")
    write(tmp_path / ".hidden.txt", "x")
    write(tmp_path / ".git" / "inside.txt", "x")
    write(tmp_path / "sub" / ".secret" / "deep.txt", "x")
    assert names(tmp_path) == ["visible.txt"]
    assert names(tmp_path, include_hidden=True) == [
        ".git/inside.txt",
        ".hidden.txt",
        "sub/.secret/deep.txt",
        "visible.txt",
    ]


def test_include_and_exclude(tmp_path: Path) -> None:
    for rel in ("top.txt", "top.md", "sub/a.txt", "sub/b.md", "sub/deep/c.txt", "other/d.pdf"):
        write(tmp_path / rel, "x")
    assert names(tmp_path, include=["*.md"]) == ["sub/b.md", "top.md"]
    assert names(tmp_path, include=["**/*.md"]) == ["sub/b.md", "top.md"]
    assert names(tmp_path, include=["sub/*.txt"]) == ["sub/a.txt", "sub/deep/c.txt"]
    assert names(tmp_path, exclude=["*.txt"]) == ["other/d.pdf", "sub/b.md", "top.md"]
    assert names(tmp_path, include=["sub/*"], exclude=["sub/deep/*"]) == ["sub/a.txt", "sub/b.md"]
    assert names(tmp_path, exclude=["sub/"]) == ["other/d.pdf", "top.md", "top.txt"]


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    write(tmp_path / "sub" / "b.txt", "x")
    os.symlink(tmp_path, tmp_path / "sub" / "up")  # sub/up -> its parent
    os.symlink(tmp_path / "sub", tmp_path / "alias")  # a second name for sub
    assert names(tmp_path) == ["a.txt", "sub/b.txt"]


def test_broken_symlink_is_skipped_with_reason(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "hello")
    os.symlink(tmp_path / "missing.txt", tmp_path / "dangling.txt")
    found, skipped = find_files(tmp_path)
    assert [rel for rel, _ in found] == ["a.txt"]
    assert skipped == [Skipped("dangling.txt", "broken symbolic link")]


def test_only_regular_files(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    (tmp_path / "folder.txt").mkdir()  # a folder with a text file's name is walked, not read
    write(tmp_path / "folder.txt" / "b.md", "x")
    assert names(tmp_path) == ["a.txt", "folder.txt/b.md"]


def test_root_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        find_files(tmp_path / "missing")
    file = write(tmp_path / "speech.txt", "x")
    with pytest.raises(InputError, match="not a folder"):
        find_files(file)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_folders(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    folder = tmp_path / "closed"
    folder.mkdir()
    write(folder / "inside.txt", "x")
    folder.chmod(0)
    try:
        with pytest.raises(InputError, match="cannot list"):
            find_files(folder)
        found, skipped = find_files(tmp_path)
        assert [rel for rel, _ in found] == ["a.txt"]
        assert skipped == [Skipped("closed/", "cannot list folder: Permission denied")]
    finally:
        folder.chmod(0o755)


# --------------------------------------------------------------------------- issue 14: every file accounted for

READABLE = "dedup reads .txt, .md, .docx, .pdf, .html, .htm"


def test_unsupported_files_are_listed_hidden_and_excluded_ones_are_not(tmp_path: Path) -> None:
    """Issue 14 item 10: .doc, .wps, .rtf, .jsonl… found in a folder were silently ignored; now each is skipped
    with the reason, so every file is accounted for; hidden and excluded files stay out, as before."""
    for rel in ("a.txt", "old.doc", "wps/b.WPS", "c.rtf", "d.jsonl", ".hidden.doc", ".git/x.pack", "drafts/e.doc"):
        write(tmp_path / rel, "x")
    found, skipped = find_files(tmp_path, exclude=["drafts/"])
    assert [rel for rel, _ in found] == ["a.txt"]
    assert sorted(skipped, key=lambda s: s.path) == [
        Skipped("c.rtf", f"unsupported file type .rtf; {READABLE}"),
        Skipped("d.jsonl", f"unsupported file type .jsonl; {READABLE}"),
        Skipped("old.doc", f"unsupported file type .doc; {READABLE}"),
        Skipped("wps/b.WPS", f"unsupported file type .wps; {READABLE}"),
    ]
    found, skipped = find_files(tmp_path, include=["*.txt"])  # not selected: not listed
    assert [rel for rel, _ in found] == ["a.txt"] and skipped == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_special_files_in_a_folder_are_listed_not_opened(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    os.mkfifo(tmp_path / "pipe.txt")
    os.mkfifo(tmp_path / "pipe.doc")
    found, skipped = find_files(tmp_path)
    assert [rel for rel, _ in found] == ["a.txt"]
    assert sorted(skipped, key=lambda s: s.path) == [
        Skipped("pipe.doc", f"unsupported file type .doc; {READABLE}"),
        Skipped("pipe.txt", "not a regular file: a named pipe (FIFO)"),
    ]


def test_patterns_that_leave_no_file(tmp_path: Path) -> None:
    """Issue 14 item 11: --include/--exclude that match nothing say what was found and how patterns match."""
    for k in range(10):
        write(tmp_path / f"speech{k}.txt", "x")
    write(tmp_path / "sub" / "a.pdf", "x")
    write(tmp_path / "sub" / "b.PDF", "x")
    write(tmp_path / ".hidden.docx", "x")  # hidden: not counted
    found = "found 12 files: 10 .txt, 2 .pdf"
    with pytest.raises(InputError) as info:
        find_files(tmp_path, include=["*.docx"])
    assert str(info.value) == (
        f"no file matches --include '*.docx' ({found}); a pattern without '/' matches file names at any depth "
        "('*.txt'), one with '/' the path below the folder ('2019/*.txt'; 'drafts/' is everything below drafts)"
    )
    with pytest.raises(InputError) as info:
        find_files(tmp_path, include=["*.DOCX", "*.Pdf"])
    assert str(info.value) == (
        f"no file matches --include '*.DOCX' --include '*.Pdf' ({found}); "
        "patterns are case-sensitive: 2 files would match ignoring case"
    )
    with pytest.raises(InputError, match=r"^--exclude '\*' leaves no file \(" + found + r"\); "):
        find_files(tmp_path, exclude=["*"])
    with pytest.raises(InputError, match=r"^--include 'sub/' selects 2 files but --exclude '\*.pdf' --exclude "):
        find_files(tmp_path, include=["sub/"], exclude=["*.pdf", "*.PDF"])
    with pytest.raises(InputError, match="^no file matches --include"):
        ingest(tmp_path, include=["*.docx"])
    write(tmp_path / "other" / "c.md", "x")
    with pytest.raises(InputError, match=r"^no file matches --include '\*.docx' \(found 3 files: 2 .pdf, 1 .md\)"):
        ingest_paths([tmp_path / "sub", tmp_path / "other"], include=["*.docx"])  # (all the folders together)
    docs, skipped = ingest_paths([tmp_path / "sub", tmp_path / "other"], include=["*.md"])  # one folder matches: fine
    assert [d.path for d in docs] == [(tmp_path / "other" / "c.md").as_posix()]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert find_files(empty, include=["*.docx"]) == ([], [])  # nothing to match: not the pattern's fault
    assert len(find_files(tmp_path, include=["*.txt"], exclude=["nothing-like-this"])[0]) == 10  # a no-op exclude is fine
