"""``dedup scan`` (a folder, against itself and optionally an archive) and ``dedup check`` (new documents against an
archive)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from dedup import (
    ScanConfig, archive_text_loader, check as check_archive, check_output, no_documents_message, open_executor, scan as scan_folder,
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
    IncludeOption,
    IndexOption,
    MinPassageOption,
    OutputOption,
    ProgressOption,
    ThresholdOption,
    WorkersOption,
    app,
    exit_on,
    fail,
    run,
    write_out,
)

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
    with open_executor(engine.value, address=address, workers=workers) as executor:
        report = run(
            lambda on_progress: scan_folder(folder, config=config, progress=on_progress, index=index, executor=executor), progress
        )
    archived = archive_text_loader(index, (p.b for p in report.pairs if p.b_origin == "archive"), config=config)
    inputs = [folder / d.path for d in report.documents if d.status == "ok"] + index_file  # (the files read)
    write_out(report, format, output, inputs=inputs, load_archived=archived, show=show)
    exit_on(fail_on, report.pairs)


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
    engine: EngineOption = Engine.local,
    address: AddressOption = None,
    progress: ProgressOption = True,
) -> None:
    """Check new documents against an archive index: copy ratio, sources and copied passages of each."""
    config = ScanConfig(min_passage=min_passage, threshold=threshold, workers=workers)
    if output is not None:
        check_output(output, [*files, index])
    with open_executor(engine.value, address=address, workers=workers) as executor:
        report = run(lambda on_progress: check_archive(files, index, config=config, progress=on_progress, executor=executor), progress)
    if not report.scanned:  # as a scan of nothing readable: said, never an empty report
        raise fail(no_documents_message("the files given", report.documents))
    archived = archive_text_loader(index, (p.b for p in report.pairs), config=config)
    inputs = [Path(d.path) for d in report.documents] + [*files, index]
    write_out(report, format, output, inputs=inputs, load_archived=archived, show=show)
    exit_on(fail_on, report.pairs)
