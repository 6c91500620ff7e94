"""What a command needs of the machine it runs on and what it leaves there (issue 14): numba's cache where neither
the installed package's folder nor HOME can be written, and no process of dedup outliving the command.

Both are tried on the command line in subprocesses: a copy of the package in a read-only folder, run with a HOME
that cannot be written (as root, with the capabilities that let root write anywhere dropped, by ``setpriv``); and
commands run in a session of their own, whose processes are listed the moment the command has ended.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dedup.compiled import cache_plan, private_temporary_folder, writable
from dedup.match import ALIGN_BATCH

from conftest import CORPUS, ROOT

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
#: As root, a read-only folder stops no one: the child runs without the capabilities that override file modes.
AS_ORDINARY_USER = [
    "setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search",
]
SPEECH = (
    "今天我们在这里隆重集会，热烈庆祝中华人民共和国成立七十周年。"
    "七十年来，全国各族人民团结奋斗，取得了举世瞩目的伟大成就。"
)


def read_only(path: Path) -> None:
    """Take the write bits off ``path`` and everything below it."""
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def writable_again(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


# --- numba's cache where nothing of the default can be written ---


def test_writable_is_what_numba_asks_of_a_cache_folder(tmp_path: Path):
    assert writable(tmp_path / "new" / "cache") and (tmp_path / "new" / "cache").is_dir()  # made
    (tmp_path / "file").write_text("x")
    assert not writable(tmp_path / "file" / "cache")  # below a file: not even root can make it
    assert not writable(tmp_path / "nul\0")


def test_the_fallback_cache_folder_is_this_users_alone(tmp_path: Path):
    folder = private_temporary_folder(tmp_path)
    assert folder is not None and folder.parent == tmp_path and folder.name.startswith("dedup-numba-")
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0  # made private
    assert private_temporary_folder(tmp_path) == folder  # found again
    folder.chmod(0o777)  # writable by anyone: someone could plant a cache (pickles)
    assert private_temporary_folder(tmp_path) is None
    folder.rmdir()
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    folder.symlink_to(tmp_path / "elsewhere")  # a link someone left there
    assert private_temporary_folder(tmp_path) is None
    folder.unlink()
    folder.write_text("")
    assert private_temporary_folder(tmp_path) is None
    assert private_temporary_folder(tmp_path / "missing" / "tmp") is None  # no temporary folder
    if IS_ROOT:  # made by someone else
        folder.unlink()
        folder.mkdir(mode=0o700)
        os.chown(folder, 65534, 65534)
        assert private_temporary_folder(tmp_path) is None


def test_the_cache_falls_back_to_a_temporary_folder_then_to_none(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    unwritable = [tmp_path / "file" / "pycache", tmp_path / "file" / "home-cache"]
    assert cache_plan([tmp_path / "numba", *unwritable], tmp_path / "tmp") == (True, None)  # numba's own: untouched
    assert not (tmp_path / "tmp").exists()
    assert cache_plan(unwritable, tmp_path) == (True, tmp_path / f"dedup-numba-{os.getuid()}")
    assert cache_plan(unwritable, tmp_path / "file") == (False, None)  # no temporary folder: no cache


def _unwritable_install(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """A copy of the package in a read-only folder, a HOME that cannot be written, and the command prefix that
    runs a child for whom read-only holds (as root: without the capabilities that override it)."""
    if IS_ROOT and shutil.which("setpriv") is None:
        pytest.skip("as root a read-only folder stops no one, and setpriv (util-linux) is not there to drop that")
    install = tmp_path / "site"
    shutil.copytree(ROOT / "dedup", install / "dedup", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    read_only(install)
    read_only(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_", "PYTHON"))}
    env.update(HOME=str(home), PYTHONPATH=str(install), PYTHONDONTWRITEBYTECODE="1")
    prefix = AS_ORDINARY_USER if IS_ROOT else []
    probe = "import os, sys; print(all(not os.access(p, os.W_OK) for p in sys.argv[1:]))"
    out = subprocess.run([*prefix, sys.executable, "-c", probe, str(install / "dedup"), str(home)], env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        writable_again(tmp_path)
        pytest.skip(f"cannot run a process for whom read-only holds here: {out.stderr.strip()[-300:]}")
    if out.stdout.strip() != "True":
        writable_again(tmp_path)
        pytest.skip("read-only folders can be written here")
    return install, env, prefix


def test_a_read_only_install_with_an_unwritable_home_runs_with_its_cache_in_the_temporary_folder(tmp_path: Path):
    """Once a traceback on every command, ``--help`` included (``cannot cache function ...: no locator
    available``): now the kernels are cached in this user's folder of the temporary folder, made private.
    (Without any temporary folder they are not cached: ``cache_plan``, above. A child cannot be left without one:
    Python falls back to /tmp.)"""
    install, env, prefix = _unwritable_install(tmp_path)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(SPEECH, encoding="utf-8")
    (folder / "b.txt").write_text("A tiny speech, in English, and nothing else.", encoding="utf-8")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    runs = {}
    try:
        for args in (["--help"], ["scan", str(folder), "--format", "json", "--no-progress", "--workers", "1"]):
            runs[args[0]] = subprocess.Popen(
                [*prefix, sys.executable, "-m", "dedup.cli", *args], env={**env, "TMPDIR": str(temporary)},
                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
        outs = {command: (*proc.communicate(timeout=300), proc.returncode) for command, proc in runs.items()}
    finally:
        for proc in runs.values():
            proc.kill()
        writable_again(tmp_path)
    for command, (out, err, rc) in outs.items():
        assert rc == 0 and "Traceback" not in err and "Error" not in err, (command, err)
    assert "scan" in outs["--help"][0]
    assert json.loads(outs["scan"][0])["summary"]["documents"] == 2
    cached = temporary / f"dedup-numba-{os.getuid()}"
    assert stat.S_IMODE(cached.stat().st_mode) == 0o700
    assert any(cached.rglob("*.nbi")), "the kernels were not cached in the temporary folder"
    assert not any((install / "dedup").rglob("*.nbi"))


# --- nothing of dedup outlives the command ---


def session_processes(session: int) -> list[str]:
    """The processes of ``session`` that have not ended (a zombie has), as ``pid state command``."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        if int(fields[3]) == session and fields[0] not in ("Z", "X"):
            alive.append(f"{entry.name} {fields[0]} {command[:200]}")
    return alive


