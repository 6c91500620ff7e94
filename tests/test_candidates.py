import numpy as np

from dedup.candidates import document_candidates, group_frequency, shingle_document_frequency, window_candidates
from dedup.config import SignConfig
from dedup.normalize import normalize
from dedup.sign import make_minhash, minhash_of, sign, window_minhashes

from texts import EN_SPEECH, ZH_SPEECH

CONFIG = SignConfig()


def _mh(text):
    return minhash_of(sign(normalize(text), CONFIG).hashes, CONFIG)


def test_near_duplicates_collide_and_unrelated_do_not():
    docs = [ZH_SPEECH, ZH_SPEECH.replace("2019年", "2023年"), EN_SPEECH]
    pairs = document_candidates([_mh(t) for t in docs] + [None], threshold=0.5, num_perm=CONFIG.num_perm)
    assert pairs == {(0, 1)}


def test_a_copied_passage_collides_at_window_level():
    passage = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") : ZH_SPEECH.index("三、压紧压实")]
    host = "今天我们隆重召开全县教育工作大会，表彰先进，部署任务。" * 20 + passage + "近年来全县教育事业发展取得了显著成绩。" * 20
    windows = []
    for text in (ZH_SPEECH, host, EN_SPEECH):
        signed = sign(normalize(text), CONFIG)
        windows.append([make_minhash(hv, CONFIG) for _, _, hv in window_minhashes(signed, CONFIG, window=100)])
    counts = window_candidates(windows, threshold=0.3, num_perm=CONFIG.num_perm)
    assert set(counts) == {(0, 1)}
    assert window_candidates(windows, threshold=0.3, num_perm=CONFIG.num_perm, max_hits=0) == {}


def test_document_and_group_frequency():
    sets = [np.array([1, 2, 2, 3], dtype=np.uint32), np.array([2, 3], dtype=np.uint32), np.array([3], dtype=np.uint32)]
    values, counts = shingle_document_frequency(sets)
    assert dict(zip(values.tolist(), counts.tolist())) == {1: 1, 2: 2, 3: 3}
    values, groups = group_frequency(sets, [0, 0, 1], np.array([2, 3], dtype=np.uint32))
    assert dict(zip(values.tolist(), groups.tolist())) == {2: 1, 3: 2}
