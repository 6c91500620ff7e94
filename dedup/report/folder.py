"""A report written as a folder of stages (the Parquet report): checked before the work, each stage swapped in whole.

``check_output_folder(path, inputs=...)`` refuses, with ``ConfigError``, a ``path`` that is not a folder (a regular
file, a device), that is one of ``inputs`` or holds one of them, or a folder holding other files that is not a
previous output of dedup (it has no ``_dedup_output.json``). A missing or empty folder is fine.

``OutputFolder(path, inputs=..., kind=...)`` then writes there:

- ``_dedup_output.json`` first: the marker that makes the folder dedup's (its format, the run writing it);
- each stage (``with folder.stage("pairs") as tmp:``) into a hidden temporary folder beside it
  (``.pairs.XXXX.tmp``), closed with ``_COMPLETE`` (the run, its rows and part files) and renamed into place: a
  reader never sees a half-written stage folder, the stage of a previous run is replaced whole (none of its
  files linger), and a run that fails or is killed leaves the stages it completed intact;
- ``finish(header)``: ``report.json`` last (written to a temporary file and renamed), so that a folder with a
  ``report.json`` of the same run as its marker is a complete report.

What a killed run leaves behind (``.NAME.XXXX.tmp`` and ``.NAME.XXXX.old`` folders or files) is removed by the next
run, and readers do not see it (pyarrow skips names starting with ``.`` or ``_``). One run writes a folder at a
time: a second run started on the same folder meanwhile removes the first one's temporary folders.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from dedup.errors import ConfigError
from dedup.report.escape import printable
from dedup.report.json import to_json
from dedup.version import __version__

#: The file that makes a folder a dedup output; a non-empty folder without it is never written to.
MARKER = "_dedup_output.json"
#: A stage's folder is complete when it holds this file (written last, before the folder is renamed into place).
COMPLETE = "_COMPLETE"
#: The report's header, written when every stage is complete.
HEADER = "report.json"
#: Names a run writes (and replaces): the stages of every kind of report, the header.
STAGES = ("documents", "pairs", "passages", "clusters", "checked")
_LEFTOVER = re.compile(r"\.(?P<name>[^/]+)\.[^./]+\.(tmp|old)")

PathLike = str | os.PathLike


def _marker(path: PathLike) -> dict | None:
    """The marker of a previous dedup output in ``path`` (None if there is none or it is not one)."""
    try:
        with open(os.path.join(path, MARKER), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("dedup_output") else None


def check_output_folder(path: PathLike, inputs: Iterable[PathLike] = (), *, kind: str = "parquet") -> None:
    """Raise ``ConfigError`` unless ``path`` may hold a report folder (see the module's documentation)."""
    where = printable(os.fspath(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot write the report to {where}: {getattr(err, 'strerror', None) or err}") from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        what = "a file" if stat.S_ISREG(st.st_mode) else "not a folder"
        raise ConfigError(
            f"will not write the {kind} report to {where}: it is {what}; the {kind} format writes a folder, "
            "give a new or empty folder (or a previous one) with --output"
        )
    real = os.path.realpath(path)
    for candidate in inputs:
        if "://" in os.fspath(candidate):
            continue  # an index at an address (redis://…), not a file
        other = os.path.realpath(candidate)
        if other == real or other.startswith(real.rstrip(os.sep) + os.sep):
            what = "is" if other == real else f"holds {printable(os.fspath(candidate))},"
            raise ConfigError(f"will not write the report to {where}: it {what} one of the inputs; write it to another folder")
    if st is not None:
        marker = _marker(path)
        if marker is None:
            with os.scandir(path) as entries:
                if any(True for _ in entries):
                    raise ConfigError(
                        f"will not write the report to {where}: the folder holds other files and is not a previous "
                        f"dedup output (it has no {MARKER}); give a new or empty folder"
                    )
        elif marker.get("format") != kind:
            raise ConfigError(
                f"will not write the {kind} report to {where}: it holds a dedup {marker.get('format')} output; "
                "give a new or empty folder"
            )


def remove(path: str) -> None:
    """Remove a file or a folder (not what a symbolic link points to); nothing if it is gone."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass


def _write_json(folder: str, name: str, data: dict) -> None:
    """``folder/name`` holds ``data`` as JSON, replaced whole (temporary file beside it, renamed)."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(to_json(data) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, os.path.join(folder, name))
    except BaseException:
        remove(tmp)
        raise


class OutputFolder:
    """Writes one run of a report folder (see the module's documentation); ``stages`` are the names it will write,
    any other stage a previous run left is removed."""

    def __init__(self, path: PathLike, *, inputs: Iterable[PathLike] = (), kind: str = "parquet", stages: Iterable[str] = STAGES):
        check_output_folder(path, inputs, kind=kind)
        self.path = os.path.abspath(path)
        self.run = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}-{uuid.uuid4().hex[:12]}"
        self.done: dict[str, dict] = {}
        os.makedirs(self.path, exist_ok=True)
        _write_json(self.path, MARKER, {"dedup_output": True, "format": kind, "dedup": __version__, "run": self.run})
        remove(os.path.join(self.path, HEADER))  # the header of a previous run describes none of this run's stages
        writing = set(stages)
        with os.scandir(self.path) as entries:
            names = [e.name for e in entries]
        for name in names:
            left = _LEFTOVER.fullmatch(name)
            if (left and left.group("name") in (*STAGES, HEADER, MARKER)) or (name in STAGES and name not in writing):
                remove(os.path.join(self.path, name))

    @contextmanager
    def stage(self, name: str) -> Iterator[tuple[str, dict]]:
        """A temporary folder to write stage ``name`` in, and a dict for what ``_COMPLETE`` records (``rows``,
        ``parts``); renamed into place (over the previous run's) when the block ends without an error, removed
        otherwise."""
        tmp = tempfile.mkdtemp(dir=self.path, prefix=f".{name}.", suffix=".tmp")
        old = None
        try:
            info: dict = {}
            yield tmp, info
            record = {"run": self.run, "stage": name, **info}
            with open(os.path.join(tmp, COMPLETE), "w", encoding="utf-8") as out:
                out.write(to_json(record) + "\n")
            os.chmod(tmp, 0o777 & ~_umask())
            final = os.path.join(self.path, name)
            if os.path.lexists(final):
                old = os.path.join(self.path, f".{name}.{uuid.uuid4().hex[:8]}.old")
                os.rename(final, old)
            os.rename(tmp, final)
            self.done[name] = record
        except BaseException:
            remove(tmp)
            if old is not None and not os.path.lexists(final):
                os.rename(old, final)  # the previous run's stage stays as it was
                old = None
            raise
        finally:
            if old is not None:
                remove(old)

    def finish(self, header: dict) -> None:
        """Write ``report.json`` (``header`` with the run and what each stage holds): the report is complete."""
        tables = {name: {k: v for k, v in record.items() if k not in ("run", "stage")} for name, record in self.done.items()}
        _write_json(self.path, HEADER, {**header, "run": self.run, "tables": tables})


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