@pytest.fixture(scope="module")
def many_copies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose scan aligns more than one batch of pairs: the aligning is done by forked processes."""
    folder = tmp_path_factory.mktemp("copies")
    for k in range(72):
        (folder / f"{k:03d}.txt").write_text(f"第{k}号\n{SPEECH}\n编号{k}。\n", encoding="utf-8")
    return folder


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")
@pytest.mark.parametrize("command", ["scan", "index build"])
def test_no_process_of_the_command_is_left_once_it_has_ended(tmp_path: Path, many_copies: Path, command: str):
    """Once, multiprocessing's resource tracker (started for the shared-memory segments of the workers' results)
    outlived every command that forked, ending some 100 ms later: now the workers are all that is started, and
    they end before the command does."""
    args = {
        "scan": ["scan", str(many_copies), "--format", "json", "--no-progress", "--workers", "2"],
        "index build": ["index", "build", str(CORPUS), "--index", str(tmp_path / "archive.dedup"), "--no-progress"],
    }[command]
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("wb") as stdout, err.open("wb") as stderr:  # files: a process left holding a pipe would not stall
        proc = subprocess.Popen([sys.executable, "-m", "dedup.cli", *args], start_new_session=True, stdout=stdout,
                                stderr=stderr, stdin=subprocess.DEVNULL, cwd=ROOT)
        try:
            proc.wait(timeout=120)
        finally:
            proc.kill()
        left = session_processes(proc.pid)  # the session's id is its first process's
    try:
        assert proc.returncode == 0, err.read_text()
        assert left == []
        if command == "scan":
            assert len(json.loads(out.read_text())["pairs"]) > ALIGN_BATCH  # (more than one job: processes forked)
    finally:
        time.sleep(0.2)
        for line in session_processes(proc.pid):  # (should the test fail: none kept past it)
            os.kill(int(line.split()[0]), 9)


def test_a_command_does_not_import_scipy_for_numba(tmp_path: Path):
    """numba looks for BLAS (importing scipy.linalg, 0.2 to 0.3 s) on its first kernel; a command skips that, and its
    kernels still run (a scan of the corpus finds its pairs)."""
    out = tmp_path / "report.json"
    code = (
        "import sys\n"
        "from dedup.cli import app\n"
        f"sys.argv = ['dedup', 'scan', {str(CORPUS)!r}, '--format', 'json', '-o', {str(out)!r}]\n"
        "try:\n    app()\nexcept SystemExit as end:\n    code = end.code\n"
        "print(code, 'scipy.linalg' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.stdout.split() == ["0", "False"], done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["pairs"]
