"""A large synthetic corpus of speech-sized documents, for speed and scale runs of `dedup scan`.

    python benchmarks/make_scale_corpus.py --n 10000 --out DIR [--seed 1] [--data ../shared/data]

Writes N documents of about 5 KB of UTF-8 each (~1,700 Chinese characters or ~850 English
words) into DIR (in sub-folders of 1,000 files: ``DIR/000/000000.txt`` …), and the planted pairs
to ``DIR.truth.json`` next to the folder.

The material is the real text in ``../shared/data`` (read once, never copied into the repo):
新闻联播 transcripts (2023), 政府工作报告, State of the Union and inaugural addresses. It is cut
into clauses (at ，。；！？ or , ; . ! ?), long clauses into pieces of at most 24 characters or 6
words, and every generated document is a fresh random mix of them:

- a document is Chinese (80%) or English (20%: there is about a quarter as much English
  material, so pieces of both recur about equally often); it has a made-up header (title,
  date, speaker) and 3–8 paragraphs;
- each paragraph draws its clauses at random from one pool, picked anew per paragraph, so a
  document combines several sources: a pool is a run of consecutive texts of one collection
  (two or three weeks of news, a few years of reports, of addresses) holding at least 8,000
  pieces, so that two paragraphs drawn from the same pool rarely share a piece;
- clauses are rejoined into sentences of 1–4 clauses; numbers are changed at random.

So no paragraph or sentence of the material is repeated as such, and two unrelated documents
share no run of text longer than one clause piece (24 characters / 6 words, below dedup's
default 50-character / 12-word passage) except by rare chance, while the corpus keeps the
vocabulary and stock phrases of real speeches.

About 10% of the documents are planted copies of other (unplanted) documents, each source used
once, so the planted relations do not chain:

- ``near_duplicate`` (5%): a copy with a new header, a few word substitutions (发展→开展,
  nation→country, …) and sometimes a dropped sentence or two swapped paragraphs;
- ``partial`` (5%): a freshly generated document with a 200–600 character passage of another
  document inserted; ``a_span``/``b_span`` are its code-point offsets in the source (a) and
  the copy (b).

Deterministic for a seed: document i depends only on (seed, i) and, for planted documents, on
(seed, N). 100,000 documents (522 MB) take about 30 s (2-core Xeon, 2026).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

VERSION = 2
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"

ZH_TARGET = 1700  # characters of body text (≈5 KB of UTF-8)
EN_TARGET = 5000  # characters (≈ bytes) of body text
ZH_SHARE = 0.8  # the English material is ~3 MB against ~13 MB of Chinese: each piece recurs about as often
NEAR_SHARE = 0.05
PARTIAL_SHARE = 0.05
ZH_PIECE = 24  # longest clause piece, characters
EN_PIECE = 6  # longest clause piece, words
MIN_POOL = 8000  # clause pieces a paragraph draws from, at least


# --------------------------------------------------------------------------- material

_ZH_CLAUSE = re.compile(r"[^，。；！？：,;!?]+[，。；！？：,;!?]?")
_EN_SENTENCE_END = re.compile(r"(?<=[.!?;,:])\s+")
_MARKUP = re.compile(r"\*\*[^*]*\*\*|\[[^\]]*\]\([^)]*\)|\(Applause\.\)|\(Laughter\.\)|THE PRESIDENT:")


@dataclass
class Source:
    name: str
    lang: str  # "zh" or "en"
    pieces: list[str]  # clause pieces, without trailing punctuation


def _zh_pieces(paragraph: str) -> list[str]:
    out = []
    for m in _ZH_CLAUSE.finditer(paragraph):
        clause = m.group().strip().rstrip("，。；！？：,;!?").strip()
        clause = clause.strip("“”\"‘’（）()《》 ")
        for i in range(0, len(clause), ZH_PIECE):
            piece = clause[i : i + ZH_PIECE]
            if len(piece) >= 4:
                out.append(piece)
    return out


def _en_pieces(paragraph: str) -> list[str]:
    out = []
    for clause in _EN_SENTENCE_END.split(paragraph):
        words = clause.strip().rstrip(".!?;,:").strip('"').split()
        for i in range(0, len(words), EN_PIECE):
            piece = words[i : i + EN_PIECE]
            if len(piece) >= 3:
                out.append(" ".join(piece))
    return out


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, wrapped lines joined (one line per paragraph otherwise)."""
    text = text.replace("\r\n", "\n")
    blocks = re.split(r"\n[ \t\u3000]*\n", text)
    if len(blocks) < 3:  # one paragraph a line
        blocks = text.split("\n")
    return [" ".join(b.split("\n")).strip() for b in blocks if b.strip()]


