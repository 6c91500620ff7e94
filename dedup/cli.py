"""The ``dedup`` command: a thin typer wrapper around the library."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional, TextIO

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dedup import (
    FORMATS,
    CheckReport,
    DedupError,
    IndexUpdate,
    IngestError,
    Report,
    ScanConfig,
    add_to_index,
    archive_text_loader,
    at_least,
    build_index,
    check as check_archive,
    index_info as read_index_info,
    normalize_text,
    read_document,
    remove_from_index,
    scan as scan_folder,
    write_report,
)

app = typer.Typer(
    help="Find near-duplicate speeches and copied passages in a folder of documents.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_FOUND = 1
EXIT_USAGE = 2


Format = Enum("Format", {f: f for f in FORMATS}, type=str)

#: Options every command that writes a report shares.
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Report format.")]
OutputOption = Annotated[
    Optional[Path], typer.Option("--output", "-o", help="Write the report to this file instead of stdout.", dir_okay=False)
]


class InfoFormat(str, Enum):
    terminal = "terminal"
    json = "json"


class FailOn(str, Enum):
    near_duplicate = "near_duplicate"
    partial = "partial"


_STAGES = {
    "read": "Reading files",
    "sign": "Signing",
    "index": "Indexing",
    "write": "Writing the index",
    "candidates": "Finding candidates",
    "align": "Aligning pairs",
}

#: Options several commands share.
MinPassageOption = Annotated[
    int, typer.Option(help="Shortest reported passage in CJK characters; a word counts about 4 (50 ≈ 12 words).")
]
ThresholdOption = Annotated[
    float, typer.Option(help="Share of the shorter document that must be copied for a near-duplicate.")
]
WorkersOption = Annotated[int, typer.Option(help="Processes for alignment (0: one per CPU core).")]
ProgressOption = Annotated[bool, typer.Option(help="Show a progress bar on stderr.")]
IncludeOption = Annotated[Optional[list[str]], typer.Option(help="Only files matching this glob (repeatable).")]
ExcludeOption = Annotated[Optional[list[str]], typer.Option(help="Leave out files matching this glob (repeatable).")]
HiddenOption = Annotated[bool, typer.Option("--hidden", help="Also read hidden files and folders.")]
IndexOption = Annotated[
    str,
    typer.Option(
        "--index",
        envvar="DEDUP_INDEX",
        help="Archive index: a file (SQLite, created by 'dedup index build') or redis://host:port/db.",
    ),
]


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]Error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    """stdout, or a temporary file beside ``path`` that replaces ``path`` only once it is complete."""
    if path is None:
        yield sys.stdout
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _write_report(
    report: Report | CheckReport,
    fmt: Format,
    output: Path | None,
    *,
    load_text: Callable[[str], str],
    load_archived: Callable[[str], str],
    show: int = 5,
) -> None:
    """Write the report to ``output`` or stdout; a failure is an error message and exit code 2."""
    try:
        with _output(output) as out:
            write_report(report, fmt.value, out, load_text=load_text, load_archived=load_archived, show=show)
    except DedupError as err:
        raise _fail(str(err)) from None
    except OSError as err:
        raise _fail(f"cannot write {output or 'to stdout'}: {err.strerror or err}") from None


@app.command()
def scan(
    folder: Annotated[Path, typer.Argument(help="Folder to scan (recursively).")],
    format: FormatOption = Format.terminal,
    output: OutputOption = None,
    min_passage: MinPassageOption = ScanConfig().min_passage,
    threshold: ThresholdOption = ScanConfig().threshold,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    hidden: HiddenOption = False,
    fail_on: Annotated[
        Optional[FailOn], typer.Option(help="Exit with code 1 if a pair this severe (or worse) is found.")
    ] = None,
    show: Annotated[int, typer.Option(help="Pairs shown in detail in the terminal report.")] = 5,
    workers: WorkersOption = 0,
    progress: ProgressOption = True,
    index: Annotated[
        Optional[str],
        typer.Option(
            "--index", envvar="DEDUP_INDEX", show_envvar=False,
            help="Also compare the folder with this archive index (archive documents show as index:PATH).",
        ),
    ] = None,
) -> None:
    """Scan a folder for near-duplicate documents and copied passages."""
    config = _config(
        min_passage=min_passage,
        threshold=threshold,
        include=tuple(include or ()),
        exclude=tuple(exclude or ()),
        include_hidden=hidden,
        workers=workers,
    )
    report = _run(lambda on_progress: scan_folder(folder, config=config, progress=on_progress, index=index), progress)
    archived = archive_text_loader(index, (p.b for p in report.pairs if p.b_origin == "archive"), config=config)

    def load_text(path: str) -> str:
        return read_document(folder / path, relpath=path).text

    _write_report(report, format, output, load_text=load_text, load_archived=archived, show=show)
    _exit_on(fail_on, report.pairs)


def _run(job, progress: bool):
    """Run a library call with a progress bar on stderr (when it is a terminal); errors become exit code 2."""
    err_console = Console(stderr=True)
    try:
        if progress and err_console.is_terminal:
            with Progress(
                TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=err_console, transient=True,
            ) as bar:
                tasks: dict[str, int] = {}

                def on_progress(stage: str, done: int, total: int) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
                    bar.update(tasks[stage], completed=done, total=total)

                return job(on_progress)
        return job(None)
    except DedupError as err:
        raise _fail(str(err)) from None


def _exit_on(fail_on: Optional[FailOn], pairs) -> None:
    if fail_on is not None and any(at_least(p.relation, fail_on.value) for p in pairs):
        raise typer.Exit(EXIT_FOUND)


def _config(**options) -> ScanConfig:
    try:
        return ScanConfig(**options)
    except DedupError as err:
        raise _fail(str(err)) from None


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Documents (or folders of them) to check against the archive.")],
    index: IndexOption,
    format: FormatOption = Format.terminal,
    output: OutputOption = None,
    min_passage: MinPassageOption = ScanConfig().min_passage,
    threshold: ThresholdOption = ScanConfig().threshold,
    fail_on: Annotated[
        Optional[FailOn], typer.Option(help="Exit with code 1 if a source this severe (or worse) is found.")
    ] = None,
    show: Annotated[int, typer.Option(help="Sources shown in detail in the terminal report.")] = 5,
    workers: WorkersOption = 0,
    progress: ProgressOption = True,
) -> None:
    """Check new documents against an archive index: copy ratio, sources and copied passages of each."""
    config = _config(min_passage=min_passage, threshold=threshold, workers=workers)
    report = _run(lambda on_progress: check_archive(files, index, config=config, progress=on_progress), progress)
    archived = archive_text_loader(index, (p.b for p in report.pairs), config=config)

    def load_text(path: str) -> str:
        return read_document(Path(path)).text

    _write_report(report, format, output, load_text=load_text, load_archived=archived, show=show)
    _exit_on(fail_on, report.pairs)


index_app = typer.Typer(
    help="Build and update an archive index that 'dedup check' and 'dedup scan --index' compare against.",
    no_args_is_help=True,
)
app.add_typer(index_app, name="index")


def _print_update(update: IndexUpdate, verb: str) -> None:
    console = Console(stderr=True)
    for s in update.skipped:
        console.print(f"[yellow]skipped[/] {s.path}: {s.reason}", highlight=False)
    parts = [f"{len(update.added)} added"] if verb != "remove" else []
    if update.replaced:
        parts.append(f"{len(update.replaced)} replaced")
    if verb == "remove":
        parts.append(f"{len(update.removed)} removed")
    if update.skipped:
        parts.append(f"{len(update.skipped)} skipped")
    console.print(f"{update.location}: {', '.join(parts)}; {update.documents} documents in the index", highlight=False)


@index_app.command("build")
def index_build(
    folder: Annotated[Path, typer.Argument(help="Folder of documents to index (recursively).")],
    index: IndexOption,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    hidden: HiddenOption = False,
    progress: ProgressOption = True,
) -> None:
    """Build a new index of a folder (an existing index at that place is replaced once the new one is complete)."""
    config = _config(include=tuple(include or ()), exclude=tuple(exclude or ()), include_hidden=hidden)
    _print_update(_run(lambda p: build_index(folder, index, config=config, progress=p), progress), "build")


@index_app.command("add")
def index_add(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add; a document already indexed under the same path is replaced.")],
    index: IndexOption,
    progress: ProgressOption = True,
) -> None:
    """Add documents to an index (one atomic change: all of them or none)."""
    _print_update(_run(lambda p: add_to_index(paths, index, progress=p), progress), "add")


@index_app.command("remove")
def index_remove(
    paths: Annotated[list[str], typer.Argument(help="Stored paths (as 'dedup index info --list' shows them) or folders.")],
    index: IndexOption,
) -> None:
    """Remove documents from an index."""
    update = _run(lambda p: remove_from_index(paths, index), False)
    if not update.removed:
        raise _fail(f"{update.location}: none of {', '.join(paths)} is in the index")
    _print_update(update, "remove")


@index_app.command("info")
def index_info(
    index: IndexOption,
    format: Annotated[InfoFormat, typer.Option("--format", "-f", help="Output format.")] = InfoFormat.terminal,
    list_: Annotated[bool, typer.Option("--list", help="Also list the stored paths.")] = False,
) -> None:
    """Show what an index holds: documents, size, and the parameters it was built with."""
    info = _run(lambda p: read_index_info(index, paths=list_), False)
    paths = list(info.paths) if info.paths is not None else None
    meta = info.meta
    data = {
        "index": info.location,
        "documents": info.documents,
        "size_bytes": info.size_bytes,
        "root": meta.get("root"),
        "created": meta.get("created"),
        "dedup": meta.get("dedup"),
        "datasketch": meta.get("datasketch"),
        "format": meta.get("format"),
        **meta.get("matching", {}),
        "bands": meta.get("bands"),
    }
    if paths is not None:
        data["paths"] = paths
    if format is InfoFormat.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in data.items():
        if key != "paths":
            grid.add_row(key, value if isinstance(value, str) else json.dumps(value))
    console = Console()
    console.print(Panel(grid, title="dedup index", title_align="left", border_style="blue"))
    for p in paths or ():
        console.print(p, highlight=False)


@app.command()
def text(
    file: Annotated[Path, typer.Argument(help="A .txt, .md, .docx, .pdf or .html file.")],
    normalized: Annotated[bool, typer.Option(help="Print the normalized text used for matching instead.")] = False,
) -> None:
    """Print the text of a file exactly as dedup reads it (offsets in reports index into this text)."""
    try:
        doc = read_document(file)
    except IngestError as err:
        raise _fail(f"cannot read {file}: {err.reason}") from None
    out = normalize_text(doc.text) if normalized else doc.text
    sys.stdout.write(out)
    if normalized:
        sys.stdout.write("\n")


if __name__ == "__main__":  # pragma: no cover
    app()
