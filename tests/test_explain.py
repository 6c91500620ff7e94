import numpy as np

from dedup.align import align
from dedup.config import AlignConfig, SignConfig
from dedup.explain import covered_mask, describe
from dedup.models import Document
from dedup.normalize import normalize
from dedup.sign import sign

from texts import ZH_SPEECH


def _describe(a: str, b: str, relation: str = "near_duplicate", **doc_b):
    na, nb = normalize(a), normalize(b)
    spans = align(sign(na, SignConfig()), sign(nb, SignConfig()), config=AlignConfig(), min_passage=50)
    da, db = Document("a.txt", a), Document("b.txt", b, **doc_b)
    return describe(
        da, na, db, nb, spans, relation=relation,
        boiler_a=np.zeros(len(na), dtype=bool), boiler_b=np.zeros(len(nb), dtype=bool),
    )


def test_changed_header_only():
    notes = _describe(ZH_SPEECH, ZH_SPEECH.replace("张明远", "王建华").replace("2019年9月18日", "2023年5月4日"))
    assert notes == ("only the first 3 lines differ: speaker or byline, date",)


def test_substitutions_page_markers_and_traditional():
    spun = ZH_SPEECH.replace("督促", "催促").replace("广大", "广阔").replace("。", "。—2—", 2)
    notes = " | ".join(_describe(ZH_SPEECH, spun))
    assert "督促→催促" in notes and "广大→广阔" in notes
    assert "b has 2 page markers" in notes
    traditional = ZH_SPEECH.replace("产", "產").replace("会", "會").replace("发", "發").replace("这", "這")
    assert any("Traditional" in n for n in _describe(ZH_SPEECH, traditional))


def test_text_added_at_the_start_is_located():
    page = "分享 下载文档 温馨提示 本文档由用户上传 版权归属用户 下载前请仔细阅读文档内容 " * 3 + "\n" + ZH_SPEECH
    notes = _describe(ZH_SPEECH, page)
    assert any(n.startswith("b has text the other lacks") and "before the shared text" in n for n in notes)


def test_exact_pairs_name_encoding_and_line_endings():
    notes = _describe(ZH_SPEECH, ZH_SPEECH.replace("\n", "\r\n"), relation="exact", encoding="gb18030")
    assert "same text after normalization" in notes
    assert "line endings differ" in notes


def test_covered_mask():
    assert covered_mask(6, [(1, 3), (2, 4)]).tolist() == [False, True, True, True, False, False]
    assert not covered_mask(3, []).any()
