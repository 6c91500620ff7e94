"""Copies that people disguise: verbatim – paraphrased – verbatim passages planted in real speeches.

    python benchmarks/bridge.py [--cases 30] [--seed 1] [--json] [--keep DIR]

A reviewer wants one passage spanning the whole copied stretch, the paraphrased sentence inside it, not two
verbatim islands. For each language, ``--cases`` stretches of five sentences are taken from real speeches in
``../shared/data`` (Chinese: the government work reports; English: the State of the Union addresses): two
sentences verbatim, one paraphrased, two verbatim. The paraphrase drops a clause (where the sentence has more
than one) and replaces every other remaining word by a word of the same corpus (Chinese: jieba's words, a
word of the same length; English: a word that is not a stopword). Each copy goes into a host text from another
corpus (Chinese: a 新闻联播 transcript; English: an inaugural address), at a paragraph break; the source speech
and the host are written to a temporary folder (``--keep DIR``: to DIR) and scanned together.

Per case: the share of the planted stretch (both sides, characters) that the one passage covering most of it
covers, and how many passages touch it. Figures per language: cases whose best passage covers at least 90%
(the target: all of them), the mean of that share, cases found at all, passages per found case (granularity),
and the share of the best passage inside the planted stretch (precision: it bridges no unrelated text). Each case
is scanned alone (its source and its copy): work reports repeat their own sentences from year to year, and
text found in several documents of a scan is boilerplate there. Without
``../shared/data`` (or ``--data``) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path

import dedup
from dedup.sign import STOPWORDS

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SOURCES = {
    "zh": ("zh_gov_work_reports_central/reports", "zh_cctv_xwlb_transcripts_2023"),
    "en": ("en_us_state_of_the_union_nltk", "en_us_inaugural_nltk"),
}
COVERED = 0.9
_ZH_SENTENCE = re.compile(r"[^。！？\n]+[。！？]")
_EN_SENTENCE = re.compile(r"[A-Z][^.!?\n]+[.!?]")
_ZH_CLAUSE = re.compile(r"(?<=，)")
_EN_CLAUSE = re.compile(r"(?<=, )")


def sentences(text: str, lang: str) -> list[re.Match]:
    """The sentences of a text (a regular expression's matches: CJK sentence marks, or capital to full stop)."""
    return list((_ZH_SENTENCE if lang == "zh" else _EN_SENTENCE).finditer(text))


def _long_enough(sentence: str, lang: str) -> bool:
    return len(sentence) >= 20 if lang == "zh" else len(sentence.split()) >= 10


def words(text: str, lang: str) -> list[str]:
    """A text cut into words (Chinese: jieba; English: at spaces), spaces and punctuation kept as words."""
    if lang == "zh":
        import jieba

        return list(jieba.cut(text))
    return re.findall(r"\w+|\W+", text)


def _replaceable(word: str, lang: str) -> bool:
    if lang == "zh":
        return len(word) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in word)
    return word.isalpha() and len(word) > 3 and word.lower() not in STOPWORDS


def paraphrase(sentence: str, lang: str, vocabulary: dict[int, list[str]], rng: random.Random) -> str:
    """``sentence`` with a clause dropped (not its last) where it has more than one, and every other replaceable
    word of the rest replaced by a word of ``vocabulary`` (by length in Chinese, any in English)."""
    clauses = [c for c in (_ZH_CLAUSE if lang == "zh" else _EN_CLAUSE).split(sentence) if c]
    if len(clauses) > 1:
        del clauses[rng.randrange(len(clauses) - 1)]
    out, flip = [], False
    for w in words("".join(clauses), lang):
        if _replaceable(w, lang):
            flip = not flip
            if flip:
                pool = vocabulary.get(len(w) if lang == "zh" else 0) or [w]
                w = rng.choice(pool)
        out.append(w)
    return "".join(out)


def _vocabulary(texts: list[str], lang: str) -> dict[int, list[str]]:
    found: dict[int, set[str]] = {}
    for text in texts:
        for w in words(text[:3000], lang):
            if _replaceable(w, lang):
                found.setdefault(len(w) if lang == "zh" else 0, set()).add(w)
    return {k: sorted(v) for k, v in found.items()}


