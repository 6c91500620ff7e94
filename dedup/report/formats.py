"""One entry point for every report format, shared by the ``scan`` and ``check`` commands."""

from __future__ import annotations

from typing import Literal, TextIO

from dedup.errors import ConfigError
from dedup.models import CheckReport, Report
from dedup.report import LoadText, flat, html, terminal
from dedup.report.json import check_to_json, report_to_json

Format = Literal["terminal", "json", "html", "csv", "jsonl"]
FORMATS: tuple[Format, ...] = ("terminal", "json", "html", "csv", "jsonl")
#: Formats written as a folder, not a stream: ``parquet`` (``dedup.report.parquet.write_parquet_report``).
FOLDER_FORMATS: tuple[str, ...] = ("parquet",)


def write(
    report: Report | CheckReport,
    fmt: Format,
    out: TextIO,
    *,
    load_text: LoadText | None = None,
    load_archived: LoadText | None = None,
    show: int = 5,
) -> None:
    """Write ``report`` to ``out`` in format ``fmt``.

    The side-by-side views of the terminal and HTML reports show the texts the report kept as they were
    read (``Report.texts``), or ``load_text(path)`` of a scanned or checked document if given, and
    ``load_archived(stored path)`` of an archive document; ``show`` is how many pairs the terminal report
    shows in detail.
    """
    if fmt == "terminal":
        terminal.render(report, terminal.ReportConsole(file=out), load_text=load_text, load_archived=load_archived, show=show)
    elif fmt == "json":
        out.write((check_to_json(report) if isinstance(report, CheckReport) else report_to_json(report)) + "\n")
    elif fmt == "html":
        out.write(html.render_html(report, load_text=load_text, load_archived=load_archived))
    elif fmt == "csv":
        flat.write_csv(report, out)
    elif fmt == "jsonl":
        flat.write_jsonl(report, out)
    elif fmt in FOLDER_FORMATS:
        raise ConfigError(f"the {fmt} report is a folder, not a stream: write it with write_parquet_report(report, folder)")
    else:
        raise ConfigError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
