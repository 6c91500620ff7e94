from dedup.align import align
from dedup.config import AlignConfig, SignConfig
from dedup.normalize import normalize
from dedup.sign import sign

from texts import EN_SPEECH, ZH_SPEECH

SIGN = SignConfig()
ALIGN = AlignConfig()


def _align(a: str, b: str, min_passage: int = 50):
    sa, sb = sign(normalize(a), SIGN), sign(normalize(b), SIGN)
    return sa.norm, sb.norm, align(sa, sb, config=ALIGN, min_passage=min_passage)


def test_identical_texts_align_end_to_end():
    na, nb, spans = _align(ZH_SPEECH, ZH_SPEECH)
    assert len(spans) == 1
    s = spans[0]
    assert (s.a0, s.a1, s.b0, s.b1, s.similarity) == (0, len(na), 0, len(nb), 1.0)


def test_substitutions_and_page_markers_stay_one_passage():
    spun = ZH_SPEECH.replace("发展", "开展").replace("督促", "催促").replace("广大", "广阔")
    spun = spun.replace("。", "。—2—", 3)
    na, nb, spans = _align(ZH_SPEECH, spun)
    assert len(spans) == 1
    assert spans[0].similarity > 0.95
    assert spans[0].a1 - spans[0].a0 > 0.95 * len(na)


def test_passage_inside_another_text_is_found_with_offsets():
    passage = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") : ZH_SPEECH.index("三、压紧压实")]
    host = EN_SPEECH[:400] + passage + EN_SPEECH[400:]
    na, nb, spans = _align(ZH_SPEECH, host)
    assert len(spans) == 1
    a0, a1 = na.span(spans[0].a0, spans[0].a1)
    b0, b1 = nb.span(spans[0].b0, spans[0].b1)
    assert ZH_SPEECH[a0:a1] == host[b0:b1] == passage.strip().rstrip("。")  # token to token


