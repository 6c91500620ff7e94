#!/usr/bin/env python3
"""Build a benchmark corpus from real speeches, with planted copies and its truth file.

Usage::

    python corpus/make_benchmark.py --out benchmarks/_work/bench [--data ../shared/data] [--seed 1] [--scale 4]
    python benchmarks/corpus_quality.py benchmarks/_work/bench

The real texts are read from ``../shared/data`` (relative to the repository root) and
never copied into the repository: write the corpus to a git-ignored folder such as
``benchmarks/_work/``.

Bases
-----
Speech-sized pieces of real texts, cut at paragraph boundaries:

* ``zh/report_YEAR_K.txt``: 2,000-6,000 characters of the 国务院政府工作报告 of YEAR
  (1955-2025; 1954 is in Traditional characters and left out);
* ``en/sotu_YEAR_NAME_K.txt``: 2,500-12,000 characters of a State of the Union address;
* ``en/inaugural_YEAR_NAME_K.txt``: the same of an inaugural address.

Each base gets a synthetic header of three lines (title, speaker, date: "2010年国务院政府
工作报告（第2部分）/ 国务院总理 温家宝 / 2010年3月5日", "State of the Union, 1995 / Bill
Clinton / January 24, 1995"), then an empty line and the paragraphs.

Successive government work reports reuse many sentences, and speeches open with stock
salutations.  Two pieces conflict when they share a run of 16 characters (Chinese;
letters and digits, NFKC, Simplified, case-folded) or 6 words (English), and the opening
pieces of one collection (reports, State of the Union, inaugurals) all conflict with each
other; the bases are a large set of pieces free of conflicts (greedy maximal independent
set, ties broken by the seed: about 85 Chinese and 130 English bases).  So the text two
documents of the corpus share is the planted copies' and the sites' furniture, and a
stock phrase or two (``python benchmarks/quality.py`` lists the pairs reported that the
truth does not list).  ``--scale`` above 4 runs out of Chinese bases.

Planted copies (``--scale`` of each kind and language; a fifth of the copies reuse the
base of an earlier copy, so that two copies of one base make an implied pair):

===================  =====================================================  ==============
kind                 what                                                   relation
===================  =====================================================  ==============
header_changed       title, speaker and date lines replaced                  near_duplicate
download_page        on a document-sharing site (``site/``): furniture,      near_duplicate
                     body re-flowed, page markers, machine word
                     substitutions; every other one saved as .html
spun                 the site's word substitutions only                      near_duplicate
traditional          (zh) OpenCC s2t; every other one in Big5                near_duplicate
reordered            body paragraphs shuffled (first and last stay)          near_duplicate
passage_inserted     150-600 characters / 30-120 words of one base inserted  partial
                     into a copy of another base (``insertion_host``:        (near_duplicate)
                     the copy and its own base)
abridged             60-85 % of the paragraphs kept, in order                near_duplicate
exact_gb18030        (zh) the same text in GB18030                           exact
exact_utf16          the same text in UTF-16 with BOM and CRLF               exact
===================  =====================================================  ==============

Sites: 范文云库 (Chinese, the furniture of ``make_corpus.py``), 公文易 (Chinese, other
furniture and page markers) and SpeechDocs (English, "Page 3 of 8", an English synonym
spinner).  Besides the download pages of bases in the corpus, each site has pages of
bases that are not in the corpus; every two pages of one site that share no copied text
are a negative (``same_site_unrelated``).  At least as many untouched bases as planted
copies are distractors, and ``broken/`` holds the unreadable files of ``make_corpus.py``.

Truth
-----
``truth.json`` has the format of ``corpus/truth.json`` and is computed the same way
(``make_corpus.read_back``, ``truth_cases``, ``check_passages``): from the origin of
every character, so every pair of documents that shares copied material is listed,
including the implied pairs of two copies of one base.  Two runs with the same
``--seed`` and ``--scale`` give byte-identical files.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import shutil
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_corpus as mc  # noqa: E402
from make_corpus import T, Original, Planted  # noqa: E402

#: kinds planted per language, in plan order
KINDS = {
    "zh": ["header_changed", "download_page", "spun", "traditional", "reordered", "passage_inserted", "abridged",
           "exact_gb18030", "exact_utf16"],
    "en": ["header_changed", "download_page", "spun", "reordered", "passage_inserted", "abridged", "exact_utf16"],
}
RELATION = {"passage_inserted": "partial", "exact_gb18030": "exact", "exact_utf16": "exact"}
#: share of copies planted on the base of an earlier copy (implied pairs)
REUSE = 0.2
#: runs no two bases may share: 16 characters (zh) or 6 words (en), letters and digits only
WINDOW = {"zh": 16, "en": 6}
#: piece lengths (characters of the body): target range, and hard limits
PIECE = {"zh": ((2500, 5500), (2000, 6000)), "en": ((4000, 9000), (2500, 12000))}
#: inserted passage: Chinese characters / English words
PASSAGE = {"zh": (150, 600), "en": (30, 120)}

# --------------------------------------------------------------------------- English spinner

EN_SPINNER = {
    "important": "significant",
    "help": "assist",
    "people": "folks",
    "country": "nation",
    "world": "globe",
    "great": "excellent",
    "strong": "robust",
    "problem": "issue",
    "problems": "issues",
    "children": "kids",
    "job": "occupation",
    "jobs": "occupations",
    "need": "require",
    "begin": "commence",
    "use": "utilize",
    "build": "construct",
    "show": "demonstrate",
    "hope": "wish",
    "government": "administration",
    "freedom": "liberty",
    "together": "jointly",
    "today": "nowadays",
    "continue": "carry on",
    "support": "back",
    "increase": "boost",
    "believe": "think",
    "fight": "battle",
    "enough": "sufficient",
    "large": "big",
    "difficult": "hard",
    "quickly": "rapidly",
    "programs": "schemes",
}
_EN_SPIN_RE = r"(?i)\b(?:" + "|".join(sorted(EN_SPINNER, key=len, reverse=True)) + r")\b"


def en_spin(t: T) -> T:
    """The English synonym spinner (whole words, capitalization kept)."""

    def repl(m: re.Match) -> str:
        word = m.group()
        new = EN_SPINNER[word.lower()]
        if word.isupper() and len(word) > 1:
            return new.upper()
        return new[0].upper() + new[1:] if word[0].isupper() else new

    return t.sub(_EN_SPIN_RE, repl)


SPINNERS = {"zh": mc.spin, "en": en_spin}  # the Chinese one is make_corpus.py's (words, half-width punctuation)

# --------------------------------------------------------------------------- sites


@dataclass(frozen=True)
class SiteSpec:
    name: str
    folder: str  # below site/
    lang: str
    site: mc.Site
    negatives: int  # pages of bases that are not in the corpus (at least; see plan)


SITES = [
    SiteSpec("范文云库", "fanwen", "zh", mc.SITE, 3),
    SiteSpec(
        "公文易",
        "gongwen",
        "zh",
        mc.Site(
            head=(
                "公文易 - 公文写作素材平台",
                "首页 > 范文大全 > 讲话致辞",
                "{filename}",
                "本文由会员投稿,仅供学习交流使用,请勿用于商业用途。",
                "关键词:{keywords}",
                "立即下载 | 收藏本文 | 纠错举报",
            ),
            foot=(
                "本文来源于网络,如有侵权请联系本站删除。",
                "上一篇:没有了",
                "下一篇:没有了",
                "相关推荐",
                "公文易 版权所有",
            ),
            lead="{title} 发布者:{name} 发布时间:{date} ",
            page_chars=(900, 1200),
            inline_marker=" -{k}-",
            page_line="第{k}页/共{total}页",
        ),
        4,
    ),
    SiteSpec(
        "SpeechDocs",
        "speechdocs",
        "en",
        mc.Site(
            head=(
                "Share",
                "{filename}",
                "Download",
                "Tips:",
                "1. Formulas, charts and animations may not display completely in the online preview; download the"
                " document to view it in full.",
                "2. This document was uploaded by a user; SpeechDocs only hosts it and the copyright belongs to the"
                " uploader. If you believe it infringes your rights, please contact customer service.",
                "3. Please preview the document before downloading it, and report documents whose content does not"
                " match their title.",
                "4. If a download fails or the file cannot be opened, keep your payment receipt and contact customer"
                " service: we will handle it as soon as possible.",
                "Customer service: support@speechdocs.example",
                "{keywords}",
            ),
            foot=("Revenue from this download goes to the author", "Download", "Documents you may be interested in",
                  "Collapse", "Expand"),
            spinner=en_spin,
            lead="{title} {name} {date} ",
            page_chars=(1800, 2600),
            inline_marker=" - {k} -",
            page_line="Page {k} of {total}",
            cut_at_space=True,
        ),
        3,
    ),
]
#: the site of a language's download_page copies
DOWNLOAD_SITE = {"zh": "fanwen", "en": "speechdocs"}


def page_html(page: mc.SitePage, spec: SiteSpec) -> tuple[T, str]:
    """(intended text, HTML markup) of a page of a site other than 范文云库 (its own markup)."""
    esc = html.escape
    lines = [line.text for line in page.lines]
    n_head = len(spec.site.head)
    head, rest = lines[:n_head], lines[n_head:]
    blank = rest.index("")
    body, foot = rest[:blank], rest[blank + 1 :]
    marker = re.compile(re.escape(spec.site.page_line).replace(r"\{k\}", r"\d+").replace(r"\{total\}", r"\d+"))
    title = next(x for x in head if x.endswith(".docx")).rsplit(".", 1)[0]
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if spec.lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(title)} | {esc(spec.name)}</title>",
        '<link rel="stylesheet" href="/static/site.css">',
        "</head>",
        "<body>",
        '<nav class="top">',
        *[f"<div>{esc(x)}</div>" for x in head],
        "</nav>",
        '<article class="content">',
    ]
    for line in body:
        cls = ' class="page-no"' if marker.fullmatch(line) else ""
        out.append(f"<p{cls}>{esc(line)}</p>")
    out += ["</article>", "<footer>", *[f"<div>{esc(x)}</div>" for x in foot], "</footer>", "</body>", "</html>", ""]
    intended = T.concat([line + T.new("\n") for line in page.lines if line.text])
    return intended, "\n".join(out)


# --------------------------------------------------------------------------- real texts → bases


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202
    import opencc

    return opencc.OpenCC("t2s")


def normalized(text: str) -> str:
    """What the distinctness check compares: NFKC, Simplified, case-folded, letters and digits only."""
    text = _t2s().convert(unicodedata.normalize("NFKC", text)).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def window_hashes(text: str, lang: str) -> set[int]:
    """Hashes of the runs the distinctness check compares: WINDOW[lang] characters (zh) or words (en)."""
    norm = normalized(text) if lang == "zh" else re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold())
    size = WINDOW[lang]
    return {hash(tuple(norm[i : i + size]) if lang == "en" else norm[i : i + size]) for i in range(len(norm) - size + 1)}


ZH_PREMIERS = [(1975, "周恩来"), (1980, "华国锋"), (1987, "赵紫阳"), (1998, "李鹏"), (2003, "朱镕基"),
               (2013, "温家宝"), (2023, "李克强"), (9999, "李强")]
EN_NAMES = {"GWBush": "George W. Bush", "Nixon": "Richard Nixon"}  # files without a "PRESIDENT ...'S" title
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_RE = re.compile(rf"(?:{_MONTHS}) \d{{1,2}}, \d{{4}}")


@dataclass
class Piece:
    key: str
    path: str
    lang: str
    header: list[str]
    paragraphs: list[str]
    sep: str  # between paragraphs
    collection: str  # report, sotu or inaugural
    part: int  # 1 for the opening piece of a speech (salutation, stock opening)

    @property
    def body(self) -> str:
        return self.sep.join(self.paragraphs)

    def original(self) -> Original:
        return Original(self.key, self.path, "\n".join(self.header) + "\n\n" + self.body + "\n", self.lang)


def _lines(text: str) -> tuple[list[str], str]:
    """Non-blank lines (right-stripped) and the paragraph separator of the file."""
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    lines = [line.rstrip() for line in text.split("\n")]
    paras = [line for line in lines if line.strip()]
    sep = "\n\n" if text.count("\n\n") >= len(paras) // 2 else "\n"
    return paras, sep


def _cut(paras: list[str], lang: str, rng: random.Random) -> Iterator[list[str]]:
    """Runs of whole paragraphs of a speech's length."""
    (lo, hi), (least, most) = PIECE[lang]
    cur: list[str] = []
    size = 0
    target = rng.randint(lo, hi)
    for p in paras:
        cur.append(p)
        size += len(p)
        if size >= target:
            if size <= most:
                yield cur
            cur, size, target = [], 0, rng.randint(lo, hi)
    if least <= size <= most:
        yield cur


