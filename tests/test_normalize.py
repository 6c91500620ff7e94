from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.config import NormalizeConfig
from dedup.normalize import MAX_SENTENCE, normalize, normalize_text, page_marker_spans, to_simplified

import reference
from texts import EN_SPEECH, ZH_SPEECH


@lru_cache(maxsize=1)
def t2s_convert():
    """OpenCC's Traditional→Simplified conversion itself (one converter: ``dedup.t2s`` caches by it)."""
    import opencc

    return opencc.OpenCC("t2s").convert


def test_cjk_characters_and_words_are_tokens():
    norm = normalize("中文 Hello, WORLD! ＡＢＣ")
    assert norm.readable() == "中文 hello world abc"
    assert list(norm.cjk) == [True, True, False, False, False]


def test_offsets_map_back_to_original_text():
    text = "Ｈｅｌｌｏ，世界！\r\nline two"
    norm = normalize(text)
    assert [text[s:e] for s, e in zip(norm.starts, norm.ends)] == ["Ｈｅｌｌｏ", "世", "界", "line", "two"]


def test_traditional_is_simplified_and_counted():
    norm = normalize("中華人民共和國政府工作報告")
    assert norm.readable() == "中华人民共和国政府工作报告"
    assert norm.converted == 3
    assert to_simplified("發展經濟") == "发展经济"
    assert normalize("發展", NormalizeConfig(traditional_to_simplified=False)).readable() == "發展"


def test_punctuation_whitespace_and_rewrapping_do_not_matter():
    a = normalize("同志们：今天我们召开会议，\n主要任务是“总结工作”。")
    b = normalize("同志们:今天我们 召开会议,主要任务是\n\n〞总结工作〞.")
    assert a.tokens == b.tokens


def test_page_markers_are_left_out():
    text = "推动科学发展 —1— 的重要契机\n第3页 共8页\n加强建设\nPage 3 of 8\nthe end\n  12  \nmore"
    assert normalize(text).readable() == "推动科学发展的重要契机加强建设 the end more"
    assert normalize(text).page_markers == 4
    assert page_marker_spans("2010-3-5") == []


def test_real_speeches_keep_all_their_words():
    zh = normalize(ZH_SPEECH)
    assert int(zh.cjk.sum()) == sum(1 for c in ZH_SPEECH if "\u4e00" <= c <= "\u9fff")
    en = normalize(EN_SPEECH)
    assert len(en) == len(EN_SPEECH.split()) + EN_SPEECH.count("-")  # hyphenated words split; no markers


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_normalization_is_idempotent(text):
    # page markers are judged on lines, and a normalized text has no lines: test the rest
    config = NormalizeConfig(drop_page_markers=False)
    once = normalize_text(text, config)
    assert normalize_text(once, config) == once


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("發展中国 abc ABC，。\n—1第页共Page of2")), max_size=120))
def test_token_spans_slice_to_their_source(text):
    norm = normalize(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.tokens)
    for s, e in zip(norm.starts, norm.ends):
        assert 0 <= s < e <= len(text)
        assert text[s:e].strip() == text[s:e]
    assert list(norm.starts) == sorted(norm.starts)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120))
def test_vectorized_tokens_are_the_reference_tokens(text):
    """The compiled tokenizer finds exactly the tokens of the specification (``reference.token_spans``)."""
    norm = normalize(text, NormalizeConfig(drop_page_markers=False))
    expected = [(s, e) for s, e, _ in reference.token_spans(text)]
    got = sorted(set(zip(norm.starts.tolist(), norm.ends.tolist())))  # NFKC may split a word: same span
    assert got == expected


