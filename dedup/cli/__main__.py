"""``python -m dedup.cli``: the ``dedup`` command."""

from dedup.cli import app

app()
