"""What the commands share: the exit codes and how errors become them, the ``dedup`` group, the options
several commands take, writing a report to stdout or a file, progress bars."""

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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from dedup import (
    FOLDER_FORMATS,
    ENGINES,
    FORMATS,
    CheckReport,
    DedupError,
    Report,
    ScanConfig,
    __version__,
    at_least,
    check_output,
    check_output_folder,
    open_executor,
    open_output,
    printable,
    skipped_lines,
    write_parquet_report,
    write_report,
)

EXIT_FOUND = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_BROKEN_PIPE = 128 + 13  # as if killed by SIGPIPE, like other tools in a pipeline
#: Set (to anything but "" or "0") to get the traceback of an internal error.
DEBUG_ENV = "DEDUP_DEBUG"


class ReportConsole(Console):
    def on_broken_pipe(self) -> None:  # the reader went away: for writing to say (141), not for rich (exit 1)
        raise BrokenPipeError(32, "Broken pipe")


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Say what went wrong on stderr (names escaped, never markup); the exit to raise."""
    lines = [printable(line) for line in str(message).split("\n")]
    stderr().print(Text.assemble(("Error:", "bold red"), " ", "\n".join(lines)))
    return typer.Exit(code)


def _stdout_identity() -> tuple:
    """What stdout is: its Python object's class and the file behind descriptor 1."""
    try:
        status = os.fstat(1)
        where = (status.st_dev, status.st_ino)
    except OSError:
        where = None
    return type(sys.stdout).__name__, where


class DedupGroup(TyperGroup):
    """The ``dedup`` command group: whatever a command lets escape becomes an exit code and a line on stderr
    (a ``dedup`` error: 2; anything else is an internal error: 3, with the traceback when $DEDUP_DEBUG is set)."""

    def main(self, *args, **kwargs):
        """Help (or any output rich or click write themselves) cut short by a reader that went away exits 141, as a
        report does: both say so with exit 1 and stdout swapped for /dev/null (rich) or a quiet wrapper (click)."""
        before = _stdout_identity()
        try:
            return super().main(*args, **kwargs)
        except SystemExit as end:
            if end.code == 1 and _stdout_identity() != before:
                raise SystemExit(EXIT_BROKEN_PIPE) from None
            raise

    def invoke(self, ctx):
        _numba_without_blas_probe()
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BrokenPipeError:  # (a command's help, cut short: ``dedup check --help | head``)
            _quiet_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except DedupError as err:
            raise fail(str(err)) from None
        except Exception as err:
            if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                traceback.print_exception(err, file=sys.stderr)
            stderr().print(
                Text.assemble(
                    ("internal error:", "bold red"), " ", printable(f"{type(err).__name__}: {err}"),
                    f" (dedup {__version__}; please report it with the command that failed; {DEBUG_ENV}=1 shows the traceback)",
                )
            )
            raise typer.Exit(EXIT_INTERNAL) from None


def _numba_without_blas_probe() -> None:
    """numba, on the first kernel it compiles or loads from its cache, imports scipy.linalg (0.2 to 0.3 s, a third
    of a small scan's start) only to see whether its array functions can call BLAS; dedup's kernels call none.
    A command's process, and those it forks, do without: numba's array functions are registered here, once, with
    scipy.linalg kept out of sight (numba then says BLAS is missing; a library user's process is left alone)."""
    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  (an import of it now fails: ImportError)
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        del sys.modules["scipy.linalg"]