def _group(sources: list[Source], min_pieces: int) -> list[Source]:
    """Consecutive sources joined into pools of at least ``min_pieces`` pieces (a period of news, of reports)."""
    pools: list[Source] = []
    names: list[str] = []
    pieces: list[str] = []
    for src in sources:
        names.append(src.name)
        pieces += src.pieces
        if len(pieces) >= min_pieces:
            pools.append(Source(f"{names[0]}..{names[-1]}", src.lang, pieces))
            names, pieces = [], []
    if pieces:
        if pools:
            last = pools[-1]
            pools[-1] = Source(f"{last.name.split('..')[0]}..{names[-1]}", last.lang, last.pieces + pieces)
        else:
            pools.append(Source(f"{names[0]}..{names[-1]}", sources[0].lang, pieces))
    return pools


def load_material(data: Path) -> dict[str, list[Source]]:
    """Pools of clause pieces by language: each pool joins consecutive texts of one collection
    (a month or so of news, a few reports, the addresses of a few years) into at least
    ``MIN_POOL`` pieces, so that paragraphs drawn from the same pool rarely share a piece."""
    cctv: list[Source] = []
    reports: list[Source] = []
    en: list[Source] = []
    for f in sorted((data / "zh_cctv_xwlb_transcripts_2023").glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        text = text.split("## 详细新闻", 1)[-1]
        lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(("#", "[", "（《新闻联播》"))]
        pieces = [p for para in _paragraphs("\n".join(lines)) for p in _zh_pieces(_MARKUP.sub("", para))]
        if pieces:
            cctv.append(Source(f.stem, "zh", pieces))
    for f in sorted((data / "zh_gov_work_reports_central" / "reports").glob("*.txt")):
        pieces = [p for para in _paragraphs(f.read_text(encoding="utf-8")) if len(para) >= 20 for p in _zh_pieces(para)]
        if pieces:
            reports.append(Source(f.stem, "zh", pieces))
    files = [f for folder in ("en_us_state_of_the_union_nltk", "en_us_inaugural_nltk") for f in (data / folder).glob("*.txt")]
    for f in sorted(files, key=lambda f: (f.name, f.parent.name)):  # by year: addresses of both kinds mixed
        if f.name.lower() == "readme.txt":
            continue
        paras = [p for p in _paragraphs(f.read_text(encoding="utf-8", errors="replace")) if len(p) >= 80]
        pieces = [p for para in paras for p in _en_pieces(_MARKUP.sub("", para))]
        if pieces:
            en.append(Source(f.stem, "en", pieces))
    if not (cctv or reports) or not en:
        raise SystemExit(f"no usable texts found in {data} (see its README.md)")
    return {"zh": _group(cctv, MIN_POOL) + _group(reports, MIN_POOL), "en": _group(en, MIN_POOL)}


# --------------------------------------------------------------------------- headers

_ZH_SPEAKERS = "王建国 李明华 张卫东 刘志强 陈晓东 杨光明 赵红梅 黄永平 周立新 吴国华 徐海涛 孙建平 马德胜 朱文斌 胡春生 郭宏伟 何振华 高云峰 林志远 罗晓燕".split()
_ZH_ORGS = "省人民政府 市委 县委 国务院办公厅 发展改革委 教育厅 科技局 财政厅 商务部 农业农村厅 住房城乡建设局 交通运输厅 卫生健康委 生态环境厅 文化和旅游局".split()
_ZH_EVENTS = "全体会议 工作会议 座谈会 动员大会 推进会 专题会议 表彰大会 经济工作会议 调度会 培训班开班仪式 年度总结会 现场会".split()
_ZH_TOPICS = "经济运行 安全生产 乡村振兴 营商环境 科技创新 生态环境保护 民生保障 招商引资 城市更新 教育发展 党风廉政建设 防汛抗旱 数字经济 对外开放 就业创业".split()
_EN_SPEAKERS = "Senator Hall, Governor Reyes, Mayor Thompson, Secretary Klein, Representative Ortiz, Director Patel, Chairman Brooks, Ambassador Nguyen, President Walsh, Commissioner Baker, Judge Morrison, Dean Carter".split(", ")
_EN_EVENTS = "the Annual Convention, the Economic Club, the National Press Club, the Chamber of Commerce, the Graduating Class, the Veterans Memorial, the State Legislature, the Policy Forum, the Labor Council, the Farm Bureau, the Trade Conference, the Town Hall Meeting".split(", ")
_EN_MONTHS = "January February March April May June July August September October November December".split()