def candidate_pieces(data: Path, seed: int) -> dict[str, list[Piece]]:
    """All pieces of all real texts, per language (in file order)."""
    out: dict[str, list[Piece]] = {"zh": [], "en": []}
    reports = sorted((data / "zh_gov_work_reports_central" / "reports").glob("*.txt"))
    for f in reports:
        year = int(f.name[:4])
        if year == 1954:  # Traditional characters
            continue
        paras, sep = _lines(f.read_text(encoding="utf-8"))
        premier = next(name for last, name in ZH_PREMIERS if year <= last)
        rng = random.Random(f"{seed}:cut:{f.name}")
        for k, chunk in enumerate(_cut(paras, "zh", rng), start=1):
            header = [f"{year}年国务院政府工作报告（第{k}部分）", f"国务院总理 {premier}", f"{year}年3月5日"]
            out["zh"].append(Piece(f"zh_report_{year}_{k}", f"zh/report_{year}_{k}.txt", "zh", header, chunk, sep,
                                   "report", k))
    for folder, kind in (("en_us_state_of_the_union_nltk", "sotu"), ("en_us_inaugural_nltk", "inaugural")):
        for f in sorted((data / folder).glob("*-*.txt")):
            year, surname = f.stem.split("-")[:2]
            lines = f.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
            top = "\n".join(lines[:3])
            if kind == "sotu":  # drop the file's own title and date lines
                lines = lines[1:]
                while lines and (not lines[0].strip() or _DATE_RE.fullmatch(lines[0].strip())):
                    lines = lines[1:]
            paras, sep = _lines("\n".join(lines))
            m = re.match(r"PRESIDENT (.+?)'S ", top)
            name = m.group(1).title() if m else EN_NAMES.get(surname, re.sub(r"(?<=[a-z])(?=[A-Z])", " ", surname))
            d = _DATE_RE.search(top)
            date = d.group() if d else (f"March 4, {year}" if int(year) < 1937 else f"January 20, {year}")
            if kind == "inaugural":
                date = f"March 4, {year}" if int(year) < 1937 else f"January 20, {year}"
            title = f"State of the Union, {year}" if kind == "sotu" else f"Inaugural Address, {year}"
            rng = random.Random(f"{seed}:cut:{f.name}")
            chunks = list(_cut(paras, "en", rng))
            stem = f"{kind}_{year}_{surname.lower()}" + (f"_{f.stem.split('-')[2]}" if f.stem.count("-") == 2 else "")
            for k, chunk in enumerate(chunks, start=1):
                header = [title, name, date]  # no more shared words than needed: pieces of one speaker are many
                out["en"].append(Piece(f"en_{stem}_{k}", f"en/{stem}_{k}.txt", "en", header, chunk, sep, kind, k))
    return out


