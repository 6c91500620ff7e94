"""Coverage-guided fuzzing of ``dedup.read_document`` with atheris (libFuzzer for Python; optional:
``pip install atheris``, not needed by the test suite).

    python tests/fuzz/atheris_read.py [-atheris_runs=N] [-max_total_time=SECONDS] [CORPUS_DIR ...]

An input's first byte picks the file's suffix (.txt .md .html .htm .docx .pdf), the rest is its bytes. The search
starts from seeds of ``hostile.py`` (a real .docx and .pdf, pages and texts in several encodings) and follows the
coverage of dedup and of the parsers it calls. A failure, which libFuzzer reports with the input that caused it,
is any exception but ``IngestError``, a text that is blank or cannot be written as UTF-8, anything shown on the
console, or more time or memory than the file's budget (``bounds``), unless it is a known problem
(``hostile.KNOWN``, each tracked by its hand-made case). ``benchmarks/fuzz.py --atheris-runs N`` runs it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: ``fuzz`` and ``texts``

with atheris.instrument_imports(include=["dedup", "pypdf", "docx", "bs4", "charset_normalizer"]):
    import bs4  # noqa: F401 - (imported here to be instrumented; dedup imports them on first use)
    import charset_normalizer  # noqa: F401
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    import dedup  # noqa: F401

from fuzz import hostile as h  # noqa: E402
from fuzz.bounds import over_budget, read_outcome  # noqa: E402

SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
#: Where inputs are written and the seeds kept: ``DEDUP_ATHERIS_DIR`` (``benchmarks/fuzz.py`` gives one it removes),
#: else a new temporary folder (libFuzzer ends the process without Python's clean-up: remove it yourself).
FOLDER = Path(os.environ.get("DEDUP_ATHERIS_DIR") or tempfile.mkdtemp(prefix="dedup-atheris-"))


def seeds() -> list[bytes]:
    """Inputs to start from: a selector byte for the suffix, then a file of that kind."""
    texts = [h.encoded("\n".join(h.LINES[:4]), e) for e in ("utf-8", "utf-8-sig", "gb18030", "big5", "utf-16")]
    pages = [h.html_page("<p>" + "</p><p>".join(h.LINES[:4]) + "</p>", c, e)
             for c, e in (("utf-8", "utf-8"), ("gbk", "gbk"), (None, "big5"))]
    return ([bytes([0]) + t for t in texts] + [bytes([2]) + p for p in pages]
            + [bytes([4]) + h.docx_seed(), bytes([4]) + h.docx_of(h.document_xml(h.paragraph("正文")))]
            + [bytes([5]) + h.pdf_seed(), bytes([5]) + h.pdf_text_page()])


def one_input(data: bytes) -> None:
    suffix = SUFFIXES[data[0] % len(SUFFIXES)] if data else ".txt"
    path = FOLDER / f"input{suffix}"
    path.write_bytes(data[1:])
    outcome = read_outcome(str(path))
    problem = f"{outcome.kind}: {outcome.detail}" if outcome.failed else over_budget(outcome, len(data))
    if problem and not h.known_by_detail(problem):  # (a known problem: its hand-made case tracks it)
        raise AssertionError(problem)


def main(argv: list[str]) -> None:
    corpus = [a for a in argv[1:] if not a.startswith("-")]
    if not corpus:  # a corpus folder of the seeds
        folder = FOLDER / "corpus"
        folder.mkdir(parents=True, exist_ok=True)
        for k, seed in enumerate(seeds()):
            (folder / f"seed-{k}").write_bytes(seed)
        argv = [*argv, str(folder)]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main(sys.argv)
