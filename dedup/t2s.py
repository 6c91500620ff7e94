"""Traditional→Simplified (OpenCC ``t2s``) without calling OpenCC where that gives the same text.

OpenCC cuts a text into dictionary keys (longest first) and unmatched characters, and
replaces each key by its value. Its keys of more than one character are all in TSPhrases
(``KEYS``). So a text holding no such key converts character by character (``char_map``:
each character converted once, alone), and a text also holding no character that converts
on its own does not change, unless it holds a key whose value differs although none of its
characters converts alone (``PHRASES``, by the character that changes). Both lists were read
from the dictionaries of OpenCC 1.4.2 (``opencc_dict -f ocd2 -t text``); they are used only when
the installed dictionaries are those (same SHA-256), else OpenCC converts every text.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from dedup.normalize_kernels import holds_key

NONE, CONVERTS, IN_PHRASE = 0, 1, 2  # what a character can do under t2s

#: SHA-256 of the files of OpenCC's t2s conversion that ``PHRASES`` was read from.
_DICT_FILES = {
    "t2s.json": "96fe5cc374a80ccc49e3370006cce3aefe4af955868ae0b14fb3079ec695be4f",
    "TSPhrases.ocd2": "2b722237cc00a4ac985790deb6a68c99f34de10e980a0029ac82c72b0f7ae22b",
    "TSCharactersExt.ocd2": "e2b0286801dcd1d26119d19ba8b8a35cde021ec173468255d117c4c0951b2906",
    "TSCharacters.ocd2": "7a994de7900707925fac9c68728a6bb9cf3059870426f661cf31b601efbf5f2f",
    "CJK_Compatibility_Ideographs.ocd2": "4b1faa6649012f524068ec18c0fb520ead343c11cbe0a8e4c8853ca61369d666",
}

#: Keys of TSPhrases whose value differs, none of whose characters converts on its own,
#: by the character that changes.
PHRASES = {
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

#: All keys of TSPhrases (none of one character): where none is in a text, OpenCC converts it
#: character by character.
KEYS = tuple(
    (
        "一坏 一目瞭然 七逕 上逕 上鍊 不可貲計 不瞭解 么麼 么麽 九逕山 乾乾淨淨 "
        "乾乾脆脆 乾佑縣 乾元 乾卦 乾嘉 乾圖 乾坤 乾坤一擲 乾坤再造 乾坤大挪移 乾宅 "
        "乾安縣 乾安鎮 乾州 乾斷 乾斷食 乾旦 乾曜 乾清宮 乾盛世 乾紅 乾綱 乾縣 乾象 "
        "乾造 乾道 乾闥婆 乾陵 乾隆 乾隆年間 乾隆皇帝 二噁英 仇讎 以免藉口 以功覆過 "
        "任筆沈詩 侔德覆載 傢俱 傷亡枕藉 允祕 八濛山 其陰多蒐 凌藉 出醜狼藉 函覆 剋架 "
        "剋毒 千鍾粟 南氾 南逕 反反覆覆 反覆 反覆思維 反覆思量 反覆性 名覆金甌 吳祕 "
        "吳育昇 哪吒 回覆 土坏 坏土 坏子 坏布 坏戶 墨沈沈 壺裏乾坤 大目乾連冥間救母變文 "
        "宫商角徵羽 射覆 尼乾子 尼乾陀 年釐 幺麼 幺麼小丑 幺麼小醜 康乾 張昇 張法乾 "
        "彷彿 彷徨 徐胤昇 復甦 徵弦 徵絃 徵羽摩柯 徵聲 徵調 徵音 情有獨鍾 想像 "
        "意志消沈 慰藉 慰藉着 憑藉 憑藉着 懷釐 成甦 所費不貲 手鍊 打坏 扞格 扭轉乾坤 "
        "批覆 找藉口 折戟沈沙 折戟沈河 拉坏 拉鍊 拉鍊工程 拜覆 挨剋 捏坏 擊沈 據瞭解 "
        "文錦覆阱 於世成 於乎 於仲完 於倫 於其一 於則 於勇明 於呼哀哉 於單 於坦 於崇文 "
        "於忠祥 於惟一 於戲 於敖 於梨華 於清言 於潛 於琳 於穆 於竹屋 於菟 於邑 於陵子 "
        "旋乾轉坤 旋轉乾坤 旋轉乾坤之力 明瞭 明覆 昏沈 春蒐 春釐 暗沈沈 書中自有千鍾粟 "
        "有序 朝乾夕惕 木吒 李乾德 李昇 李昇勳 李澤鉅 李祕 李鍊福 李鍾郁 束脩 東氾 "
        "林甦 校讎 梁昇卿 梁章鉅 楊甦棣 楊聯陞 樊於期 橡椀 死氣沈沈 段脩 毛坏 水逕 "
        "氾勝之 氾南 氾國 氾水 沈下 沈不住氣 沈住氣 沈冤 沈厚 沈吟 沈寂 沈得住氣 沈思 "
        "沈思往事 沈悶 沈沒 沈沒成本 沈浮 沈浸 沈浸於 沈淪 沈湎 沈湎酒色 沈溺 沈滯 "
        "沈滯性 沈澱 沈澱出來 沈澱劑 沈澱法 沈澱物 沈濁 沈甸甸 沈痛 沈痼 沈痾 沈睡 "
        "沈睡不醒 沈砂池 沈積 沈積岩 沈積石 沈筒 沈船 沈落 沈詩任筆 沈迷 沈迷不醒 沈醉 "
        "沈重 沈降 沈陷 沈靜 沈靜下來 沈香 沈鬱 沈魚落雁 沈默 沈默不語 沈默寡言 沙逕 "
        "河逕 流徵 浪蕩乾坤 浮沈 海哩 深沈 深沈不露 溫昇豪 滑藉 烏昇 烏沈沈 烏逕 無序 "
        "狐藉虎威 王彥昇 珍珠項鍊 甚鉅 甦生 甦醒 申昇勳 申覆 畢昇 發覆 盧象昇 目劄 "
        "瞭哨 瞭如 瞭如指掌 瞭望 瞭然 瞭然於心 瞭若指掌 瞭解 瞭解到 破釜沈舟 磚坏 示覆 "
        "社逕 祕丕笈 祕彭祖 祕瓊 祝釐 神祇 稟覆 竺乾 答覆 篤麼 簡單明瞭 籌畫 素藉 "
        "老態龍鍾 耳沈 肉脩 肘手鍊足 胤祕 脩敬 脩炳 脩脡 脩脯 脩金 脫坏 腶脩 英哩 "
        "茅蒐 茵藉 萬鍾 落雁沈魚 蒐于紅 蒐於紅 蒐狩 蒐獮 蒐獵 蒐田 蒐畋 蒐苗 蒜薹 "
        "蔣昇 蕓薹 蕩覆 蕭乾 藉代 藉以 藉助 藉助於 藉卉 藉口 藉喻 藉寇兵 藉寇兵齎盜糧 "
        "藉手 藉據 藉故 藉故推辭 藉方 藉條 藉槁 藉機 藉此 藉此機會 藉甚 藉由 藉着 "
        "藉端 藉端生事 藉箸代籌 藉草枕塊 藉藉 藉藉无名 藉詞 藉讀 藉資 衹得 衹見樹木 "
        "衹見樹木不見森林 袁祕 袖裏乾坤 袷袢 製坏 覆上 覆住 覆信 覆冒 覆呈 覆命 覆墓 "
        "覆宗 覆帳 覆幬 覆成 覆按 覆文 覆杯 覆校 覆瓿 覆盂 覆盆 覆盆子 覆盤 覆育 "
        "覆蕉尋鹿 覆逆 覆醢 覆醬瓿 覆電 覆露 覆鹿尋蕉 覆鹿遺蕉 覆鼎 見覆 角徵 角徵羽 "
        "計畫 許甦魂 變徵 變徵之聲 變徵之音 讎定 谿工 貂覆額 買臣覆水 赤石逕 踅門瞭戶 "
        "躪藉 載沈載浮 載浮載沈 辛祕 逆釐 逕口 逕聯 逕頭 郭子乾 酒逢知己千鍾少 醞藉 "
        "重覆 金吒 金昇玟 金鍊 鈞覆 鉅子 鉅萬 鉅防 鉸鍊 銀鍊 鋼坏 錢鍾書 鍊墜 鍊子 "
        "鍊形 鍊條 鍊錘 鍊鎖 鍛鍾 鍾繇 鍾萬梅 鍾重發 鍾鍛 鍾馗 鎖鍊 鐵鍊 鑽石項鍊 "
        "鑿坏 閻鶴昇 陰沈 陰沈沈 陰陰沈沈 陳志昇 陳昇 陳甦 陶坏 雁杳魚沈 雖覆能復 電覆 "
        "露覆 韓昇延 韓甦 項鍊 頗覆 頸鍊 顛乾倒坤 顛倒乾坤 顧藉 馮甦 魏徵 魚沈雁杳 "
        "麪坏兒 麼些族 黃甦 黃鍾公 黑沈沈 龍鍾 龔昇"
    ).split()
)

#: Code-point ranges of the characters that can be CJK tokens (``dedup.normalize._CJK_RANGES``).
_RANGES = ((0x2E80, 0x2FDF), (0x3005, 0x3005), (0x3007, 0x3007), (0x3040, 0x30FF), (0x3400, 0x4DBF),
           (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3134F))


def dictionaries_known() -> bool:
    import opencc

    share = Path(opencc.__file__).resolve().parent / "clib" / "share" / "opencc"
    try:
        return all(hashlib.sha256((share / name).read_bytes()).hexdigest() == digest for name, digest in _DICT_FILES.items())
    except OSError:
        return False


@lru_cache(maxsize=1)
def _singles(convert) -> tuple[np.ndarray, np.ndarray] | None:
    """Every character that can be a CJK token and what ``convert`` makes of it alone (as code points);
    None when the installed dictionaries are not those the lists here were read from."""
    if not dictionaries_known():
        return None
    chars = np.concatenate([np.arange(lo, hi + 1, dtype="<u4") for lo, hi in _RANGES])
    lines = np.full(2 * len(chars) - 1, ord("\n"), dtype="<u4")  # no key holds a newline: each character alone
    lines[0::2] = chars
    out = np.frombuffer(convert(lines.tobytes().decode("utf-32-le")).encode("utf-32-le"), dtype="<u4")
    # each character became one character, not a newline, and the newlines stayed where they were
    if len(out) != len(lines) or (out[1::2] != ord("\n")).any() or (out[0::2] == ord("\n")).any():
        return None
    return chars.astype(np.uint32), out[0::2].astype(np.uint32)


@lru_cache(maxsize=1)
def char_table(convert) -> np.ndarray:
    """For every code point: NONE, CONVERTS or IN_PHRASE (changes inside a key of ``PHRASES``).

    ``convert`` is the OpenCC ``t2s`` conversion. Everything is CONVERTS when the installed
    dictionaries are not those ``PHRASES`` was read from.
    """
    table = np.full(0x110000, CONVERTS, dtype=np.uint8)
    singles = _singles(convert)
    if singles is None:
        return table
    chars, out = singles
    table[chars[chars == out]] = NONE
    for ch in PHRASES:
        if table[ord(ch)] == NONE:
            table[ord(ch)] = IN_PHRASE
    return table


@lru_cache(maxsize=1)
def char_map(convert) -> np.ndarray | None:
    """What ``convert`` makes of each code point alone (itself where nothing); None if not known.

    It is what OpenCC makes of a text holding no key of ``KEYS`` (``key_table``), and no CJK
    compatibility form (its normalization step maps only those, one character to one).
    """
    singles = _singles(convert)
    if singles is None:
        return None
    table = np.arange(0x110000, dtype=np.uint32)
    table[singles[0]] = singles[1]
    return table


def key_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``KEYS`` for a compiled search (``dedup.normalize_kernels.holds_key``)."""
    return _key_table(KEYS)


@lru_cache(maxsize=2)
def _key_table(keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``keys`` for a compiled search: ``(first, firsts, offsets, flat)``.

    ``first``: per code point, 1 if a key starts with it; ``firsts``: the first code point of each
    key, sorted; key ``k`` is ``flat[offsets[k]:offsets[k + 1]]``.
    """
    keys = sorted(keys)
    first = np.zeros(0x110000, dtype=np.uint8)
    first[[ord(k[0]) for k in keys]] = 1
    firsts = np.array([ord(k[0]) for k in keys], dtype=np.uint32)
    offsets = np.cumsum([0] + [len(k) for k in keys]).astype(np.int64)
    flat = np.array([ord(c) for k in keys for c in k], dtype=np.uint32)
    return first, firsts, offsets, flat


_PHRASE_KEYS = tuple(key for keys in PHRASES.values() for key in keys)


def phrase_found(codes: np.ndarray) -> bool:
    """Whether the code points ``codes`` hold a key of ``PHRASES`` (so conversion may change them)."""
    return holds_key(codes, *_key_table(_PHRASE_KEYS))