def distinct_bases(pieces: list[Piece], lang: str, rng: random.Random) -> list[Piece]:
    """A large set of pieces no two of which share a run (see WINDOW), in a random order.

    Two pieces conflict when they share a run, and two opening pieces of one collection
    always conflict (salutations and stock openings are alike without sharing a run).
    Greedy maximal independent set of the conflict graph: the piece with the fewest
    conflicts left first (ties broken at random), then its neighbours are dropped.
    """
    import numpy as np

    hashes = [np.fromiter(window_hashes(piece.body, lang), dtype=np.int64) for piece in pieces]
    owner = np.repeat(np.arange(len(pieces)), [len(h) for h in hashes])
    hashes = np.concatenate(hashes)
    order = np.argsort(hashes, kind="stable")
    hashes, owner = hashes[order], owner[order]
    same = hashes[1:] == hashes[:-1]
    keep = np.zeros(len(hashes), dtype=bool)
    keep[1:] |= same
    keep[:-1] |= same  # windows of more than one piece (each piece's windows are a set)
    hashes, owner = hashes[keep], owner[keep]
    groups = {tuple(g.tolist()) for g in np.split(owner, np.flatnonzero(np.diff(hashes)) + 1) if len(g)}
    conflicts: list[set[int]] = [set() for _ in pieces]
    for group in groups:
        for i in group:
            conflicts[i].update(group)
    for collection in {piece.collection for piece in pieces}:
        openings = [i for i, piece in enumerate(pieces) if piece.collection == collection and piece.part == 1]
        for i in openings:
            conflicts[i].update(openings)
    for i, c in enumerate(conflicts):
        c.discard(i)
    tie = [rng.random() for _ in pieces]
    alive = set(range(len(pieces)))
    chosen = []
    while alive:
        i = min(alive, key=lambda k: (len(conflicts[k] & alive), tie[k]))
        chosen.append(pieces[i])
        alive -= conflicts[i] | {i}
    chosen.sort(key=lambda piece: piece.key)
    rng.shuffle(chosen)
    return chosen


