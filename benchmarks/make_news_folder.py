"""A quick 1,100-document folder for a speed and recall check of `dedup scan`.

    python benchmarks/make_news_folder.py OUT_DIR

1,000 pieces of ~1,700 characters (about 5 KB in UTF-8) cut from the 2023
新闻联播 transcripts in ../shared/data, plus 50 copies with a new first line
and 50 pieces with a 400-character passage of another piece inserted.
Writes OUT_DIR/../<name>_truth.json with the planted pairs.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "zh_cctv_xwlb_transcripts_2023"


def main(out: Path, *, pieces: int = 1000, planted: int = 100, seed: int = 1) -> None:
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for f in sorted(DATA.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        for i in range(0, len(text) - 850, 1700):
            if len(names) < pieces:
                name = f"doc{len(names):04d}.txt"
                (out / name).write_text(text[i : i + 1700], encoding="utf-8")
                names.append(name)
    rng = random.Random(seed)
    truth = []
    for k in range(planted):
        src = rng.choice(names)
        text = (out / src).read_text(encoding="utf-8")
        if k % 2 == 0:
            name = f"copy{k:03d}.txt"
            (out / name).write_text("新标题\n" + text, encoding="utf-8")
            truth.append([src, name, "near_duplicate"])
        else:
            host = rng.choice([n for n in names if n != src])
            host_text = (out / host).read_text(encoding="utf-8")
            name = f"part{k:03d}.txt"
            (out / name).write_text(host_text[:800] + text[200:600] + host_text[800:], encoding="utf-8")
            truth += [[src, name, "partial"], [host, name, "near_duplicate"]]
    (out.parent / f"{out.name}_truth.json").write_text(json.dumps(truth), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
