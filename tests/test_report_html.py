import random
import re
from html.parser import HTMLParser

from dedup.models import CheckedDocument, CheckReport, DocumentEntry, Pair, Passage, Report
from dedup.report.html import render_html

HEADER_A = "Remarks by <b>Mayor</b> Park <script>alert(1)</script>\n"
HEADER_B = "Remarks by Governor Lee\n"
BODY_A = "we must serve the people and develop the economy together now and in the years to come.\n"
BODY_B = "we must help the people and develop the economy together now and in the years to come.\n"
FOOTER = "Printed from the city website, all rights reserved.\n"
TEXTS = {
    "a.txt": HEADER_A + BODY_A + FOOTER,
    "b <img src=x onerror=alert(2)>.txt": HEADER_B + BODY_B + FOOTER,
    "c.txt": "An unrelated opening.\n" + BODY_A,
}
B = "b <img src=x onerror=alert(2)>.txt"


def _span(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def _passage(a: str, b: str, a_part: str, b_part: str, *, boilerplate: bool = False) -> Passage:
    a_start, a_end = _span(TEXTS[a], a_part)
    b_start, b_end = _span(TEXTS[b], b_part)
    return Passage(a_start, a_end, b_start, b_end, 0.95, boilerplate)


NEAR = Pair(
    "a.txt", B, "near_duplicate", 0.9, 0.8, 0.85,
    (_passage("a.txt", B, BODY_A.strip(), BODY_B.strip()), _passage("a.txt", B, FOOTER.strip(), FOOTER.strip(), boilerplate=True)),
    ("only the first line differs: speaker or byline",),
)
PARTIAL = Pair("c.txt", "a.txt", "partial", 0.4, 0.7, 0.5, (_passage("c.txt", "a.txt", BODY_A.strip(), BODY_A.strip()),))


class Tags(HTMLParser):
    """Start tags with their attributes, in document order."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def by_id(self, ident: str) -> dict:
        return next(attrs for _, attrs in self.tags if attrs.get("id") == ident)


def _report(*pairs: Pair) -> Report:
    docs = tuple(DocumentEntry(p, "ok", chars=len(t)) for p, t in TEXTS.items()) + (DocumentEntry("x.pdf", "skipped", reason="corrupt <pdf>"),)
    return Report(root="speeches", documents=docs, pairs=pairs, clusters=(("a.txt", B),))


def _html(report, **caps) -> str:
    return render_html(report, load_text=TEXTS.__getitem__, **caps)


def test_document_text_and_paths_are_escaped_and_run_nothing():
    page = _html(_report(NEAR, PARTIAL))
    tags = Tags(page)
    assert [t for t, _ in tags.tags].count("script") == 1  # the report's own script only
    assert not any(t == "img" for t, _ in tags.tags)
    assert not any(name.startswith("on") for _, attrs in tags.tags for name in attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;Mayor&lt;/b&gt;" in page
    assert "b &lt;img src=x onerror=alert(2)&gt;.txt" in page
    assert "corrupt &lt;pdf&gt;" in page


def test_the_report_is_self_contained():
    page = _html(_report(NEAR, PARTIAL))
    for _, attrs in Tags(page).tags:
        assert "src" not in attrs
        assert attrs.get("href", "#").startswith("#")
    assert not re.search(r"https?://|url\(|@import", page)


def test_side_by_side_colors_links_changes_and_boilerplate():
    page = _html(_report(NEAR, PARTIAL))
    tags = Tags(page)
    # pair 1 is the near-duplicate; its passage 1 is the body, passage 2 the footer (boilerplate)
    a1, b1 = tags.by_id("v1a1"), tags.by_id("v1b1")
    assert a1["class"] == b1["class"] == "m c0"
    assert a1["data-to"] == "v1b1" and b1["data-to"] == "v1a1"
    assert tags.by_id("v1a2")["class"] == tags.by_id("v1b2")["class"] == "m bp"
    links = {attrs["href"] for t, attrs in tags.tags if t == "a" and "href" in attrs}
    assert {"#v1b1", "#v1a1", "#v1a2", "#v1b2", "#pair-1", "#pair-2"} <= links
    assert "<mark>serve</mark>" in page and "<mark>help</mark>" in page
    # the changed header is text only one side has
    assert '<span class="only">Remarks by Governor Lee\n</span>' in page
    assert "only the first line differs: speaker or byline" in page


def test_the_overview_counts_and_numbers_pairs_in_report_order():
    page = _html(_report(NEAR, PARTIAL))
    assert page.index('<a href="#pair-1">1</a>') < page.index('<a href="#pair-2">2</a>')
    assert page.index('id="pair-1"') < page.index('id="pair-2"') and "#1 <span class=\"rel near_duplicate\">" in page
    assert "<b>1</b><span>near-duplicate pairs</span>" in page and "<b>1</b><span>skipped</span>" in page
    assert page.count("<svg") == 1  # one group: a, b and c


def test_long_texts_are_cut_and_the_report_says_so():
    page = _html(_report(NEAR), max_doc_chars=60)
    assert f"first 60 of {len(TEXTS['a.txt'])} characters shown" in page
    assert 'id="v1a1"' in page and 'id="v1a2"' not in page  # the footer is past the cut
    assert "Printed from the city website" not in page


def test_a_check_report_shows_copy_ratios_and_sources():
    source = Pair("a.txt", "c.txt", "partial", 0.4, 0.5, 0.7, (_passage("a.txt", "c.txt", BODY_A.strip(), BODY_A.strip()),))
    checked = (
        CheckedDocument("a.txt", len(TEXTS["a.txt"]), copy_ratio=0.62, largest_source_ratio=0.5, sources=(source, NEAR)),
        CheckedDocument("clean.txt", 500, copy_ratio=0.0, largest_source_ratio=0.0),
    )
    report = CheckReport(index="archive.db", archive=1200, documents=(DocumentEntry("a.txt", "ok", chars=10),), checked=checked)
    page = _html(report)
    assert "dedup check against archive.db" in page and "<b>1,200</b><span>archive documents</span>" in page
    assert "62.0%" in page and "50.0%" in page  # copy ratio, largest single source
    assert '<a href="#pair-1">c.txt</a> · 50.0%' in page
    assert page.index("a.txt</td>") < page.index("clean.txt</td>")
    assert 'id="v1a1"' in page and 'id="v2a1"' in page
    assert page.count('<circle cx="') == 3 and page.count('r="6" class="checked"') == 1  # the checked document stands out


def test_a_thousand_pairs_stay_a_few_megabytes():
    rng = random.Random(5)
    texts = {f"d{i:04d}.txt": "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(6000)) for i in range(2000)}
    pairs = []
    for i in range(1000):
        a, b = f"d{2 * i:04d}.txt", f"d{2 * i + 1:04d}.txt"
        texts[b] = texts[b][:1000] + texts[a][1000:5000] + texts[b][5000:]
        pairs.append(Pair(a, b, "partial", 0.6, 0.66, 0.66, (Passage(1000, 5000, 1000, 5000, 1.0),)))
    report = Report(root="big", documents=(), pairs=tuple(pairs), clusters=())
    page = render_html(report, load_text=texts.__getitem__)
    size = len(page.encode("utf-8"))
    assert size < 5_000_000, size
    views = page.count('<details class="pair"')
    assert 10 <= views < 1000
    assert f"Side-by-side views are included for the first {views:,} of 1,000 pairs" in page
    assert page.count("<tr>") == 1001  # the table lists every pair