# --------------------------------------------------------------------------- planting


def paragraph_texts(o: Original) -> list[str]:
    return [o.text[s:e].rstrip("\n") for s, e in o.paragraphs()]


def anchor_in(o: Original, index: int) -> str | None:
    """A substring of paragraph ``index`` of ``o`` found once in ``o`` (for insert_passage)."""
    para = paragraph_texts(o)[index].strip()
    for size in (12, 24, 48, len(para)):
        if o.text.count(para[:size]) == 1:
            return para[:size]
    return None


_SENTENCE_END = re.compile(r"[。！？!?；;][”’\"')）」]*|\.[”’\"')]*(?=\s)|\n")


def pick_passage(o: Original, rng: random.Random) -> tuple[int, int] | None:
    """Whole sentences of the body, not in its first or last paragraph: 150-600 characters (zh) or 30-120 words (en)."""
    lo, hi = PASSAGE[o.lang]
    size = (lambda s: len(re.sub(r"\s", "", s))) if o.lang == "zh" else (lambda s: len(s.split()))
    text = o.text
    paras = o.paragraphs()
    starts = []
    for s in [o.header_end] + [m.end() for m in _SENTENCE_END.finditer(text, o.header_end)]:
        while s < len(text) and text[s].isspace():
            s += 1
        if paras[0][1] <= s < paras[-1][0] and (not starts or starts[-1] != s):
            starts.append(s)
    if not starts:
        return None
    target = rng.randint(lo, hi)
    for _ in range(50):
        start = starts[rng.randrange(len(starts))]
        best = None
        for m in _SENTENCE_END.finditer(text, start):
            n = size(text[start : m.end()])
            if n > hi:
                break
            best = m.end()
            if n >= target:
                break
        if best is not None and size(text[start:best]) >= lo:
            while text[best - 1].isspace():
                best -= 1
            return start, best
    return None


