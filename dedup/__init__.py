"""dedup: find near-duplicate speeches and copied passages.

>>> import dedup
>>> report = dedup.scan("corpus/")            # doctest: +SKIP
>>> print(dedup.report_to_json(report))       # doctest: +SKIP
"""

from dedup.config import AlignConfig, CandidateConfig, NormalizeConfig, ScanConfig, SignConfig
from dedup.errors import ConfigError, DedupError, IngestError, InputError
from dedup.models import Document, Pair, Passage, Report
from dedup.pipeline import compare, scan
from dedup.report.json import report_to_dict, report_to_json

__version__ = "0.1.0"

__all__ = [
    "AlignConfig",
    "CandidateConfig",
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
