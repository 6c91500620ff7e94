#!/usr/bin/env python3
"""Build the planted part of the bundled demo corpus and its truth file.

Usage::

    python corpus/make_corpus.py             # writes into corpus/ (next to this file)
    python corpus/make_corpus.py --out DIR   # writes a complete copy of the corpus into DIR

The corpus
----------
``zh/`` (10 speeches) and ``en/`` (7 speeches) hold original speeches written for
this project: fictional places and people, the formulaic register of real
讲话稿/致辞/工作报告 (so unrelated speeches share stock phrases), but no paragraph or
long sentence shared between two originals.  Each original starts with three
header lines (title, speaker, date); the body runs from the salutation
(同志们： / "Good morning, ...") to the closing (谢谢大家！ / "Thank you.").

This script reads the originals and writes, deterministically (every random
choice comes from ``random.Random`` seeded with ``SEED`` and the case name;
the .docx zip entries and the PDF carry fixed dates, so two runs give
byte-identical files):

* ``planted/``  copies of originals with a planted transformation: changed
  header, reordered sections/paragraphs, Traditional characters in Big5,
  inserted passages, abridged copies, exact copies in GB18030 and UTF-16
  (BOM + CRLF), a .docx and a .pdf copy;
* ``site/``     pages of a fictional document-sharing site ("范文云库") wrapping
  speeches in the same page furniture (分享 / file name / 下载文档 / 温馨提示 with
  four notices / 网站客服 / keyword line, and a footer).  The body is re-flowed
  into long lines, page markers are inserted every 600-800 characters
  ("—3—" inline, "第3页 共8页" lines), full-width ，：；（） become ASCII and the
  site's word spinner is applied (服务→效劳, 发展→开展, 基础→根底, 巩固→稳固,
  广大→广阔, 原则→原那么, 督促→催促, 广播→播送, 动员→发动, 创建→创立, 基本→根本,
  ”→〞), as on the real page in ../shared/data/seed/;
* ``broken/``   files that cannot be read: a corrupt .pdf, a .docx that is not
  a zip archive and an empty .txt;
* ``truth.json`` the planted cases, negatives and skipped files.

Truth
-----
Every generated text carries, character by character, the position in the
original it was copied from (or nothing, for new text such as a changed
header, page furniture or page markers).  The truth is computed from these
origins, so it is complete: every pair of documents that shares copied
material is listed in ``cases``, including the pairs implied by two copies of
the same original (``kind: "implied"``; ``a`` is then the first copy, ``via``
the common original).  By convention header lines are not counted as copied
for header_changed, download_page, traditional, docx, pdf and exact cases, so
their passage spans the body from the salutation to the end of the closing.

Offsets are code-point offsets into the text as ``dedup.ingest.read_document``
returns it (for .txt: decoded, BOM removed, line endings kept; for
.docx/.pdf/.html: the extracted text).  The script reads every written file
back, maps the spans through an alignment of the intended text with the text
read back, and checks each passage before writing the truth.

``truth.json``::

    {"version": 1,
     "cases": [{"id", "kind", "lang", "a", "b", "relation",
                "passages": [{"a_start", "a_end", "b_start", "b_end"}], ...}],
     "negatives": [{"id", "kind", "a", "b"}],
     "skipped": ["broken/corrupt.pdf", ...]}

Paths are relative to the corpus folder with "/" separators.
"""

from __future__ import annotations

import argparse
import bisect
import html
import io
import json
import random
import re
import shutil
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

SEED = 20240607
HERE = Path(__file__).resolve().parent

#: largest jump in original offsets inside one copied run (a dropped newline, 原则→原那么)
MAX_ORIG_JUMP = 4
#: longest stretch of new text (page markers) that does not interrupt a copied run
MAX_NEW_GAP = 24
#: shortest shared stretch (in original characters) reported as a passage
MIN_SHARED = 30
#: coverage of the better-covered document that makes an implied pair a near-duplicate
NEAR_DUPLICATE_COVERAGE = 0.8

SPINNER = {
    "服务": "效劳",
    "发展": "开展",
    "基础": "根底",
    "巩固": "稳固",
    "广大": "广阔",
    "原则": "原那么",
    "督促": "催促",
    "广播": "播送",
    "动员": "发动",
    "创建": "创立",
    "基本": "根本",
    "”": "〞",
}
HALF_WIDTH = {"，": ",", "：": ":", "；": ";", "（": "(", "）": ")"}

SITE_NAME = "范文云库"
SITE_HEAD = [
    "分享",
    "{filename}",
    "下载文档",
    "温馨提示:",
    "1. 文档中的公式、图表或动画在网页预览时可能显示不完整,下载后即可正常查看,请放心下载。",
    f"2. 本文档由网友上传分享,版权归上传者所有,{SITE_NAME}仅负责整理发布。如您认为本文档侵犯了您的权益,请及时与客服联系。",
    "3. 下载前请先预览文档内容,确认符合您的需要后再下载;如发现文档内容与标题不一致,可向本站举报。",
    "4. 如因网络不稳定等原因下载失败或文件无法打开,请保留付款记录并联系客服,我们将尽快为您处理。",
    "网站客服:2851096473",
    "{keywords}",
]
SITE_FOOT = ["此文档下载收益归作者所有", "下载文档", "你可能关注的文档", "收起", "展开"]

