"""What every report writer does to the strings it shows, whatever a ``Pair`` or a report was built from.

- ``printable(name)``: a file name (or any one-line string: a reason, a difference, a title) with the
  characters that would hide, reorder or break what is shown written as escapes: control characters
  (C0, DEL, C1: ``\\x07``, ``\\x1b``, ``\\n``), bidirectional controls (``\\u202e``, ``\\u2066``…),
  line and paragraph separators, and lone surrogates (``\\udcc4``: how a byte of a non-UTF-8 file name
  is shown). Nothing else changes, and escaping twice changes nothing more (a backslash is left as it is).
- ``printable_text(text)``: the same for document text shown in the terminal or HTML report, which keeps
  its tabs, line breaks and form feeds, and the left-to-right and right-to-left marks.
- ``csv_cell(value)``: a CSV cell that a spreadsheet will not run as a formula (OWASP "CSV injection":
  a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``).
- ``json_text(dumped)``: JSON from ``json.dumps(..., ensure_ascii=False)`` that encodes to UTF-8 even
  when a string held a lone surrogate (written as the text ``\\udcc4``, like ``printable`` writes it),
  and in which C1 controls, bidirectional controls and line and paragraph separators inside strings are
  JSON escapes (``\\u202e``: the same value once parsed), so that neither a terminal showing the file
  nor a line splitter cutting JSON Lines is misled.
"""

from __future__ import annotations

import re

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_NAME = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_RAW = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}]")
#: A text cell starting with one of these is a formula (or becomes one) in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    """A character as Python writes it in a string literal: ``\\n``, ``\\x07``, ``\\u202e``, ``\\udcc4``."""
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(name: str) -> str:
    """``name`` with control, bidirectional-control and separator characters and lone surrogates escaped."""
    return _NAME.sub(_escape, name) if _NAME.search(name) else name


def printable_text(text: str) -> str:
    """Document text as shown: control characters (but tab, line breaks, form feed), bidirectional embeddings,
    overrides and isolates, and lone surrogates escaped."""
    return _TEXT.sub(_escape, text) if _TEXT.search(text) else text


def csv_cell(value: object) -> object:
    """A CSV cell: a text starting like a formula gets a leading ``'`` (numbers are left as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def json_text(dumped: str) -> str:
    """JSON text that is valid UTF-8 (lone surrogates as the text ``\\udcc4``) with C1, bidirectional controls and
    separators as JSON escapes (the same values)."""
    if _SURROGATE.search(dumped):
        dumped = _SURROGATE.sub(lambda m: f"\\\\u{ord(m.group()):04x}", dumped)
    if _JSON_RAW.search(dumped):
        dumped = _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
    return dumped
