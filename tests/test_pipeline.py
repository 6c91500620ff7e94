from dataclasses import replace
from pathlib import Path

import pytest

import dedup
from dedup.config import ScanConfig
from dedup.errors import InputError

from texts import EN_SPEECH, SITE_FOOT, SITE_HEAD, ZH_SPEECH


OTHER_ZH = [
    """在全县教育工作大会上的讲话\n李文华\n2020年8月28日\n\n同志们：\n今天我们隆重召开全县教育工作大会，主要任务是表彰先进、总结经验、部署新学年的教育工作。过去一年，全县教育系统攻坚克难，义务教育均衡发展通过国家评估，新建改扩建学校十二所，新增学位六千余个，城乡办学条件差距明显缩小。高考本科上线率再创新高，职业教育毕业生就业率保持在百分之九十五以上。\n新学年，我们要坚持立德树人根本任务，深化课堂教学改革，减轻学生过重课业负担，让每个孩子都能享有公平而有质量的教育。要加强教师队伍建设，完善乡村教师补助政策，让优秀教师愿意到农村去、留得住、教得好。要加大财政投入，优先保障教育经费，持续改善薄弱学校办学条件。\n同志们，教育是国之大计、党之大计。让我们凝心聚力、真抓实干，奋力开创全县教育事业发展新局面。\n谢谢大家！\n""",
    """在全区文化旅游产业发展推进会上的讲话\n王海燕\n2021年4月16日\n\n同志们：\n这次会议的主要任务是，深入分析全区文化旅游产业发展面临的机遇和挑战，研究部署今后一个时期的重点工作。近年来，我区依托青山绿水和历史文化资源，打造了古镇、湿地、茶园三条精品线路，年接待游客突破八百万人次，旅游综合收入增长百分之十八。\n但也要看到，我区旅游产品同质化问题仍然存在，住宿餐饮配套不足，过夜游客比例偏低，品牌影响力有待提升。下一步，要坚持文旅融合，深挖非遗、民俗和红色资源，开发研学、康养、夜游等新业态；要补齐基础设施短板，改造提升景区道路、停车场和旅游厕所；要创新营销方式，用好短视频和直播平台，讲好我们的故事。\n同志们，文化旅游是朝阳产业、富民产业。希望大家抢抓机遇，奋发有为，推动全区文化旅游产业高质量发展。\n谢谢大家！\n""",
]


def _write(root: Path, rel: str, text: str, encoding: str = "utf-8") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _write(tmp_path, "zh/safety.txt", ZH_SPEECH)
    _write(tmp_path, "zh/safety_redated.txt", ZH_SPEECH.replace("张明远", "刘建国").replace("2019年9月18日", "2023年9月6日"))
    _write(tmp_path, "zh/safety_gbk.txt", ZH_SPEECH, "gb18030")
    spun = ZH_SPEECH.replace("发展", "开展").replace("督促", "催促").replace("广大", "广阔")
    _write(tmp_path, "site/page1.txt", SITE_HEAD.format(name="安全生产讲话") + spun + SITE_FOOT)
    for k, text in enumerate(OTHER_ZH, 2):
        _write(tmp_path, f"site/page{k}.txt", SITE_HEAD.format(name=f"讲话{k}") + text + SITE_FOOT)
    passage = EN_SPEECH[EN_SPEECH.index("This library has") : EN_SPEECH.index("We paid for it")]
    _write(tmp_path, "en/library.txt", EN_SPEECH)
    _write(tmp_path, "en/host.txt", "Good evening. " * 3 + "We gather tonight to honor our volunteers, who kept the food bank open through the flood.\n" + passage + "\nThank you all, and good night.\n")
    _write(tmp_path, "broken.txt", "")
    return tmp_path


def _pair(report, a: str, b: str):
    for p in report.pairs:
        if {p.a, p.b} == {a, b}:
            return p
    return None


def test_scan_finds_every_planted_case(folder: Path):
    report = dedup.scan(folder)
    assert report.scanned == 8 and report.skipped == 1
    assert _pair(report, "zh/safety.txt", "zh/safety_gbk.txt").relation == "exact"
    redated = _pair(report, "zh/safety.txt", "zh/safety_redated.txt")
    assert redated.relation == "near_duplicate"
    assert any("first" in d and "lines differ" in d for d in redated.differences)
    page = _pair(report, "site/page1.txt", "zh/safety.txt")
    assert page.relation == "near_duplicate"
    assert any("substituted" in d for d in page.differences)
    host = _pair(report, "en/host.txt", "en/library.txt")
    assert host.relation == "partial"
    assert any(
        {"zh/safety.txt", "zh/safety_gbk.txt", "zh/safety_redated.txt", "site/page1.txt"} <= set(c) for c in report.clusters
    )


