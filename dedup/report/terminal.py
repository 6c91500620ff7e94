"""The colored terminal report (rich).

Every name and every piece of document text is given to rich as ``Text`` (never parsed as markup, so a
file named ``[final].txt`` or ``[/]`` shows as it is) after ``dedup.report.escape``."""

from __future__ import annotations

import errno
import os

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dedup.models import CheckReport, Pair, Report
from dedup.report import DocumentText, LoadText, document_text
from dedup.report.escape import printable, printable_text
from dedup.report.flat import copied_passages
from dedup.report.sidebyside import hunks

RELATION_STYLE = {"exact": "bold red", "near_duplicate": "bold dark_orange", "partial": "bold cyan"}
SEGMENT_STYLE = {"same": "", "changed": "bold black on yellow", "gap": "dim"}
_FLAT = str.maketrans({"\n": " ", "\r": "", "\t": " "})


class ReportConsole(Console):
    """A rich console writing a report to a stream: a broken pipe (the reader went away) is a ``BrokenPipeError``
    for the caller, never rich's own exit."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # what is still buffered is dropped
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _name(name: str) -> Text:
    """A name (or a reason, a note) as rich shows it: escaped, never markup."""
    return Text(printable(name))


def _summary(report: Report) -> Panel:
    counts = report.pairs_by_relation()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("documents scanned", str(report.scanned))
    grid.add_row("skipped", Text(str(report.skipped), style="yellow" if report.skipped else ""))
    grid.add_row("near-duplicate clusters", str(len(report.clusters)))
    for rel, n in counts.items():
        if rel == "partial" and report.config.get("passages") is False:  # a documents-only scan
            grid.add_row("pairs: partial", Text("not looked for (documents only)", style="dim"))
            continue
        grid.add_row(f"pairs: {rel.replace('_', '-')}", Text(str(n), style=RELATION_STYLE[rel] if n else ""))
    return Panel(grid, title=_name(f"dedup scan of {report.root or '.'}"), title_align="left", border_style="blue")


def _skipped(report: Report | CheckReport) -> Table | None:
    rows = [d for d in report.documents if d.status == "skipped"]
    if not rows:
        return None
    table = Table(title="Skipped files", title_justify="left", show_edge=False)
    table.add_column("file", style="yellow")
    table.add_column("reason")
    for d in rows:
        table.add_row(_name(d.path), _name(d.reason or ""))
    return table


def _pairs_table(report: Report) -> Table:
    table = Table(title="Pairs, most severe first", title_justify="left", expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("relation")
    table.add_column("sim", justify="right")
    table.add_column("a", overflow="fold")
    table.add_column("% of a", justify="right")
    table.add_column("b", overflow="fold")
    table.add_column("% of b", justify="right")
    table.add_column("passages", justify="right")
    for n, p in enumerate(report.pairs, 1):
        a, b = report.names(p)
        table.add_row(
            str(n),
            Text(p.relation.replace("_", "-"), style=RELATION_STYLE[p.relation]),
            f"{p.similarity:.2f}",
            _name(a),
            _pct(p.a_coverage),
            _name(b),
            _pct(p.b_coverage),
            str(copied_passages(p)),
        )
    return table


def _segments_text(segments) -> Text:
    text = Text()
    for chunk, kind in segments:
        text.append(printable_text(chunk.translate(_FLAT)), style=SEGMENT_STYLE[kind])
    return text


def _pair_detail(n: int, pair: Pair, names: tuple[str, str], text: DocumentText, max_passages: int) -> Panel:
    parts = []
    if pair.differences:
        notes = Text()
        for d in pair.differences:
            notes.append("• ", style="dim")
            notes.append(printable(d) + "\n")
        parts.append(notes)
    shown = sorted((x for x in pair.passages if not x.boilerplate), key=lambda x: -(x.a_end - x.a_start))
    if pair.relation == "exact":
        shown = []  # the same text: nothing to compare side by side
    a_text = text(pair.a, pair.a_origin) if shown else ""
    b_text = text(pair.b, pair.b_origin) if shown else ""
    a_name, b_name = map(printable, names)
    for k, passage in enumerate(shown[:max_passages], 1):
        table = Table(show_header=True, expand=True, box=None, padding=(0, 1))
        table.add_column(Text(f"{a_name}  [{passage.a_start}:{passage.a_end}]"), ratio=1, overflow="fold")
        table.add_column(Text(f"{b_name}  [{passage.b_start}:{passage.b_end}]"), ratio=1, overflow="fold")
        for hunk in hunks(a_text, b_text, passage, max_hunks=4):
            table.add_row(_segments_text(hunk.a), _segments_text(hunk.b))
            table.add_row("", "")
        title = Text(f"passage {k}/{len(shown)} · similarity {passage.similarity:.2f}", style="bold")
        parts.append(Group(title, table))
    if len(shown) > max_passages:
        parts.append(Text(f"… {len(shown) - max_passages} more passages (see --format json)", style="dim"))
    title = Text.assemble((f"#{n} ", "dim"), (pair.relation.replace("_", "-"), RELATION_STYLE[pair.relation]), f"  {a_name}  ↔  {b_name}")
    return Panel(Group(*parts), title=title, title_align="left", border_style=RELATION_STYLE[pair.relation].split()[-1])


def render(
    report: Report | CheckReport,
    console: Console,
    *,
    load_text: LoadText | None = None,
    load_archived: LoadText | None = None,
    show: int = 5,
    max_passages: int = 2,
) -> None:
    """Print the report: summary, skipped files, pairs table, clusters, then the top pairs in detail.

    Texts shown are those the report kept as they were read, or ``load_text(path)`` of a scanned or checked
    document if given; ``load_archived(stored path)`` gives an archive document's."""
    text = document_text(load_text, load_archived, report=report)
    if isinstance(report, CheckReport):
        render_check(report, console, text=text, show=show, max_passages=max_passages)
        return
    console.print(_summary(report))
    skipped = _skipped(report)
    if skipped is not None:
        console.print(skipped)
    pairs = list(report.pairs)
    if not pairs:
        console.print(Text("No copied documents or passages found.", style="green"))
        return
    console.print(_pairs_table(report))
    if report.clusters:
        console.print(Text("Near-duplicate clusters", style="bold italic"))
        for k, cluster in enumerate(report.clusters, 1):
            console.print(Text(f"  {k}. ", style="dim") + Text("  ≈  ".join(map(printable, cluster))))
    for n, pair in enumerate(pairs[:show], 1):
        console.print(_pair_detail(n, pair, report.names(pair), text, max_passages))
    if len(pairs) > show:
        console.print(Text(f"{len(pairs) - show} more pairs not shown in detail (use --show N or --format json).", style="dim"))


