"""How often each encoding detector decodes a text file or an HTML page right (issue 14).

    python benchmarks/encoding_detection.py [--data ../shared/data] [--json]

Detectors:

- ``dedup``: ``dedup.ingest.decode_bytes`` for text files, and for pages the HTML decoding ``read_document`` uses
  (a BOM, then a declared charset that is a text encoding, with old Chinese pages mislabelled as Western
  checked, then detection);
- ``charset_normalizer``: ``charset_normalizer.from_bytes(data).best()``;
- ``bs4``: BeautifulSoup's ``UnicodeDammit(data, is_html=...)``, which tries in turn the BOM, the declared
  charset of a page, its ``EncodingDetector``'s guess (charset_normalizer here), UTF-8 and Windows-1252.

Cases: texts (real speeches from ../shared/data when present, else a few built-in lines), whole (up to
20,000 characters), a paragraph (about 300 characters) and a line (about 40), saved in UTF-8 (with and
without BOM), UTF-16 with BOM and without (LE and BE), GB18030 and Big5 (Traditional texts, made with
OpenCC); and HTML pages holding them: correctly labelled, mislabelled (GB18030 bytes labelled
ISO-8859-1, UTF-8 or Big5; UTF-8 labelled GB2312), unlabelled, and labelled with a bogus charset.
A detector is right when its text equals the original exactly; an exception counts as wrong.
"""

from __future__ import annotations

import argparse
import codecs
import json
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from dedup.ingest import decode_bytes

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

BUILT_IN = {
    "zh": "同志们：今天我们召开全市秋季安全生产工作会议，主要任务是认真贯彻上级关于安全生产工作的部署要求，"
    "总结前一阶段工作，分析当前面临的形势，安排部署下一步重点任务。刚才，几个部门作了交流发言，讲得都很好。\n"
    "各级党委政府要严格落实党政同责、一岗双责，主要负责同志要亲自研究、亲自部署、亲自督促。",
    "en": "Fellow citizens, we gather today to open the Riverside Library, a place where every child of this "
    "city can find a book, a quiet table and a helping hand. “Knowledge,” as the founders wrote, “is the "
    "common wealth of a free people.”",
}


def texts(data: Path) -> dict[str, list[str]]:
    """Sample texts by kind: zh (Simplified), zh-hant (Traditional), en."""
    found: dict[str, list[str]] = {"zh": [], "en": []}
    reports = sorted((data / "zh_gov_work_reports_central" / "reports").glob("*.txt"))
    news = sorted((data / "zh_cctv_xwlb_transcripts_2023").rglob("*.txt"))
    found["zh"] = [p.read_text(encoding="utf-8") for p in (reports[-12:] + news[:12])]
    speeches = sorted((data / "en_us_inaugural_nltk").glob("*.txt"))
    found["en"] = [p.read_text(encoding="utf-8") for p in speeches[-12:]]
    for kind, text in BUILT_IN.items():
        if not found[kind]:
            found[kind] = [text]
    import opencc

    s2t = opencc.OpenCC("s2t")
    found["zh-hant"] = [s2t.convert(t) for t in found["zh"]]
    return found