def test_pages_of_the_same_site_are_not_pairs(folder: Path):
    report = dedup.scan(folder)
    for a, b in (("site/page1.txt", "site/page2.txt"), ("site/page1.txt", "site/page3.txt"), ("site/page2.txt", "site/page3.txt")):
        assert _pair(report, a, b) is None


def test_passage_offsets_slice_to_matching_text(folder: Path):
    from rapidfuzz.distance import Indel

    report = dedup.scan(folder)
    texts = {}
    for p in report.pairs:
        for side in (p.a, p.b):
            texts.setdefault(side, dedup.read_document(folder / side).text)
        for x in p.passages:
            a = dedup.normalize_text(texts[p.a][x.a_start : x.a_end])
            b = dedup.normalize_text(texts[p.b][x.b_start : x.b_end])
            assert a and b
            assert Indel.normalized_similarity(a, b) >= 0.5


def test_skipped_file_has_a_reason(folder: Path):
    report = dedup.scan(folder)
    (entry,) = [d for d in report.documents if d.status == "skipped"]
    assert entry.path == "broken.txt" and entry.reason


def test_min_passage_is_honoured(folder: Path):
    report = dedup.scan(folder, config=ScanConfig(min_passage=400))
    assert _pair(report, "en/host.txt", "en/library.txt") is None


def test_missing_folder_raises(tmp_path: Path):
    with pytest.raises(InputError):
        dedup.scan(tmp_path / "nope")


def test_progress_is_reported(folder: Path):
    seen = []
    dedup.scan(folder, progress=lambda stage, done, total: seen.append(stage))
    assert {"read", "sign", "candidates", "align"} <= set(seen)


def test_real_seed_page_is_a_near_duplicate_of_its_clean_speech(shared_data: Path, tmp_path: Path):
    """The real download page in ../shared/data/seed against its speech with header, furniture and spinning undone."""
    import re

    (seed_file,) = sorted((shared_data / "seed").glob("*.txt"))
    page = seed_file.read_text(encoding="utf-8")
    body = page[page.index("同志们") : page.index("谢谢大家") + len("谢谢大家。")]
    body = re.sub(r"—\d+—|第\d+页 共\d+页", "", body)
    for spun, word in {"效劳": "服务", "开展": "发展", "根底": "基础", "稳固": "巩固", "广阔": "广大",
                       "原那么": "原则", "催促": "督促", "播送": "广播", "发动": "动员", "〞": "”"}.items():
        body = body.replace(spun, word)
    _write(tmp_path, "seed_page.txt", page)
    _write(tmp_path, "clean.txt", "在深入开展创先争优活动暨文明城市创建百日整治动员大会上的讲话\n2010年6月5日\n" + body)
    report = dedup.scan(tmp_path)
    (pair,) = report.pairs
    assert pair.relation == "near_duplicate"
    assert any("substituted" in d for d in pair.differences)
    assert any("page markers" in d for d in pair.differences)


class _OnePairAJob:
    """An executor that runs every pair of the pipeline's batches as a job of its own, in two forked processes:
    several jobs even for a small folder, through the executor interface as any executor would see it."""

    workers = 2

    def __init__(self) -> None:
        self.local = dedup.LocalExecutor(workers=2)
        self.jobs = 0
        self.group_by_key = self.local.group_by_key
        self.beside = self.local.beside

    def map(self, fn, jobs, *, shared=None):
        for job in jobs:
            if not isinstance(job, (list, tuple)):  # (a job that is not a batch of records: a part of the hash range)
                self.jobs += 1
                yield from self.local.map(fn, [job], shared=shared)
                continue
            single = [job[k : k + 1] for k in range(len(job))]
            self.jobs += len(single)
            yield [result for out in self.local.map(fn, single, shared=shared) for result in out]


def test_worker_processes_give_the_same_report(folder: Path):
    single = dedup.scan(folder, config=ScanConfig(workers=1))
    executor = _OnePairAJob()
    forked = dedup.scan(folder, executor=executor)
    assert executor.jobs > 2 and forked.pairs == single.pairs and forked.clusters == single.clusters