def _ratio_style(x: float) -> str:
    return "bold red" if x >= 0.5 else "bold dark_orange" if x >= 0.2 else "cyan" if x > 0 else "green"


def _check_summary(report: CheckReport) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("archive", _name(f"{report.index} ({report.archive} documents)"))
    grid.add_row("documents checked", str(report.scanned))
    grid.add_row("skipped", Text(str(report.skipped), style="yellow" if report.skipped else ""))
    grid.add_row("with sources in the archive", str(sum(1 for c in report.checked if c.sources)))
    return Panel(grid, title="dedup check", title_align="left", border_style="blue")


def _checked_table(report: CheckReport) -> Table:
    table = Table(title="Checked documents", title_justify="left")
    table.add_column("document", overflow="fold")
    table.add_column("copied", justify="right")
    table.add_column("largest source", justify="right")
    table.add_column("sources (share of the document found in each)", overflow="fold")
    for c in report.checked:
        sources = Text()
        for k, p in enumerate(c.sources[:5]):
            sources.append(("\n" if k else "") + f"{_pct(p.a_coverage):>4}  ")
            sources.append(p.relation.replace("_", "-"), style=RELATION_STYLE[p.relation])
            sources.append(f"  {printable(report.names(p)[1])}")
        if len(c.sources) > 5:
            sources.append(f"\n… {len(c.sources) - 5} more", style="dim")
        table.add_row(
            _name(c.path),
            Text(_pct(c.copy_ratio), style=_ratio_style(c.copy_ratio)),
            Text(_pct(c.largest_source_ratio), style=_ratio_style(c.largest_source_ratio)),
            sources if c.sources else Text("none found", style="green"),
        )
    return table


def render_check(
    report: CheckReport, console: Console, *, text: DocumentText, show: int = 5, max_passages: int = 2
) -> None:
    """Print a check report: summary, skipped files, each document's ratios and sources, then the top sources in detail."""
    console.print(_check_summary(report))
    skipped = _skipped(report)
    if skipped is not None:
        console.print(skipped)
    if not report.checked:
        return
    console.print(_checked_table(report))
    pairs = sorted(report.pairs, key=lambda p: -p.a_coverage)
    for n, pair in enumerate(pairs[:show], 1):
        console.print(_pair_detail(n, pair, report.names(pair), text, max_passages))
    if len(pairs) > show:
        console.print(Text(f"{len(pairs) - show} more sources not shown in detail (use --show N or --format json).", style="dim"))
