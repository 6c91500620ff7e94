"""When Traditional→Simplified conversion (OpenCC ``t2s``) can be skipped because it cannot change a text.

OpenCC cuts a text into dictionary keys (longest first) and unmatched characters, and
replaces each key by its value. So the output equals the input unless the text holds a
character that converts on its own (found by converting every CJK character once), or a
longer key whose value differs from it. The keys of more than one character whose
characters all stay the same on their own are listed below, under each character that
changes in them (the only ones a text without a converting character can hold).
The list was read from the dictionaries of OpenCC 1.4.2 (``opencc_dict -f ocd2 -t text``);
the check is used only when the installed dictionaries are those (same SHA-256), else
every text is converted.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

NONE, CONVERTS, IN_PHRASE = 0, 1, 2  # what a character can do under t2s

#: SHA-256 of the files of OpenCC's t2s conversion that ``_PHRASES`` was read from.
_DICT_FILES = {
    "t2s.json": "96fe5cc374a80ccc49e3370006cce3aefe4af955868ae0b14fb3079ec695be4f",
    "TSPhrases.ocd2": "2b722237cc00a4ac985790deb6a68c99f34de10e980a0029ac82c72b0f7ae22b",
    "TSCharactersExt.ocd2": "e2b0286801dcd1d26119d19ba8b8a35cde021ec173468255d117c4c0951b2906",
    "TSCharacters.ocd2": "7a994de7900707925fac9c68728a6bb9cf3059870426f661cf31b601efbf5f2f",
    "CJK_Compatibility_Ideographs.ocd2": "4b1faa6649012f524068ec18c0fb520ead343c11cbe0a8e4c8853ca61369d666",
}

#: Keys of TSPhrases whose value differs, none of whose characters converts on its own,
#: by the character that changes.
_PHRASES = {
    "哩": "海哩 英哩".split(),
    "坏": "一坏 土坏 坏土 坏子 坏布 打坏 拉坏 捏坏 毛坏 陶坏".split(),
    "沈": (
        "墨沈沈 意志消沈 折戟沈沙 折戟沈河 昏沈 暗沈沈 沈下 沈冤 沈厚 沈吟 沈寂 "
        "沈思 沈思往事 沈浮 沈浸 沈湎 沈湎酒色 沈溺 沈甸甸 沈痛 沈痼 沈睡 "
        "沈睡不醒 沈砂池 沈筒 沈船 沈落 沈迷 沈迷不醒 沈醉 沈重 沈降 沈陷 沈香 "
        "沈默 沈默寡言 浮沈 深沈 深沈不露 破釜沈舟 耳沈 黑沈沈"
    ).split(),
    "甦": "甦生 甦醒".split(),
    "瞭": "一目瞭然 不瞭解 明瞭 瞭如 瞭如指掌 瞭然 瞭若指掌 瞭解 瞭解到".split(),
    "藉": (
        "以免藉口 凌藉 找藉口 滑藉 狐藉虎威 素藉 茵藉 藉代 藉以 藉助 藉卉 藉口 "
        "藉喻 藉寇兵 藉手 藉故 藉方 藉槁 藉此 藉甚 藉由 藉着 藉端 藉端生事"
    ).split(),
    "衹": "衹得".split(),
    "覆": (
        "函覆 反反覆覆 反覆 反覆思量 反覆性 回覆 批覆 拜覆 明覆 申覆 示覆 答覆 "
        "覆信 覆呈 覆命 覆墓 覆按 覆文 覆校 重覆"
    ).split(),
}

#: Code-point ranges of the characters that can be CJK tokens (``dedup.normalize._CJK_RANGES``).
_RANGES = ((0x2E80, 0x2FDF), (0x3005, 0x3005), (0x3007, 0x3007), (0x3040, 0x30FF), (0x3400, 0x4DBF),
           (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3134F))


def _dictionaries_known() -> bool:
    import opencc

    share = Path(opencc.__file__).resolve().parent / "clib" / "share" / "opencc"
    try:
        return all(hashlib.sha256((share / name).read_bytes()).hexdigest() == digest for name, digest in _DICT_FILES.items())
    except OSError:
        return False


@lru_cache(maxsize=1)
def char_table(convert) -> np.ndarray:
    """For every code point: NONE, CONVERTS or IN_PHRASE (changes inside a key of ``_PHRASES``;
    bits 3-7 then number its group of keys, from 1).

    ``convert`` is the OpenCC ``t2s`` conversion. Everything is CONVERTS when the installed
    dictionaries are not those ``_PHRASES`` was read from.
    """
    table = np.full(0x110000, CONVERTS, dtype=np.uint8)
    if not _dictionaries_known():
        return table
    chars = [chr(c) for lo, hi in _RANGES for c in range(lo, hi + 1)]
    out = convert("\n".join(chars)).split("\n")  # no key holds a newline: each character alone
    if len(out) != len(chars):
        return table
    same = [ord(c) for c, o in zip(chars, out) if c == o]
    table[same] = NONE
    for group, ch in enumerate(_PHRASES, start=1):
        if table[ord(ch)] == NONE:
            table[ord(ch)] = IN_PHRASE | group << 3
    return table


_GROUPS = list(_PHRASES.values())
assert len(_GROUPS) < 31  # group numbers 1..30 in bits 3-7 of ``char_table``


def phrase_found(text: str, groups: int = -1) -> bool:
    """Whether ``text`` holds a key of ``_PHRASES`` (so conversion may change it).

    ``groups``: a mask of the groups of keys to look at (bit g for the g-th character of
    ``_PHRASES``, from 1, as ``char_table`` numbers them); all by default.
    """
    return any(groups >> g & 1 and any(key in text for key in keys) for g, keys in enumerate(_GROUPS, start=1))