def test_reordered_paragraphs_give_one_passage_per_block():
    paras = ZH_SPEECH.split("\n")
    body = paras[4:]
    reordered = "\n".join(paras[:4] + body[len(body) // 2 :] + body[: len(body) // 2])
    na, nb, spans = _align(ZH_SPEECH, reordered)
    assert len(spans) >= 2
    assert sorted(s.b0 for s in spans) != [s.b0 for s in spans]
    assert sum(s.a1 - s.a0 for s in spans) >= 0.95 * len(na)


def test_paraphrased_sentences_in_another_order_are_one_passage():
    # each sentence reworded a little, and the four of them in the reverse order: one copied stretch, one passage
    # (each end of it trimmed on the sentence that holds it, not on an edit script of the two stretches)
    copied = (
        "Apply a cold compress: wrap ice in a moist hand towel and hold it on the swollen joint for twenty minutes. "
        "Do not apply ice directly to the skin, because the cold can burn it within minutes. "
        "Wear a sling for comfort, but remember that long immobilization in a sling can lead to a frozen shoulder. "
        "Keep the injured arm raised above the level of your heart whenever possible during the first few days."
    )
    spun = (
        "Keep your injured arm raised above the level of the heart whenever you can during the first few days. "
        "Long immobilization in a sling can lead to a frozen shoulder, so wear the sling for comfort only. "
        "Never apply ice directly to the skin, because the cold can burn it within minutes. "
        "Wrap ice in a moist hand towel and hold the cold compress on the swollen joint for twenty minutes."
    )
    a = EN_SPEECH[:600] + "\n\n" + copied + "\n\n" + EN_SPEECH[600:1200]
    b = "The weather was mild this spring, and the river rose slowly. " * 3 + "\n\n" + spun + "\n\n" + "We met twice. " * 5
    na, nb, spans = _align(a, b)
    assert len(spans) == 1
    a0, a1 = na.span(spans[0].a0, spans[0].a1)
    b0, b1 = nb.span(spans[0].b0, spans[0].b1)
    assert a.index(copied) <= a0 and a1 <= a.index(copied) + len(copied) and a1 - a0 >= 0.9 * len(copied)
    assert b.index(spun) <= b0 and b1 <= b.index(spun) + len(spun) and b1 - b0 >= 0.9 * len(spun)
    assert spans[0].moved > 0


def test_two_reworded_sentences_in_the_other_order_are_one_passage():
    # each sentence with a third of its words replaced, the two swapped: the two as one stretch are less alike than
    # either (an edit script of the whole, or its bag of words, finds too little in common), yet one copied stretch
    first = (
        "The farmers of the western valleys have waited for water from the new dam for more than ten years, "
        "and the canal that was promised to them in the last budget is still only a line on a map in the capital."
    )
    second = (
        "Our schools in the northern districts need more teachers, more books and safer buildings, "
        "because the children who study there today will be the workers and the parents of the next generation."
    )
    first_spun = (
        "The growers of the western plains have waited for irrigation from the new reservoir for more than ten years, "
        "and the channel that was pledged to them in the previous budget is still only a sketch on a chart in the capital."
    )
    second_spun = (
        "Our classrooms in the northern provinces need more instructors, more textbooks and sturdier buildings, "
        "because the pupils who learn there today will be the labourers and the mothers of the next generation."
    )
    copied, spun = first + " " + second, second_spun + " " + first_spun
    a = EN_SPEECH[:600] + "\n\n" + copied + "\n\n" + EN_SPEECH[600:1200]
    b = "The weather was mild this spring, and the river rose slowly. " * 3 + "\n\n" + spun + "\n\n" + "We met twice. " * 5
    na, nb, spans = _align(a, b)
    assert len(spans) == 1 and spans[0].moved == 1 and spans[0].similarity >= 0.5
    a0, a1 = na.span(spans[0].a0, spans[0].a1)
    b0, b1 = nb.span(spans[0].b0, spans[0].b1)
    assert a.index(copied) <= a0 and a1 <= a.index(copied) + len(copied) and a1 - a0 >= 0.9 * len(copied)
    assert b.index(spun) <= b0 and b1 <= b.index(spun) + len(spun) and b1 - b0 >= 0.9 * len(spun)


def test_a_paraphrased_sentence_between_copied_ones_is_bridged():
    # two sentences verbatim, one rewritten (a clause dropped, half its words replaced), two verbatim: one passage
    # over the whole copied stretch, not two verbatim islands
    before = (
        "We will build roads and bridges in every county of this state, and we will pay for them without raising "
        "taxes on working families. Our schools will get the teachers they need, and every child will have a place "
        "in a classroom by the end of next year. "
    )
    sentence = (
        "I shall also urge the legislature to act on several other vital pending bills, especially the measures on "
        "rural health, fair pricing of medicine, protection of patients' rights, enforcement of equal access to "
        "care, and fair treatment of nurses. "
    )
    rewritten = "Coverage of patients practical, enforcement of solutions access whose, and fair millions of budget treatment. "
    after = (
        "We will protect the rivers and forests that our grandparents handed down to us, and we will keep them clean "
        "for our grandchildren. And we will do all of this together, as one people, with one purpose and one future. "
    )
    a = EN_SPEECH[:500] + " " + before + sentence + after + EN_SPEECH[500:900]
    b = "The weather was mild this spring, and the river rose slowly. " * 2 + before + rewritten + after + "We met. " * 4
    na, nb, spans = _align(a, b)
    assert len(spans) == 1
    assert na.span(spans[0].a0, spans[0].a1) == (a.index(before), a.index(after) + len(after) - 2)  # (". ")
    assert nb.span(spans[0].b0, spans[0].b1) == (b.index(before), b.index(after) + len(after) - 2)


def test_a_clause_left_out_between_copied_sentences_is_bridged_and_a_sentence_is_not():
    # a copy that drops the first clause of a sentence (and changes two words of the rest) is one copied stretch;
    # one that drops a whole sentence is two passages: the text left out is reported as left out
    before = (
        "We will build roads and bridges in every county of this state, and we will pay for them without raising "
        "the tax on a single family farm. Our schools will open their doors to every child who wants to learn a trade."
    )
    dropped = "For twenty long years the wages of the miners in our northern valleys fell in every season"
    rest = "now they have risen in two of the last three years."
    spun = rest.replace("risen", "doomed").replace("years", "granting")
    after = (
        " We must go forward with the new plan, giving parents greater choice and making sure good teachers are "
        "rewarded for their hard work and for the results of their pupils."
    )
    for left_out, copy in ((dropped + ", but ", "but " + spun), (dropped + ". But ", "But " + spun)):
        source = before + " " + left_out + rest + after
        a = EN_SPEECH[:600] + "\n\n" + source + "\n\n" + EN_SPEECH[600:1200]
        b = "The weather was mild this spring. " * 3 + "\n\n" + before + " " + copy + after + "\n\n" + "We met twice. " * 5
        na, nb, spans = _align(a, b)
        if left_out.endswith(", but "):
            assert len(spans) == 1
            a0, a1 = na.span(spans[0].a0, spans[0].a1)
            assert a0 == a.index(source) and a1 >= a.index(source) + len(source) - 2
        else:
            assert len(spans) == 2
            assert na.span(spans[0].a0, spans[0].a1)[1] <= a.index(dropped) < na.span(spans[1].a0, spans[1].a1)[0]


def test_a_sentence_or_two_copied_before_a_paraphrased_one_is_bridged_to_the_passage_after_it():
    # two short sentences copied (too short to be a passage alone), one rewritten (half its words replaced: few
    # character trigrams left, a quarter of its bigrams), the rest copied: one passage over the whole stretch;
    # unrelated sentences in place of the rewritten one are not bridged
    before = "城市供水工程关系千家万户，必须抓紧抓好。要加快老旧管网改造，减少跑冒滴漏。"
    source = "我们要根据各地水源条件和人口规模，合理确定供水设施建设标准和建设时序，集中资金保障重点项目，优先解决农村饮水困难，提高供水安全水平。"
    spun = "今年要根据各省财政条件和城市规模，合理调整供水设施改造办法和改造顺序，集中人力保障民生项目，首先解决山区用水难题，提高供水服务水平。"
    other = "今年春天气候温和，河水缓缓上涨，农民们忙着春耕播种，乡间集市热闹非凡，外出务工的青年陆续返乡创业，村里新修了文化广场和卫生室。"
    after = (
        "各地区、各有关部门要把供水安全放在突出位置，建立健全水质监测制度，定期向社会公布水质信息，确保群众喝上放心水。"
        "同时要加强节约用水宣传，推广节水器具，提高全社会的节水意识。"
    )
    copied = before + source + after
    a = ZH_SPEECH + "\n" + copied + "\n" + EN_SPEECH[:300]
    for middle, bridged in ((spun, True), (other, False)):
        b = EN_SPEECH[300:900] + "\n" + before + middle + after + "\n" + EN_SPEECH[900:]
        na, nb, spans = _align(a, b)
        assert len(spans) == 1
        a0, a1 = na.span(spans[0].a0, spans[0].a1)
        assert a1 >= a.index(copied) + len(copied) - 1
        assert (a0 == a.index(copied)) == bridged and (a0 >= a.index(after)) != bridged


def test_reworded_sentences_with_one_left_out_between_them_are_one_passage_and_copied_ones_two():
    # a condensed copy (the sentences around one left out reworded) is one passage over the stretch; the same
    # sentences copied verbatim are two passages, the one left out reported as left out
    s1 = (
        "The farmers of the western valleys have waited for water from the new dam for more than ten years, "
        "and the canal that was promised to them in the last budget is still only a line on a map in the capital."
    )
    s2 = (
        "Engineers surveyed the route twice, the land was bought from the families who lived along it, and the first "
        "contracts were signed before the floods of the spring came down from the mountains."
    )
    s3 = (
        "Our schools in the northern districts need more teachers, more books and safer buildings, "
        "because the children who study there today will be the workers and the parents of the next generation."
    )
    s1_reworded = s1.replace("farmers", "growers").replace("dam", "reservoir").replace("canal", "channel")
    s3_reworded = s3.replace("schools", "classrooms").replace("books", "textbooks").replace("children who study", "pupils who learn")
    source = s1 + " " + s2 + " " + s3
    a = EN_SPEECH[:600] + "\n\n" + source + "\n\n" + EN_SPEECH[600:1200]
    for copy, passages in ((s1_reworded + " " + s3_reworded, 1), (s1 + " " + s3, 2)):
        b = "The weather was mild this spring. " * 3 + "\n\n" + copy + "\n\n" + "We met twice. " * 5
        na, nb, spans = _align(a, b)
        assert len(spans) == passages
        assert na.span(spans[0].a0, spans[0].a1)[0] < a.index(s2) and na.span(spans[-1].a0, spans[-1].a1)[1] > a.index(s3)


def test_unrelated_text_between_copied_passages_is_not_bridged():
    before = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") : ZH_SPEECH.index("三、压紧压实")]
    after = EN_SPEECH[:700]
    # between them, on each side, about as much text as a long paraphrased sentence, but about something else
    a = before + "今天我们隆重召开全县教育工作大会，表彰先进，部署任务。近年来，全县办学条件明显改善，教育质量稳步提高，师资队伍不断壮大，群众满意度持续上升。新建和改扩建中小学校舍十二万平方米，新增学位六千多个，农村学校全部接通宽带网络，乡村教师待遇逐年提高，优秀毕业生纷纷回乡任教，全县义务教育巩固率达到百分之九十九。" + after
    b = before + "今年春天气候温和，河水缓缓上涨，农民们忙着春耕播种，乡间集市热闹非凡，外出务工的青年陆续返乡创业，村里新修了文化广场和卫生室。傍晚时分，老人们在榕树下下棋聊天，孩子们在晒谷场上追逐嬉戏，炊烟袅袅升起，远处的山峦笼罩在薄雾之中，一派宁静祥和的景象，村口的小河边还传来阵阵蛙鸣。" + after
    na, nb, spans = _align(a, b)
    assert len(spans) == 2


def test_unrelated_texts_share_nothing():
    other = "今天我们隆重召开全县教育工作大会，表彰先进，部署任务。近年来，全县教育事业发展取得了显著成绩，办学条件明显改善，教育质量稳步提高。"
    assert _align(ZH_SPEECH, other * 3)[2] == []
    assert _align(EN_SPEECH, ZH_SPEECH)[2] == []


def test_short_matches_below_min_passage_are_not_reported():
    shared = "安全生产责任重于泰山"
    _, _, spans = _align("甲" * 0 + "我们说" + shared + "这句话很重要。", "他们也认为" + shared + "的确如此。", min_passage=50)
    assert spans == []