SENTENCE_END = "。！？；!?;."


# --------------------------------------------------------------------------- tracked text


class T:
    """Text whose every character knows its origin: ``(original key, offset)`` or None."""

    __slots__ = ("text", "src")

    def __init__(self, text: str, src: list) -> None:
        assert len(text) == len(src)
        self.text = text
        self.src = src

    @staticmethod
    def orig(key: str, text: str) -> T:
        return T(text, [(key, i) for i in range(len(text))])

    @staticmethod
    def new(text: str) -> T:
        return T(text, [None] * len(text))

    def __add__(self, other: T) -> T:
        return T(self.text + other.text, self.src + other.src)

    def __getitem__(self, sl: slice) -> T:
        return T(self.text[sl], self.src[sl])

    def __len__(self) -> int:
        return len(self.text)

    @staticmethod
    def concat(parts: list[T]) -> T:
        return T("".join(p.text for p in parts), [s for p in parts for s in p.src])

    def untracked(self, start: int = 0, end: int | None = None) -> T:
        end = len(self) if end is None else end
        return T(self.text, self.src[:start] + [None] * (end - start) + self.src[end:])

    def sub(self, pattern: str, repl) -> T:  # noqa: ANN001 (str or callable)
        """re.sub; replacement character j inherits the origin of matched character min(j, len-1)."""
        out: list[T] = []
        pos = 0
        for m in re.finditer(pattern, self.text):
            new = repl(m) if callable(repl) else m.expand(repl)
            out.append(self[pos : m.start()])
            span = self.src[m.start() : m.end()]
            src = [span[min(j, len(span) - 1)] for j in range(len(new))] if span else [None] * len(new)
            out.append(T(new, src))
            pos = m.end()
        out.append(self[pos:])
        return T.concat(out)

    def map_chars(self, converted: str) -> T:
        assert len(converted) == len(self.text)
        return T(converted, list(self.src))


# --------------------------------------------------------------------------- originals


@dataclass
class Original:
    key: str
    path: str  # relative to the corpus folder
    text: str
    lang: str
    lines: list[tuple[int, int]] = field(default_factory=list)  # (start, end) of each line, without "\n"

    def __post_init__(self) -> None:
        pos = 0
        for line in self.text.split("\n"):
            self.lines.append((pos, pos + len(line)))
            pos += len(line) + 1

    @property
    def tracked(self) -> T:
        return T.orig(self.key, self.text)

    @property
    def header_end(self) -> int:
        """Offset just after the third line (title, speaker, date)."""
        return self.lines[2][1] + 1

    def header(self) -> list[str]:
        return [self.text[s:e] for s, e in self.lines[:3]]

    def paragraphs(self) -> list[tuple[int, int]]:
        """(start, end) of the body paragraphs; end includes the newlines up to the next one."""
        starts = [s for s, e in self.lines if s >= self.header_end and e > s]
        ends = starts[1:] + [len(self.text)]
        return list(zip(starts, ends))

    def find(self, needle: str) -> int:
        assert self.text.count(needle) == 1, (self.key, needle)
        return self.text.index(needle)

    def paragraph_containing(self, needle: str) -> int:
        at = self.find(needle)
        return next(i for i, (s, e) in enumerate(self.paragraphs()) if s <= at < e)

    def pick_passage(self, anchor: str, *, chars: int = 0, words: int = 0) -> tuple[int, int]:
        """Whole sentences from ``anchor`` on until at least ``chars`` characters or ``words`` words."""
        start = self.find(anchor)
        end = start
        line_end = self.text.index("\n", start)
        while end < line_end:
            nxt = end
            while nxt < line_end and self.text[nxt] not in SENTENCE_END:
                nxt += 1
            end = min(nxt + 1, line_end)
            piece = self.text[start:end]
            if (chars and len(piece) >= chars) or (words and len(piece.split()) >= words):
                break
        return start, end


def load_originals(root: Path) -> dict[str, Original]:
    originals: dict[str, Original] = {}
    for lang in ("zh", "en"):
        for path in sorted((root / lang).glob("*.txt")):
            key = f"{lang}{path.name[:2]}"
            text = path.read_bytes().decode("utf-8")
            originals[key] = Original(key, f"{lang}/{path.name}", text, lang)
    return originals


# --------------------------------------------------------------------------- transformations


def header_changed(o: Original, new_header: list[str]) -> T:
    return T.new("\n".join(new_header) + "\n") + o.tracked[o.header_end :]


def body_only(o: Original, t: T) -> T:
    """Forget the origin of the header lines (truth convention: the copied body)."""
    return t.untracked(0, o.header_end)


def spin(t: T) -> T:
    words = sorted(SPINNER, key=len, reverse=True)
    t = t.sub("|".join(map(re.escape, words)), lambda m: SPINNER[m.group()])
    return t.sub("[" + "".join(HALF_WIDTH) + "]", lambda m: HALF_WIDTH[m.group()])


