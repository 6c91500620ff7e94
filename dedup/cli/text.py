"""``dedup text``: a file's text as dedup reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dedup import IngestError, normalize_text, read_document
from dedup.cli.common import app, fail, writing

@app.command()
def text(
    file: Annotated[Path, typer.Argument(help="A .txt, .md, .docx, .pdf or .html file.")],
    normalized: Annotated[bool, typer.Option(help="Print the normalized text used for matching instead.")] = False,
) -> None:
    """Print the text of a file exactly as dedup reads it (offsets in reports index into this text)."""
    try:
        doc = read_document(file)
    except IngestError as err:
        raise fail(f"cannot read {err.path}: {err.reason}") from None
    with writing(None) as out:
        out.write(normalize_text(doc.text) + "\n" if normalized else doc.text)