def abridged(o: Original, rng: random.Random) -> T:
    """make_corpus.abridge with 60-85 % of the paragraphs, keeping at least 60 % of the body."""
    body = len(o.text) - o.header_end
    while True:
        t = mc.abridge(o, rng, keep_first=1, keep_last=1, share=rng.uniform(0.6, 0.85))
        if len(t) - o.header_end >= 0.6 * body:
            return t


def traditional_utf8(t: T) -> T:
    import opencc

    converted = opencc.OpenCC("s2t").convert(t.text)
    return t.map_chars(converted)


ZH_PLACES = ["临江市", "安平县", "云岭市", "南溪区", "白沙县", "青川市", "宁远县", "松陵市", "石门县", "长宁县",
             "江华市", "清河县", "丰源区", "桐川市"]
ZH_EVENTS = ["经济工作会议", "全体会议", "领导干部大会", "重点工作推进会", "年度工作务虚会", "半年工作总结大会",
             "高质量发展动员部署会", "民生实事工作会议"]
ZH_ROLES = {"市": ["市长", "副市长", "常务副市长"], "县": ["县长", "副县长"], "区": ["区长", "副区长"]}
ZH_NAMES = ["苏明哲", "郑怀远", "周立群", "邵其峰", "林思远", "赵国栋", "陈志宏", "刘建平", "王海涛", "孙文博",
            "李晓东", "何家宁", "冯一鸣", "韩素英"]