def to_traditional_big5(t: T) -> T:
    """OpenCC "s2t"; characters Big5 cannot encode take the "s2tw" form (〇 becomes ○)."""
    import opencc

    s2t = opencc.OpenCC("s2t").convert(t.text)
    s2tw = opencc.OpenCC("s2tw").convert(t.text)
    assert len(s2t) == len(t.text) == len(s2tw)
    out = []
    for a, b in zip(s2t, s2tw):
        for candidate in (a, b, {"〇": "○"}.get(a, a)):
            try:
                candidate.encode("big5")
            except UnicodeEncodeError:
                continue
            out.append(candidate)
            break
        else:
            raise ValueError(f"cannot encode {a!r} in Big5")
    return t.map_chars("".join(out))


def no_adjacent_shuffle(rng: random.Random, n: int) -> list[int]:
    """A permutation of range(n) where no i is followed by i+1, not starting with 0 or ending with n-1."""
    while True:
        perm = list(range(n))
        rng.shuffle(perm)
        if perm[0] != 0 and perm[-1] != n - 1 and all(b != a + 1 for a, b in zip(perm, perm[1:])):
            return perm


def reorder_sections(o: Original, rng: random.Random, n_closing: int) -> T:
    """Shuffle the numbered sections (一、…) and renumber them; intro and closing stay."""
    paras = o.paragraphs()
    heads = [i for i, (s, e) in enumerate(paras) if re.match("[一二三四五六七八九十]+、", o.text[s:e])]
    close = len(paras) - n_closing
    bounds = heads + [close]
    sections = [(paras[a][0], paras[b][0]) for a, b in zip(bounds, bounds[1:])]
    perm = no_adjacent_shuffle(rng, len(sections))
    numerals = "一二三四五六七八九十"
    t = o.tracked
    parts = [t[: sections[0][0]]]
    for new_pos, old in enumerate(perm):
        s, e = sections[old]
        block = t[s:e]
        n = len(re.match("[一二三四五六七八九十]+", block.text).group())
        parts.append(T(numerals[new_pos], [block.src[0]]) + block[n:])
    parts.append(t[paras[close][0] :])
    return T.concat(parts)


def reorder_paragraphs(o: Original, rng: random.Random, keep_first: int, keep_last: int) -> T:
    paras = o.paragraphs()
    middle = paras[keep_first : len(paras) - keep_last]
    perm = no_adjacent_shuffle(rng, len(middle))
    t = o.tracked
    parts = [t[: middle[0][0]]] + [t[middle[i][0] : middle[i][1]] for i in perm] + [t[middle[-1][1] :]]
    return T.concat(parts)


def abridge(o: Original, rng: random.Random, keep_first: int, keep_last: int, share: float) -> T:
    """Keep about ``share`` of the paragraphs, in order; the first and last ones always."""
    paras = o.paragraphs()
    middle = list(range(keep_first, len(paras) - keep_last))
    n_drop = round(len(paras) * (1 - share))
    while True:
        dropped = set(rng.sample(middle, n_drop))
        if all(i + 1 not in dropped for i in dropped):  # every gap is one paragraph: more passages
            break
    t = o.tracked
    parts = [t[: paras[0][0]]] + [t[s:e] for i, (s, e) in enumerate(paras) if i not in dropped]
    return T.concat(parts)


def insert_passage(host: Original, after: str, source: Original, span: tuple[int, int], *, inline: bool) -> T:
    """Insert source[span] after the paragraph of ``host`` containing ``after``.

    ``inline``: append to that paragraph; else add it as a paragraph of its own.
    """
    t = host.tracked
    passage = source.tracked[span[0] : span[1]]
    s, e = host.paragraphs()[host.paragraph_containing(after)]
    line_end = host.text.index("\n", s)
    if inline:
        sep = T.new(" ") if host.lang == "en" else T.new("")
        return t[:line_end] + sep + passage + t[line_end:]
    gap = host.text[line_end:e]  # "\n" or "\n\n"
    return t[:e] + passage + T.new(gap) + t[e:]


def crlf(t: T) -> T:
    return t.sub("\n", "\r\n")


# --------------------------------------------------------------------------- the download site


@dataclass
class SitePage:
    lines: list[T]  # the page as text lines (furniture untracked)


@dataclass(frozen=True)
class Site:
    """A document-sharing site: its furniture, word spinner and page layout (the default is 范文云库)."""

    head: tuple[str, ...] = tuple(SITE_HEAD)  # lines before the body; {filename} and {keywords} are filled in
    foot: tuple[str, ...] = tuple(SITE_FOOT)  # lines after the body (after an empty line)
    spinner: Callable[[T], T] = spin
    lead: str = "{title}1 {title} {name} {date} "  # new text opening the body ({title} is spun)
    page_chars: tuple[int, int] = (600, 800)  # page length range, in characters of the body stream
    inline_marker: str = " —{k}—"  # page marker appended to the text at the end of page k
    page_line: str = "第{k}页 共{total}页"  # line added after page k (half of the pages, and the last one)
    cut_at_space: bool = False  # move each page cut to the next space (no word cut in two)


