"""Property tests: whatever the texts, reported passages slice to text that really matches."""

from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Indel

from dedup.models import Document
from dedup.normalize import normalize
from dedup.pipeline import compare

from texts import EN_SPEECH, ZH_SPEECH

SENTENCES = [s for s in ZH_SPEECH.replace("\n", "。").split("。") if len(s) > 8] + [
    s for s in EN_SPEECH.replace("\n", ". ").split(". ") if len(s) > 30
]
EDITS = ["", "发展", "效劳", "—3—", "\n第2页 共5页\n", "Page 2 of 5", "the", "，", "\r\n"]


@st.composite
def corpora(draw):
    base = draw(st.lists(st.sampled_from(SENTENCES), min_size=6, max_size=14))
    sep = draw(st.sampled_from(["。", ". ", "\n", "；"]))
    original = sep.join(base)
    # a copy with random edits inserted between sentences, and a random slice of it
    edited = []
    for s in base:
        edited.append(s)
        edited.append(draw(st.sampled_from(EDITS)))
    copy = sep.join(edited)
    lo = draw(st.integers(0, len(copy) // 2))
    hi = draw(st.integers(lo + 1, len(copy)))
    other = draw(st.lists(st.sampled_from(SENTENCES), min_size=2, max_size=6))
    host = sep.join(other[:1] + [copy[lo:hi]] + other[1:])
    return [Document("a.txt", original), Document("b.txt", copy), Document("c.txt", host)]


def _bag_dice(a: str, b: str) -> float:
    ca, cb = Counter(normalize(a).tokens), Counter(normalize(b).tokens)
    total = sum(ca.values()) + sum(cb.values())
    return 2 * sum((ca & cb).values()) / total if total else 0.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora())
def test_passage_offsets_slice_to_matching_text(docs):
    report = compare(docs)
    texts = {d.path: d.text for d in docs}
    for pair in report.pairs:
        ta, tb = texts[pair.a], texts[pair.b]
        for p in pair.passages:
            assert 0 <= p.a_start < p.a_end <= len(ta)
            assert 0 <= p.b_start < p.b_end <= len(tb)
            sa, sb = ta[p.a_start : p.a_end], tb[p.b_start : p.b_end]
            assert sa == sa.strip() and sb == sb.strip()  # passages start and end on words
            na, nb = normalize(sa), normalize(sb)
            assert Indel.normalized_similarity(na.tokens, nb.tokens) >= 0.5 or _bag_dice(sa, sb) >= 0.5