def header(rng: random.Random, lang: str) -> str:
    if lang == "zh":
        year, month, day = rng.randint(1990, 2025), rng.randint(1, 12), rng.randint(1, 28)
        title = rng.choice(
            [
                f"在{rng.choice(_ZH_ORGS)}{rng.choice(_ZH_EVENTS)}上的讲话",
                f"关于{rng.choice(_ZH_TOPICS)}工作的报告",
                f"在{rng.choice(_ZH_TOPICS)}{rng.choice(_ZH_EVENTS)}上的讲话",
                f"{rng.choice(_ZH_TOPICS)}情况的汇报",
            ]
        )
        return f"{title}\n{rng.choice(_ZH_SPEAKERS)}\n（{year}年{month}月{day}日）\n"
    title = rng.choice(["Remarks at", "Address to", "Speech before", "Statement to"]) + " " + rng.choice(_EN_EVENTS)
    date = f"{rng.choice(_EN_MONTHS)} {rng.randint(1, 28)}, {rng.randint(1950, 2025)}"
    return f"{title}\n{rng.choice(_EN_SPEAKERS)}\n{date}\n"


# --------------------------------------------------------------------------- documents

_NUMBER = re.compile(r"\d+")


def _mutate_numbers(text: str, rng: random.Random) -> str:
    def number(m: re.Match) -> str:
        s = m.group()
        if len(s) == 4 and s[:2] in ("19", "20"):  # a year stays a year
            return str(min(2025, max(1950, int(s) + rng.randint(-10, 10))))
        if rng.random() < 0.6:
            return str(rng.randint(10 ** (len(s) - 1) if len(s) > 1 else 1, 10 ** len(s) - 1))
        return s

    return _NUMBER.sub(number, text)


def _zh_sentence(rng: random.Random, pieces: list[str]) -> str:
    k = rng.choice((1, 2, 2, 3, 3, 4))
    return "，".join(rng.choices(pieces, k=k)) + rng.choice("。。。。；！")


def _en_sentence(rng: random.Random, pieces: list[str]) -> str:
    k = rng.choice((1, 2, 2, 3))
    s = ", ".join(rng.choices(pieces, k=k))
    return s[:1].upper() + s[1:] + rng.choice("....;!?")


def body(rng: random.Random, lang: str, material: dict[str, list[Source]], target: int | None = None) -> list[str]:
    """Paragraphs of a new document of about ``target`` characters."""
    sources = material[lang]
    target = target or int((ZH_TARGET if lang == "zh" else EN_TARGET) * rng.uniform(0.8, 1.2))
    n_paras = rng.randint(3, 8)
    per_para = target / n_paras
    sentence = _zh_sentence if lang == "zh" else _en_sentence
    sep = "" if lang == "zh" else " "
    paras = []
    size = 0
    while size < target:
        pieces = rng.choice(sources).pieces
        para_target = min(per_para * rng.uniform(0.6, 1.4), target - size + 20)
        out: list[str] = []
        length = 0
        while length < para_target:
            s = sentence(rng, pieces)
            out.append(s)
            length += len(s) + len(sep)
        para = _mutate_numbers(sep.join(out), rng)
        paras.append(para)
        size += len(para)
    return paras


def render(head: str, paras: list[str]) -> str:
    return head + "\n" + "\n\n".join(paras) + "\n"


def new_document(i: int, seed: int, material: dict[str, list[Source]], lang: str | None = None) -> tuple[str, str, list[str]]:
    """(lang, header, paragraphs) of a new document ``i`` (its language drawn unless given)."""
    rng = random.Random(seed * 1_000_003 + i)
    drawn = "zh" if rng.random() < ZH_SHARE else "en"
    lang = lang or drawn
    return lang, header(rng, lang), body(rng, lang, material)


