"""Report renderers: JSON (the public contract), the rich terminal report, HTML, CSV and JSON Lines.

Renderers name a pair's documents as the report does (``Report.names``: archive documents of a scan
as ``index:<stored path>``) and read their texts through ``DocumentText``: the scanned or checked
documents by their path (the texts the report kept as they were read, ``Report.texts``, unless a
``load_text`` is given), archive documents by their stored path. Every string they show goes through
``dedup.report.escape``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from dedup.models import CheckReport, Origin, Report
from dedup.report.json import JSON_VERSION, report_to_dict, report_to_json

#: A document's text by its path (the text passage offsets index into).
LoadText = Callable[[str], str]
#: A document's text by its path and origin.
DocumentText = Callable[[str, Origin], str]


def document_text(
    load_text: LoadText | None, load_archived: LoadText | None = None, *, report: Report | CheckReport | None = None
) -> DocumentText:
    """The text of a document of either origin: for scanned and checked documents ``load_text(path)``, or without
    it the text ``report`` kept from when it was read (``Report.texts``); ``load_archived(stored path)`` for
    archive documents. A text neither gives is shown empty. Recent ones cached."""
    kept = report.texts() if load_text is None and report is not None else {}

    @lru_cache(maxsize=64)
    def text(path: str, origin: Origin) -> str:
        if origin == "archive":
            return load_archived(path) if load_archived is not None else ""
        return load_text(path) if load_text is not None else kept.get(path, "")

    return text


__all__ = ["JSON_VERSION", "DocumentText", "LoadText", "document_text", "report_to_dict", "report_to_json"]
