"""Reading files into :class:`~dedup.models.Document` records: one file, a folder, or a mix.

The only place that opens input files. A file that cannot be read is an
:class:`~dedup.errors.IngestError` for :func:`read_document` and a
:class:`~dedup.models.Skipped` entry with its reason for the others: nothing
one file holds stops a run. Every file is read within the limits of an
:class:`~dedup.config.IngestConfig` (size, characters, time, a .docx's
uncompressed size and XML parts, a PDF's content streams).
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dedup.config import IngestConfig
from dedup.errors import IngestError, InputError
from dedup.ingest.decode import decode_bytes, decode_html
from dedup.ingest.files import _check_patterns, _walk, display_name, find_files, special_file_reason, unsupported_reason
from dedup.ingest.formats import FORMATS, html_text, megabytes
from dedup.ingest.pdf import pdf_text
from dedup.ingest.word import docx_text
from dedup.models import Document, Skipped

__all__ = ["ingest", "ingest_paths", "read_document", "read_files", "shown_path"]

#: Open without blocking: opening a FIFO for reading otherwise waits for a writer (a regular file is
#: not affected).
#: What may read the files a folder holds in place of :func:`read_files`: ``reader(found, progress)``.
Reader = Callable[[Sequence[tuple[str, str]], Callable[[int, int], None] | None], tuple[list[Document], list[Skipped]]]

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _regular_file(where: str, shown: str) -> None:
    """IngestError(shown, reason) unless ``where`` is a regular file (a FIFO or a device is never opened: opening a
    FIFO waits for a writer, reading /dev/zero never ends)."""
    try:
        mode = os.stat(where).st_mode
    except OSError as exc:
        raise IngestError(shown, exc.strerror or str(exc)) from exc
    if stat.S_ISDIR(mode):
        raise IngestError(shown, os.strerror(errno.EISDIR))  # (as open() says it)
    if not stat.S_ISREG(mode):
        raise IngestError(shown, special_file_reason(mode))


def _read_bytes(where: str, shown: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; IngestError(shown, reason) otherwise.

    The file is opened without blocking (in case it was replaced by a FIFO since it was looked at) and
    read up to its size: memory is the file's size, and a file growing while it is read stops at ``limit``.
    """
    too_big = f"over the limit of {megabytes(limit)} (max_file_bytes)"
    try:
        fd = os.open(where, _OPEN_FLAGS)
    except OSError as exc:
        raise IngestError(shown, exc.strerror or str(exc)) from exc
    with open(fd, "rb") as handle:  # (buffered: read(n) reads until n bytes or the end)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise IngestError(shown, special_file_reason(st.st_mode))
            if st.st_size > limit:
                raise IngestError(shown, f"file too large: {megabytes(st.st_size)}, {too_big}")
            data = handle.read(st.st_size + 1) or b""
            while len(data) > st.st_size and len(data) <= limit:  # grew since, or a /proc file saying 0 bytes
                more = handle.read(limit + 1 - len(data))
                if not more:
                    break
                data += more
        except OSError as exc:
            raise IngestError(shown, exc.strerror or str(exc)) from exc
    if len(data) > limit:
        raise IngestError(shown, f"file too large: more than {megabytes(limit)}, {too_big}")
    return data


def _text(fmt: str, data: bytes, shown: str, limits: IngestConfig, deadline: float) -> tuple[str, str | None]:
    """(text, encoding) of a file's bytes in format ``fmt``; IngestError(shown, reason) if unreadable."""
    try:
        if fmt in ("txt", "md"):
            return decode_bytes(data)
        if fmt == "html":
            markup, encoding = decode_html(data)
            return html_text(markup), encoding
    except ValueError as exc:  # undecodable or binary: the message is the reason
        raise IngestError(shown, str(exc)) from exc
    if fmt == "docx":
        return docx_text(
            data, where=shown, max_unzipped=limits.max_docx_unzipped_bytes, max_xml=limits.max_docx_xml_bytes,
            max_chars=limits.max_text_chars, deadline=deadline, max_seconds=limits.max_seconds,
        ), None
    return pdf_text(
        shown, data, max_chars=limits.max_text_chars, deadline=deadline, max_seconds=limits.max_seconds,
        max_content=limits.max_pdf_content_bytes,
    ), None


