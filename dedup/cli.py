"""The ``dedup`` command: a thin typer wrapper around the library.

Exit codes: 0 done, 1 ``--fail-on`` matched, 2 usage error or unusable input or output (a ``dedup``
error: one message on stderr), 3 internal error (a bug: one line on stderr, the traceback with
``DEDUP_DEBUG=1``), 130 interrupted (Ctrl-C), 141 (128 + SIGPIPE) the reader of the report went away
(``dedup scan … | head``): nothing more is written, nothing is said.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional, TextIO

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from dedup import (
    FORMATS,
    CheckReport,
    DedupError,
    IndexUpdate,
    IngestError,
    Report,
    ScanConfig,
    __version__,
    add_to_index,
    archive_text_loader,
    at_least,
    build_index,
    check as check_archive,
    check_output,
    index_info as read_index_info,
    no_documents_message,
    normalize_text,
    open_output,
    printable,
    read_document,
    remove_from_index,
    scan as scan_folder,
    skipped_lines,
    to_json,
    write_report,
)

EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE, like other tools in a pipeline
#: Set (to anything but "" or "0") to get the traceback of an internal error.
DEBUG_ENV = "DEDUP_DEBUG"


class _Console(Console):
    def on_broken_pipe(self) -> None:  # the reader went away: for _writing to say (141), not for rich (exit 1)
        raise BrokenPipeError(32, "Broken pipe")


def _stderr() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Say what went wrong on stderr (names escaped, never markup); the exit to raise."""
    lines = [printable(line) for line in str(message).split("\n")]
    _stderr().print(Text.assemble(("Error:", "bold red"), " ", "\n".join(lines)))
    return typer.Exit(code)


class DedupGroup(TyperGroup):
    """The ``dedup`` command group: whatever a command lets escape becomes an exit code and a line on stderr
    (a ``dedup`` error: 2; anything else is an internal error: 3, with the traceback when $DEDUP_DEBUG is set)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except DedupError as err:
            raise _fail(str(err)) from None
        except Exception as err:
            if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                traceback.print_exception(err, file=sys.stderr)
            _stderr().print(
                Text.assemble(
                    ("internal error:", "bold red"), " ", printable(f"{type(err).__name__}: {err}"),
                    f" (dedup {__version__}; please report it with the command that failed; {DEBUG_ENV}=1 shows the traceback)",
                )
            )
            raise typer.Exit(EXIT_INTERNAL) from None


app = typer.Typer(
    cls=DedupGroup,
    help="Find near-duplicate speeches and copied passages in a folder of documents.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


def _quiet_stdout() -> None:
    """After a broken pipe: what is still buffered for stdout goes nowhere (no second error at exit)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (e.g. captured)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@contextmanager
def _writing(output: Path | None, inputs: Iterable[str | Path] = ()) -> Iterator[TextIO]:
    """stdout, or ``output`` (``open_output``: never one of ``inputs``, a device or FIFO written directly). A reader
    that went away ends the command quietly (exit 141); a file that cannot be written is an error (exit 2)."""
    try:
        if output is None:
            yield sys.stdout
            sys.stdout.flush()
        else:
            with open_output(output, inputs=inputs) as out:
                yield out
    except BrokenPipeError:
        _quiet_stdout()
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except OSError as err:
        raise _fail(f"cannot write {output or 'to stdout'}: {err.strerror or err}") from None


def _write_report(
    report: Report | CheckReport, fmt: Format, output: Path | None, *, inputs: list[str | Path], load_archived, show: int
) -> None:
    """Write the report (the texts as they were read) to ``output`` or stdout, then list the skipped files on stderr."""
    with _writing(output, inputs) as out:
        write_report(report, fmt.value, out, load_archived=load_archived, show=show)
    if report.skipped:
        console = _stderr()
        console.print(Text(f"{report.skipped} skipped (not read):", style="yellow"))
        for line in skipped_lines(report.documents):
            console.print(Text("  " + printable(line)))


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
    config = ScanConfig(
        min_passage=min_passage,
        threshold=threshold,
        include=tuple(include or ()),
        exclude=tuple(exclude or ()),
        include_hidden=hidden,
        workers=workers,
    )
    index_file = [index] if index else []
    if output is not None:  # before the work: an --output that is one of the inputs is refused
        check_output(output, index_file)
    report = _run(lambda on_progress: scan_folder(folder, config=config, progress=on_progress, index=index), progress)
    archived = archive_text_loader(index, (p.b for p in report.pairs if p.b_origin == "archive"), config=config)
    inputs = [folder / d.path for d in report.documents if d.status == "ok"] + index_file  # (the files read)
    _write_report(report, format, output, inputs=inputs, load_archived=archived, show=show)
    _exit_on(fail_on, report.pairs)


