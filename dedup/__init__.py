"""dedup: find near-duplicate speeches and copied passages.

>>> import dedup
>>> report = dedup.scan("corpus/")            # doctest: +SKIP
>>> print(dedup.report_to_json(report))       # doctest: +SKIP

The public names are those of ``__all__``; the command line (``dedup.cli``) uses nothing else.
"""

from dedup.archive import add_to_index, archive_text_loader, archive_texts, check, index_info, remove_from_index
from dedup.build import build_index
from dedup.config import AlignConfig, CandidateConfig, IngestConfig, NormalizeConfig, ScanConfig, SignConfig
from dedup.dedupe import KEEP_RULES, DedupeResult, dedupe
from dedup.errors import ConfigError, DedupError, EngineError, IndexStoreError, IngestError, InputError
from dedup.executors import ENGINES, Executor, LocalExecutor, RayExecutor, open_executor
from dedup.ingest import display_name, read_document, real_name
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
    skipped_lines,
)
from dedup.normalize import normalize_text
from dedup.pipeline import compare, no_documents_message, scan
from dedup.report.escape import csv_cell, printable, printable_text
from dedup.report.folder import check_output_folder
from dedup.report.formats import FOLDER_FORMATS, FORMATS, write as write_report
from dedup.report.json import check_to_dict, check_to_json, report_to_dict, report_to_json, to_json
from dedup.report.output import check_output, open_output
from dedup.report.parquet import parquet_schemas, write_parquet_report
from dedup.store import Store, open_store
from dedup.store.memory import MemoryStore
from dedup.version import __version__

__all__ = [
    "FOLDER_FORMATS",
    "ENGINES",
    "FORMATS",
    "KEEP_RULES",
    "RELATIONS",
    "AlignConfig",
    "CandidateConfig",
    "CheckReport",
    "CheckedDocument",
    "ConfigError",
    "DedupError",
    "DedupeResult",
    "Document",
    "EngineError",
    "Executor",
    "IndexInfo",
    "IndexStoreError",
    "IndexUpdate",
    "IngestConfig",
    "IngestError",
    "InputError",
    "LocalExecutor",
    "MemoryStore",
    "NormalizeConfig",
    "RayExecutor",
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
    "check_output",
    "check_output_folder",
    "check_to_dict",
    "check_to_json",
    "compare",
    "csv_cell",
    "dedupe",
    "index_info",
    "no_documents_message",
    "normalize_text",
    "open_executor",
    "open_output",
    "open_store",
    "parquet_schemas",
    "printable",
    "printable_text",
    "display_name",
    "read_document",
    "real_name",
    "remove_from_index",
    "report_to_dict",
    "report_to_json",
    "scan",
    "skipped_lines",
    "to_json",
    "write_parquet_report",
    "write_report",
]
