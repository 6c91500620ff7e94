"""The HTML report: one self-contained file to open offline and hand on.

Overview (counts, the pair table or, for ``dedup check``, each checked
document's copy ratios and sources), pictures of which documents copy which
(inline SVG), then a full-text side-by-side view per pair: passage k has the
same color on both sides, changed words inside a passage are marked, text only
one side has is hatched (exact and near-duplicate pairs), boilerplate is muted,
and each passage links to its counterpart and to the next passage.

All document text and every path is escaped (HTML, and ``dedup.report.escape``: control and
bidirectional characters in names show as ``\u202e``). What is embedded is capped
(``max_pairs`` views, ``max_chars`` characters of text, ``max_doc_chars`` per
document) and the report says what it left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from html import escape

from dedup.models import RELATIONS, CheckReport, Pair, Passage, Report
from dedup.report import DocumentText, LoadText, document_text
from dedup.report.flat import copied_passages
from dedup.report.escape import printable, printable_text
from dedup.report.html_assets import CSS, JS, PALETTE
from dedup.report.sidebyside import Segment, passage_segments

#: Rows of the pair table (or checked documents) at the most.
MAX_ROWS = 2000
#: Sources listed per checked document at the most.
MAX_SOURCES = 20
#: Cluster pictures at the most, and documents in one picture.
MAX_PICTURES = 60
MAX_PICTURE_NODES = 16


def _e(name: str) -> str:
    """A name, a reason or a note, escaped."""
    return escape(printable(name), quote=True)


def _t(text: str) -> str:
    """Document text, escaped."""
    return escape(printable_text(text), quote=True)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _rel(relation: str) -> str:
    return f'<span class="rel {relation}">{relation.replace("_", "-")}</span>'


def _color(k: int) -> str:
    """The color class of passage ``k`` (numbered from 1), the same on both sides."""
    return f"c{(k - 1) % len(PALETTE)}"


@dataclass(frozen=True)
class _Mark:
    """Passage ``k`` on one side of a view: its span and its segments (which start at ``start``)."""

    k: int
    start: int
    end: int
    passage: Passage
    segments: tuple[Segment, ...]


def _clip(segments: Iterable[Segment], origin: int, lo: int, hi: int) -> Iterable[Segment]:
    """The parts of ``segments`` (laid out from ``origin``) inside ``[lo, hi)``."""
    pos = origin
    for text, kind in segments:
        s, e = max(pos, lo), min(pos + len(text), hi)
        if e > s:
            yield text[s - pos : e - pos], kind
        pos += len(text)


def _plain(text: str, only: bool) -> str:
    """Text outside passages; with ``only``, hatched where it has words (not mere punctuation)."""
    return f'<span class="only">{_t(text)}</span>' if only and any(ch.isalnum() for ch in text) else _t(text)


def _side(text: str, marks: list[_Mark], *, vid: str, side: str, other: str, linked: set[int], only: bool) -> str:
    """One side of a view: ``text`` with its passages highlighted (``linked``: passages the other side shows)."""
    out: list[str] = []
    pos = 0
    for i, m in enumerate(marks):
        if m.start >= len(text):
            break
        start = max(m.start, pos)
        out.append(_plain(text[pos:start], only))
        color = "bp" if m.passage.boilerplate else _color(m.k)
        to = f' data-to="{vid}{other}{m.k}"' if m.k in linked else ""
        title = f"passage {m.k} · similarity {m.passage.similarity:.2f}" + (" · boilerplate" if m.passage.boilerplate else "")
        if m.k in linked:
            out.append(f'<a class="k" href="#{vid}{other}{m.k}" title="the other side">{m.k}</a>')
        out.append(f'<span class="m {color}" id="{vid}{side}{m.k}"{to} title="{title}">')
        for chunk, kind in _clip(m.segments, m.start, start, len(text)):
            out.append(f"<mark>{_t(chunk)}</mark>" if kind == "changed" else _t(chunk))
        out.append("</span>")
        nxt = next((n for n in marks[i + 1 :] if n.start < len(text)), None)
        if nxt is not None:
            out.append(f'<a class="nx" href="#{vid}{side}{nxt.k}" title="next passage">▾</a>')
        pos = max(pos, min(m.end, len(text)))
    out.append(_plain(text[pos:], only))
    return "".join(out)


def _view(n: int, pair: Pair, names: tuple[str, str], a_full: str, b_full: str, *, max_doc_chars: int) -> str:
    """The side-by-side view of pair ``n``: differences, passage links and both full texts."""
    a_text, b_text = a_full[:max_doc_chars], b_full[:max_doc_chars]
    vid = f"v{n}"
    a_marks, b_marks = [], []
    for k, passage in enumerate(sorted(pair.passages, key=lambda x: (x.a_start, x.b_start)), 1):
        # align only what is shown: a passage of a huge document costs no more than the cut
        shown = replace(passage, a_end=min(passage.a_end, len(a_text)), b_end=min(passage.b_end, len(b_text)))
        a_seg, b_seg = passage_segments(a_text, b_text, shown)
        a_marks.append(_Mark(k, passage.a_start, passage.a_end, passage, a_seg))
        b_marks.append(_Mark(k, passage.b_start, passage.b_end, passage, b_seg))
    b_marks.sort(key=lambda m: m.start)
    a_shown = {m.k for m in a_marks if m.start < len(a_text)}
    b_shown = {m.k for m in b_marks if m.start < len(b_text)}
    only = pair.relation != "partial"
    notes = "".join(f"<li>{_e(d)}</li>" for d in pair.differences)
    nav = " ".join(f'<a href="#{vid}a{k}" class="{_color(k)}">{k}</a>' for k in sorted(a_shown))
    sides = []
    for side, other, path, full, text, marks, linked in (
        ("a", "b", names[0], a_full, a_text, a_marks, b_shown),
        ("b", "a", names[1], b_full, b_text, b_marks, a_shown),
    ):
        cut = f" · first {len(text):,} of {len(full):,} characters shown" if len(text) < len(full) else ""
        body = _side(text, marks, vid=vid, side=side, other=other, linked=linked, only=only)
        sides.append(f'<div class="side"><h3>{side}: {_e(path)} <small>({len(full):,} characters{cut})</small></h3><div class="text">{body}</div></div>')
    return (
        f'<details class="pair" id="pair-{n}"{" open" if n == 1 else ""}><summary>#{n} {_rel(pair.relation)} '
        f"{_e(names[0])} ↔ {_e(names[1])} · similarity {pair.similarity:.2f} · {_pct(pair.a_coverage)} of a, "
        f'{_pct(pair.b_coverage)} of b</summary><div class="pairbody">'
        + (f"<ul>{notes}</ul>" if notes else "")
        + (f'<nav class="passages">passages: {nav}</nav>' if nav else "")
        + '<p class="legend">same background = same passage on both sides · <mark>changed words</mark>'
        + (' · <span class="only">text only this side has</span>' if only else "")
        + ' · <span class="m bp">boilerplate</span> · click a passage to see its counterpart</p>'
        + f'<div class="sbs">{"".join(sides)}</div></div></details>'
    )


def _views(
    pairs: list[Pair], names: list[tuple[str, str]], text: DocumentText, *, max_pairs: int, max_chars: int, max_doc_chars: int
) -> tuple[list[str], str]:
    """Side-by-side views of the first pairs, within the caps, and a note on what was left out."""
    views: list[str] = []
    used = 0
    for n, pair in enumerate(pairs[:max_pairs], 1):
        a_full, b_full = text(pair.a, pair.a_origin), text(pair.b, pair.b_origin)
        cost = min(len(a_full), max_doc_chars) + min(len(b_full), max_doc_chars)
        if used + cost > max_chars and views:
            break
        used += cost
        views.append(_view(n, pair, names[n - 1], a_full, b_full, max_doc_chars=max_doc_chars))
    note = ""
    if len(views) < len(pairs):
        note = (
            f"Side-by-side views are included for the first {len(views):,} of {len(pairs):,} pairs, most severe first "
            f"(at most {max_pairs:,} pairs and {max_chars:,} characters of text, {max_doc_chars:,} per document); "
            "the JSON, CSV and JSON Lines formats list every pair."
        )
    return views, note


def _pair_rows(pairs: list[Pair], names: list[tuple[str, str]], viewed: int) -> str:
    rows = []
    for n, (p, (a, b)) in enumerate(zip(pairs[:MAX_ROWS], names), 1):
        num = f'<a href="#pair-{n}">{n}</a>' if n <= viewed else str(n)
        rows.append(
            f'<tr><td class="num">{num}</td><td>{_rel(p.relation)}</td><td class="num">{p.similarity:.2f}</td>'
            f'<td class="path">{_e(a)}</td><td class="num">{_pct(p.a_coverage)}</td><td class="path">{_e(b)}</td>'
            f'<td class="num">{_pct(p.b_coverage)}</td><td class="num">{copied_passages(p)}</td></tr>'
        )
    head = (
        '<tr><th class="num">#</th><th>relation</th><th class="num">similarity</th><th>a</th><th class="num">% of a</th>'
        '<th>b</th><th class="num">% of b</th><th class="num">passages</th></tr>'
    )
    more = f'<p class="note">The table lists the first {MAX_ROWS:,} of {len(pairs):,} pairs.</p>' if len(pairs) > MAX_ROWS else ""
    return (
        '<input type="search" data-filter="pairs" placeholder="filter pairs: path or relation" aria-label="filter pairs">'
        f'<div class="scroll"><table id="pairs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>{more}'
    )


def _checked_rows(report: CheckReport, pairs: list[Pair], viewed: int) -> str:
    number = {id(p): n for n, p in enumerate(pairs, 1)}
    rows = []
    for c in report.checked[:MAX_ROWS]:
        items = []
        for p in c.sources[:MAX_SOURCES]:
            n = number[id(p)]
            source = report.names(p)[1]
            label = f'<a href="#pair-{n}">{_e(source)}</a>' if n <= viewed else _e(source)
            items.append(f"<li>{label} · {p.a_coverage:.1%} · {_rel(p.relation)}</li>")
        if len(c.sources) > MAX_SOURCES:
            items.append(f"<li>… {len(c.sources) - MAX_SOURCES} more sources</li>")
        rows.append(
            f'<tr><td class="path">{_e(c.path)}</td><td class="num">{c.chars:,}</td>'
            f'<td class="num">{c.copy_ratio:.1%}<span class="bar"><i style="width:{c.copy_ratio:.0%}"></i></span></td>'
            f'<td class="num">{c.largest_source_ratio:.1%}</td><td><ul class="sources">{"".join(items) or "<li>none</li>"}</ul></td></tr>'
        )
    head = '<tr><th>checked document</th><th class="num">characters</th><th class="num">copy ratio</th><th class="num">largest single source</th><th>sources</th></tr>'
    more = f'<p class="note">The table lists the first {MAX_ROWS:,} of {len(report.checked):,} checked documents.</p>' if len(report.checked) > MAX_ROWS else ""
    return (
        '<input type="search" data-filter="checked" placeholder="filter: path" aria-label="filter checked documents">'
        f'<div class="scroll"><table id="checked"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>{more}'
    )


def _groups(names: list[tuple[str, str]]) -> list[list[int]]:
    """Indices of pairs (by their documents' ``names``) grouped by connected documents, groups in order of their
    most severe pair."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in names:
        parent[root(a)] = root(b)
    groups: dict[str, list[int]] = {}
    for i, (a, _) in enumerate(names):
        groups.setdefault(root(a), []).append(i)
    return list(groups.values())


def _label(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name if len(name) <= 26 else name[:16] + "…" + name[-9:]


def _picture(pairs: list[Pair], names: list[tuple[str, str]], indices: list[int], *, viewed: int, checked: set[str]) -> str:
    """One group of documents as an SVG: nodes on a circle, a line per pair (dashed: partial)."""
    nodes = list(dict.fromkeys(d for i in indices for d in names[i]))
    r = 34 if len(nodes) == 2 else max(48, 15 * len(nodes))
    pad_x, pad_y = 180, 26
    cx, cy = pad_x + r, pad_y + r
    width, height = 2 * (pad_x + r), 2 * (pad_y + r)
    if len(nodes) == 2:
        angles = [math.pi, 0.0]  # side by side
    else:
        angles = [-math.pi / 2 + 2 * math.pi * j / len(nodes) for j in range(len(nodes))]
    pos = {d: (cx + r * math.cos(t), cy + r * math.sin(t)) for d, t in zip(nodes, angles)}
    parts = []
    for i in indices:
        p, (a, b) = pairs[i], names[i]
        (x1, y1), (x2, y2) = pos[a], pos[b]
        dash = ' stroke-dasharray="6 4"' if p.relation == "partial" else ""
        line = (
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="{p.relation}"{dash}>'
            f"<title>{p.relation.replace('_', '-')} · similarity {p.similarity:.2f}: {_e(a)} ↔ {_e(b)}</title></line>"
        )
        parts.append(f'<a href="#pair-{i + 1}">{line}</a>' if i < viewed else line)
    for d, t in zip(nodes, angles):
        x, y = pos[d]
        c = math.cos(t)
        cls = ' class="checked"' if d in checked else ""
        anchor, dx, dy = ("start", 10, 4) if c > 0.3 else ("end", -10, 4) if c < -0.3 else ("middle", 0, -12 if math.sin(t) < 0 else 20)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6"{cls}><title>{_e(d)}</title></circle>'
            f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}">{_e(_label(printable(d)))}<title>{_e(d)}</title></text>'
        )
    return f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img">{"".join(parts)}</svg>'


