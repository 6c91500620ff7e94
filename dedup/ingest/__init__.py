"""Find input files and read them into :class:`~dedup.models.Document` records.

This is the only package that opens input files. Text formats are decoded
byte-exactly (BOM removed, line endings kept) so that offsets into
``Document.text`` are code-point offsets into what the file says.

Supported formats: plain text (``.txt``, ``.md``), Word (``.docx``, via
python-docx), PDF (``.pdf``, via pypdf, AES-encrypted ones too) and HTML
(``.html``/``.htm``, via BeautifulSoup with the standard-library parser).

Every file found is accounted for: read, or skipped with its reason (an
unsupported type, not a regular file, unreadable, beyond a limit of
:class:`~dedup.config.IngestConfig`), or left out on purpose (hidden,
excluded). Files are named as :func:`display_name` shows them: valid,
printable UTF-8, whatever bytes the file system holds.

One job per module; import from ``dedup.ingest`` itself:

- :mod:`dedup.ingest.files` finds the files under a folder (:func:`find_files`)
  and names them (:func:`display_name`, :func:`real_name`);
- :mod:`dedup.ingest.decode` turns text-file and HTML bytes into text (:func:`decode_bytes`);
- :mod:`dedup.ingest.formats` lists the supported suffixes and extracts the
  text of Word, PDF and HTML files;
- :mod:`dedup.ingest.tables` streams the rows of dataset files (JSON Lines, CSV, Parquet);
- :mod:`dedup.ingest.datasets` makes dataset rows documents and reads a mix of folders and dataset files
  (:func:`read_sources`, :func:`ingest_sources`, :func:`read_dataset`);
- :mod:`dedup.ingest.read` reads files into documents (:func:`read_document`,
  :func:`ingest`, :func:`read_files`, :func:`ingest_paths`, :func:`shown_path`).
"""

from dedup.ingest.datasets import SourceRead, expand_sources, ingest_sources, read_dataset, read_sources
from dedup.ingest.decode import decode_bytes
from dedup.ingest.files import display_name, find_files, real_name
from dedup.ingest.formats import SUPPORTED_SUFFIXES
from dedup.ingest.read import Reader, ingest, ingest_paths, read_document, read_files, shown_path
from dedup.ingest.tables import DATASET_SUFFIXES, Row, dataset_kind, open_compressed, rows

__all__ = [
    "DATASET_SUFFIXES",
    "Reader",
    "SUPPORTED_SUFFIXES",
    "Row",
    "SourceRead",
    "dataset_kind",
    "expand_sources",
    "ingest_sources",
    "open_compressed",
    "read_dataset",
    "read_sources",
    "rows",
    "decode_bytes",
    "display_name",
    "find_files",
    "ingest",
    "ingest_paths",
    "read_document",
    "read_files",
    "real_name",
    "shown_path",
]
