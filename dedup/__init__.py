"""dedup: find near-duplicate speeches and copied passages.

>>> import dedup
>>> report = dedup.scan("corpus/")            # doctest: +SKIP
>>> print(dedup.report_to_json(report))       # doctest: +SKIP

The public names are those of ``__all__``; the command line (``dedup.cli``) uses nothing else.
"""

from dedup.archive import add_to_index, archive_text_loader, archive_texts, check, index_info, remove_from_index
from dedup.build import build_index
from dedup.config import AlignConfig, CandidateConfig, NormalizeConfig, ScanConfig, SignConfig
from dedup.errors import ConfigError, DedupError, IndexStoreError, IngestError, InputError
from dedup.executors import Executor, LocalExecutor
from dedup.ingest import read_document
from dedup.models import (
    RELATIONS,
    CheckedDocument,
    CheckReport,
    Document,
    IndexInfo,
    IndexUpdate,
    Pair,
    Passage,
    Relation,
    Report,
    Skipped,
    at_least,
)
from dedup.normalize import normalize_text
from dedup.pipeline import compare, scan
from dedup.report.formats import FORMATS, write as write_report
from dedup.report.json import check_to_dict, check_to_json, report_to_dict, report_to_json
from dedup.store import Store, open_store
from dedup.store.memory import MemoryStore
from dedup.version import __version__

__all__ = [
    "FORMATS",
    "RELATIONS",
    "AlignConfig",
    "CandidateConfig",
    "CheckReport",
    "CheckedDocument",
    "ConfigError",
    "DedupError",
    "Document",
    "Executor",
    "IndexInfo",
    "IndexStoreError",
    "IndexUpdate",
    "IngestError",
    "InputError",
    "LocalExecutor",
    "MemoryStore",
    "NormalizeConfig",
    "Pair",
    "Passage",
    "Relation",
    "Report",
    "ScanConfig",
    "SignConfig",
    "Skipped",
    "Store",
    "__version__",
    "add_to_index",
    "archive_text_loader",
    "archive_texts",
    "at_least",
    "build_index",
    "check",
    "check_to_dict",
    "check_to_json",
    "compare",
    "index_info",
    "normalize_text",
    "open_store",
    "read_document",
    "remove_from_index",
    "report_to_dict",
    "report_to_json",
    "scan",
    "write_report",
]