def read_document(path: str | bytes | Path, *, relpath: str | None = None, limits: IngestConfig | None = None) -> Document:
    """Read one file; raises IngestError(name, reason) when it cannot be read, whatever the reason.

    ``Document.path`` is ``relpath`` (the name :func:`find_files` gives a file:
    a POSIX path relative to the scanned folder, as :func:`display_name` shows
    it) or, without it, the file name as :func:`display_name` shows it; the
    error names the path as :func:`display_name` shows it. ``path`` (a string,
    bytes or a Path) is what is opened. A file that is not a regular file (a
    FIFO, a device, a socket) is never opened; a file beyond one of ``limits``
    (by default ``IngestConfig()``) is not read, or stops being read, and the
    reason names the limit. Any other failure of a parser on one file becomes
    the reason too.
    """
    limits = limits or IngestConfig()
    deadline = time.monotonic() + limits.max_seconds
    where = os.fsdecode(os.fspath(path))  # a string throughout: a Path a file cost more than decoding it
    shown = display_name(where)
    _regular_file(where, shown)
    suffix = os.path.splitext(where)[1]
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise IngestError(shown, unsupported_reason(suffix.lower()))
    data = _read_bytes(where, shown, limits.max_file_bytes)
    if not data:
        raise IngestError(shown, "empty file")
    try:
        text, encoding = _text(fmt, data, shown, limits, deadline)
    except IngestError:
        raise
    except Exception as exc:  # a parser bug, a bogus label, memory: one file must not stop the run
        message = " ".join(str(exc).split())  # one line, however the parser wrote it
        message = message if len(message) <= 200 else message[:199] + "…"
        raise IngestError(shown, f"cannot read .{fmt}: {type(exc).__name__}: {message}") from exc
    del data
    if len(text) > limits.max_text_chars:
        over = f"over the limit of {limits.max_text_chars:,} (max_text_chars)"
        raise IngestError(shown, f"text too long: {len(text):,} characters, {over}")
    if not text or text.isspace():  # (not text.strip(): a copy of the text)
        raise IngestError(shown, "no text")
    name = relpath if relpath is not None else display_name(os.path.basename(where))
    return Document(path=name, text=text, format=fmt, encoding=encoding)


def _read_all(
    found: Sequence[tuple[str, str | Path]],
    limits: IngestConfig | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for done, (name, path) in enumerate(found, start=1):
        try:
            documents.append(read_document(path, relpath=name, limits=limits))
        except IngestError as exc:
            skipped.append(Skipped(path=name, reason=exc.reason))
        if progress is not None:
            progress(done, len(found))
    return documents, skipped


def ingest(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    progress: Callable[[int, int], None] | None = None,
    limits: IngestConfig | None = None,
    reader: Reader | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """find_files + read_document for each file; a bad file becomes a Skipped with its reason, the scan goes on.

    Files of unsupported types, files that are not regular and folders below
    ``root`` that cannot be listed are skipped entries too (a folder's path ends
    with "/"). ``progress(done, total)`` is called after each file read.
    ``limits`` bound the reading of each file. Both lists are in path order.
    ``reader(found, progress)``, if given, reads the files found instead (as :func:`read_files` does, the documents
    in the order found: ``dedup.pipeline`` reads and signs them in an executor's jobs).
    Raises InputError as :func:`find_files` does.
    """
    found, skipped = find_files(root, include=include, exclude=exclude, include_hidden=include_hidden)
    documents, bad = reader(found, progress) if reader is not None else _read_all(found, limits, progress)
    return documents, sorted(skipped + bad, key=lambda s: s.path)


def read_files(
    found: Sequence[tuple[str, str | Path]], *, limits: IngestConfig | None = None
) -> tuple[list[Document], list[Skipped]]:
    """``read_document`` for each ``(name, path)`` (as :func:`find_files` gives them); a file that cannot be read
    is skipped with its reason. ``limits`` bound the reading of each file."""
    return _read_all(found, limits)


def shown_path(path: Path, base: Path | None) -> str:
    """How a file is named in reports and indexes: relative to ``base`` if inside it, else as given; as
    :func:`display_name` shows it (the same name :func:`find_files` gives a file below ``base``)."""
    if base is not None:
        try:
            return display_name(path.resolve().relative_to(base.resolve()).as_posix())
        except ValueError:
            pass
    return display_name(path.as_posix())


def ingest_paths(
    paths: Sequence[str | bytes | Path],
    *,
    base: Path | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    progress: Callable[[int, int], None] | None = None,
    limits: IngestConfig | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """``ingest`` for a mix of files and folders (``dedup check FILE…``, ``dedup index add DIR|FILE…``).

    Documents are named relative to ``base`` when they lie inside it, else by
    the path as given (a folder's files: the folder as given, then their path
    inside it), as :func:`shown_path` names them. A missing path is an
    ``InputError``, and so are ``include``/``exclude`` patterns that leave none
    of the folders' files; a file that is not regular (a FIFO, a device) is
    skipped without being opened, and an unreadable file is skipped with its
    reason. ``progress(done, total)`` is called after each path.
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    walks = []
    for p in (Path(os.fsdecode(os.fspath(p))) for p in paths):
        if p.is_dir():
            walk = _walk(p, include, exclude, include_hidden)
            walks.append(walk)
            named = [(shown_path(Path(full), base), full) for _, full in walk.found]
            docs, bad = _read_all(named, limits)
            for rel, entry in walk.skipped:
                folder = "/" if rel.endswith("/") else ""
                bad.append(Skipped(path=shown_path(p / rel, base) + folder, reason=entry.reason))
            documents += docs
            skipped += sorted(bad, key=lambda s: s.path)
        elif p.exists():
            try:
                documents.append(read_document(p, relpath=shown_path(p, base), limits=limits))
            except IngestError as exc:
                skipped.append(Skipped(path=shown_path(p, base), reason=exc.reason))
        else:
            raise InputError(f"{display_name(str(p))}: no such file or folder")
        if progress is not None:
            progress(len(documents) + len(skipped), len(documents) + len(skipped))
    if walks:
        _check_patterns(walks, include, exclude)
    return documents, skipped