SITE = Site()


def site_page(o: Original, rng: random.Random, *, filename: str, keywords: str, date: str, site: Site = SITE) -> SitePage:
    title, speaker, _ = o.header()
    name = speaker.split()[-1]
    spun_title = site.spinner(T.new(title)).text
    head = T.new(site.lead.format(title=spun_title, name=name, date=date))
    # re-flow: paragraphs joined by one space, then the spinner
    paras = [o.tracked[s:e] for s, e in o.paragraphs()]
    stream = T.concat([T.concat([p[: len(p.text.rstrip("\n"))], T.new(" ")]) for p in paras])
    stream = site.spinner(stream[: len(stream) - 1])
    # pages of 600-800 characters (site.page_chars)
    cuts = []
    pos = 0
    while True:
        pos += rng.randint(*site.page_chars)
        if site.cut_at_space:
            while pos < len(stream) and not stream.text[pos].isspace():
                pos += 1
        if pos >= len(stream) - 150:
            break
        cuts.append(pos)
    total = len(cuts) + 1
    lines: list[T] = []
    current = head
    prev = 0
    for k, cut in enumerate(cuts, start=1):
        current = current + stream[prev:cut] + T.new(site.inline_marker.format(k=k, total=total))
        prev = cut
        if rng.random() < 0.5:
            lines.append(current)
            lines.append(T.new(site.page_line.format(k=k, total=total)))
            current = T.new("")
    current = current + stream[prev:] + T.new(site.inline_marker.format(k=total, total=total))
    lines.append(current)
    lines.append(T.new(site.page_line.format(k=total, total=total)))
    furniture = [T.new(x.format(filename=filename, keywords=keywords)) for x in site.head]
    return SitePage(furniture + lines + [T.new("")] + [T.new(x) for x in site.foot])


def site_txt(page: SitePage) -> T:
    return T.concat([line + T.new("\n") for line in page.lines])


def site_html(page: SitePage) -> tuple[T, str]:
    """(intended text, HTML markup) of a site page."""
    esc = html.escape
    lines = [line.text for line in page.lines]
    n_head = len(SITE_HEAD)
    head, rest = lines[:n_head], lines[n_head:]
    body, foot = rest[: rest.index("")], rest[rest.index("") + 1 :]
    title = head[1].rsplit(".", 1)[0]
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(title)} - {SITE_NAME}</title>",
        "<style>body{font-family:sans-serif;max-width:960px;margin:auto}.pg{color:#999;text-align:center}"
        ".btn{background:#e33;color:#fff;padding:4px 12px}</style>",
        '<script>var pageConfig = {docType: "docx", pageCount: 0};</script>',
        "</head>",
        "<body>",
        '<div class="doc-head">',
        f'<span class="share">{esc(head[0])}</span>',
        f"<h1>{esc(head[1])}</h1>",
        f'<a class="btn" href="#download">{esc(head[2])}</a>',
        '<div class="tips">',
        *[f"<p>{esc(x)}</p>" for x in head[3:8]],
        "</div>",
        f'<p class="service">{esc(head[8])}</p>',
        f'<p class="keywords">{esc(head[9])}</p>',
        "</div>",
        '<div class="doc-body">',
    ]
    for line in body:
        if re.fullmatch(r"第\d+页 共\d+页", line):
            out.append(f'<div class="pg">{esc(line)}</div>')
        else:
            out.append(f"<p>{esc(line)}</p>")
    out += [
        "</div>",
        '<div class="doc-foot">',
        f"<p>{esc(foot[0])}</p>",
        f'<a class="btn" href="#download">{esc(foot[1])}</a>',
        f"<h3>{esc(foot[2])}</h3>",
        f"<span>{esc(foot[3])}</span> <span>{esc(foot[4])}</span>",
        "</div>",
        "</body>",
        "</html>",
        "",
    ]
    intended = T.concat([line + T.new("\n") for line in page.lines if line.text])
    return intended, "\n".join(out)


# --------------------------------------------------------------------------- writers


def docx_bytes(lines: list[str]) -> bytes:
    """A .docx with one paragraph per line and fixed zip dates/properties."""
    import datetime

    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    props = document.core_properties
    fixed = datetime.datetime(2024, 1, 1, 0, 0, 0)
    props.author = props.last_modified_by = "user"
    props.created = props.modified = fixed
    props.revision = 1
    buf = io.BytesIO()
    document.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed_info = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed_info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed_info, src.read(info.filename))
    return out.getvalue()


