"""Unit tests of each minutes rule: sentence cutting, decision cues and their exclusions,
confirmations, proposals, recaps, owners (named before/after the cue, speaker, addressee,
organisations, titled names, imperative), deadlines from replies, keywords, chapters,
summary, and the rules files themselves."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from minutes_samples import asr_text

from transcribe.minutes.actions import ActionFinder
from transcribe.minutes.build import build_minutes
from transcribe.minutes.decisions import DecisionFinder
from transcribe.minutes.model import Segment, Transcript, Word, parse_transcript
from transcribe.minutes.people import NameBook
from transcribe.minutes.rules import RuleBook, Rules, RulesError
from transcribe.minutes.sentences import split_transcript

BOOK = RuleBook()
MEETING = datetime.fromisoformat("2026-12-03T10:00:00+08:00")  # Thursday


def _segments(turns: list[tuple[str, str]]) -> list[Segment]:
    out, t = [], 0
    for i, (speaker, text) in enumerate(turns):
        out.append(Segment(f"s{i}", speaker, t, t + 3000, text))
        t += 3500
    return out


def _sentences(lang: str, turns: list[tuple[str, str]]):
    return split_transcript(_segments(turns), BOOK.get(lang), 700)


def _decisions(lang: str, turns: list[tuple[str, str]]) -> list[str]:
    rules = BOOK.get(lang)
    sents = _sentences(lang, turns)
    words = [set(rules.tokenizer.content_words(s.text, rules.stopwords)) for s in sents]
    return [d.sentence.segment_id for d in DecisionFinder(rules).find(sents, words)]


def _actions(lang: str, turns: list[tuple[str, str]], names: list[str] | None = None):
    rules = BOOK.get(lang)
    book = NameBook((names or []) + [t[0] for t in turns], rules)
    items = ActionFinder(rules, book, MEETING).find(_sentences(lang, turns))
    return [(a.sentence.segment_id, a.owner, a.deadline.when.isoformat()[:16]
             if a.deadline else None) for a in items]


# sentences ---------------------------------------------------------------------------------

def test_punctuated_text_is_cut_at_sentence_ends():
    sents = _sentences("zh", [("王", "同意。张伟负责周五前完成！好吗？")])
    assert [s.text for s in sents] == ["同意。", "张伟负责周五前完成！", "好吗？"]
    assert sents[0].start_ms == 0 and sents[-1].end_ms == 3000
    assert sents[0].end_ms <= sents[1].start_ms


def test_english_abbreviations_do_not_end_sentences():
    sents = _sentences("en", [("A", "Open at 6 p.m. tomorrow. Then we close.")])
    assert [s.text for s in sents] == ["open at 6 p.m. tomorrow.", "then we close."]


def test_recogniser_output_is_cut_at_pauses_between_words():
    words = tuple(Word(w, s, s + 300) for w, s in
                  [("同意", 0), ("就", 400), ("这么", 700), ("定", 1000), ("了", 1300),
                   ("张伟", 3000), ("负责", 3300), ("报告", 3600)])
    seg = Segment("s0", "王", 0, 3900, "同意 就 这么 定 了 张伟 负责 报告", words=words)
    sents = split_transcript([seg], BOOK.get("zh"), 700)
    assert [s.text for s in sents] == ["同意就这么定了", "张伟负责报告"]
    assert (sents[1].start_ms, sents[1].end_ms) == (3000, 3900)


def test_long_unpunctuated_text_is_cut_before_starters_and_enumerations():
    text = "总结一下 今天 会议 决定 的 几件 事 一是 水库 今天 开始 预泄 二是 沙袋 从 市 储备库 调拨 三是 演练 推迟 一周"
    sents = _sentences("zh", [("王", text)])
    assert [s.text[:2] for s in sents] == ["总结", "一是", "二是", "三是"]


def test_chinese_tokens_from_vosk_are_joined():
    sents = _sentences("zh", [("王", "张 伟 负责 周五 前 完成")])
    assert sents[0].text == "张伟负责周五前完成"


# decisions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "会议决定，下周三开展应急演练。", "经研究，同意增加护林员编制。", "好，就这么定了，明天开始预泄。",
    "会议确定由各乡镇负责群众转移。", "最后定下来用方案二。", "上线时间就定在下周二晚上。",
    "原则上同意这个方案。", "那就按民政局的建议执行。", "从今晚开始实行二十四小时值班。"])
def test_chinese_decision_cues(text):
    assert _decisions("zh", [("王", text)]) == ["s0"]


@pytest.mark.parametrize("text", [
    "We agreed to open the shelters at six.", "Let's go with option B.",
    "The decision is to close schools on Friday.", "We decided to delay the launch.",
    "We'll stick with the current vendor.", "It's settled, the drill moves to March.",
    "We're going with the cheaper quote.", "The budget is approved."])
def test_english_decision_cues(text):
    assert _decisions("en", [("A", text)]) == ["s0"]


@pytest.mark.parametrize("lang,text", [
    ("zh", "我不同意这个方案。"), ("zh", "这个事情还没定，下次再说。"), ("zh", "大家同意吗？"),
    ("zh", "具体时间待定。"), ("en", "We haven't decided yet."), ("en", "Do we agree on this?"),
    ("en", "We need to decide by Friday."), ("en", "I disagree with that.")])
def test_decision_exclusions(lang, text):
    assert _decisions(lang, [("A", text)]) == []


def test_short_confirmation_records_the_proposal():
    turns = [("张伟", "我建议今天就开始预泄，把水位降下来。"), ("王局长", "同意。")]
    assert _decisions("zh", turns) == ["s0"]
    turns = [("Ben", "We could cut the invoice preview and ship on time."), ("Sarah", "Agreed.")]
    assert _decisions("en", turns) == ["s0"]


def test_proposal_agreed_by_another_speaker_is_a_decision():
    turns = [("Sarah", "Let's add an alert thirty days before expiry."),
             ("Lena", "Sounds good, I'll add it.")]
    assert _decisions("en", turns) == ["s0"]
    alone = [("Sarah", "Let's add an alert thirty days before expiry."),
             ("Lena", "What would it cost us?")]
    assert _decisions("en", alone) == []
    flow = [("Sarah", "Let's get started."), ("Lena", "Sure.")]
    assert _decisions("en", flow) == []


def test_recap_items_point_back_to_where_they_were_first_said():
    turns = [("王", "缺的沙袋从市储备库调拨。"), ("张", "好的。"),
             ("王", "总结一下今天会议决定的几件事：一是沙袋从市储备库调拨；二是演练推迟一周。")]
    found = _decisions("zh", turns)
    assert "s0" in found and "s2" in found  # the first item links back, the second is new


# actions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,owner,due", [
    ("张伟负责周五前完成申请报告。", "张伟", "2026-12-04T23:59"),
    ("请李娜明天上午九点前提交值班表。", "李娜", "2026-12-04T09:00"),
    ("由王局长牵头，下周一前拿出方案。", "王局长", "2026-12-07T23:59"),
    ("市应急管理局负责汇总，下周二上午十点前形成报告。", "市应急管理局", "2026-12-08T10:00"),
    ("各区县要在本周末之前完成一次隐患排查。", "各区县", "2026-12-06T23:59"),
    ("办公室负责排班表，今晚八点前发到群里。", "办公室", "2026-12-03T20:00"),
    ("小刘你三天内把数据核实一下。", "小刘", "2026-12-06T23:59"),
])
def test_chinese_named_owners(text, owner, due):
    assert _actions("zh", [("主持人", text)], ["张伟", "李娜"]) == [("s0", owner, due)]


def test_chinese_self_and_addressee_owners():
    turns = [("周敏", "手册你这周五之前更新完，发给我看一下。"), ("吴婷", "好的，我来负责，明天先发初稿。")]
    found = _actions("zh", turns)
    assert ("s0", "吴婷", "2026-12-04T23:59") in found  # spoken to: whoever answers
    assert ("s1", "吴婷", "2026-12-04T23:59") in found  # "我来": the speaker


def test_chinese_vocative_request_but_not_a_question():
    assert _actions("zh", [("王", "张伟，周五前把报告交上来。")], ["张伟"]) == [
        ("s0", "张伟", "2026-12-04T23:59")]
    assert _actions("zh", [("王", "张伟，物资储备现在够不够？")], ["张伟"]) == []


def test_chinese_meeting_flow_is_not_an_action():
    assert _actions("zh", [("王", "先请气象台介绍一下天气情况。"), ("李", "我先汇报一下。")]) == []


def test_several_actions_in_one_unpunctuated_sentence():
    text = "请 李娜 明天 上午 九点 前 提交 值班 表 另外 应急局 牵头 三 天 内 完成 隐患 排查"
    found = _actions("zh", [("王", text)], ["李娜"])
    assert found == [("s0", "李娜", "2026-12-04T09:00"), ("s0", "应急局", "2026-12-06T23:59")]


@pytest.mark.parametrize("text,owner,due", [
    ("Tom will send the report by Friday.", "Tom Walsh", "2026-12-04T23:59"),
    ("tom is going to book the venue by next monday", "Tom Walsh", "2026-12-07T23:59"),
    ("Maria to draft the alert by tomorrow at 10am.", "Maria", "2026-12-04T10:00"),
    ("assign the translation to kevin within two days", "Kevin", "2026-12-05T23:59"),
    ("tom make sure the plant is sandbagged by noon tomorrow", "Tom Walsh", "2026-12-04T12:00"),
])
def test_english_named_owners(text, owner, due):
    assert _actions("en", [("Chair", text)], ["Tom Walsh"]) == [("s0", owner, due)]


def test_english_self_addressee_and_imperative():
    turns = [("Maria", "Can you take care of the generator by tomorrow?"),
             ("Tom", "Sure, I'll have it there by noon tomorrow."),
             ("Maria", "Send me the paperwork by end of day.")]
    found = _actions("en", turns)
    assert ("s0", "Tom", "2026-12-04T23:59") in found
    assert ("s1", "Tom", "2026-12-04T12:00") in found
    assert ("s2", "Tom", "2026-12-03T23:59") in found


def test_english_things_and_days_are_not_owners():
    assert _actions("en", [("A", "The report will be ready by Friday."),
                           ("A", "Wednesday should work for the review.")]) == []


def test_deadline_from_the_owners_reply():
    turns = [("Sarah", "Ben, could you write up the postmortem?"), ("Ben", "Sure, by Thursday.")]
    assert _actions("en", turns, ["Ben", "Sarah"]) == [("s0", "Ben", "2026-12-03T23:59")] \
        or _actions("en", turns, ["Ben", "Sarah"])[0][:2] == ("s0", "Ben")


def test_recap_of_the_same_action_is_one_item():
    turns = [("王", "张伟负责周五前完成申请报告。"), ("王", "再说一遍，张伟负责周五前完成申请报告。")]
    assert len(_actions("zh", turns)) == 1


def test_question_about_who_is_no_action():
    assert _actions("en", [("A", "Who will send the minutes by Friday?")]) == []
    assert _actions("zh", [("A", "这个事情谁来负责？")]) == []


# keywords, chapters, summary, minutes ---------------------------------------------------------

def _transcript(lang: str, turns: list[tuple[str, str]]) -> Transcript:
    return Transcript(_segments(turns), lang, MEETING)


def test_keywords_skip_stopwords_and_rank_topic_words():
    turns = [("A", "The generator at the shelter failed."), ("B", "We need a new generator."),
             ("A", "The generator supplier can deliver one."), ("B", "Okay, thanks.")] * 2
    minutes = build_minutes(_transcript("en", turns), BOOK.get("en"))
    words = [k["word"] for k in minutes["keywords"]]
    assert words[0] == "generator" and "the" not in words and "okay" not in words


def test_chapters_start_at_agenda_phrases():
    flood = [("王", f"水库水位第{i}次上涨，防汛压力很大，需要预泄。") for i in range(6)]
    drill = [("王", "下一个议题，应急演练。")] + \
        [("张", f"演练脚本第{i}版，消防和医疗队伍参加演练。") for i in range(6)]
    minutes = build_minutes(_transcript("zh", flood + drill), BOOK.get("zh"))
    starts = [c["segment_id"] for c in minutes["chapters"]]
    assert starts[0] == "s0" and "s6" in starts
    assert all(c["title"] for c in minutes["chapters"])


def test_summary_is_short_and_in_order():
    turns = [("A", f"Sentence {i} about the flood barrier and sandbags near the river.")
             for i in range(30)] + [("B", "Yes.")]
    minutes = build_minutes(_transcript("en", turns), BOOK.get("en"))
    starts = [s["start_ms"] for s in minutes["summary"]]
    assert 3 <= len(starts) <= 5 and starts == sorted(starts)


def test_items_link_to_their_segment_and_the_recording():
    transcript = _transcript("en", [("A", "Hello."), ("Maria", "I'll send the plan by Friday.")])
    transcript.recording = {"recording_id": "r1", "player": "/minutes/room1", "offset_s": 12}
    minutes = build_minutes(transcript, BOOK.get("en"))
    item = minutes["action_items"][0]
    assert (item["segment_id"], item["start_ms"], item["t"]) == ("s1", 3500, "00:00:03")
    assert item["recording_url"] == "/minutes/room1#t=15" and item["recording_s"] == 15


def test_attendees_from_the_room_and_from_speech():
    data = {"language": "en", "date": "2026-12-03T10:00:00+08:00",
            "attendees": [{"name": "Ann", "joined_at": "2026-12-03T10:00:00+08:00",
                           "left_at": "2026-12-03T10:30:00+08:00"}],
            "segments": [{"speaker": "Ann", "start": 1, "end": 4, "text": "Hi."},
                         {"speaker": "Bob", "start": 5, "end": 9, "text": "Hello there."}]}
    minutes = build_minutes(parse_transcript(data, 10), BOOK.get("en"))
    ann, bob = minutes["attendees"]
    assert ann["left_at"] == "2026-12-03T10:30:00+08:00" and ann["times_from"] == "room"
    assert bob["joined_at"] == "2026-12-03T10:00:05+08:00" and bob["times_from"] == "speech"
    assert minutes["duration_s"] == 9


# rules files --------------------------------------------------------------------------------

def test_rules_files_load_and_unknown_languages_are_refused(tmp_path: Path):
    for lang in ("zh", "en", "ko"):
        assert Rules.load(lang).deadline_patterns
    with pytest.raises(RulesError, match="no minutes rules"):
        Rules.load("fr")
    with pytest.raises(RulesError, match="bad language"):
        Rules.load("../etc")
    (tmp_path / "xx.toml").write_text('[deadline]\n[[deadline.patterns]]\nre = "{nope}"\n')
    with pytest.raises(RulesError, match="unknown placeholder"):
        Rules.load("xx", tmp_path)


def test_region_codes_use_the_language_rules():
    assert BOOK.get("zh-CN") is BOOK.get("zh")


def test_decision_stated_as_who_organises_it():
    assert _decisions("zh", [("陈", "抽查由区安委办组织，重点是危化品企业。")]) == ["s0"]
    assert _decisions("zh", [("陈", "这个事情由谁负责？")]) == []


def test_answer_to_an_open_question_is_a_decision():
    turns = [("吴", "自查阶段的时间怎么定？"), ("陈", "自查到9月25日结束。")]
    assert _decisions("zh", turns) == ["s1"]
    assert _decisions("zh", [("吴", "自查阶段的时间怎么定？"), ("吴", "我再想想。")]) == []


def test_the_latest_deadline_of_a_clause_counts():
    turns = [("Rita", "I can draft the notice tonight and have it ready first thing tomorrow morning.")]
    assert _actions("en", turns) == [("s0", "Rita", "2026-12-04T12:00")]
    turns = [("王", "请李娜今天下班前把通知起草好，明天上午九点前正式印发。")]
    assert _actions("zh", turns, ["李娜"]) == [("s0", "李娜", "2026-12-04T09:00")]


def test_ordinal_words_are_not_always_enumerations():
    sents = _sentences("zh", [("王", "请各单位第一时间上报情况 第二 要做好值班")])
    assert [s.text for s in sents] == ["请各单位第一时间上报情况", "第二要做好值班"]
    sents = _sentences("en", [("A", "have it ready first thing tomorrow")])
    assert len(sents) == 1


def test_organisations_jieba_would_cut_are_whole_owners():
    turns = [("陈", "老何，你们住建局要在十月十五号之前完成燃气管道排查。")]
    assert _actions("zh", turns, ["何平"]) == [("s0", "住建局", "2026-10-15T23:59")]


def test_deadline_in_the_requesters_acceptance():
    turns = [("Hannah", "I can put together a timeline of the incidents."),
             ("Olivia", "Yes please, get that to me by EOD tomorrow.")]
    assert ("s0", "Hannah", "2026-12-04T23:59") in _actions("en", turns)
    assert ("s1", "Hannah", "2026-12-04T23:59") in _actions("en", turns)  # the imperative


def test_chinese_request_with_you_in_the_middle():
    text = "第二件 物资 高明 口罩 和 消毒液 的 库存 你 统计 一下 这 周三 之前 报给 我"
    assert _actions("zh", [("郑晓", text)], ["高明"]) == [("s0", "高明", "2026-12-09T23:59")]


def test_a_kind_of_staff_owns_an_action():
    turns = [("郑", "下个月五号之前，各网格员要把独居老人的台账更新一遍。")]
    assert _actions("zh", turns) == [("s0", "各网格员", "2027-01-05T23:59")]


@pytest.mark.parametrize("lang,text,names,owner,due", [
    ("zh", "由张伟同志负责，月中之前拿出初稿。", ["张伟"], "张伟", "2026-12-15T23:59"),
    ("zh", "这个事情交给小王，元旦前办完。", [], "小王", "2026-12-31T23:59"),
    ("zh", "春节前各单位要把隐患整改到位。", [], "各单位", "2027-02-05T23:59"),
    ("zh", "麻烦刘洋下周三前把预算做出来。", ["刘洋"], "刘洋", "2026-12-09T23:59"),
    ("en", "John and Mary will prepare the budget by next Friday.", ["John Smith", "Mary Jones"],
     "John Smith, Mary Jones", "2026-12-11T23:59"),
    ("en", "Action for Peter: update the risk register before Monday's meeting.", ["Peter Lane"],
     "Peter Lane", "2026-12-07T23:59"),
    ("en", "We need someone to book the room. Anna, that's you, by Wednesday.", ["Anna Bell"],
     "Anna Bell", "2026-12-09T23:59"),
    ("en", "Send the revised plan to the county by the 15th, Sam.", ["Sam Ng"], "Sam Ng",
     "2026-12-15T23:59"),
])
def test_more_ways_to_give_an_action(lang, text, names, owner, due):
    for form in (text, asr_text(text, lang)):
        found = _actions(lang, [("主持" if lang == "zh" else "Chair", form)], names)
        assert (found[-1][1], found[-1][2]) == (owner, due), (form, found)


def test_a_sentence_deadline_is_shared_by_its_owners():
    found = _actions("zh", [("王", "张伟牵头，李娜配合，两周内完成。")], ["张伟", "李娜"])
    assert found == [("s0", "张伟", "2026-12-17T23:59"), ("s0", "李娜", "2026-12-17T23:59")]


@pytest.mark.parametrize("lang,text", [
    ("zh", "经过讨论，大家一致认为采用第二套方案。"), ("zh", "最后我拍个板，就用国产设备。"),
    ("en", "So we're going to postpone the drill by a week."),
    ("en", "Okay, decision made: we buy the new radios."),
    ("en", "We will not be renewing the contract."),
    ("en", "Everyone's on board with moving the meeting to Tuesdays."),
    ("en", "Let's make it official: the shelter opens Friday.")])
def test_more_ways_to_decide(lang, text):
    for form in (text, asr_text(text, lang)):
        assert _decisions(lang, [("A", form)]) == ["s0"], form


def test_we_move_on_is_no_decision():
    assert _decisions("en", [("A", "Okay, we'll move on to the next item.")]) == []


def test_people_not_in_the_attendee_list():
    assert _actions("zh", [("发言人1", "请王芳明天上午十点前提交报告。")]) == [
        ("s0", "王芳", "2026-12-04T10:00")]
    assert _actions("zh", [("发言人1", "林晓东 同志 牵头 做好 转移 安置 今晚 十二点 前 完成")]) == [
        ("s0", "林晓东", "2026-12-03T23:59")]
    assert _actions("en", [("Speaker 1", "Can you handle the press release by noon, Victor?"),
                           ("Speaker 2", "Okay.")]) == [("s0", "Victor", "2026-12-03T12:00")]
    assert _actions("en", [("Speaker 1", "alice will send out the survey by thursday")]) == [
        ("s0", "Alice", "2026-12-10T23:59")]


def test_yixia_is_not_next_month():
    text = "小李 合同 的 事 你 抓 一下 月底 前 签 下来"
    assert _actions("zh", [("张", text)], ["李强"])[0][2] == "2026-12-31T23:59"  # 本月底
    assert _decisions("zh", [("张", "培训按原计划不变。")]) == ["s0"]


def test_you_and_someone_both_own_it():
    turns = [("Karen", "Dr. Patel, you and Greg sort out the transfer criteria before the weekend."),
             ("Dr. Amit Patel", "Sure.")]
    found = _actions("en", turns, ["Dr. Amit Patel", "Greg Hall"])
    assert found == [("s0", "Dr. Amit Patel, Greg Hall", "2026-12-06T23:59")]


def test_language_is_guessed_when_not_given_and_named_many_ways():
    segment = {"speaker": "A", "start": 0, "end": 2}
    zh = parse_transcript({"meeting_date": "2026-12-03", "segments": [
        {**segment, "text": "张伟 负责 周五 前 完成"}]}, 10)
    en = parse_transcript({"datetime": "2026-12-03", "segments": [
        {**segment, "text": "tom will do it by friday"}]}, 10)
    assert (zh.language, en.language) == ("zh", "en")
    for name in ("zh-CN", "cmn-Hans-CN", "Chinese", "zh_CN"):
        assert BOOK.get(name) is BOOK.get("zh")
    assert BOOK.get("English") is BOOK.get("en")


def test_organisation_owner_stops_at_the_task_before_it():
    text = "第一 山区 道路 的 隐患 排查 市 交通局 牵头 十二月 二十日 前 完成 排查"
    assert _actions("zh", [("刘", text)]) == [("s0", "市交通局", "2026-12-20T23:59")]
    turns = [("刘", "各区教育局要会同交警部门，在本月底前把护学岗落实到位。")]
    assert _actions("zh", turns) == [("s0", "各区教育局", "2026-12-31T23:59")]
    turns = [("王", "从今晚开始实行二十四小时领导带班，办公室负责排班表，今晚八点前发到群里。")]
    assert _actions("zh", turns) == [("s0", "办公室", "2026-12-03T20:00")]


def test_a_question_without_a_deadline_assigns_nothing():
    assert _actions("zh", [("刘", "孙浩 你们 城管局 的 融雪剂 现在 有 多少")], ["孙浩"]) == []


def test_english_settling_phrases_and_verb_forms():
    assert _decisions("en", [("Tom", "Then March twelfth it is.")]) == ["s0"]
    turns = [("Tom", "I'd like a chemical spill at the rail yard this time."),
             ("Lisa", "I like that, we haven't done hazmat in years.")]
    assert _decisions("en", turns) == ["s0"]
    turns = [("Tom", "Eric, your team writes the injects. I need a first draft by February 20th.")]
    assert _actions("en", turns, ["Eric Dunn"]) == [("s0", "Eric Dunn", "2027-02-20T23:59")]


def test_council_motions_and_directions():
    turns = [("Ana", "I move that we declare a local emergency."), ("Ben", "Second."),
             ("Mayor", "All in favor? Any opposed? The motion carries unanimously."),
             ("Mayor", "Paul, staff is directed to submit the request for state assistance by Friday.")]
    assert "s2" in _decisions("en", turns)
    assert _actions("en", turns, ["City Manager Paul Kim"]) == [
        ("s3", "City Manager Paul Kim", "2026-12-04T23:59")]


def test_deadline_said_just_before_in_the_same_turn():
    turns = [("黄书记", "渔船必须全部回港，今天晚上六点之前，一条都不能少。老罗你亲自盯着。")]
    assert _actions("zh", turns, ["罗镇长"]) == [("s0", "罗镇长", "2026-12-03T18:00")]
    turns = [("王", "张伟负责申请报告，周五前完成。李娜负责值班表。")]
    assert _actions("zh", turns, ["张伟", "李娜"]) == [("s0", "张伟", "2026-12-04T23:59"),
                                                    ("s0", "李娜", None)]


@pytest.mark.parametrize("text,decided", [
    ("We'll switch the shelter to the high school.", True),
    ("We're going to keep the curfew in place through Sunday.", True),
    ("We'll need more sandbags.", False), ("We'll see how it goes.", False),
    ("We'll talk about that next week.", False), ("We will reconvene at eight.", False)])
def test_we_will_statements(text, decided):
    assert (_decisions("en", [("Chair", text)]) == ["s0"]) is decided


@pytest.mark.parametrize("text,decided", [
    ("那就选第二个方案。", True), ("那 就 采用 国产 设备", True), ("我们就按老规矩办。", True),
    ("那就先这样，散会。", False), ("那就辛苦大家了。", False), ("那就明天再说吧。", False)])
def test_chinese_then_statements(text, decided):
    assert (_decisions("zh", [("主持", text)]) == ["s0"]) is decided


def test_minutes_deadlines_groups_and_who_stands_before_a_deadline():
    turns = [("指挥长", "三组，你们在下风向设置三个监测点。"), ("三组组长", "明白，监测点十五分钟内到位。")]
    assert _actions("zh", turns) == [("s0", "三组", "2026-12-03T10:15")]
    turns = [("指挥长", "同意设在体育馆。宣传组今天晚上八点前发布第一次通报。")]
    assert _actions("zh", turns) == [("s0", "宣传组", "2026-12-03T20:00")]
    turns = [("Priya", "Nadia, please update the status page within fifteen minutes."),
             ("Nadia Fox", "On it.")]
    assert _actions("en", turns) == [("s0", "Nadia Fox", "2026-12-03T10:15")]


def test_an_order_after_ones_own_commitment_is_no_order_to_others():
    turns = [("Leo", "I'll own the RCA. Draft by end of next week."), ("Priya", "Sounds good.")]
    assert _actions("en", turns) == [("s0", "Leo", "2026-12-11T23:59")]
    assert _decisions("en", [("Priya", "Decision: we roll back now.")]) == ["s0"]


def test_please_by_is_a_time_not_a_name():
    turns = [("韩院长", "冯主任，调整方案请于本周五前报医务科。"), ("冯主任", "好的。")]
    assert _actions("zh", turns, ["冯主任"]) == [("s0", "冯主任", "2026-12-04T23:59")]
    assert _decisions("zh", [("韩", "发热门诊要延长开放时间，改为二十四小时。")]) == ["s0"]


def test_then_proposal_agreed_and_we_are_keeping():
    turns = [("Gail", "Then rural routes get cancelled first, and we make the call by five a.m."),
             ("Rosa", "That matches what we did last year, and it worked.")]
    assert _decisions("en", turns) == ["s0"]
    assert _decisions("en", [("Gail", "Good. We're keeping the five a.m. call time.")]) == ["s0"]


@pytest.mark.parametrize("text", [
    "OK, so we'll go with the blue one.", "Let's lock that in.", "That's the plan then.",
    "So we're agreed: no new hires until Q3.", "Go with option two.", "Let's do Tuesday then.",
    "Okay, we won't do the survey this year.", "Final answer is yes.",
    "We're all in agreement to close the road.", "The committee voted to extend the contract.",
    "Going forward, all requests go through the portal.",
    "Effective immediately, the curfew is lifted.", "That's a done deal."])
def test_english_decision_phrasings(text):
    for form in (text, asr_text(text, "en")):
        assert _decisions("en", [("Chair", form)]) == ["s0"], form


@pytest.mark.parametrize("text", [
    "大家没意见的话，就这么执行。", "好，就选城东那块地。", "就照这个办。", "可以，照这个意见办。",
    "会议议定，下周一起实行错峰上班。", "那咱们就定在周三下午。", "拍板了，明天全面停工检查。",
    "从下周起，所有车辆一律进场登记。", "会议明确，今后重大事项必须集体研究。"])
def test_chinese_decision_phrasings(text):
    for form in (text, asr_text(text, "zh")):
        assert _decisions("zh", [("主持", form)]) == ["s0"], form


@pytest.mark.parametrize("lang,text", [
    ("zh", "这个我们再研究研究。"), ("zh", "同意的举手。"), ("zh", "你们有没有意见？"),
    ("en", "Let's talk about the budget next."), ("en", "We'll need to check with legal."),
    ("en", "I think we should wait, but let's hear from Sam.")])
def test_not_decisions(lang, text):
    assert _decisions(lang, [("A", text)]) == []


@pytest.mark.parametrize("lang,text,owner,day", [
    ("en", "Tom's going to handle the press by noon.", "Tom", "2026-12-03"),
    ("en", "I want Tom to draft the letter by Monday.", "Tom", "2026-12-07"),
    ("en", "Let's have Tom call the vendor by end of day.", "Tom", "2026-12-03"),
    ("en", "Tom has until Friday to finish the report.", "Tom", "2026-12-04"),
    ("en", "My team will deliver the maps tomorrow morning.", "Chair", "2026-12-04"),
    ("zh", "报告的事情就拜托张伟了，后天交。", "张伟", "2026-12-05"),
    ("zh", "我这周五之前把材料整理出来。", "主持", "2026-12-04"),
    ("zh", "明天之前张伟要把数据核对完。", "张伟", "2026-12-04"),
    ("zh", "张伟这边下周三交初稿。", "张伟", "2026-12-09")])
def test_more_action_phrasings(lang, text, owner, day):
    name = "张伟" if lang == "zh" else "Tom"
    chair = "主持" if lang == "zh" else "Chair"
    for form in (text, asr_text(text, lang)):
        found = _actions(lang, [(chair, form), (name, "好的" if lang == "zh" else "Sure.")], [name])
        assert any(o == owner and d and d[:10] == day for _, o, d in found), (form, found)


def test_sign_off_is_a_decision_and_disagreement_is_not():
    assert _decisions("en", [("Jane", "Then we sign it off today.")]) == ["s0"]
    assert _decisions("zh", [("付", "其中两个小区业主意见不统一。")]) == []


@pytest.mark.parametrize("text", [
    "Alright, option B it is.", "We're doing the drill on the 12th, that's confirmed.",
    "Confirmed: the shelter stays open overnight.", "So the call is to evacuate the east side.",
    "Let's not renew the lease.", "The recommendation is accepted.", "Green light for phase two.",
    "Fine, let's proceed.", "We're pausing the project for now.", "It's a go.",
    "We'll hold off on the purchase until January.", "The board approved the budget."])
def test_yet_more_english_decisions(text):
    for form in (text, asr_text(text, "en")):
        assert _decisions("en", [("Chair", form)]) == ["s0"], form


@pytest.mark.parametrize("text", [
    "What do we think about option B?", "We need to figure out the budget.",
    "Can we get an update on the shelter?", "I'll check and let you know.", "Let's not worry about it."])
def test_yet_more_english_non_decisions(text):
    assert _decisions("en", [("Chair", text)]) == []


@pytest.mark.parametrize("text", [
    "行，就这么着。", "会议认为，应当立即启动三级响应。", "立即启动四级应急响应。", "可以，就这么干。",
    "结论就是不搞了。", "按第一套方案执行。", "暂缓实施这个项目。", "取消今年的联欢会。",
    "会议原则同意该方案。", "这事儿就这么拍板了。"])
def test_yet_more_chinese_decisions(text):
    for form in (text, asr_text(text, "zh")):
        assert _decisions("zh", [("主持", form)]) == ["s0"], form


@pytest.mark.parametrize("text", ["这个方案大家觉得怎么样？", "我们下次再讨论。", "有没有不同意见？",
                                  "先听听大家的想法。", "张伟你说一下情况。"])
def test_yet_more_chinese_non_decisions(text):
    assert _decisions("zh", [("主持", text)]) == []


def test_evening_meeting_small_hours_are_tonight():
    from transcribe.minutes.deadlines import find_deadline
    evening = datetime.fromisoformat("2026-08-20T20:00:00+08:00")
    found = find_deadline("十一点前完成转移", BOOK.get("zh"), evening)
    assert found is not None and found.when.isoformat()[:16] == "2026-08-20T23:00"
    assert _decisions("zh", [("孔", "全部转移，安置到村委会和小学。")]) == ["s0"]
    assert _decisions("en", [("S", "The distribution point at the fire station, that's our plan.")]) == ["s0"]


# generalised owners and decisions (each in both forms) --------------------------------------

def _both(lang: str, turns: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    return [turns, [(s, asr_text(t, lang)) for s, t in turns]]


@pytest.mark.parametrize("form", [0, 1])
def test_an_english_unit_owns_what_it_needs_to_do(form: int):
    turns = _both("en", [("Mike", "And the ops team needs to patch the gateways by Monday.")])
    assert _actions("en", turns[form]) == [("s0", "Ops Team", "2026-12-07T23:59")]
    turns = _both("en", [("Mike", "The team will look at it by Monday.")])
    assert _actions("en", turns[form]) == []  # no unit named: a determiner and a suffix


@pytest.mark.parametrize("form", [0, 1])
def test_i_need_it_by_asks_the_person_named(form: int):
    turns = _both("en", [("Dan", "Fine. Maria, hiring plan, I need it by Friday."),
                         ("Maria", "You'll have it.")])
    assert ("s0", "Maria", "2026-12-04T23:59") in _actions("en", turns[form])


@pytest.mark.parametrize("form", [0, 1])
def test_the_chairs_go_ahead_dates_an_offer(form: int):
    turns = _both("en", [("Ben", "I can get quotes from two other carriers."),
                         ("Dan", "Do that. Quotes by next Wednesday.")])
    assert _actions("en", turns[form])[0] == ("s0", "Ben", "2026-12-09T23:59")


@pytest.mark.parametrize("form", [0, 1])
def test_let_me_know_does_not_hide_the_assignment(form: int):
    turns = _both("en", [("Linda", "Kevin, you'll talk to the city about it, let me know by "
                                   "Friday."), ("Kevin", "Will do.")])
    assert _actions("en", turns[form]) == [("s0", "Kevin", "2026-12-04T23:59")]


@pytest.mark.parametrize("form", [0, 1])
def test_english_indirect_decisions(form: int):
    for text in ["Let's do both.", "Fine, second shift it is. Maria, the plan by Friday.",
                 "Right, the shelter stays open through the weekend."]:
        assert _decisions("en", _both("en", [("Dan", text)])[form]) == ["s0"], text
    assert _decisions("en", _both("en", [("Dan", "Right, I think it is too early to say "
                                                  "anything.")])[form]) == []


@pytest.mark.parametrize("form", [0, 1])
def test_chinese_owner_before_a_task_verb_or_a_dated_directive(form: int):
    turns = _both("zh", [("李明", "会后办公室起草一个通报格式，后天给我看。")])
    assert _actions("zh", turns[form]) == [("s0", "办公室", "2026-12-05T23:59")]
    turns = _both("zh", [("周", "各街道从今晚起二十四小时值守，值班表明天中午前报指挥部。")])
    assert ("s0", "各街道", "2026-12-04T12:00") in _actions("zh", turns[form])


@pytest.mark.parametrize("form", [0, 1])
def test_chinese_objects_of_gen_are_not_owners(form: int):
    turns = _both("zh", [("徐海", "转诊的事我去跟卫健委协调，下周一给大家回话。")])
    assert _actions("zh", turns[form]) == [("s0", "徐海", "2026-12-07T23:59")]


@pytest.mark.parametrize("form", [0, 1])
def test_chinese_yes_no_question_settled_by_the_answer(form: int):
    turns = _both("zh", [("郑芳", "检查发现的问题要不要公开？"), ("李明", "要公开，倒逼整改。")])
    assert _decisions("zh", turns[form]) == ["s1"]


@pytest.mark.parametrize("form", [0, 1])
def test_another_items_date_is_not_shared(form: int):
    turns = _both("zh", [("冯", "卫健委再准备一支队伍待命。另外宣传部门要在今天六点前发布信息。")])
    assert _actions("zh", turns[form]) == [("s0", "卫健委", None),
                                           ("s0", "宣传部门", "2026-12-03T18:00")]


@pytest.mark.parametrize("form", [0, 1])
def test_a_bare_company_suffix_takes_the_word_before(form: int):
    turns = _both("zh", [("白", "热线的号码，下周一之前热力公司报上来。")])
    assert _actions("zh", turns[form]) == [("s0", "热力公司", "2026-12-07T23:59")]


@pytest.mark.parametrize("form", [0, 1])
def test_english_name_after_an_acknowledgement_and_if_you_can(form: int):
    turns = _both("en", [("Rachel", "Good. Grace, also brief the crews when they arrive."),
                         ("Grace", "Will do.")])
    assert _actions("en", turns[form])[0][:2] == ("s0", "Grace")
    turns = _both("en", [("Rachel", "Nina, get the website updated, today if you can.")])
    assert _actions("en", turns[form], ["Nina Shah"]) == [("s0", "Nina Shah",
                                                          "2026-12-03T23:59")]


@pytest.mark.parametrize("form", [0, 1])
def test_leave_that_with_you_gives_the_item_away(form: int):
    turns = _both("en", [("Helen", "Chris, I'll leave that with you, the council meets on "
                                   "Thursday.")])
    found = _actions("en", turns[form], ["Chris Doyle"])
    assert ("s0", "Chris Doyle", "2026-12-10T23:59") in found  # the next Thursday
    assert all(owner != "Helen" for _, owner, _ in found)


@pytest.mark.parametrize("form", [0, 1])
def test_english_priorities_and_bans_are_decisions(form: int):
    for text in ["OK. Priority for the Ohio crews is the north feeder.",
                 "Nobody touches residential laterals until those are back.",
                 "Last point, no alcohol sales in the concourse after half time."]:
        assert _decisions("en", _both("en", [("Rachel", text)])[form]) == ["s0"], text


@pytest.mark.parametrize("form", [0, 1])
def test_chair_present_tense_and_as_of_now_decisions(form: int):
    for text in ["Then we don't use Westside. We open the other three.",
                 "We're not waiting. The order goes out at six tomorrow.",
                 "The nine hundred in the warehouse are quarantined as of now."]:
        assert _decisions("en", _both("en", [("Denise", text)])[form]) == ["s0"], text
    for text in ["二中食堂先停业整顿。", "城区故障两个小时内必须到场。"]:
        assert _decisions("zh", _both("zh", [("汪", text)])[form]) == ["s0"], text


@pytest.mark.parametrize("form", [0, 1])
def test_youre_doing_it_and_a_name_with_its_date(form: int):
    turns = _both("en", [("Denise", "Luis, you're coordinating with the college. I want a note "
                                     "in writing by tomorrow at nine.")])
    assert _actions("en", turns[form], ["Luis Romero"]) == [
        ("s0", "Luis Romero", "2026-12-04T09:00")]
    turns = _both("en", [("Denise", "Amy, send Jamal the list tonight. Jamal, routes to me "
                                     "by noon Friday.")])
    found = _actions("en", turns[form], ["Amy Chen", "Jamal Wright"])
    assert ("s0", "Amy Chen", "2026-12-03T22:00") in found
    assert ("s0", "Jamal Wright", "2026-12-04T12:00") in found


@pytest.mark.parametrize("form", [0, 1])
def test_a_polite_question_is_a_request_with_the_next_sentences_date(form: int):
    turns = _both("en", [("Martin", "Zoe, can you look at whether insurance covers it? No "
                                     "rush, end of month is fine.")])
    assert _actions("en", turns[form], ["Zoe Hughes"]) == [("s0", "Zoe Hughes",
                                                           "2026-12-31T23:59")]


@pytest.mark.parametrize("form", [0, 1])
def test_two_units_acting_together(form: int):
    turns = _both("zh", [("秦", "市场监管局和教育局联合检查，十二月二十号之前全部过一遍。")])
    assert _actions("zh", turns[form])[0][1:] in {("教育局", "2026-12-20T23:59"),
                                                ("市场监管局", "2026-12-20T23:59")}


def test_a_name_called_mid_sentence_in_recogniser_text():
    text = asr_text("那就用机动经费，医疗点加到二十个。晓燕，点位图下周五前给我。", "zh")
    assert _actions("zh", [("郝", text)], ["谭晓燕"]) == [("s0", "谭晓燕", "2026-12-11T23:59")]


def test_the_day_of_an_event_is_not_today():
    assert _actions("zh", [("郝", "比赛当天全线禁飞，公安发个通告。")]) == [("s0", "公安", None)]
