"""The JSON report: a public contract. Extend it, never break it.

Version 1 fields (see README "JSON report"): ``version``, ``documents``,
``pairs`` (``a``, ``b``, ``relation``, ``similarity``, ``passages`` with
``a_start``/``a_end``/``b_start``/``b_end``/``similarity``/``boilerplate``),
``clusters``. Extra fields: ``summary``, per pair ``a_coverage``,
``b_coverage``, ``differences``; per document ``format``, ``encoding``; per dataset row ``source``, ``row`` and
(when it has other columns) ``metadata``.

Strings are written as they are (UTF-8, not ASCII-escaped; C1, bidirectional controls and line separators
as JSON escapes, the same values once parsed), except a lone surrogate, which valid UTF-8 cannot hold: it is
written as the text ``\udcc4``, the way file names with such bytes are shown.
"""

from __future__ import annotations

import json
from dataclasses import fields

from dedup.models import CheckReport, DocumentEntry, Pair, Passage, Report
from dedup.report.escape import json_text

JSON_VERSION = 1


def _document(entry: DocumentEntry) -> dict:
    if entry.status == "skipped":
        return {"path": entry.path, "status": "skipped", "reason": entry.reason}
    data = {"path": entry.path, "chars": entry.chars, "status": "ok", "format": entry.format, "encoding": entry.encoding}
    if entry.source is not None:  # a dataset row: where it was read (folder documents: unchanged)
        data.update(source=entry.source, row=entry.row)
    if entry.metadata:
        data["metadata"] = dict(entry.metadata)
    return data


def document_to_dict(entry: DocumentEntry) -> dict:
    """One entry of the report's ``documents`` as JSON-ready data."""
    return _document(entry)


def report_header(report: Report) -> dict:
    """The report without its lists (``documents``, ``pairs``, ``clusters``): ``version`` and ``summary``."""
    summary = {
        "documents": report.scanned,
        "skipped": report.skipped,
        "clusters": len(report.clusters),
        "pairs": report.pairs_by_relation(),
    }
    if report.index is not None:
        summary["archive"] = report.archive
    return {"version": JSON_VERSION, "summary": summary}


def report_to_dict(report: Report) -> dict:
    """The report as plain JSON-ready data."""
    return {
        **report_header(report),
        "documents": [_document(d) for d in report.documents],
        "pairs": [pair_to_dict(p) for p in report.pairs],
        "clusters": [list(c) for c in report.clusters],
    }


_PASSAGE_FIELDS = tuple(f.name for f in fields(Passage))


def pair_to_dict(p: Pair, *, names: tuple[str, str] | None = None) -> dict:
    """A pair as JSON-ready data; its documents named ``names`` (by default as a scan names them, ``Pair.names``)."""
    a, b = names or p.names()
    return {
        "a": a,
        "b": b,
        "relation": p.relation,
        "similarity": p.similarity,
        "a_coverage": p.a_coverage,
        "b_coverage": p.b_coverage,
        "differences": list(p.differences),
        "passages": [{name: getattr(x, name) for name in _PASSAGE_FIELDS} for x in p.passages],
    }


def check_to_dict(report: CheckReport) -> dict:
    """A ``dedup check`` report as plain JSON-ready data (same version and pair format as ``scan``)."""
    return {
        "version": JSON_VERSION,
        "kind": "check",
        "index": report.index,
        "summary": {
            "archive": report.archive,
            "documents": report.scanned,
            "skipped": report.skipped,
            "with_sources": sum(1 for c in report.checked if c.sources),
        },
        "documents": [_document(d) for d in report.documents],
        "checked": [
            {
                "path": c.path,
                "chars": c.chars,
                "copy_ratio": c.copy_ratio,
                "largest_source_ratio": c.largest_source_ratio,
                "sources": [{"path": p.b, "ratio": p.a_coverage, **pair_to_dict(p, names=report.names(p))} for p in c.sources],
            }
            for c in report.checked
        ],
    }


def to_json(data: object, *, indent: int | None = 2) -> str:
    """``json.dumps`` as the reports write JSON: UTF-8 text (not ASCII-escaped) that always encodes to UTF-8."""
    return json_text(json.dumps(data, ensure_ascii=False, indent=indent))


def check_to_json(report: CheckReport, *, indent: int | None = 2) -> str:
    return to_json(check_to_dict(report), indent=indent)


def report_to_json(report: Report, *, indent: int | None = 2) -> str:
    return to_json(report_to_dict(report), indent=indent)