def pdf_bytes(lines: list[str]) -> bytes:
    """A Helvetica PDF with wrapped lines (reportlab, invariant mode: no dates, fixed id)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle("speech")
    width, height = A4
    margin, size, leading = 64, 11, 15
    y = height - margin
    for line in lines:
        wrapped = simpleSplit(line, "Helvetica", size, width - 2 * margin) if line else [""]
        for piece in wrapped:
            if y < margin:
                c.showPage()
                y = height - margin
            c.setFont("Helvetica", size)
            c.drawString(margin, y, piece)
            y -= leading
    c.showPage()
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------------- provenance → passages


@dataclass
class Run:
    key: str
    pos: list[int]  # positions in the intended text
    off: list[int]  # origin offsets, non-decreasing


def runs_of(t: T) -> list[Run]:
    runs: list[Run] = []
    cur: Run | None = None
    last_pos = -(10**9)
    for i, s in enumerate(t.src):
        if s is None:
            continue
        key, off = s
        if (
            cur is not None
            and cur.key == key
            and 0 <= off - cur.off[-1] <= MAX_ORIG_JUMP
            and i - last_pos - 1 <= MAX_NEW_GAP
        ):
            cur.pos.append(i)
            cur.off.append(off)
        else:
            cur = Run(key, [i], [off])
            runs.append(cur)
        last_pos = i
    return runs


def shared(x: T, y: T) -> list[tuple[str, int, int, int, int]]:
    """(key, x_start, x_end, y_start, y_end) for every stretch both copied from the same original."""
    return shared_runs(runs_of(x), runs_of(y))


def shared_runs(runs_x: list[Run], runs_y: list[Run]) -> list[tuple[str, int, int, int, int]]:
    """:func:`shared` from the runs of both texts (``runs_of``)."""
    out = []
    for rx in runs_x:
        for ry in runs_y:
            if rx.key != ry.key:
                continue
            lo = max(rx.off[0], ry.off[0])
            hi = min(rx.off[-1], ry.off[-1])
            if hi - lo + 1 < MIN_SHARED:
                continue
            spans = []
            for r in (rx, ry):
                i = bisect.bisect_left(r.off, lo)
                j = bisect.bisect_right(r.off, hi) - 1
                spans.append((r.pos[i], r.pos[j] + 1))
            out.append((rx.key, spans[0][0], spans[0][1], spans[1][0], spans[1][1]))
    return out


class OffsetMap:
    """Maps spans of the intended text to the text read back (identical, or aligned with Indel)."""

    def __init__(self, intended: str, read: str) -> None:
        self.same = intended == read
        if self.same:
            return
        from rapidfuzz.distance import Indel

        self.src: list[int] = []
        self.dst: list[int] = []
        for tag, i1, i2, j1, _ in Indel.opcodes(intended, read):
            if tag == "equal":
                self.src.extend(range(i1, i2))
                self.dst.extend(range(j1, j1 + i2 - i1))

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.same:
            return start, end
        i = bisect.bisect_left(self.src, start)
        j = bisect.bisect_left(self.src, end) - 1
        if i > j:
            raise ValueError(f"span {start}:{end} is not in the text read back")
        return self.dst[i], self.dst[j] + 1


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --------------------------------------------------------------------------- the corpus plan


@dataclass
class Planted:
    path: str
    lang: str
    tracked: T  # intended text
    data: bytes  # file content
    sources: dict[str, tuple[str, str, str]]  # original key -> (case id, kind, relation)
    exact_of: str | None = None  # original key, for exact copies
    site: bool = False


def plan(originals: dict[str, Original]) -> list[Planted]:
    o = originals
    out: list[Planted] = []

    def rng(name: str) -> random.Random:
        return random.Random(f"{SEED}:{name}")

    def add(path, lang, t, data, sources, **kw):  # noqa: ANN001, ANN202
        out.append(Planted(path, lang, t, data, sources, **kw))

    def utf8(t: T) -> bytes:
        return t.text.encode("utf-8")

    # 1. header changed (a 2016 speech presented as a 2023 speech of somebody else)
    t = header_changed(
        o["zh01"],
        ["在全市深化作风建设优化营商环境大会上的讲话", "临江市人民政府常务副市长 苏明哲", "2023年2月21日"],
    )
    add("planted/zh01_work_meeting_header_changed.txt", "zh", t, utf8(t),
        {"zh01": ("zh-header-changed", "header_changed", "near_duplicate")})

    # 2. download pages: .html (case 2) and .txt (a second one)
    page = site_page(o["zh04"], rng("site-zh04"), date="2023年5月9日",
                     filename="2023年在创建全国文明城市动员大会上的讲话稿1.docx",
                     keywords="2023 创建 全国 文明城市 动员大会 讲话稿")
    t, markup = site_html(page)
    add("site/wenku_2023_civilized_city_mobilization_speech.html", "zh", t, markup.encode("utf-8"),
        {"zh04": ("zh-download-page-html", "download_page", "near_duplicate")}, site=True)
    page = site_page(o["zh08"], rng("site-zh08"), date="2022年3月2日",
                     filename="2022年在全县安全生产工作会议上的讲话(最新).docx",
                     keywords="2022 全县 安全生产 工作会议 讲话 范文")
    t = site_txt(page)
    add("site/wenku_2022_work_safety_meeting_speech.txt", "zh", t, utf8(t),
        {"zh08": ("zh-download-page-txt", "download_page", "near_duplicate")}, site=True)

    # 3. reordered sections
    t = reorder_sections(o["zh05"], rng("reorder-zh05"), n_closing=3)
    add("planted/zh05_model_workers_reordered.txt", "zh", t, utf8(t),
        {"zh05": ("zh-reordered", "reordered", "near_duplicate")})

    # 4. Traditional characters, Big5
    t = body_only(o["zh02"], to_traditional_big5(o["zh02"].tracked))
    add("planted/zh02_tea_festival_traditional_big5.txt", "zh", t, t.text.encode("big5"),
        {"zh02": ("zh-traditional", "traditional", "near_duplicate")})

    # 5. inserted passages: ~300 characters of the work report, ~150 of the symposium speech
    span = o["zh03"].pick_passage("深入实施创新驱动发展战略", chars=290)
    t = insert_passage(o["zh10"], "企业是创新的主力军", o["zh03"], span, inline=False)
    add("planted/zh10_science_conference_with_report_passage.txt", "zh", t, utf8(t),
        {"zh03": ("zh-passage-inserted-300", "passage_inserted", "partial"),
         "zh10": ("zh-passage-inserted-300-host", "insertion_host", "near_duplicate")})
    span = o["zh06"].pick_passage("当前全市正在推进乡村振兴", chars=140)
    t = insert_passage(o["zh09"], "要完善联农带农机制", o["zh06"], span, inline=True)
    add("planted/zh09_rural_revitalization_with_symposium_passage.txt", "zh", t, utf8(t),
        {"zh06": ("zh-passage-inserted-150", "passage_inserted", "partial"),
         "zh09": ("zh-passage-inserted-150-host", "insertion_host", "near_duplicate")})

    # 6. abridged
    t = abridge(o["zh09"], rng("abridge-zh09"), keep_first=3, keep_last=2, share=0.7)
    add("planted/zh09_rural_revitalization_abridged.txt", "zh", t, utf8(t),
        {"zh09": ("zh-abridged", "abridged", "near_duplicate")})

    # 7. exact copies in other encodings
    t = body_only(o["zh07"], o["zh07"].tracked)
    add("planted/zh07_school_opening_exact_gb18030.txt", "zh", t, t.text.encode("gb18030"),
        {"zh07": ("zh-exact-gb18030", "exact_gb18030", "exact")}, exact_of="zh07")
    t = crlf(body_only(o["zh07"], o["zh07"].tracked))
    add("planted/zh07_school_opening_exact_utf16.txt", "zh", t, b"\xff\xfe" + t.text.encode("utf-16-le"),
        {"zh07": ("zh-exact-utf16", "exact_utf16", "exact")}, exact_of="zh07")

    # 8. .docx with a changed header
    t = header_changed(o["zh06"], ["在全县非公有制经济人士座谈会上的讲话", "中共长宁县委书记 邵其峰", "2022年8月19日"])
    add("planted/zh06_private_enterprises_header_changed.docx", "zh", t,
        docx_bytes(t.text.rstrip("\n").split("\n")),
        {"zh06": ("zh-docx", "docx", "near_duplicate")})

    # 9. English
    t = header_changed(o["en01"], ["Commencement Remarks to the Graduating Class of 2024, Ashford Lakes University",
                                   "Gregory Vance, Chief Executive of Vance Freight Lines", "June 1, 2024"])
    add("planted/en01_commencement_header_changed.docx", "en", t, docx_bytes(t.text.rstrip("\n").split("\n")),
        {"en01": ("en-header-changed-docx", "header_changed", "near_duplicate")})
    span = o["en07"].pick_passage("The honest answer is that", words=75)
    t = insert_passage(o["en06"], "It took a lot of people", o["en07"], span, inline=False)
    add("planted/en06_school_opening_with_town_hall_passage.txt", "en", t, utf8(t),
        {"en07": ("en-passage-inserted", "passage_inserted", "partial"),
         "en06": ("en-passage-inserted-host", "insertion_host", "near_duplicate")})
    t = reorder_paragraphs(o["en03"], rng("reorder-en03"), keep_first=1, keep_last=1)
    add("planted/en03_keynote_reordered.txt", "en", t, utf8(t),
        {"en03": ("en-reordered", "reordered", "near_duplicate")})
    t = abridge(o["en04"], rng("abridge-en04"), keep_first=2, keep_last=2, share=0.7)
    add("planted/en04_memorial_day_abridged.txt", "en", t, utf8(t),
        {"en04": ("en-abridged", "abridged", "near_duplicate")})
    t = crlf(body_only(o["en05"], o["en05"].tracked))
    add("planted/en05_business_dinner_exact_utf16.txt", "en", t, b"\xff\xfe" + t.text.encode("utf-16-le"),
        {"en05": ("en-exact-utf16", "exact_utf16", "exact")}, exact_of="en05")
    t = header_changed(o["en02"], ["Annual Address on the State of Brinewater City", "Mayor Celia Montrose",
                                   "January 30, 2024"])
    add("planted/en02_state_of_city_header_changed.pdf", "en", t, pdf_bytes(t.text.rstrip("\n").split("\n")),
        {"en02": ("en-pdf", "pdf", "near_duplicate")})

    # 10. same site, unrelated speeches (negatives among all site pages)
    for key, fmt, date, filename, keywords in [
        ("zh03", "html", "2023年1月10日", "2023年县人民政府工作报告(全文).docx", "2023 县人民政府 工作报告 全文"),
        ("zh05", "txt", "2023年4月27日", "2023年在劳动模范和先进工作者表彰大会上的讲话.docx",
         "2023 劳动模范 先进工作者 表彰大会 讲话"),
        ("zh10", "html", "2023年3月20日", "2023年在全市科技创新大会上的致辞范文.docx", "2023 全市 科技创新 大会 致辞 范文"),
    ]:
        page = site_page(o[key], rng(f"site-{key}"), date=date, filename=filename, keywords=keywords)
        name = {"zh03": "county_government_work_report", "zh05": "model_workers_commendation_speech",
                "zh10": "science_innovation_conference_address"}[key]
        path = f"site/wenku_2023_{name}.{fmt}"
        if fmt == "html":
            t, markup = site_html(page)
            data = markup.encode("utf-8")
        else:
            t = site_txt(page)
            data = utf8(t)
        add(path, "zh", t, data, {key: (f"zh-same-site-{key}-page", "download_page", "near_duplicate")}, site=True)
    return out


BROKEN = ["broken/corrupt.docx", "broken/corrupt.pdf", "broken/empty.txt"]


def broken_files() -> dict[str, bytes]:
    r = random.Random(f"{SEED}:broken")
    noise = bytes(r.randrange(256) for _ in range(3000))
    return {
        "broken/corrupt.pdf": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + noise,
        "broken/corrupt.docx": b"This is not a zip archive.\n" + noise[:500],
        "broken/empty.txt": b"",
    }


# --------------------------------------------------------------------------- checks


def normalized(text: str) -> str:
    """What the similarity checks compare: Simplified, no whitespace, no punctuation/symbols."""
    import unicodedata

    import opencc

    text = opencc.OpenCC("t2s").convert(text)
    return "".join(ch for ch in text.casefold() if unicodedata.category(ch)[0] in "LN")


def min_ratio(case: dict) -> float:
    """Threshold of the passage check: lower where the spinner or page markers changed the text."""
    substituted = case["a"].startswith("site/") or case["b"].startswith("site/")
    return 70.0 if substituted else 95.0


def check_originals_distinct(originals: dict[str, Original]) -> None:
    """No two originals share 20 non-blank characters (Chinese) or 40 (English, about 8 words)."""
    seen: dict[str, str] = {}
    for key, o in originals.items():
        text = re.sub(r"\s", "", o.text)
        window = 20 if o.lang == "zh" else 40
        for i in range(len(text) - window + 1):
            w = text[i : i + window]
            if seen.setdefault(w, key) != key:
                raise AssertionError(f"{seen[w]} and {key} share {w!r}")


# --------------------------------------------------------------------------- main


Docs = dict[str, tuple[T, str, OffsetMap, str]]  # path -> (intended text, text read back, offset map, lang)


def warn_if_broken_readable(out: Path) -> None:
    """The files of ``broken/`` must not be readable: say so on stderr if one is."""
    from dedup.ingest import read_document

    for rel in BROKEN:
        try:
            read_document(out / rel, relpath=rel)
        except Exception:  # noqa: BLE001 (IngestError expected)
            pass
        else:
            print(f"warning: {rel} is readable", file=sys.stderr)


def read_back(out: Path, originals: dict[str, Original], planted: list[Planted]) -> Docs:
    """Every document: intended tracked text, text read back by ``read_document``, offset map, language."""
    from dedup.ingest import read_document

    docs: Docs = {}
    for o in originals.values():
        read = read_document(out / o.path, relpath=o.path).text
        assert read == o.text, o.path
        docs[o.path] = (o.tracked, read, OffsetMap(o.text, read), o.lang)
    for p in planted:
        read = read_document(out / p.path, relpath=p.path).text
        if p.path.endswith(".txt"):
            encoding = {b"\xff\xfe": "utf-16"}.get(p.data[:2], "big5" if "big5" in p.path else
                                                   "gb18030" if "gb18030" in p.path else "utf-8")
            mine = p.data.decode(encoding)
            if mine != read:
                print(f"warning: read_document decodes {p.path} differently; truth uses {encoding}",
                      file=sys.stderr)
                read = mine
        docs[p.path] = (p.tracked, read, OffsetMap(p.tracked.text, read), p.lang)
    return docs


def truth_cases(originals: dict[str, Original], planted: list[Planted], docs: Docs) -> list[dict]:
    """Every pair of documents that shares copied material: the declared cases and the implied ones."""
    by_key = {o.key: o for o in originals.values()}
    by_path = {p.path: p for p in planted}
    declared = {(by_key[k].path, p.path): v for p in planted for k, v in p.sources.items()}
    order = [o.path for o in originals.values()] + [p.path for p in planted]
    runs = {path: runs_of(docs[path][0]) for path in order}
    keys = {path: {r.key for r in runs[path]} for path in order}
    cases: list[dict] = []
    for a, b in combinations(order, 2):
        if not keys[a] & keys[b]:
            continue  # nothing copied from a common original
        ta, ra, ma, lang = docs[a]
        tb, rb, mb, _ = docs[b]
        found = shared_runs(runs[a], runs[b])
        if not found:
            assert (a, b) not in declared, f"declared case without shared text: {a} {b}"
            continue
        passages = []
        for _, xs, xe, ys, ye in found:
            a_span = trim(ra, *ma.span(*trim(ta.text, xs, xe)))
            b_span = trim(rb, *mb.span(*trim(tb.text, ys, ye)))
            passages.append({"a_start": a_span[0], "a_end": a_span[1], "b_start": b_span[0], "b_end": b_span[1]})
        passages.sort(key=lambda q: (q["b_start"], q["a_start"]))
        via = sorted({k for k, *_ in found})
        if (a, b) in declared:
            case_id, kind, relation = declared[(a, b)]
            case = {"id": case_id, "kind": kind, "lang": lang, "a": a, "b": b, "relation": relation}
        else:
            assert a in by_path and b in by_path, f"originals share text: {a} {b}"
            pa, pb = by_path[a], by_path[b]
            if pa.exact_of and pa.exact_of == pb.exact_of:
                relation = "exact"
            else:
                cover = []
                for text, side in ((ra, "a"), (rb, "b")):
                    inside = sum(len(re.sub(r"\s", "", text[q[f"{side}_start"] : q[f"{side}_end"]])) for q in passages)
                    cover.append(inside / max(1, len(re.sub(r"\s", "", text))))
                relation = "near_duplicate" if max(cover) >= NEAR_DUPLICATE_COVERAGE else "partial"
            case = {"id": "", "kind": "implied", "lang": lang, "a": a, "b": b,
                    "relation": relation, "via": [by_key[k].path for k in via]}
        case["passages"] = passages
        cases.append(case)
    missing = set(declared) - {(c["a"], c["b"]) for c in cases}
    assert not missing, missing
    rank = {p.path: i for i, p in enumerate(planted)}
    cases.sort(key=lambda c: (c["kind"] == "implied", rank.get(c["b"], -1), rank.get(c["a"], -1)))
    implied = [c for c in cases if c["kind"] == "implied"]
    for n, case in enumerate(implied, start=1):
        case["id"] = f"{case['lang']}-implied-{n}"
    return cases


def check_passages(cases: list[dict], docs: Docs, ratio: Callable[[dict], float] = min_ratio) -> None:
    """Every passage is inside both texts and its two sides match (``fuzz.ratio`` >= ``ratio(case)``)."""
    from rapidfuzz import fuzz

    for case in cases:
        ra, rb = docs[case["a"]][1], docs[case["b"]][1]
        for q in case["passages"]:
            assert 0 <= q["a_start"] < q["a_end"] <= len(ra) and 0 <= q["b_start"] < q["b_end"] <= len(rb)
            score = fuzz.ratio(normalized(ra[q["a_start"] : q["a_end"]]), normalized(rb[q["b_start"] : q["b_end"]]))
            assert score >= ratio(case), (case["id"], q, score)


def build(out: Path) -> dict:
    originals = load_originals(HERE)
    check_originals_distinct(originals)
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != HERE:
        for o in originals.values():
            (out / o.path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / o.path, out / o.path)
    for sub in ("planted", "site", "broken"):
        if (out / sub).is_dir():
            for old in (out / sub).iterdir():
                if old.is_file():
                    old.unlink()

    planted = plan(originals)
    for p in planted:
        (out / p.path).parent.mkdir(parents=True, exist_ok=True)
        (out / p.path).write_bytes(p.data)
    for rel, data in broken_files().items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)

    docs = read_back(out, originals, planted)
    warn_if_broken_readable(out)

    cases = truth_cases(originals, planted, docs)

    # negatives: every two pages of the download site
    site_pages = [p.path for p in planted if p.site]
    negatives = []
    for n, (a, b) in enumerate(combinations(site_pages, 2), start=1):
        assert not shared(docs[a][0], docs[b][0]), (a, b)
        negatives.append({"id": f"zh-same-site-negative-{n}", "kind": "same_site_unrelated", "a": a, "b": b})

    # every passage must really match
    check_passages(cases, docs)

    truth = {"version": 1, "cases": cases, "negatives": negatives, "skipped": list(BROKEN)}
    (out / "truth.json").write_bytes((json.dumps(truth, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, help="corpus folder to write (default: %(default)s)")
    args = parser.parse_args(argv)
    truth = build(args.out)
    n_docs = len(list(p for p in args.out.rglob("*") if p.suffix in (".txt", ".docx", ".pdf", ".html")))
    print(f"{args.out}: {n_docs} files, {len(truth['cases'])} cases, {len(truth['negatives'])} negatives, "
          f"{len(truth['skipped'])} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
