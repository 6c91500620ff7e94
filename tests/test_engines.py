"""Choosing an engine (``--engine``, ``dedup.open_executor``) where Ray is not installed, or not asked for: these
run without Ray (the Ray engine itself: ``tests/test_executors_ray.py``)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from dedup import ENGINES, ConfigError, LocalExecutor, open_executor
from dedup.cli import app

from conftest import CORPUS, ROOT

#: Runs Python as if Ray were not installed (``import ray`` raises ``ImportError``).
WITHOUT_RAY = "import sys; sys.modules['ray'] = None; "


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_import_dedup_does_not_import_ray():
    done = python("import sys, dedup; from dedup.cli import app; print('ray' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_without_ray_the_ray_engine_says_how_to_install_it():
    done = python(WITHOUT_RAY + "import dedup\ntry:\n    dedup.RayExecutor()\nexcept dedup.EngineError as e:\n    print(e)")
    assert "pip install 'dedup[ray]'" in done.stdout, done.stderr
    cli = python(WITHOUT_RAY + f"from dedup.cli import app; app(['scan', {str(CORPUS)!r}, '--engine', 'ray', '--no-progress'])")
    assert cli.returncode == 2
    assert "pip install 'dedup[ray]'" in cli.stderr and "Traceback" not in cli.stderr


def test_the_local_engine_is_the_default_and_an_address_is_for_ray():
    assert ENGINES == ("local", "ray")
    with open_executor("local", workers=3) as executor:
        assert isinstance(executor, LocalExecutor) and executor.workers == 3
    with pytest.raises(ConfigError, match="engine"):
        with open_executor("spark"):
            pass
    wrong = CliRunner().invoke(app, ["scan", str(CORPUS), "--address", "127.0.0.1:6379", "--no-progress"])
    assert wrong.exit_code == 2 and "--engine ray" in wrong.output
