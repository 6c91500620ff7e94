"""Exceptions raised by the dedup library.

The library never prints or exits; the CLI maps these to messages and exit codes.
"""

from __future__ import annotations


class DedupError(Exception):
    """Base class of every error the library raises on purpose."""


class ConfigError(DedupError, ValueError):
    """An option has a value that cannot work; the message says how to fix it."""


class InputError(DedupError):
    """The folder or file given to scan cannot be used at all."""


class IngestError(DedupError):
    """One file cannot be read; the scan lists it as skipped with this reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexStoreError(DedupError):
    """An archive index cannot be opened or used: missing, damaged, or built with other parameters."""


class EngineError(DedupError):
    """The engine asked for cannot run: Ray is not installed, or its cluster cannot be reached."""