app = typer.Typer(
    cls=DedupGroup,
    help="Find near-duplicate speeches and copied passages in a folder of documents.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


Format = Enum("Format", {f: f for f in (*FORMATS, *FOLDER_FORMATS)}, type=str)

#: Options every command that writes a report shares.
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Report format (parquet: a folder, needs --output).")]
OutputOption = Annotated[
    Optional[Path],
    typer.Option("--output", "-o", help="Write the report to this file instead of stdout (parquet: to this folder)."),
]


class InfoFormat(str, Enum):
    terminal = "terminal"
    json = "json"


class FailOn(str, Enum):
    near_duplicate = "near_duplicate"
    partial = "partial"


STAGES = {
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
WorkersOption = Annotated[int, typer.Option(help="Processes (with --engine ray: actors) that run the stages (0: one per CPU core).")]
Engine = Enum("Engine", {e: e for e in ENGINES}, type=str)
EngineOption = Annotated[
    Engine, typer.Option(help="Where the stages run: processes on this machine, or Ray (pip install 'dedup[ray]').")
]
AddressOption = Annotated[
    Optional[str],
    typer.Option(help="With --engine ray: the address of a running Ray cluster (host:port, ray://host:port, auto); "
                 "default: start Ray on this machine."),
]
ProgressOption = Annotated[bool, typer.Option(help="Show a progress bar on stderr.")]
IncludeOption = Annotated[Optional[list[str]], typer.Option(help="Only files matching this glob (repeatable).")]
ExcludeOption = Annotated[Optional[list[str]], typer.Option(help="Leave out files matching this glob (repeatable).")]
HiddenOption = Annotated[bool, typer.Option("--hidden", help="Also read hidden files and folders.")]
IdColumnOption = Annotated[
    str, typer.Option(help="In dataset files (.jsonl, .parquet, .csv): the column that names a document.")
]
TextColumnOption = Annotated[str, typer.Option(help="In dataset files: the column that holds a document's text.")]
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
def writing(output: Path | None, inputs: Iterable[str | Path] = ()) -> Iterator[TextIO]:
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
        raise fail(f"cannot write {output or 'to stdout'}: {err.strerror or err}") from None


def check_destination(fmt: Format, output: Path | None, inputs: Iterable[str | Path]) -> None:
    """Before the work: an ``output`` that is one of the inputs (or, for a folder format, holds one, or is not a
    folder dedup may write) is refused, and so is a folder format without ``--output``."""
    if fmt.value in FOLDER_FORMATS:
        if output is None:
            raise fail(f"--format {fmt.value} writes a folder of files, not to stdout: give the folder with --output DIR")
        check_output_folder(output, inputs, kind=fmt.value)
    elif output is not None:
        check_output(output, inputs)


def write_out(
    report: Report | CheckReport, fmt: Format, output: Path | None, *, inputs: list[str | Path], load_archived, show: int
) -> None:
    """Write the report (the texts as they were read) to ``output`` or stdout, then list the skipped files on stderr."""
    if fmt.value in FOLDER_FORMATS and output is not None:
        try:
            write_parquet_report(report, output, inputs=inputs)
        except OSError as err:
            raise fail(f"cannot write {output}: {err.strerror or err}") from None
    else:
        with writing(output, inputs) as out:
            write_report(report, fmt.value, out, load_archived=load_archived, show=show)
    if report.skipped:
        console = stderr()
        console.print(Text(f"{report.skipped} skipped (not read):", style="yellow"))
        for line in skipped_lines(report.documents):
            console.print(Text("  " + printable(line)))



def folder_config(include: Optional[list[str]], exclude: Optional[list[str]], hidden: bool, **options) -> ScanConfig:
    """The ``ScanConfig`` of a command's options: which files of a folder are read (``--include``, ``--exclude``,
    ``--hidden``, as typer gives them), and the other ``options`` as they are."""
    return ScanConfig(include=tuple(include or ()), exclude=tuple(exclude or ()), include_hidden=hidden, **options)


def run_on(engine: Engine, address: Optional[str], workers: int, job, progress: bool):
    """``run`` a library call that takes the executor the engine options ask for: ``job(on_progress, executor)``."""
    with open_executor(engine.value, address=address, workers=workers) as executor:
        return run(lambda on_progress: job(on_progress, executor), progress)


def run(job, progress: bool):
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
                    tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            return job(on_progress)
    return job(None)


def exit_on(fail_on: Optional[FailOn], pairs) -> None:
    if fail_on is not None and any(at_least(p.relation, fail_on.value) for p in pairs):
        raise typer.Exit(EXIT_FOUND)
