"""``dedup scan`` (a folder, against itself and optionally an archive) and ``dedup check`` (new documents against an
archive)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from dedup import (
    ScanConfig, archive_text_loader, check as check_archive, no_documents_message, scan as scan_folder,
)
from dedup.cli.common import (
    AddressOption,
    Engine,
    EngineOption,
    ExcludeOption,
    FailOn,
    Format,
    FormatOption,
    HiddenOption,
    IdColumnOption,
    IncludeOption,
    IndexOption,
    MinPassageOption,
    OutputOption,
    ProgressOption,
    TextColumnOption,
    ThresholdOption,
    WorkersOption,
    app,
    check_destination,
    exit_on,
    fail,
    folder_config,
    run_on,
    write_out,
)


@app.command()
def scan(
    sources: Annotated[
        list[Path],
        typer.Argument(help="Folder to scan (recursively), or dataset files (.jsonl, .parquet, .csv; globs too).", metavar="SOURCE"),
    ],
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
    engine: EngineOption = Engine.local,
    address: AddressOption = None,
    progress: ProgressOption = True,
    index: Annotated[
        Optional[str],
        typer.Option(
            "--index", envvar="DEDUP_INDEX", show_envvar=False,
            help="Also compare the folder with this archive index (archive documents show as index:PATH).",
        ),
    ] = None,
    id_column: IdColumnOption = ScanConfig().id_column,
    text_column: TextColumnOption = ScanConfig().text_column,
    passages: Annotated[
        bool,
        typer.Option(
            "--passages/--no-passages",
            help="--no-passages: documents only (exact and near_duplicate pairs, no copied passages): faster.",
        ),
    ] = True,
) -> None:
    """Scan a folder (or dataset files) for near-duplicate documents and copied passages."""
    config = folder_config(
        include, exclude, hidden, id_column=id_column, text_column=text_column, min_passage=min_passage,
        threshold=threshold, workers=workers, passages=passages,
    )
    index_file = [index] if index else []
    check_destination(format, output, [*sources, *index_file])  # before the work: never over (or around) an input
    report = run_on(
        engine, address, workers,
        lambda on_progress, executor: scan_folder(sources, config=config, progress=on_progress, index=index, executor=executor),
        progress,
    )
    archived = archive_text_loader(index, (p.b for p in report.pairs if p.b_origin == "archive"), config=config)
    read = [d for d in report.documents if d.status == "ok"]
    files = {os.fspath(d.source) for d in read if d.source is not None}  # dataset files; a folder's files by path
    # (as strings: a Path a file cost 1.2 s for 100,000 files); a name may be qualified by its folder,
    # ``folder:name``, when several are scanned: both readings are inputs
    names = {n for d in read if d.source is None for n in (d.path, d.path.partition(":")[2]) if n}
    files |= {os.path.join(folder, n) for folder in sources for n in names}
    inputs = [*sources, *sorted(files)] + index_file  # (the files read)
    write_out(report, format, output, inputs=inputs, load_archived=archived, show=show)
    exit_on(fail_on, report.pairs)


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Documents (or folders of them, or dataset files: .jsonl, .parquet, .csv) to check against the archive.")],
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
    engine: EngineOption = Engine.local,
    address: AddressOption = None,
    progress: ProgressOption = True,
    id_column: IdColumnOption = ScanConfig().id_column,
    text_column: TextColumnOption = ScanConfig().text_column,
) -> None:
    """Check new documents against an archive index: copy ratio, sources and copied passages of each."""
    config = ScanConfig(
        min_passage=min_passage, threshold=threshold, workers=workers, id_column=id_column, text_column=text_column
    )
    check_destination(format, output, [*files, index])  # before the work
    report = run_on(
        engine, address, workers,
        lambda on_progress, executor: check_archive(files, index, config=config, progress=on_progress, executor=executor),
        progress,
    )
    if not report.scanned:  # as a scan of nothing readable: said, never an empty report
        raise fail(no_documents_message("the files given", report.documents))
    archived = archive_text_loader(index, (p.b for p in report.pairs), config=config)
    inputs = [Path(d.source or d.path) for d in report.documents] + [*files, index]
    write_out(report, format, output, inputs=inputs, load_archived=archived, show=show)
    exit_on(fail_on, report.pairs)
