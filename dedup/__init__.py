"""dedup: find near-duplicate speeches and copied passages.

>>> import dedup
>>> report = dedup.scan("corpus/")            # doctest: +SKIP
>>> print(dedup.report_to_json(report))       # doctest: +SKIP
"""

from dedup.config import AlignConfig, CandidateConfig, NormalizeConfig, ScanConfig, SignConfig
from dedup.errors import ConfigError, DedupError, IndexStoreError, IngestError, InputError
from dedup.models import CheckedDocument, CheckReport, Document, Pair, Passage, Report
from dedup.pipeline import add_to_index, build_index, check, compare, index_info, remove_from_index, scan
from dedup.report.json import check_to_dict, check_to_json, report_to_dict, report_to_json

__version__ = "0.1.0"

__all__ = [
    "AlignConfig",
    "CandidateConfig",
    "CheckReport",
    "CheckedDocument",
    "IndexStoreError",
    "add_to_index",
    "build_index",
    "check",
    "check_to_dict",
    "check_to_json",
    "index_info",
    "remove_from_index",
    "ConfigError",
    "DedupError",
    "Document",
    "IngestError",
    "InputError",
    "NormalizeConfig",
    "Pair",
    "Passage",
    "Report",
    "ScanConfig",
    "SignConfig",
    "compare",
    "report_to_dict",
    "report_to_json",
    "scan",
]
