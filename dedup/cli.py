"""The ``dedup`` command: a thin typer wrapper around the library."""

from __future__ import annotations

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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dedup import ingest
from dedup.config import ScanConfig
from dedup.errors import DedupError, IngestError
from dedup.models import CheckReport, Report
from dedup.normalize import normalize_text
from dedup.pipeline import scan as run_scan
from dedup.report import formats

app = typer.Typer(
    help="Find near-duplicate speeches and copied passages in a folder of documents.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_FOUND = 1
EXIT_USAGE = 2


Format = Enum("Format", {f: f for f in formats.FORMATS}, type=str)

#: Options every command that writes a report shares.
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Report format.")]
OutputOption = Annotated[
    Optional[Path], typer.Option("--output", "-o", help="Write the report to this file instead of stdout.", dir_okay=False)
]


class FailOn(str, Enum):
    near_duplicate = "near_duplicate"
    partial = "partial"


_STAGES = {"read": "Reading files", "sign": "Signing", "candidates": "Finding candidates", "align": "Aligning pairs"}


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
    report: Report | CheckReport, fmt: Format, output: Path | None, *, load_text: Callable[[str], str], show: int = 5
) -> None:
    """Write the report to ``output`` or stdout; a failure is an error message and exit code 2."""
    try:
        with _output(output) as out:
            formats.write(report, fmt.value, out, load_text=load_text, show=show)
    except DedupError as err:
        raise _fail(str(err)) from None
    except OSError as err:
        raise _fail(f"cannot write {output or 'to stdout'}: {err.strerror or err}") from None


@app.command()
def scan(
    folder: Annotated[Path, typer.Argument(help="Folder to scan (recursively).")],
    format: FormatOption = Format.terminal,
    output: OutputOption = None,
    min_passage: Annotated[
        int, typer.Option(help="Shortest reported passage in CJK characters; a word counts about 4 (50 ≈ 12 words).")
    ] = ScanConfig().min_passage,
    threshold: Annotated[
        float, typer.Option(help="Share of the shorter document that must be copied for a near-duplicate.")
    ] = ScanConfig().threshold,
    include: Annotated[Optional[list[str]], typer.Option(help="Only files matching this glob (repeatable).")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option(help="Leave out files matching this glob (repeatable).")] = None,
    hidden: Annotated[bool, typer.Option("--hidden", help="Also read hidden files and folders.")] = False,
    fail_on: Annotated[
        Optional[FailOn], typer.Option(help="Exit with code 1 if a pair this severe (or worse) is found.")
    ] = None,
    show: Annotated[int, typer.Option(help="Pairs shown in detail in the terminal report.")] = 5,
    workers: Annotated[int, typer.Option(help="Processes for alignment (0: one per CPU core).")] = 0,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
) -> None:
    """Scan a folder for near-duplicate documents and copied passages."""
    try:
        config = ScanConfig(
            min_passage=min_passage,
            threshold=threshold,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            include_hidden=hidden,
            workers=workers,
        )
    except DedupError as err:
        raise _fail(str(err)) from None
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

                report = run_scan(folder, config=config, progress=on_progress)
        else:
            report = run_scan(folder, config=config)
    except DedupError as err:
        raise _fail(str(err)) from None

    def load_text(path: str) -> str:
        return ingest.read_document(folder / path, relpath=path).text

    _write_report(report, format, output, load_text=load_text, show=show)

    if fail_on is not None:
        worst = {"near_duplicate": ("exact", "near_duplicate"), "partial": ("exact", "near_duplicate", "partial")}
        if any(p.relation in worst[fail_on.value] for p in report.pairs):
            raise typer.Exit(EXIT_FOUND)


@app.command()
def text(
    file: Annotated[Path, typer.Argument(help="A .txt, .md, .docx, .pdf or .html file.")],
    normalized: Annotated[bool, typer.Option(help="Print the normalized text used for matching instead.")] = False,
) -> None:
    """Print the text of a file exactly as dedup reads it (offsets in reports index into this text)."""
    try:
        doc = ingest.read_document(file)
    except IngestError as err:
        raise _fail(f"cannot read {file}: {err.reason}") from None
    out = normalize_text(doc.text) if normalized else doc.text
    sys.stdout.write(out)
    if normalized:
        sys.stdout.write("\n")


if __name__ == "__main__":  # pragma: no cover
    app()