EN_PLACES = ["Harrow Valley", "Port Calder", "Elm Hollow", "Millbrook", "Cedar Ridge", "Fairhaven", "Ashford Lakes",
             "Brinewater", "Stonebridge", "Westmere"]
EN_EVENTS = ["Annual Leadership Forum", "County Economic Summit", "Civic Association Dinner",
             "Chamber of Commerce Luncheon", "Regional Planning Conference", "Founders Day Ceremony",
             "Community Foundation Gala"]
EN_FIRST = ["Gregory", "Celia", "Margaret", "Daniel", "Eleanor", "Thomas", "Ruth", "Samuel", "Helen", "Victor"]
EN_LAST = ["Vance", "Montrose", "Whitcombe", "Hale", "Brennan", "Okafor", "Lindqvist", "Castellano", "Pryce"]
EN_ROLES = ["Mayor of {place}", "Chair of the {place} County Board", "Director of the {place} Civic Trust"]
EN_MONTHS = _MONTHS.split("|")


def fake_header(lang: str, rng: random.Random) -> list[str]:
    if lang == "zh":
        place = rng.choice(ZH_PLACES)
        role = rng.choice(ZH_ROLES[place[-1]])
        return [f"在{place}{rng.choice(ZH_EVENTS)}上的讲话", f"{place}人民政府{role} {rng.choice(ZH_NAMES)}",
                f"{rng.randint(2015, 2024)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"]
    place = rng.choice(EN_PLACES)
    return [f"Remarks at the {rng.choice(EN_EVENTS)}, {place}",
            f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}, {rng.choice(EN_ROLES).format(place=place)}",
            f"{rng.choice(EN_MONTHS)} {rng.randint(1, 28)}, {rng.randint(2010, 2024)}"]


def site_page_of(o: Original, spec: SiteSpec, rng: random.Random, n: int) -> tuple[str, T, bytes]:
    """(path, intended text, bytes) of page ``n`` of ``spec`` showing ``o``; every other page is .html."""
    year = rng.randint(2019, 2024)
    title = o.header()[0]
    if spec.lang == "zh":
        core = re.sub(r"（.*?）|\d+年", "", title)
        filename = f"{year}年{core}{rng.choice(['', '(最新)', '(完整版)', '范文', '1'])}.docx"
        keywords = f"{year} {core} 全文 讲话稿 范文"
        date = f"{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
    else:
        core = re.sub(r",? \d{4}.*", "", title)
        filename = f"{core} {year} {rng.choice(['', 'full text', 'transcript', 'speech'])}".strip() + ".docx"
        keywords = f"{year} {core.lower()} speech transcript president"
        date = f"{rng.choice(EN_MONTHS)} {rng.randint(1, 28)}, {year}"
    page = mc.site_page(o, rng, filename=filename, keywords=keywords, date=date, site=spec.site)
    fmt = "html" if n % 2 == 0 else "txt"
    path = f"site/{spec.folder}/{o.key}.{fmt}"
    if fmt == "txt":
        t = mc.site_txt(page)
        return path, t, t.text.encode("utf-8")
    if spec.site is mc.SITE:
        t, markup = mc.site_html(page)
    else:
        t, markup = page_html(page, spec)
    return path, t, markup.encode("utf-8")


@dataclass
class Plan:
    bases: dict[str, Original] = field(default_factory=dict)  # in the corpus (copied or distractors)
    planted: list[Planted] = field(default_factory=list)
    site_of: dict[str, str] = field(default_factory=dict)  # page path -> site folder
    distractors: list[str] = field(default_factory=list)


def suitable(kind: str, o: Original) -> bool:
    n = len(o.paragraphs())
    if kind == "reordered":
        return n >= 8
    if kind == "abridged":
        return 8 <= n <= 30
    if kind in ("passage_inserted", "host"):
        return n >= 5
    if kind == "download_page":
        return n >= 2
    return True