def test_a_scan_that_keeps_sketches_only_gives_the_report_of_one_that_keeps_the_documents(folder: Path):
    """A folder of more than ``keep_files`` files: the documents of candidate pairs are read again, in worker processes."""
    kept = dedup.scan(folder, config=ScanConfig(workers=1))
    sketched = dedup.scan(folder, config=ScanConfig(workers=2), keep_files=0)
    assert sketched.pairs and replace(sketched, config=kept.config) == kept


def test_comparing_no_documents_gives_an_empty_report():
    report = dedup.compare([], config=ScanConfig(workers=1))
    assert report.pairs == () and report.clusters == () and report.documents == ()


def test_a_scan_with_an_index_in_memory_names_archive_documents(folder: Path):
    archive = dedup.MemoryStore()
    dedup.build_index(folder / "zh", archive)
    report = dedup.scan(folder / "site", index=archive)
    archived = [p for p in report.pairs if p.b_origin == "archive"]
    assert archived and all(p.a_origin == "scanned" for p in archived)
    names = {p.names()[1] for p in archived}
    assert all(n.startswith("index:") for n in names) and "index:safety.txt" in names
    assert report.index == archive.location and report.archive == 3


def test_reports_show_the_texts_the_scan_read_not_the_files_as_they_are_later(folder: Path):
    """Issue 14: a file deleted or rewritten after it was read changes nothing in any report of the scan."""
    import io

    rewritten = "同志们，这是读完以后才写进文件的新内容，报告里不该出现。\n" * 20

    def meanwhile(stage: str, done: int, total: int) -> None:
        if stage == "candidates" and done == 0:  # every file has been read
            (folder / "zh/safety_redated.txt").unlink()
            (folder / "zh/safety.txt").write_text(rewritten, encoding="utf-8")

    report = dedup.scan(folder, progress=meanwhile)
    texts = report.texts()
    assert texts["zh/safety.txt"] == ZH_SPEECH and "zh/safety_redated.txt" in texts
    # only the documents a report can show keep their text
    assert set(texts) == {p.a for p in report.pairs} | {p.b for p in report.pairs}
    assert "site/page2.txt" not in texts
    for fmt in ("html", "terminal"):
        out = io.StringIO()
        dedup.write_report(report, fmt, out, show=20)
        assert "刘建国" in out.getvalue() and "读完以后" not in out.getvalue(), fmt
    redated = _pair(report, "zh/safety.txt", "zh/safety_redated.txt")
    a_text, b_text = texts[redated.a], texts[redated.b]
    for x in redated.passages:  # the offsets are into the texts kept
        assert a_text[x.a_start : x.a_end][-10:] == b_text[x.b_start : x.b_end][-10:]
    assert "同志们" not in dedup.report_to_json(report)  # the JSON never holds texts


def test_a_check_report_keeps_the_checked_texts(folder: Path, tmp_path: Path):
    import io

    archive = dedup.MemoryStore()
    dedup.build_index(folder / "zh", archive)
    draft = tmp_path / "draft.txt"
    draft.write_text(ZH_SPEECH.replace("张明远", "赵一鸣"), encoding="utf-8")
    report = dedup.check([draft], archive)
    draft.unlink()  # gone before the report is written
    assert report.texts() == {str(draft): ZH_SPEECH.replace("张明远", "赵一鸣")}
    out = io.StringIO()
    dedup.write_report(report, "html", out, load_archived=dedup.archive_text_loader(archive, [p.b for p in report.pairs]))
    assert "赵一鸣" in out.getvalue() and 'id="v1a1"' in out.getvalue()


def test_a_folder_with_nothing_readable_raises_an_input_error_that_lists_what_was_skipped(tmp_path: Path):
    _write(tmp_path, "broken/empty.txt", "")
    (tmp_path / "broken" / "bad.docx").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="no readable documents") as err:
        dedup.scan(tmp_path / "broken")
    message = str(err.value)
    assert "2 files found" in message and "empty.txt: empty file" in message and "bad.docx: corrupt .docx" in message
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match=r"no documents found in .*nothing \(dedup reads .txt, .md, .docx, .pdf, .html\)"):
        dedup.scan(tmp_path / "nothing")