def _pictures(pairs: list[Pair], names: list[tuple[str, str]], *, viewed: int, checked: set[str]) -> str:
    groups = _groups(names)
    drawn = [g for g in groups if len({d for i in g for d in names[i]}) <= MAX_PICTURE_NODES][:MAX_PICTURES]
    svgs = "".join(_picture(pairs, names, g, viewed=viewed, checked=checked) for g in drawn)
    note = ""
    if len(drawn) < len(groups):
        note = (
            f'<p class="note">{len(drawn)} of {len(groups)} groups are drawn (at most {MAX_PICTURES} pictures, '
            f"{MAX_PICTURE_NODES} documents each); the table lists every pair.</p>"
        )
    return (
        '<p class="legend">Each picture is one group of documents that share text. Lines: '
        '<span class="rel exact">exact</span>, <span class="rel near_duplicate">near-duplicate</span>, '
        '<span class="rel partial">partial (dashed)</span>; click a line to open the comparison.</p>'
        f'<div class="graphs">{svgs}</div>{note}'
    )


def _cards(items: list[tuple[str, int]]) -> str:
    return '<div class="cards">' + "".join(f"<div class=card><b>{v:,}</b><span>{_e(k)}</span></div>" for k, v in items) + "</div>"


def _skipped(report: Report | CheckReport) -> str:
    rows = "".join(f"<li>{_e(d.path)}: {_e(d.reason or '')}</li>" for d in report.documents if d.status == "skipped")
    return f"<details><summary>{report.skipped} skipped files</summary><ul>{rows}</ul></details>" if rows else ""


