"""The ``dedup`` command: a thin typer wrapper around the library (it imports only ``dedup``'s public names).

Exit codes: 0 done, 1 ``--fail-on`` matched, 2 usage error or unusable input or output (a ``dedup``
error: one message on stderr), 3 internal error (a bug: one line on stderr, the traceback with
``DEDUP_DEBUG=1``), 130 interrupted (Ctrl-C), 141 (128 + SIGPIPE) the reader of the report went away
(``dedup scan … | head``): nothing more is written, nothing is said.

One module a group of commands: ``scan`` (scan, check), ``dedupe``, ``index`` (index build|add|remove|info),
``text``; what they share is in ``common``.
"""

from __future__ import annotations

from dedup.cli import dedupe, index, scan, text  # noqa: F401 (each registers its commands on ``app``)
from dedup.cli.common import EXIT_BROKEN_PIPE, EXIT_FOUND, EXIT_INTERNAL, EXIT_USAGE, DedupGroup, app

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_FOUND", "EXIT_INTERNAL", "EXIT_USAGE", "DedupGroup", "app"]
