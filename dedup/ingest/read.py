"""Reading files into :class:`~dedup.models.Document` records: one file, a folder, or a mix.

The only place that opens input files. A file that cannot be read is an
:class:`~dedup.errors.IngestError` for :func:`read_document` and a
:class:`~dedup.models.Skipped` entry with its reason for the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from dedup.errors import IngestError, InputError
from dedup.ingest.decode import decode_bytes, decode_html
from dedup.ingest.files import find_files
from dedup.ingest.formats import FORMATS, docx_text, html_text, pdf_text
from dedup.models import Document, Skipped

__all__ = ["ingest", "ingest_paths", "read_document", "read_files", "shown_path"]


def read_document(path: str | Path, *, relpath: str | None = None) -> Document:
    """Read one file; raises IngestError(path_str, reason) when it cannot be read.

    ``Document.path`` is ``relpath`` (a POSIX path relative to the scanned
    folder) or, without it, the file name.
    """
    where = os.fspath(path)  # a string throughout: a Path a file cost more than decoding it
    suffix = os.path.splitext(where)[1]
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise IngestError(where, f"unsupported file type {suffix or '(none)'!r}")
    try:
        with open(where, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise IngestError(where, exc.strerror or str(exc)) from exc
    if not data:
        raise IngestError(where, "empty file")

    encoding: str | None = None
    try:
        if fmt in ("txt", "md"):
            text, encoding = decode_bytes(data)
        elif fmt == "html":
            markup, encoding = decode_html(data)
    except ValueError as exc:  # undecodable or binary: the message is the reason
        raise IngestError(where, str(exc)) from exc
    try:
        if fmt == "html":
            text = html_text(markup)
        elif fmt == "docx":
            try:
                text = docx_text(data)
            except Exception as exc:
                raise IngestError(where, f"corrupt .docx: {exc}") from exc
        elif fmt == "pdf":
            text = pdf_text(where, data)
    except IngestError:
        raise
    except Exception as exc:  # a parser bug must not stop the scan
        raise IngestError(where, f"cannot read .{fmt}: {type(exc).__name__}: {exc}") from exc

    if not text.strip():
        raise IngestError(where, "no text")
    return Document(path=relpath if relpath is not None else os.path.basename(where), text=text, format=fmt, encoding=encoding)


def ingest(
    root: Path,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """find_files + read_document for each file; a bad file becomes a Skipped with its reason, the scan goes on.

    Folders below ``root`` that cannot be listed are reported as skipped
    entries whose path ends with "/". ``progress(done, total)`` is called
    after each file. Both lists are in path order.
    """
    found, skipped = find_files(root, include=include, exclude=exclude, include_hidden=include_hidden)
    documents: list[Document] = []
    total = len(found)
    for done, (rel, path) in enumerate(found, start=1):
        try:
            documents.append(read_document(path, relpath=rel))
        except IngestError as exc:
            skipped.append(Skipped(path=rel, reason=exc.reason))
        if progress is not None:
            progress(done, total)
    skipped.sort(key=lambda s: s.path)
    return documents, skipped


def read_files(found: Sequence[tuple[str, str | Path]]) -> tuple[list[Document], list[Skipped]]:
    """``read_document`` for each ``(relative path, path)``; a file that cannot be read is skipped with its reason."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for rel, path in found:
        try:
            documents.append(read_document(path, relpath=rel))
        except IngestError as exc:
            skipped.append(Skipped(path=rel, reason=exc.reason))
    return documents, skipped


def shown_path(path: Path, base: Path | None) -> str:
    """How a file is named in reports and indexes: relative to ``base`` if inside it, else as given."""
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def ingest_paths(
    paths: Sequence[Path],
    *,
    base: Path | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_hidden: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """``ingest`` for a mix of files and folders (``dedup check FILE…``, ``dedup index add DIR|FILE…``).

    Documents are named relative to ``base`` when they lie inside it, else by
    the path as given (a folder's files: the folder as given, then their path
    inside it). A missing path is an ``InputError``; an unreadable file is
    skipped with its reason.
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for p in map(Path, paths):
        if p.is_dir():
            docs, bad = ingest(p, include=include, exclude=exclude, include_hidden=include_hidden)
            documents += [replace(d, path=shown_path(p / d.path, base)) for d in docs]
            skipped += [replace(s, path=shown_path(p / s.path, base)) for s in bad]
        elif p.exists():
            try:
                documents.append(read_document(p, relpath=shown_path(p, base)))
            except IngestError as exc:
                skipped.append(Skipped(path=shown_path(p, base), reason=exc.reason))
        else:
            raise InputError(f"{p}: no such file or folder")
        if progress is not None:
            progress(len(documents) + len(skipped), len(documents) + len(skipped))
    return documents, skipped