def plan(data: Path, seed: int, scale: int) -> Plan:
    pieces = candidate_pieces(data, seed)
    out = Plan()

    def rng(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    for lang in ("zh", "en"):
        fresh = iter(distinct_bases(pieces[lang], lang, rng(f"bases:{lang}")))
        spare: list[Original] = []  # fresh bases passed over by a kind they do not suit

        def take(kind: str) -> Original:
            for i, o in enumerate(spare):
                if suitable(kind, o):
                    return spare.pop(i)
            for piece in fresh:
                o = piece.original()
                if suitable(kind, o):
                    return o
                spare.append(o)
            raise SystemExit(f"not enough distinct {lang} bases for scale {scale}")

        def add(path: str, t: T, data_: bytes, sources: dict, **kw) -> None:  # noqa: ANN003
            for key in sources:
                out.bases.setdefault(key, used[key])
            out.planted.append(Planted(path, lang, t, data_, sources, **kw))

        used: dict[str, Original] = {}  # bases with copies
        kinds_of: dict[str, set[str]] = {}  # base key -> kinds planted on it
        pick = rng(f"reuse:{lang}")
        n_page = 0
        for i in range(scale):
            for kind in KINDS[lang]:
                r = rng(f"{lang}:{kind}:{i}")
                case_id = f"{lang}-{kind.replace('_', '-')}-{i + 1}"
                # the base: an earlier copy's base now and then (implied pairs), else a fresh one
                reusable = [k for k, ks in kinds_of.items() if len(ks) < 2 and kind not in ks and suitable(kind, used[k])
                            and not (ks & {"download_page"} and kind == "download_page")]
                if reusable and pick.random() < REUSE:
                    o = used[pick.choice(sorted(reusable))]
                else:
                    o = take(kind)
                used[o.key] = o
                kinds_of.setdefault(o.key, set()).add(kind)
                rel = RELATION.get(kind, "near_duplicate")
                src = {o.key: (case_id, kind, rel)}
                stem = f"planted/{o.key}"
                if kind == "header_changed":
                    t = mc.header_changed(o, fake_header(lang, r))
                    add(f"{stem}_header_changed.txt", t, t.text.encode("utf-8"), src)
                elif kind == "download_page":
                    spec = next(s for s in SITES if s.folder == DOWNLOAD_SITE[lang])
                    path, t, data_ = site_page_of(o, spec, r, n_page)
                    n_page += 1
                    add(path, t, data_, src, site=True)
                    out.site_of[path] = spec.folder
                elif kind == "spun":
                    t = SPINNERS[lang](o.tracked)
                    add(f"{stem}_spun.txt", t, t.text.encode("utf-8"), src)
                elif kind == "traditional":
                    t = None
                    if i % 2 == 0:
                        try:
                            t = mc.body_only(o, mc.to_traditional_big5(o.tracked))
                            add(f"{stem}_traditional_big5.txt", t, t.text.encode("big5"), src)
                        except (ValueError, UnicodeEncodeError):
                            t = None
                    if t is None:
                        t = mc.body_only(o, traditional_utf8(o.tracked))
                        add(f"{stem}_traditional.txt", t, t.text.encode("utf-8"), src)
                elif kind == "reordered":
                    t = mc.reorder_paragraphs(o, r, keep_first=1, keep_last=1)
                    add(f"{stem}_reordered.txt", t, t.text.encode("utf-8"), src)
                elif kind == "abridged":
                    t = abridged(o, r)
                    add(f"{stem}_abridged.txt", t, t.text.encode("utf-8"), src)
                elif kind == "exact_gb18030":
                    t = mc.body_only(o, o.tracked)
                    add(f"{stem}_exact_gb18030.txt", t, t.text.encode("gb18030"), src, exact_of=o.key)
                elif kind == "exact_utf16":
                    t = mc.crlf(mc.body_only(o, o.tracked))
                    add(f"{stem}_exact_utf16.txt", t, b"\xff\xfe" + t.text.encode("utf-16-le"), src, exact_of=o.key)
                elif kind == "passage_inserted":
                    # o is the host; the passage comes from another base (sometimes one with a copy)
                    others = [k for k in sorted(used) if k != o.key and suitable("passage_inserted", used[k])]
                    source = used[pick.choice(others)] if others and pick.random() < REUSE else take(kind)
                    used[source.key] = source
                    span = pick_passage(source, r)
                    while span is None:
                        source = take(kind)
                        used[source.key] = source
                        span = pick_passage(source, r)
                    paras = o.paragraphs()
                    candidates = list(range(1, len(paras) - 1))
                    r.shuffle(candidates)
                    after = next(a for j in candidates if (a := anchor_in(o, j)))
                    t = mc.insert_passage(o, after, source, span, inline=r.random() < 0.5)
                    src = {source.key: (case_id, kind, "partial"),
                           o.key: (f"{case_id}-host", "insertion_host", "near_duplicate")}
                    add(f"{stem}_with_{source.key}_passage.txt", t, t.text.encode("utf-8"), src)
                else:
                    raise AssertionError(kind)

        # distractors: as many untouched bases as copies
        n_copies = sum(1 for p in out.planted if p.lang == lang)
        for _ in range(n_copies):
            o = take("distractor")
            out.bases[o.key] = o
            out.distractors.append(o.path)
        # pages of bases that are not in the corpus (only furniture in common with other pages)
        for spec in SITES:
            if spec.lang != lang:
                continue
            on_site = sum(1 for s in out.site_of.values() if s == spec.folder)
            for n in range(max(spec.negatives, 7 - on_site) if spec.folder == "fanwen" else spec.negatives):
                o = take("download_page")
                path, t, data_ = site_page_of(o, spec, rng(f"page:{spec.folder}:{n}"), on_site + n)
                out.planted.append(Planted(path, lang, t, data_, {}, site=True))
                out.site_of[path] = spec.folder
    return out


# --------------------------------------------------------------------------- truth


def min_ratio(case: dict) -> float:
    """Passage check threshold: lower where a spinner or page markers changed the text."""
    changed = any(case[s].startswith("site/") or "_spun" in case[s] for s in ("a", "b"))
    return 70.0 if changed else 95.0


GENERATED = ("zh", "en", "planted", "site", "broken", "truth.json")


def build(out: Path, *, data: Path = DEFAULT_DATA, seed: int = 1, scale: int = 4) -> dict:
    if scale < 1:
        raise SystemExit("--scale must be at least 1")
    if not data.is_dir():
        raise SystemExit(f"real texts not found: {data}")
    if out.exists() and any(out.iterdir()) and not (out / "truth.json").exists():
        raise SystemExit(f"{out} is not empty and holds no truth.json: not overwriting it")
    for name in GENERATED:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()

    p = plan(data, seed, scale)
    originals = dict(sorted(p.bases.items(), key=lambda kv: kv[1].path))
    files = {o.path: o.text.encode("utf-8") for o in originals.values()}
    files |= {q.path: q.data for q in p.planted}
    files |= mc.broken_files()
    assert len(files) == len(originals) + len(p.planted) + len(mc.BROKEN), "two documents with one path"
    for rel, content in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(content)

    docs = mc.read_back(out, originals, p.planted)
    mc.warn_if_broken_readable(out)
    cases = mc.truth_cases(originals, p.planted, docs)

    # negatives: every two pages of one site that share no copied text
    runs = {path: mc.runs_of(docs[path][0]) for path in p.site_of}
    negatives = []
    for spec in SITES:
        pages = [q.path for q in p.planted if p.site_of.get(q.path) == spec.folder]
        for a, b in combinations(pages, 2):
            if not mc.shared_runs(runs[a], runs[b]):
                negatives.append({"id": f"{spec.lang}-same-site-negative-{len(negatives) + 1}",
                                  "kind": "same_site_unrelated", "a": a, "b": b})

    mc.check_passages(cases, docs, min_ratio)
    truth = {"version": 1, "cases": cases, "negatives": negatives, "skipped": list(mc.BROKEN)}
    (out / "truth.json").write_bytes((json.dumps(truth, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="corpus folder to write (e.g. benchmarks/_work/bench)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the real texts (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    parser.add_argument("--scale", type=int, default=4,
                        help="copies of each kind per language (default: %(default)s, about 200 documents)")
    args = parser.parse_args(argv)
    truth = build(args.out, data=args.data, seed=args.seed, scale=args.scale)
    n_docs = sum(1 for q in args.out.rglob("*") if q.suffix in (".txt", ".docx", ".pdf", ".html"))
    langs = {lang: sum(1 for q in args.out.rglob("*") if q.is_file() and q.relative_to(args.out).parts[0] == lang)
             for lang in ("zh", "en")}
    print(f"{args.out}: {n_docs} files ({langs['zh']} zh and {langs['en']} en bases), {len(truth['cases'])} cases, "
          f"{len(truth['negatives'])} negatives, {len(truth['skipped'])} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
