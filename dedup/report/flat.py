"""Flat exports, one record per pair: CSV for spreadsheets, JSON Lines for pipelines.

Both stream: rows are written as they are made. For a ``CheckReport`` a pair is
(checked document, source), and each record also carries the checked
document's ``copy_ratio`` and ``largest_source_ratio``.

Names (and, in CSV, the differences) are written through ``dedup.report.escape.printable``; a CSV text
cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) gets a leading ``'``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import TextIO

from dedup.models import CheckReport, Pair, Report
from dedup.report.escape import csv_cell, json_text, printable
from dedup.report.json import pair_to_dict

#: CSV columns of every report; a check report adds CHECK_COLUMNS after them.
PAIR_COLUMNS = ("a", "b", "relation", "similarity", "a_coverage", "b_coverage", "passages", "differences")
CHECK_COLUMNS = ("copy_ratio", "largest_source_ratio")


def copied_passages(pair: Pair) -> int:
    """How many passages of the pair are copied text (boilerplate left out)."""
    return sum(1 for x in pair.passages if not x.boilerplate)


def _records(report: Report | CheckReport) -> Iterator[tuple[Pair, dict]]:
    """Each pair with the extra fields of its record (the checked document's ratios for a check)."""
    if isinstance(report, CheckReport):
        for checked in report.checked:
            extra = {"copy_ratio": checked.copy_ratio, "largest_source_ratio": checked.largest_source_ratio}
            for pair in checked.sources:
                yield pair, extra
    else:
        for pair in report.pairs:
            yield pair, {}


def write_csv(report: Report | CheckReport, out: TextIO) -> None:
    """One row per pair; ``passages`` counts copied passages, ``differences`` are joined with "; "; text cells
    are escaped (``printable``) and neutralised (``csv_cell``)."""
    columns = PAIR_COLUMNS + (CHECK_COLUMNS if isinstance(report, CheckReport) else ())
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for pair, extra in _records(report):
        row = {
            **dict(zip("ab", map(printable, report.names(pair)))),
            "relation": pair.relation,
            "similarity": pair.similarity,
            "a_coverage": pair.a_coverage,
            "b_coverage": pair.b_coverage,
            "passages": copied_passages(pair),
            "differences": "; ".join(map(printable, pair.differences)),
            **extra,
        }
        writer.writerow([csv_cell(row[c]) for c in columns])


def write_jsonl(report: Report | CheckReport, out: TextIO) -> None:
    """One JSON object per line and pair, with the fields of a pair in the JSON report (names escaped with
    ``printable``, and never a character a line splitter would cut a line at); a dataset row's other columns as
    ``a_metadata``/``b_metadata`` (when it has any)."""
    metadata = {d.path: dict(d.metadata) for d in report.documents if d.metadata}
    for pair, extra in _records(report):
        shown = report.names(pair)
        names = tuple(map(printable, shown))
        sides = zip("a", shown) if isinstance(report, CheckReport) else zip("ab", shown)  # (a check's b: archived)
        more = {f"{side}_metadata": metadata[n] for side, n in sides if n in metadata}
        record = json.dumps({**pair_to_dict(pair, names=names), **extra, **more}, ensure_ascii=False)
        out.write(json_text(record) + "\n")