_ZH_SUBSTITUTIONS = {
    "发展": "开展", "服务": "效劳", "基础": "根底", "巩固": "稳固", "广大": "广阔", "原则": "原那么",
    "督促": "催促", "广播": "播送", "动员": "发动", "加强": "增强", "提高": "提升", "推进": "推动",
    "建设": "构建", "工作": "任务", "经济": "经贸", "重要": "要紧", "坚持": "坚守", "全面": "周全",
}
_EN_SUBSTITUTIONS = {
    "nation": "country", "people": "citizens", "must": "should", "great": "grand", "world": "globe",
    "freedom": "liberty", "government": "administration", "help": "assist", "new": "fresh",
    "years": "decades", "America": "the United States", "work": "labor", "strong": "robust",
    "peace": "harmony", "economy": "markets", "program": "plan", "country": "homeland",
}


def _substitute(paras: list[str], lang: str, rng: random.Random, count: int) -> tuple[list[str], list[str]]:
    table = _ZH_SUBSTITUTIONS if lang == "zh" else _EN_SUBSTITUTIONS
    text = "\n\n".join(paras)
    spots = []
    for old, new in table.items():
        pattern = re.escape(old) if lang == "zh" else rf"\b{re.escape(old)}\b"
        spots += [(m.start(), m.end(), new) for m in re.finditer(pattern, text)]
    spots.sort()
    chosen, last_end = [], -1
    for s in sorted(rng.sample(spots, min(count, len(spots)))):
        if s[0] >= last_end:
            chosen.append(s)
            last_end = s[1]
    done = []
    for start, end, new in reversed(chosen):
        done.append(f"{text[start:end]}→{new}")
        text = text[:start] + new + text[end:]
    return text.split("\n\n"), done[::-1]


_ZH_SENT = re.compile(r"[^。；！]+[。；！]")
_EN_SENT = re.compile(r"[^.;!?]+[.;!?]\s*")


