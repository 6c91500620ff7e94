"""Report renderers: JSON (the public contract) and the rich terminal report."""

from dedup.report.json import JSON_VERSION, report_to_dict, report_to_json

__all__ = ["JSON_VERSION", "report_to_dict", "report_to_json"]
