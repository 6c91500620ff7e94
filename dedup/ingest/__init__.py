"""Find input files and read them into :class:`~dedup.models.Document` records.

This is the only package that opens input files. Text formats are decoded
byte-exactly (BOM removed, line endings kept) so that offsets into
``Document.text`` are code-point offsets into what the file says.

Supported formats: plain text (``.txt``, ``.md``), Word (``.docx``, via
python-docx), PDF (``.pdf``, via pypdf) and HTML (``.html``/``.htm``, via
BeautifulSoup with the standard-library parser).

One job per module; import from ``dedup.ingest`` itself:

- :mod:`dedup.ingest.files` finds the files under a folder (:func:`find_files`);
- :mod:`dedup.ingest.decode` turns text-file and HTML bytes into text (:func:`decode_bytes`);
- :mod:`dedup.ingest.formats` lists the supported suffixes and extracts the
  text of Word, PDF and HTML files;
- :mod:`dedup.ingest.read` reads files into documents (:func:`read_document`,
  :func:`ingest`, :func:`read_files`, :func:`ingest_paths`, :func:`shown_path`).
"""

from dedup.ingest.decode import decode_bytes
from dedup.ingest.files import find_files
from dedup.ingest.formats import SUPPORTED_SUFFIXES
from dedup.ingest.read import ingest, ingest_paths, read_document, read_files, shown_path

__all__ = [
    "SUPPORTED_SUFFIXES",
    "decode_bytes",
    "find_files",
    "ingest",
    "ingest_paths",
    "read_document",
    "read_files",
    "shown_path",
]