def near_copy(src_lang: str, src_paras: list[str], rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A near-duplicate: new header, a few substituted words, maybe a dropped sentence or swapped paragraphs."""
    edits = ["header"]
    paras = list(src_paras)
    paras, subs = _substitute(paras, src_lang, rng, rng.randint(2, 8))
    if subs:
        edits.append(f"substituted {len(subs)}: " + ", ".join(subs))
    if rng.random() < 0.3:
        k = rng.randrange(len(paras))
        sentences = (_ZH_SENT if src_lang == "zh" else _EN_SENT).findall(paras[k])
        if len(sentences) > 2:
            del sentences[rng.randrange(len(sentences))]
            paras[k] = "".join(sentences).rstrip()
            edits.append("dropped a sentence")
    if rng.random() < 0.3 and len(paras) > 2:
        x, y = rng.sample(range(len(paras)), 2)
        paras[x], paras[y] = paras[y], paras[x]
        edits.append("swapped two paragraphs")
    return header(rng, src_lang), paras, edits


def _cut_points(text: str, lang: str) -> list[int]:
    """Offsets where a copied passage may start or end (after a clause/sentence mark or a space)."""
    marks = "，。；！？\n" if lang == "zh" else ".,;!?\n "
    return [i + 1 for i, c in enumerate(text) if c in marks]


def passage(text: str, body_start: int, lang: str, rng: random.Random) -> tuple[int, int]:
    """A 200–600 character span of ``text`` after its header, cut at clause (zh) or word (en) boundaries."""
    length = rng.randint(200, 600)
    cuts = [c for c in _cut_points(text, lang) if c >= body_start]
    starts = [c for c in cuts if c + length <= len(text)] or [body_start]
    start = rng.choice(starts)
    while start < len(text) and text[start].isspace():
        start += 1
    ends = [c for c in cuts if 200 <= c - start <= 600]
    end = rng.choice(ends) if ends else min(len(text), start + length)
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --------------------------------------------------------------------------- corpus


def doc_path(i: int) -> str:
    return f"{i // 1000:03d}/{i:06d}.txt"


MARKER = ".make_scale_corpus"


def truth_path(out: Path) -> Path:
    return out.parent / f"{out.name}.truth.json"


def plan(n: int, seed: int) -> tuple[dict[int, int], dict[int, int]]:
    """Planted documents: {copy index: source index} for near-duplicates and partials."""
    rng = random.Random(f"plan:{seed}:{n}")
    n_near = round(n * NEAR_SHARE)
    n_partial = round(n * PARTIAL_SHARE)
    planted = rng.sample(range(n), n_near + n_partial)
    base = sorted(set(range(n)) - set(planted))
    sources = rng.sample(base, min(len(base), n_near + n_partial))
    near = dict(zip(planted[:n_near], sources[:n_near]))
    partial = dict(zip(planted[n_near:], sources[n_near:]))
    return near, partial


def generate(n: int, out: Path, *, seed: int = 1, data: Path = DEFAULT_DATA, progress: bool = False) -> dict:
    """Write the corpus and its truth file; returns the truth record."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not truth_path(out).exists() and not (out / MARKER).exists():
            raise SystemExit(f"{out} is not empty and was not made by this script; give a new folder")
        shutil.rmtree(out)
    truth_path(out).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by benchmarks/make_scale_corpus.py\n", encoding="utf-8")  # hidden: not scanned
    material = load_material(Path(data))
    near, partial = plan(n, seed)
    sources = set(near.values()) | set(partial.values())
    kept: dict[int, tuple[str, str, list[str]]] = {}
    made_dirs: set[str] = set()
    total_bytes = 0

    def write(i: int, text: str) -> None:
        nonlocal total_bytes
        rel = doc_path(i)
        folder = rel.split("/", 1)[0]
        if folder not in made_dirs:
            (out / folder).mkdir(exist_ok=True)
            made_dirs.add(folder)
        data_bytes = text.encode("utf-8")
        total_bytes += len(data_bytes)
        with open(out / rel, "wb") as f:
            f.write(data_bytes)

    t0 = time.perf_counter()
    for i in range(n):  # unplanted documents first: the planted ones copy from them
        if i in near or i in partial:
            continue
        doc = new_document(i, seed, material)
        if i in sources:
            kept[i] = doc
        write(i, render(doc[1], doc[2]))
        if progress and i % 10000 == 0 and i:
            print(f"  {i:,} documents, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    pairs = []
    for i in sorted(near):
        src = near[i]
        lang, _, paras = kept[src]
        rng = random.Random(f"near:{seed}:{i}")
        head, new_paras, edits = near_copy(lang, paras, rng)
        write(i, render(head, new_paras))
        pairs.append({"a": doc_path(src), "b": doc_path(i), "relation": "near_duplicate", "lang": lang, "edits": edits})
    for i in sorted(partial):
        src = partial[i]
        s_lang, s_head, s_paras = kept[src]
        s_text = render(s_head, s_paras)
        rng = random.Random(f"partial:{seed}:{i}")
        a0, a1 = passage(s_text, len(s_head) + 1, s_lang, rng)
        copied = s_text[a0:a1]
        lang, head, paras = new_document(i, seed, material, lang=s_lang)
        host = render(head, paras)
        # insert at a paragraph break or a sentence end inside the host's body
        cuts = [m.end() for m in re.finditer(r"\n\n|[。！；]|[.!?;] ", host) if m.end() > len(head) + 1]
        at = rng.choice(cuts) if cuts else len(host)
        sep_before = "" if lang == "zh" or host[at - 1].isspace() else " "
        sep_after = "" if lang == "zh" or host[at : at + 1].isspace() or at == len(host) else " "
        text = host[:at] + sep_before + copied + sep_after + host[at:]
        b0 = at + len(sep_before)
        write(i, text)
        pairs.append(
            {
                "a": doc_path(src), "b": doc_path(i), "relation": "partial", "lang": s_lang,
                "a_span": [a0, a1], "b_span": [b0, b0 + len(copied)], "chars": len(copied),
            }
        )

    truth = {
        "generator": {"script": "make_scale_corpus.py", "version": VERSION, "n": n, "seed": seed},
        "documents": n,
        "bytes": total_bytes,
        "pairs": pairs,
    }
    truth_path(out).write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return {**truth, "seconds": round(time.perf_counter() - t0, 2)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, required=True, help="number of documents")
    ap.add_argument("--out", type=Path, required=True, help="folder to write (truth goes to OUT.truth.json)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (default ../shared/data)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    if not args.data.is_dir():
        ap.error(f"data folder not found: {args.data}")
    truth = generate(args.n, args.out, seed=args.seed, data=args.data, progress=True)
    kinds = {}
    for p in truth["pairs"]:
        kinds[p["relation"]] = kinds.get(p["relation"], 0) + 1
    print(
        f"{args.n:,} documents, {truth['bytes'] / 1e6:.1f} MB in {args.out} ({truth['seconds']} s); "
        f"planted: {kinds}; truth: {truth_path(args.out)}"
    )


if __name__ == "__main__":
    main()