def render_html(
    report: Report | CheckReport,
    *,
    load_text: LoadText | None = None,
    load_archived: LoadText | None = None,
    max_pairs: int = 100,
    max_chars: int = 1_000_000,
    max_doc_chars: int = 60_000,
) -> str:
    """The report as one self-contained HTML page.

    Texts shown are those the report kept as they were read (the texts passage offsets index into), or
    ``load_text(path)`` of a scanned or checked document if given; ``load_archived(stored path)`` gives an
    archive document's. Side-by-side views are made for the first ``max_pairs`` pairs, most
    severe first, while their texts fit in ``max_chars`` characters; each text
    is cut after ``max_doc_chars`` characters.
    """
    pairs = list(report.pairs)  # most severe first (for a check: by checked document, largest source first)
    names = [report.names(p) for p in pairs]
    text = document_text(load_text, load_archived, report=report)
    views, views_note = _views(pairs, names, text, max_pairs=max_pairs, max_chars=max_chars, max_doc_chars=max_doc_chars)
    if isinstance(report, CheckReport):
        title = f"dedup check against {report.index}"
        cards = [("checked", report.scanned), ("skipped", report.skipped), ("archive documents", report.archive),
                 ("with sources", sum(1 for c in report.checked if c.sources))]
        table = "<h2>Checked documents</h2>" + _checked_rows(report, pairs, len(views))
        checked = {c.path for c in report.checked}
    else:
        title = f"dedup scan of {report.root or '.'}"
        counts = report.pairs_by_relation()
        cards = [("documents scanned", report.scanned), ("skipped", report.skipped), ("near-duplicate clusters", len(report.clusters))]
        cards += [(f"{rel.replace('_', '-')} pairs", counts[rel]) for rel in RELATIONS]
        table = "<h2>Pairs, most severe first</h2>" + (_pair_rows(pairs, names, len(views)) if pairs else "<p>No copied documents or passages found.</p>")
        checked = set()
    sections = [
        f"<h1>{_e(title)}</h1>",
        _cards(cards),
        _skipped(report),
        f'<p class="note">{_e(views_note)}</p>' if views_note else "",
        table,
        "<h2>Who copies whom</h2>" + _pictures(pairs, names, viewed=len(views), checked=checked) if pairs else "",
        "<h2>Side by side</h2>" + "".join(views) if views else "",
    ]
    colors = "".join(f".c{i}{{background:{c}}}" for i, c in enumerate(PALETTE))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}{colors}</style></head>"
        f'<body><main>{"".join(sections)}</main><script>{JS}</script></body></html>\n'
    )