def plant(lang: str, data: Path, folder: Path, cases: int, rng: random.Random) -> list[dict]:
    """Write ``cases`` sources and hosts with a planted stretch each into ``folder``; their truth."""
    source_dir, host_dir = (data / s for s in SOURCES[lang])
    sources = sorted(source_dir.glob("*.txt"))
    hosts = sorted(host_dir.glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in sources]
    vocabulary = _vocabulary(texts, lang)
    truth = []
    for k in rng.sample(range(len(sources)), min(cases, len(sources))):
        text = texts[k]
        found = sentences(text, lang)
        runs = [i for i in range(len(found) - 4) if all(_long_enough(found[i + j].group(), lang) for j in range(5))]
        if not runs:
            continue
        i = rng.choice(runs)
        start, end = found[i].start(), found[i + 4].end()
        middle = found[i + 2]
        copy = text[start : middle.start()] + paraphrase(middle.group(), lang, vocabulary, rng) + text[middle.end() : end]
        host = hosts[rng.randrange(len(hosts))].read_text(encoding="utf-8")
        breaks = [m.end() for m in re.finditer(r"\n\s*\n", host)] or [len(host) // 2]
        at = rng.choice(breaks[len(breaks) // 4 : max(len(breaks) // 4 + 1, 3 * len(breaks) // 4)])
        copied = host[:at] + copy + "\n\n" + host[at:]
        name = f"{lang}_{len(truth):03d}"
        (folder / f"{name}_source.txt").write_text(text, encoding="utf-8")
        (folder / f"{name}_copy.txt").write_text(copied, encoding="utf-8")
        truth.append({"source": f"{name}_source.txt", "copy": f"{name}_copy.txt", "source_span": [start, end],
                      "copy_span": [at, at + len(copy)], "paraphrased": [middle.start() - start, middle.end() - start]})
    return truth


def _covered(passage: dict, case: dict, source_is_a: bool) -> float:
    """Share of a planted stretch (both sides, characters) inside a passage."""
    s0, s1 = case["source_span"]
    c0, c1 = case["copy_span"]
    (ps0, ps1), (pc0, pc1) = ((passage["a_start"], passage["a_end"]), (passage["b_start"], passage["b_end"]))
    if not source_is_a:
        (ps0, ps1), (pc0, pc1) = (pc0, pc1), (ps0, ps1)
    inside = max(0, min(s1, ps1) - max(s0, ps0)) + max(0, min(c1, pc1) - max(c0, pc0))
    return inside / ((s1 - s0) + (c1 - c0))


def score(reports: list[dict], truth: list[dict]) -> dict:
    """The figures of one language (see the module's docstring): ``reports[k]`` is the scan of case ``k``."""
    best, touching, inside = [], [], []
    for report, case in zip(reports, truth):
        pair = next((p for p in report["pairs"] if {p["a"], p["b"]} == {case["source"], case["copy"]}), None)
        passages = [] if pair is None else [x for x in pair["passages"] if not x["boilerplate"]]
        shares = [(_covered(x, case, pair["a"] == case["source"]), x) for x in passages]
        shares = [(s, x) for s, x in shares if s > 0]
        top = max(shares, key=lambda s: s[0], default=None)
        best.append(top[0] if top else 0.0)
        touching.append(len(shares))
        if top is not None:  # how much of the best passage is inside the stretch: it bridges no unrelated text
            size = (top[1]["a_end"] - top[1]["a_start"]) + (top[1]["b_end"] - top[1]["b_start"])
            s0, s1 = case["source_span"]
            c0, c1 = case["copy_span"]
            inside.append(top[0] * ((s1 - s0) + (c1 - c0)) / max(1, size))
    found = [t for t in touching if t]
    return {
        "cases": len(truth),
        "covered_90": sum(1 for b in best if b >= COVERED),
        "mean_covered": round(sum(best) / max(1, len(best)), 3),
        "found": len(found),
        "granularity": round(sum(found) / max(1, len(found)), 3),
        "precision": round(sum(inside) / max(1, len(inside)), 3),
        "worst": sorted((round(b, 3), c["copy"]) for b, c in zip(best, truth))[:5],
    }


def run(data: Path, *, cases: int = 30, seed: int = 1, keep: Path | None = None) -> dict:
    out = {}
    for lang in SOURCES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(keep) / lang if keep else Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            truth = plant(lang, data, folder, cases, random.Random(seed))
            reports = []
            for case in truth:  # each case alone: the source speech and its copy, scanned together
                alone = folder / case["copy"].replace("_copy.txt", "")
                alone.mkdir(exist_ok=True)
                for name in (case["source"], case["copy"]):
                    (folder / name).rename(alone / name)
                reports.append(dedup.report_to_dict(dedup.scan(alone)))
            out[lang] = score(reports, truth)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=30, help="planted stretches per language (default 30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=DATA, help="shared data folder (default ../shared/data)")
    ap.add_argument("--keep", type=Path, default=None, help="write the planted folders here (a subfolder per language)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not all((args.data / s).is_dir() for pair in SOURCES.values() for s in pair):
        print(f"shared data not found at {args.data}: nothing to measure", file=sys.stderr)
        return 0
    result = run(args.data, cases=args.cases, seed=args.seed, keep=args.keep)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"{'lang':5} {'cases':>6} {'>=90%':>6} {'mean':>6} {'found':>6} {'gran':>6} {'prec':>6}  worst")
    for lang, r in result.items():
        print(f"{lang:5} {r['cases']:6d} {r['covered_90']:6d} {r['mean_covered']:6.3f} {r['found']:6d} "
              f"{r['granularity']:6.3f} {r['precision']:6.3f}  {r['worst']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