def test_word_characters_are_those_str_isalnum_accepts():
    """Word characters are exactly the code points ``str.isalnum`` accepts outside the CJK ranges, and
    each code point of those ranges is one CJK token (checked on every code point but surrogates).

    Each code point ``c`` is normalized as ``"x" + c + "x"``: it is a word character exactly when the
    three make one word token (span of 3; NFKC may turn ``c`` into nothing, or several tokens of that
    span), and a CJK character when it is a token of its own (span of 1 at its place).
    """
    codes = np.array([c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF])
    in_cjk = np.zeros(len(codes), dtype=bool)
    for lo, hi in reference.CJK_RANGES:
        in_cjk |= (codes >= lo) & (codes <= hi)
    alnum = np.array([chr(c).isalnum() for c in codes.tolist()])
    word = np.zeros(len(codes), dtype=bool)
    cjk = np.zeros(len(codes), dtype=bool)
    config = NormalizeConfig(drop_page_markers=False, traditional_to_simplified=False)
    chunk = 1 << 16
    for at in range(0, len(codes), chunk):
        part = codes[at : at + chunk]
        norm = normalize(" ".join("x" + chr(c) + "x" for c in part.tolist()), config)  # unit k at 4k
        starts, ends = norm.starts.astype(np.int64), norm.ends.astype(np.int64)
        whole = (ends - starts == 3) & ~norm.cjk
        word[at + starts[whole] // 4] = True
        alone = (ends - starts == 1) & (starts % 4 == 1) & norm.cjk
        cjk[at + starts[alone] // 4] = True
    assert np.array_equal(cjk, in_cjk)
    assert np.array_equal(word, alnum & ~in_cjk)


def test_page_marker_lines_with_crlf():
    assert normalize("加强建设\r\n12\r\n第3页\r\n推进").readable() == normalize("加强建设\n12\n第3页\n推进").readable() == "加强建设推进"


# --------------------------------------------------------------------------- the compiled normalizer gives what the reference gives

_EDGE_ALPHABET = list(
    "abcXYZ019 \t\r\n\n\u3000.!?;。！？；…,，、/／-—–－―─_'"  # words, blanks, sentence ends, dashes
    "第页共Pp age of AGE ١٢３"  # page markers; Arabic-Indic and full-width digits
    "中文發展國家们这于覆回坏土沈藉瞭解"  # simplified, traditional, phrase-only characters (回覆, 土坏, 瞭解)
    "¼㈱ﬁéÉßİ豈⺠⼀\U0002f800カナ한々〇_"  # NFKC splits, ligature, case folding, compatibility forms, kana, Hangul, 々 〇
) + ["回覆", "瞭解", "Page 3 of 8", "第3页 共8页", "\n3\n", "— 3 —", "\n\n"]
_CONFIGS = [
    NormalizeConfig(),
    NormalizeConfig(traditional_to_simplified=False, casefold=False, drop_page_markers=False),
    NormalizeConfig(casefold=False),
]


def assert_same(norm, expected):
    """``norm`` (``dedup.normalize.Normalized``) holds what the reference gives, field by field."""
    assert norm.tokens == expected.tokens
    assert len(set(norm.words)) == len(norm.words) and set(norm.words) == expected.words
    assert (norm.page_markers, norm.converted) == (expected.page_markers, expected.converted)
    for name in ("starts", "ends", "cjk", "breaks", "heavy", "weights"):
        x, y = getattr(norm, name), getattr(expected, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_EDGE_ALPHABET), max_size=150).map("".join), st.sampled_from(_CONFIGS))
def test_normalize_gives_what_the_reference_gives(text, config):
    assert_same(normalize(text, config), reference.normalize(text, config))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200))
def test_normalize_gives_what_the_reference_gives_on_any_text(text):
    assert_same(normalize(text), reference.normalize(text))


@pytest.mark.parametrize(
    "text",
    [
        "字" * 500,  # sentences cut every MAX_SENTENCE tokens
        "word " * 300 + "。" + "Wörd ¼ " * 100,  # ASCII words, then words NFKC splits (parts counted)
        "發展國家" * 60 + "\n\n" + "回覆瞭解" * 30,  # conversion character by character, then in phrases
        ("字" * 79 + "。") * 3 + "b " * 200,  # a mark after the 79th token, then a long sentence of words
        ZH_SPEECH,
        EN_SPEECH,
        ZH_SPEECH.replace("。", "。—2—\n第3页 共8页\n", 5) + "\nPage 3 of 8\n  12  \n",
    ],
)
@pytest.mark.parametrize("config", _CONFIGS)
def test_normalize_gives_what_the_reference_gives_on_long_texts(text, config):
    assert_same(normalize(text, config), reference.normalize(text, config))


def test_sentences_are_as_long_as_the_reference_says():
    assert MAX_SENTENCE == reference.MAX_SENTENCE
    assert np.nonzero(normalize("字" * 200).breaks)[0].tolist() == [79, 159, 199]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_EDGE_ALPHABET), max_size=150).map("".join))
def test_page_markers_where_patterns_are_skipped(text):
    assert page_marker_spans(text) == reference.page_marker_spans(text)