def _run(job, progress: bool):
    """Run a library call with a progress bar on stderr (when it is a terminal); its errors are the group's to map."""
    err_console = Console(stderr=True)
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


def _exit_on(fail_on: Optional[FailOn], pairs) -> None:
    if fail_on is not None and any(at_least(p.relation, fail_on.value) for p in pairs):
        raise typer.Exit(EXIT_FOUND)


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
    config = ScanConfig(min_passage=min_passage, threshold=threshold, workers=workers)
    if output is not None:
        check_output(output, [*files, index])
    report = _run(lambda on_progress: check_archive(files, index, config=config, progress=on_progress), progress)
    if not report.scanned:  # as a scan of nothing readable: said, never an empty report
        raise _fail(no_documents_message("the files given", report.documents))
    archived = archive_text_loader(index, (p.b for p in report.pairs), config=config)
    inputs = [Path(d.path) for d in report.documents] + [*files, index]
    _write_report(report, format, output, inputs=inputs, load_archived=archived, show=show)
    _exit_on(fail_on, report.pairs)


index_app = typer.Typer(
    help="Build and update an archive index that 'dedup check' and 'dedup scan --index' compare against.",
    no_args_is_help=True,
)
app.add_typer(index_app, name="index")


def _print_update(update: IndexUpdate, verb: str) -> None:
    console = _stderr()
    for s in update.skipped:
        console.print(Text.assemble(("skipped", "yellow"), " ", printable(f"{s.path}: {s.reason}")))
    parts = [f"{len(update.added)} added"] if verb != "remove" else []
    if update.replaced:
        parts.append(f"{len(update.replaced)} replaced")
    if verb == "remove":
        parts.append(f"{len(update.removed)} removed")
    if update.skipped:
        parts.append(f"{len(update.skipped)} skipped")
    console.print(Text(printable(f"{update.location}: {', '.join(parts)}; {update.documents} documents in the index")))


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
    config = ScanConfig(include=tuple(include or ()), exclude=tuple(exclude or ()), include_hidden=hidden)
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
        raise _fail(f"{update.location}: none of {', '.join(map(str, paths))} is in the index")
    _print_update(update, "remove")


@index_app.command("info")
def index_info(
    index: IndexOption,
    format: Annotated[InfoFormat, typer.Option("--format", "-f", help="Output format.")] = InfoFormat.terminal,
    list_: Annotated[bool, typer.Option("--list", help="Also list the stored paths.")] = False,
) -> None:
    """Show what an index holds: documents, size, and the parameters it was built with."""
    data = _run(lambda p: read_index_info(index, paths=list_), False).to_dict()
    if format is InfoFormat.json:
        with _writing(None) as out:
            out.write(to_json(data) + "\n")
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in data.items():
        if key != "paths":
            grid.add_row(key, Text(printable(value if isinstance(value, str) else to_json(value, indent=None))))
    with _writing(None) as out:
        console = _Console(file=out)
        console.print(Panel(grid, title="dedup index", title_align="left", border_style="blue"))
        for p in data.get("paths", ()):
            console.print(Text(printable(p)))


@app.command()
def text(
    file: Annotated[Path, typer.Argument(help="A .txt, .md, .docx, .pdf or .html file.")],
    normalized: Annotated[bool, typer.Option(help="Print the normalized text used for matching instead.")] = False,
) -> None:
    """Print the text of a file exactly as dedup reads it (offsets in reports index into this text)."""
    try:
        doc = read_document(file)
    except IngestError as err:
        raise _fail(f"cannot read {err.path}: {err.reason}") from None
    with _writing(None) as out:
        out.write(normalize_text(doc.text) + "\n" if normalized else doc.text)


if __name__ == "__main__":  # pragma: no cover
    app()
