"""The fuzz suite itself: it keeps the tests' rule (public names of dedup only), and the long run's script runs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

pytestmark = pytest.mark.fuzz

FILES = sorted((ROOT / "tests" / "fuzz").glob("*.py")) + [ROOT / "benchmarks" / "fuzz.py"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_fuzz_code_uses_public_names_of_dedup_only(path: Path):
    """tests/test_layout.py's rule for tests/*.py, for this folder and the script: no private name of dedup, no
    patched module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dedup":
            assert not any(a.name.startswith("_") and a.name != "__version__" for a in node.names), node.module
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            raise AssertionError(f"{path.name}: {ast.unparse(node)}")
        if isinstance(node, ast.Name):
            assert node.id != "monkeypatch"


def test_the_long_run_reports_its_figures(tmp_path: Path):
    """``benchmarks/fuzz.py`` on a few inputs: figures as JSON, no crash."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--inputs", "20", "--scans", "2", "--no-cases", "--json",
         "--workers", "1", "--reproducers", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    assert figures["read"]["inputs"] == 20 and figures["scan"]["inputs"] == 2
    assert figures["inputs_tried"] == 20 + figures["scan"]["files"] and figures["crashes"] == 0
    assert figures["read"]["max_seconds"] > 0 and figures["read"]["max_memory_mb"] >= 0
