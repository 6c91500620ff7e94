"""dedup.segment: the words of jieba's ``Tokenizer().cut(text, HMM=False)``, from a compact dictionary cached on disk."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.segment import (
    RE_ENG, RE_HAN, RE_SKIP, CacheError, Dictionary, Segmenter, cache_folders, jieba_source, load_dictionary,
    load_segmenter,
)

from dedup.compiled import private_temporary_folder

from conftest import ROOT, SHARED_DATA
from texts import EN_SPEECH, SITE_FOOT, SITE_HEAD, ZH_SPEECH


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("segment-cache")


@pytest.fixture(scope="module")
def segmenter(cache) -> Segmenter:
    return load_segmenter([cache])


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> jieba.Tokenizer:
    """jieba itself, on its dictionary read afresh (not on a jieba cache left in the temporary folder)."""
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(tmp_path_factory.mktemp("jieba-cache"))
    tokenizer.initialize()
    return tokenizer


def _same(segmenter: Segmenter, reference: jieba.Tokenizer, text: str) -> None:
    assert segmenter.cut(text) == list(reference.cut(text, HMM=False)), text[:200]


EDGE_CASES = [
    "",
    " ",
    "\r\n\r\n\t  \u3000\xa0\n",
    "AT&T的c#和C++程序员用e-mail发了3.14%的_下划线_与#标签#",
    "a1b2 c3 研究生命起源 结婚的和尚未结婚的 他说的确实在理 长春市长春节讲话",
    "x一y二z 1a2b3c 中华人民共和国国务院总理李强 ABCdef123 ＡＢＣ１２３ 一一一一一一",
    "，。！？、；：“”‘’（）《》【】—…·\u9fd5\u9fd6\u4e00\u4dff 😀𠀀𪚥 é ñ ß",
    "Mr. Smith's 2nd-term budget: $1,234.56 (approx.) -- see p.7 & fig.3a; e.g. x+y=z%",
]


@pytest.mark.parametrize("text", EDGE_CASES + [ZH_SPEECH, EN_SPEECH, SITE_HEAD, SITE_FOOT])
def test_the_words_are_jiebas(segmenter, reference, text):
    _same(segmenter, reference, text)


def _real_texts() -> list:
    picks = [
        *sorted((SHARED_DATA / "zh_gov_work_reports_central" / "npc_resolutions").glob("*.txt")),
        *sorted((SHARED_DATA / "seed").glob("*.txt")),
        *sorted((SHARED_DATA / "zh_gov_work_reports_central" / "reports").glob("*.txt"))[::-51],  # (1954: Traditional)
        *sorted(SHARED_DATA.glob("zh_cctv_xwlb_transcripts_2023/*.txt"))[:2],
        *sorted(SHARED_DATA.glob("en_us_inaugural_nltk/*.txt"))[-1:],
    ]
    return picks or [pytest.param(None, marks=pytest.mark.skip(reason="../shared/data is not available"))]


@pytest.mark.parametrize("path", _real_texts(), ids=lambda p: p.name if p else "none")
def test_the_words_of_real_speeches_are_jiebas(segmenter, reference, path):
    _same(segmenter, reference, path.read_text(encoding="utf-8"))


WORDS = [
    "研究", "研究生", "生命", "起源", "和尚", "尚未", "结婚", "的确", "确实", "实在", "长春", "市长", "春节", "中华人民共和国",
    "人民", "共和国", "发展", "开展", "服务", "效劳", "安全生产", "督促", "催促", "广大", "广阔", "不", "了", "的", "一",
    "乒乓球拍卖完了", "AT&T", "c#", "C++",
]
HAN = "".join(sorted({ch for ch in ZH_SPEECH + "".join(WORDS) if RE_HAN.match(ch) and not ch.isascii()}))
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda at, size: ZH_SPEECH[at : at + size], st.integers(0, len(ZH_SPEECH) - 1), st.integers(1, 12)),
    st.text(alphabet=HAN, max_size=4),
    st.text(alphabet="abcXYZ0129 \t\r\n.,-+#&_%，。！“”\u3000\u9fd6é😀", max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=25).map("".join))
def test_the_words_of_random_mixed_text_are_jiebas(segmenter, reference, text):
    _same(segmenter, reference, text)


def test_the_block_patterns_are_jiebas():
    assert (RE_HAN.pattern, RE_SKIP.pattern, RE_ENG.pattern) == (
        jieba.re_han_default.pattern, jieba.re_skip_default.pattern, jieba.re_eng.pattern,
    )


def test_the_dictionary_is_jiebas(segmenter, reference):
    dictionary = segmenter.dictionary
    assert (dictionary.total, dictionary.size) == (reference.total, len(reference.FREQ))
    for word in ["中", "中华", "中华人民共和国", "中华人民", "AT&T", "c#", "一"]:
        assert dictionary.starting_with(word[0]).get(word) == reference.FREQ.get(word), word
    assert dictionary.starting_with("😀") == {}


def test_a_second_load_reads_the_cache_file(segmenter, cache):
    assert segmenter.dictionary.origin == "built"
    source = jieba_source()
    assert segmenter.dictionary.path == cache / source.file_name and segmenter.dictionary.path.is_file()
    again = load_dictionary([cache])
    assert (again.origin, again.path) == ("cache", segmenter.dictionary.path)
    assert Segmenter(again).cut(ZH_SPEECH) == segmenter.cut(ZH_SPEECH)


def test_the_cache_file_is_named_after_the_dictionary_it_was_made_from():
    source = jieba_source()
    names = {replace(source, **change).file_name for change in ({}, {"version": "9.9"}, {"size": 1}, {"mtime_ns": 1})}
    assert len(names) == 4


def test_a_damaged_cache_file_is_not_trusted(segmenter):
    key = jieba_source().key
    data = segmenter.dictionary.path.read_bytes()
    assert Dictionary.from_bytes(data, key).size == segmenter.dictionary.size
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x20
    for bad in (data[: len(data) // 2], data[:-1], data[:10], b"", bytes(flipped), data + b"\0"):
        with pytest.raises(CacheError):
            Dictionary.from_bytes(bad, key)
    with pytest.raises(CacheError):
        Dictionary.from_bytes(data, key + "-other")


def test_a_corrupted_cache_file_is_rebuilt(segmenter, reference, tmp_path):
    path = tmp_path / segmenter.dictionary.path.name
    data = bytearray(segmenter.dictionary.path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 16] = b"\xff" * 16
    path.write_bytes(bytes(data[: len(data) * 2 // 3]))  # corrupted and truncated
    rebuilt = load_dictionary([tmp_path])
    assert (rebuilt.origin, rebuilt.path) == ("built", path)
    assert path.read_bytes() == segmenter.dictionary.path.read_bytes()
    _same(Segmenter(rebuilt), reference, ZH_SPEECH)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # (no temporary file left)


def test_without_a_folder_to_write_the_dictionary_is_built_in_memory(reference, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    dictionary = load_dictionary([blocked / "cache", blocked])
    assert (dictionary.origin, dictionary.path) == ("memory", None)
    _same(Segmenter(dictionary), reference, ZH_SPEECH + EDGE_CASES[3])


def test_a_cached_dictionary_loads_without_jieba(segmenter, cache):
    code = (
        "import sys; from dedup.segment import load_segmenter; s = load_segmenter(sys.argv[1:]);"
        "print(s.dictionary.origin, 'jieba' in sys.modules, '/'.join(s.cut('研究生命起源')))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(cache)], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["cache", "False", "/".join(segmenter.cut("研究生命起源"))]


def test_the_private_temporary_folder_is_this_users_alone(tmp_path):
    assert cache_folders()[-1] == private_temporary_folder(name="dedup")  # (the folder after the user's cache folder)
    folder = private_temporary_folder(tmp_path, name="dedup")
    assert folder is not None and folder.parent == tmp_path and folder.stat().st_mode & 0o777 == 0o700
    shutil.rmtree(folder)
    folder.write_text("a file, not a folder")
    assert private_temporary_folder(tmp_path, name="dedup") is None