@pytest.mark.parametrize(
    "text",
    [
        "— 3 —第3页 共8页",  # markers that touch are two
        "第3页 共8页第3页 共8页",  # ... unless a third one joins them (共8页第3页)
        "—3—\n3\n—4—",
        "a—3— b -12-- 3-4-5 —１２—",  # after a letter, within a date, full-width digits
        "_—3— 2023-09-04T14 中—3—\n٣—3—",  # after "_", in a timestamp, after a CJK character, after an Arabic-Indic digit
        "第 3 页\r\n共 8 页、第 3 页\n共8页 / 第3页",
        "PAGE 12 / 30\npage 3\n\n1/2\n  7 \r\npage\n12345\n",
        "see page 3 of 8pages, page 3 of 8",
    ],
)
def test_page_marker_edge_cases(text):
    assert page_marker_spans(text) == reference.page_marker_spans(text)
    assert_same(normalize(text), reference.normalize(text))


def _codes(text: str) -> np.ndarray:
    return np.array([ord(c) for c in text], dtype=np.uint32)


def test_conversion_is_skipped_only_where_it_changes_nothing():
    from dedup import t2s

    convert = t2s_convert()
    table = t2s.char_table(convert)
    for ch, keys in t2s.PHRASES.items():
        assert table[ord(ch)] == t2s.IN_PHRASE
        for key in keys:
            assert convert(key) != key and t2s.phrase_found(_codes("中" + key + "文"))
            assert all(table[ord(c)] != t2s.CONVERTS for c in key)
    assert not t2s.phrase_found(_codes("回复覆盖"))  # 覆 alone stays
    assert normalize("回覆").converted == 1 and normalize("覆盖").converted == 0


@pytest.mark.parametrize("text", ["國家發展", "乾隆皇帝乾燥", "憑藉著", "頭髮發展", "中文"])
def test_conversion_character_by_character_where_no_phrase_is(text):
    from dedup import normalize_kernels as k
    from dedup import t2s

    convert = t2s_convert()
    codes = _codes(text)
    if not k.holds_key(codes, *t2s.key_table()):
        assert "".join(map(chr, t2s.char_map(convert)[codes])) == to_simplified(text)
    assert normalize(text).tokens == to_simplified(text)


def _keys_and_pieces() -> list[str]:
    from dedup import t2s

    keys = sorted(t2s.KEYS)[::7]  # (a sample: every seventh key, its halves and its characters)
    return keys + [k[: len(k) // 2] for k in keys] + [k[len(k) // 2 :] for k in keys] + sorted({c for k in keys for c in k})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_keys_and_pieces() + ["國", "發", "，", " ", "中"]), max_size=40).map("".join))
def test_phrases_convert_as_opencc_converts_the_whole_text(text):
    """OpenCC runs only on the stretches that keys cover (``normalize_kernels.key_regions``): keys that overlap,
    touch, repeat or are cut short give what it gives for the whole text."""
    from dedup import normalize_kernels as k
    from dedup import t2s

    cjk = "".join(c for c in text if c not in "， ")
    assert normalize(text).tokens == t2s_convert()(cjk)
    regions = k.key_regions(_codes(cjk), *t2s.key_table()).tolist()
    assert all(a < b <= c for (a, b), (c, _) in zip(regions, regions[1:]))  # (in order, apart)


def test_phrase_list_is_the_one_in_the_dictionaries():
    """``dedup.t2s.KEYS`` and ``PHRASES`` read again from OpenCC's TSPhrases (with its ``opencc_dict`` tool)."""
    import subprocess
    from pathlib import Path

    import opencc

    from dedup import t2s

    clib = Path(opencc.__file__).resolve().parent / "clib"
    tool = clib / "bin" / "opencc_dict"
    if not tool.exists() or not t2s.dictionaries_known():
        pytest.skip("no opencc_dict tool, or other dictionaries than those PHRASES was read from")
    out = subprocess.run(
        [str(tool), "-i", str(clib / "share/opencc/TSPhrases.ocd2"), "-o", "/dev/stdout", "-f", "ocd2", "-t", "text"],
        capture_output=True, text=True, env={"LD_LIBRARY_PATH": str(clib / "lib64")}, check=True,
    ).stdout
    table = t2s.char_table(t2s_convert())
    assert sorted(t2s.KEYS) == sorted(line.split("\t")[0] for line in out.splitlines())
    expected: dict[str, set[str]] = {}
    for line in out.splitlines():
        key, value = line.split("\t")
        value = value.split(" ")[0]
        if value != key and all(table[ord(c)] != t2s.CONVERTS for c in key):
            assert len(value) == len(key)
            for a, b in zip(key, value):
                if a != b:
                    expected.setdefault(a, set()).add(key)
    assert {ch: set(keys) for ch, keys in t2s.PHRASES.items()} == expected
