"""Fuzz tests: hostile inputs through ``dedup.read_document`` and through whole ``dedup.scan`` runs.

Hypothesis draws files from the strategies of ``hostile`` (corrupt, truncated and mutated .docx/.pdf, zip and
docx bombs, deeply nested HTML, bogus charsets, undecodable bytes, mixed encodings, NULs, one long line, empty
and one-character files, names in GBK bytes, with control characters, very long), and ``bounds`` judges what came
of each: only the documented exceptions escape (``IngestError`` from ``read_document``; a bad file in a scan is
skipped with its reason), passages slice the texts, reports can be written, and each file stays within its
time and memory budget. Hand-made cases (bombs, page trees that loop, FIFOs, symbolic-link loops, unreadable
files) run in a process of their own with an address-space limit and a deadline.

In the normal suite this is a short run (marker ``fuzz``: ``-m "not fuzz"`` leaves it out). Longer runs:
``DEDUP_FUZZ_EXAMPLES=500 python -m pytest tests/fuzz`` (examples per test; ``DEDUP_FUZZ_RANDOM=1`` draws new
ones each run instead of the same ones), ``DEDUP_FUZZ_SLOW=1`` to run the slow cases of known open problems too,
and ``python benchmarks/fuzz.py`` for 10,000 inputs and more, with figures.
"""
