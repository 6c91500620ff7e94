"""Report renderers: JSON (the public contract), the rich terminal report, HTML, CSV and JSON Lines.

Renderers name a pair's documents as the report does (``Report.names``: archive documents of a scan
as ``index:<stored path>``) and read their texts through ``DocumentText``: the scanned or checked
documents by their path, archive documents by their stored path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from dedup.models import Origin
from dedup.report.json import JSON_VERSION, report_to_dict, report_to_json

#: A document's text by its path (the text passage offsets index into).
LoadText = Callable[[str], str]
#: A document's text by its path and origin.
DocumentText = Callable[[str, Origin], str]


def document_text(load_text: LoadText, load_archived: LoadText | None = None) -> DocumentText:
    """The text of a document of either origin: ``load_text(path)`` for scanned and checked documents,
    ``load_archived(stored path)`` for archive documents (none given: shown without text). Recent ones cached."""

    @lru_cache(maxsize=64)
    def text(path: str, origin: Origin) -> str:
        if origin == "archive":
            return load_archived(path) if load_archived is not None else ""
        return load_text(path)

    return text


__all__ = ["JSON_VERSION", "DocumentText", "LoadText", "document_text", "report_to_dict", "report_to_json"]
