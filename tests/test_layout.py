"""The shape of the package, as the developers' guide and the renovation set it: data flows one way, no module
state, small modules, the CLI on the public API only."""

from __future__ import annotations

import ast
from pathlib import Path

import dedup

from conftest import ROOT

PACKAGE = ROOT / "dedup"
#: The modules (or packages) of ``dedup/`` in the order data flows through them; a module imports only the
#: shared ones and those before it.
FLOW = [
    "ingest", "compiled", "sort_kernels", "normalize_kernels", "t2s", "normalize", "sign_kernels", "sign", "set_kernels", "candidates",
    "align_kernels", "seed", "join", "align", "segment", "explain", "match", "boilerplate", "sketch", "store", "index", "executors", "archive", "build", "pipeline",
    "dedupe", "report", "cli",
]
SHARED = {"version", "errors", "config", "models", "arrays"}
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _imported(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every ``dedup`` import in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dedup":
            out.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.split(".")[0] == "dedup"]
    return out


def test_every_module_has_a_place_in_the_flow():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in _modules()} - {"__init__"}
    assert tops == set(FLOW) | SHARED


def test_data_flows_one_way():
    against = []
    for path in _modules():
        me = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if me in ("__init__", "cli"):
            continue
        for module, names in _imported(path):
            parts = module.split(".")
            used = [parts[1]] if len(parts) > 1 else names  # ``from dedup import x`` imports module x
            for other in used:
                if other != me and other not in SHARED and (me in SHARED or FLOW.index(other) > FLOW.index(me)):
                    against.append(f"{path.relative_to(ROOT)} imports dedup.{other}")
    assert against == []


def test_no_module_state_and_small_modules():
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        assert not any(isinstance(n, ast.Global) for n in ast.walk(ast.parse(source))), path
        assert len(source.splitlines()) <= MAX_LINES, f"{path.relative_to(ROOT)}: {len(source.splitlines())} lines"


def test_the_cli_uses_only_the_public_api():
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        for module, names in _imported(path):
            if module.startswith("dedup.cli"):  # (its own modules)
                continue
            assert module == "dedup", f"{path.name} imports from {module}"
            assert set(names) <= set(dedup.__all__), set(names) - set(dedup.__all__)


def test_nothing_private_of_another_package_is_imported():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] not in ("dedup", "__future__"):
                assert not any(part.startswith("_") for part in node.module.split(".")), (path, node.module)
                assert not any(a.name.startswith("_") for a in node.names), (path, node.module)


def test_the_tests_use_public_names_only():
    """Where a test needs to reach in, the code is missing a parameter: no test imports or touches a private name
    of dedup, or patches a module."""
    for path in sorted((ROOT / "tests").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dedup":
                assert not any(a.name.startswith("_") and a.name != "__version__" for a in node.names), (path, node.module)
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                raise AssertionError(f"{path.name}: {ast.unparse(node)}")
            if isinstance(node, ast.Name):
                assert node.id != "monkeypatch", f"{path.name} patches a module"
