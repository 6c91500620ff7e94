"""``dedup index build|add|remove|info``: the archive index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dedup import (
    IndexUpdate, ScanConfig, add_to_index, build_index, index_info as read_index_info, printable, remove_from_index,
    to_json,
)
from dedup.cli.common import (
    AddressOption,
    Engine,
    EngineOption,
    ExcludeOption,
    HiddenOption,
    IdColumnOption,
    IncludeOption,
    IndexOption,
    InfoFormat,
    ProgressOption,
    ReportConsole,
    TextColumnOption,
    WorkersOption,
    app,
    fail,
    run,
    folder_config,
    run_on,
    stderr,
    writing,
)

index_app = typer.Typer(
    help="Build and update an archive index that 'dedup check' and 'dedup scan --index' compare against.",
    no_args_is_help=True,
)
app.add_typer(index_app, name="index")


def _print_update(update: IndexUpdate, verb: str) -> None:
    console = stderr()
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
    sources: Annotated[
        list[Path],
        typer.Argument(help="Folder of documents to index (recursively), or dataset files (.jsonl, .parquet, .csv; globs too).", metavar="SOURCE"),
    ],
    index: IndexOption,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    hidden: HiddenOption = False,
    workers: WorkersOption = 0,
    engine: EngineOption = Engine.local,
    address: AddressOption = None,
    progress: ProgressOption = True,
    id_column: IdColumnOption = ScanConfig().id_column,
    text_column: TextColumnOption = ScanConfig().text_column,
) -> None:
    """Build a new index of a folder (an existing index at that place is replaced once the new one is complete)."""
    config = folder_config(include, exclude, hidden, id_column=id_column, text_column=text_column, workers=workers)
    _print_update(run_on(engine, address, workers, lambda p, ex: build_index(sources, index, config=config, progress=p, executor=ex), progress), "build")


@index_app.command("add")
def index_add(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add; a document already indexed under the same path is replaced.")],
    index: IndexOption,
    workers: WorkersOption = 0,
    engine: EngineOption = Engine.local,
    address: AddressOption = None,
    progress: ProgressOption = True,
    id_column: IdColumnOption = ScanConfig().id_column,
    text_column: TextColumnOption = ScanConfig().text_column,
) -> None:
    """Add documents to an index (one atomic change: all of them or none); dataset files add their rows."""
    config = ScanConfig(id_column=id_column, text_column=text_column, workers=workers)
    _print_update(run_on(engine, address, workers, lambda p, ex: add_to_index(paths, index, config=config, progress=p, executor=ex), progress), "add")


@index_app.command("remove")
def index_remove(
    paths: Annotated[list[str], typer.Argument(help="Stored paths (as 'dedup index info --list' shows them) or folders.")],
    index: IndexOption,
) -> None:
    """Remove documents from an index."""
    update = run(lambda p: remove_from_index(paths, index), False)
    if not update.removed:
        raise fail(f"{update.location}: none of {', '.join(map(str, paths))} is in the index")
    _print_update(update, "remove")


@index_app.command("info")
def index_info(
    index: IndexOption,
    format: Annotated[InfoFormat, typer.Option("--format", "-f", help="Output format.")] = InfoFormat.terminal,
    list_: Annotated[bool, typer.Option("--list", help="Also list the stored paths.")] = False,
) -> None:
    """Show what an index holds: documents, size, and the parameters it was built with."""
    data = run(lambda p: read_index_info(index, paths=list_), False).to_dict()
    if format is InfoFormat.json:
        with writing(None) as out:
            out.write(to_json(data) + "\n")
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in data.items():
        if key != "paths":
            grid.add_row(key, Text(printable(value if isinstance(value, str) else to_json(value, indent=None))))
    with writing(None) as out:
        console = ReportConsole(file=out)
        console.print(Panel(grid, title="dedup index", title_align="left", border_style="blue"))
        for p in data.get("paths", ()):
            console.print(Text(printable(p)))