def pieces(text: str) -> dict[str, str]:
    """The whole text (up to 20,000 characters), a paragraph and a line of it."""
    lines = [line.strip() for line in text.splitlines() if len(line.strip()) >= 40]
    middle = lines[len(lines) // 2] if lines else text
    return {"whole": text[:20000], "paragraph": middle[:300], "line": middle[:40]}


FILE_ENCODINGS = {
    "zh": ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030"),
    "zh-hant": ("utf-8", "utf-16-le", "big5", "gb18030"),
    "en": ("utf-8", "utf-16-le", "cp1252"),
}

PAGE = '<html><head><meta http-equiv="Content-Type" content="text/html; charset={label}"><title>t</title></head><body><p>{text}</p></body></html>'
BARE = "<html><head><title>t</title></head><body><p>{text}</p></body></html>"
#: (case name, kind, bytes' encoding, label declared or None)
PAGES = (
    ("labelled gb2312", "zh", "gb18030", "gb2312"),
    ("labelled utf-8", "zh", "utf-8", "utf-8"),
    ("labelled big5", "zh-hant", "big5", "big5"),
    ("GB labelled iso-8859-1", "zh", "gb18030", "iso-8859-1"),
    ("GB labelled utf-8", "zh", "gb18030", "utf-8"),
    ("GB labelled big5", "zh", "gb18030", "big5"),
    ("UTF-8 labelled gb2312", "zh", "utf-8", "gb2312"),
    ("Big5 labelled gb2312", "zh-hant", "big5", "gb2312"),
    ("GB unlabelled", "zh", "gb18030", None),
    ("Big5 unlabelled", "zh-hant", "big5", None),
    ("GB labelled hex", "zh", "gb18030", "hex"),
    ("GB labelled x-user-defined", "zh", "gb18030", "x-user-defined"),
)


def cases(data: Path) -> list[tuple[str, str, bytes, str, bool]]:
    """(group, case, bytes, original text, is a page) for every case."""
    out = []
    samples = texts(data)
    for kind, encodings in FILE_ENCODINGS.items():
        for n, text in enumerate(samples[kind]):
            for size, piece in pieces(text).items():
                for encoding in encodings:
                    original = piece.encode(encoding, "ignore").decode(encoding)  # what the encoding can hold
                    if not original.strip():
                        continue
                    group = f"{kind} {encoding}{' (no BOM)' if encoding in ('utf-16-le', 'utf-16-be') else ''}"
                    out.append((group, f"{kind}{n} {size}", original.encode(encoding), original, False))
    for name, kind, encoding, label in PAGES:
        for n, text in enumerate(samples[kind]):
            for size, piece in pieces(text).items():
                markup = (BARE if label is None else PAGE).format(label=label, text=piece)
                original = markup.encode(encoding, "ignore").decode(encoding)
                out.append((f"page: {name}", f"{kind}{n} {size}", original.encode(encoding), original, True))
    return out


def by_dedup(data: bytes, page: bool) -> str:
    if not page:
        return decode_bytes(data)[0]
    from dedup.ingest.decode import decode_html  # (the HTML decoding read_document uses)

    return decode_html(data)[0]


def by_charset_normalizer(data: bytes, page: bool) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ValueError("no guess")
    return str(best)


def by_bs4(data: bytes, page: bool) -> str:
    from bs4 import UnicodeDammit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dammit = UnicodeDammit(data, is_html=page)
    if dammit.unicode_markup is None:
        raise ValueError("no guess")
    return dammit.unicode_markup


DETECTORS: dict[str, Callable[[bytes, bool], str]] = {
    "dedup": by_dedup,
    "charset_normalizer": by_charset_normalizer,
    "bs4": by_bs4,
}


def measure(data: Path) -> dict:
    """Right answers per group and detector, and each detector's time."""
    right: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    total: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for group, _, raw, original, page in cases(data):
        total[group] += 1
        for name, detect in DETECTORS.items():
            started = time.perf_counter()
            try:
                ok = detect(raw, page).removeprefix("\ufeff") == original.removeprefix("\ufeff")
            except Exception:
                ok = False
            seconds[name] += time.perf_counter() - started
            right[group][name] += ok
    groups = {g: {"cases": total[g], **{d: right[g][d] for d in DETECTORS}} for g in total}
    overall = {d: sum(right[g][d] for g in total) for d in DETECTORS}
    return {"groups": groups, "right": overall, "cases": sum(total.values()), "seconds": dict(seconds)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (built-in texts if absent)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = measure(args.data)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    names = list(DETECTORS)
    print(f"| case | n | {' | '.join(names)} |")
    print(f"|---|---:|{'---:|' * len(names)}")
    for group, row in result["groups"].items():
        print(f"| {group} | {row['cases']} | " + " | ".join(str(row[d]) for d in names) + " |")
    n = result["cases"]
    print(f"| **all** | {n} | " + " | ".join(f"**{result['right'][d]}** ({result['right'][d] / n:.1%})" for d in names) + " |")
    print(f"| time (s) | | " + " | ".join(f"{result['seconds'][d]:.1f}" for d in names) + " |")


if __name__ == "__main__":
    sys.exit(main())
