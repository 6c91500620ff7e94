"""``dedup dedupe``: the input minus its exact and near-duplicate copies, in the input's format."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from dedup import KEEP_RULES, ScanConfig, dedupe as dedupe_sources, printable, skipped_lines
from dedup.cli.common import (
    AddressOption,
    Engine,
    EngineOption,
    ExcludeOption,
    HiddenOption,
    IdColumnOption,
    IncludeOption,
    MinPassageOption,
    ProgressOption,
    TextColumnOption,
    ThresholdOption,
    WorkersOption,
    app,
    folder_config,
    run_on,
    stderr,
)

Keep = Enum("Keep", {k: k for k in KEEP_RULES}, type=str)


@app.command()
def dedupe(
    sources: Annotated[
        list[Path],
        typer.Argument(help="Folders or dataset files (.jsonl, .parquet, .csv; globs too) to de-duplicate.", metavar="SOURCE"),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Folder to write the kept records and decisions.jsonl to (replaced on each run)."),
    ],
    keep: Annotated[
        Keep, typer.Option(help="Which document of a cluster to keep: first (input order), longest, earliest (--date-column).")
    ] = Keep.first,
    date_column: Annotated[
        Optional[str], typer.Option(help="For --keep earliest: the column holding an ISO date or date-time.")
    ] = None,
    id_column: IdColumnOption = ScanConfig().id_column,
    text_column: TextColumnOption = ScanConfig().text_column,
    min_passage: MinPassageOption = ScanConfig().min_passage,
    threshold: ThresholdOption = ScanConfig().threshold,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    hidden: HiddenOption = False,
    workers: WorkersOption = 0,
    engine: EngineOption = Engine.local,
    address: AddressOption = None,
    progress: ProgressOption = True,
) -> None:
    """Write the input minus its exact and near-duplicate copies (one kept a cluster) to a folder, in the input's format."""
    config = folder_config(
        include, exclude, hidden, id_column=id_column, text_column=text_column, min_passage=min_passage,
        threshold=threshold, workers=workers,
    )
    result = run_on(
        engine, address, workers,
        lambda on_progress, executor: dedupe_sources(
            sources, output, keep=keep.value, date_column=date_column, config=config, progress=on_progress,
            executor=executor,
        ),
        progress,
    )
    console = stderr()
    if result.skipped:
        console.print(Text(f"{len(result.skipped)} skipped (not read, not written):", style="yellow"))
        for line in skipped_lines(result.skipped):
            console.print(Text("  " + printable(line)))
    console.print(
        Text(
            printable(
                f"{result.read} read, {result.kept} kept, {result.dropped} dropped "
                f"({result.clusters} cluster{'s' if result.clusters != 1 else ''} of copies); written to {result.output}"
            )
        )
    )
