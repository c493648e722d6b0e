"""Cue building from hand-written aligner output: segmentation, line layout, timing and presets."""

from __future__ import annotations

from itertools import pairwise

import pytest

from asr_core.breaks import BAD, CLAUSE_END, PLAIN, SENTENCE_END, break_penalty, ends_sentence
from asr_core.cue_layout import layout
from asr_core.cues import build_cues, words_on_screen
from asr_core.options import CueOptions
from asr_core.presets import PRESETS, TWO_FRAMES_S, preset_name_for, resolve_limits
from asr_core.punctuate import attach_punctuation
from asr_core.textwidth import display_width
from asr_core.types import AlignedUnit, Cue, Word
from asr_core.writers.document import one_line

DEFAULTS = CueOptions()


def timed_units(
    tokens: list[str], start: float = 0.0, step: float = 0.35, pauses: dict[int, float] | None = None
) -> list[AlignedUnit]:
    """Aligner units every ``step`` seconds, 80 % of it voiced, with extra pauses after chosen indexes."""
    result, t = [], start
    for i, token in enumerate(tokens):
        result.append(AlignedUnit(token, round(t, 3), round(t + step * 0.8, 3)))
        t += step + (pauses or {}).get(i, 0.0)
    return result


def cues_for(text: str, tokens: list[str], language: str, duration_s: float, **kwargs: object) -> list[Cue]:
    words = attach_punctuation(text, timed_units(tokens, **kwargs))  # type: ignore[arg-type]
    return build_cues(words, language=language, options=DEFAULTS, duration_s=duration_s)


def lines(cues: list[Cue]) -> list[list[str]]:
    return [cue.text.split("\n") for cue in cues]


def test_english_cues_end_at_sentence_ends_and_keep_the_width_limit() -> None:
    text = (
        "We left the camp before sunrise and walked along the river for hours. "
        "Nobody said a word until we reached the old bridge at the end of the valley."
    )
    tokens = [t.strip(".,") for t in text.split()]
    cues = cues_for(text, tokens, "English", 60.0)
    assert lines(cues) == [
        ["We left the camp before sunrise", "and walked along the river for hours."],
        ["Nobody said a word until we reached", "the old bridge at the end of the valley."],
    ]


def test_english_line_break_goes_before_a_preposition_not_after_an_article() -> None:
    text = "She packed her bags and left the house without saying goodbye to anyone"
    cues = cues_for(text, text.split(), "English", 30.0)
    assert lines(cues) == [["She packed her bags and left the house", "without saying goodbye to anyone"]]
    narrow = build_cues(
        attach_punctuation(text, timed_units(text.split())),
        language="English",
        options=CueOptions(max_line_width=24),
        duration_s=30.0,
    )
    assert all(not line.endswith((" the", " her", " and", " to")) for cue in lines(narrow) for line in cue)


def test_a_long_pause_always_ends_a_cue_and_the_cue_does_not_hang_over_the_silence() -> None:
    text = "Wait for me here. I will be right back"
    tokens = [t.strip(".") for t in text.split()]
    cues = cues_for(text, tokens, "English", 30.0, pauses={3: 5.0})
    assert [one_line(c) for c in cues] == ["Wait for me here.", "I will be right back"]
    last_word_end = cues[0].words[-1].end_s
    assert last_word_end <= cues[0].end_s <= last_word_end + 0.5


def test_chinese_lines_hold_at_most_16_full_width_characters_and_break_at_commas_or_conjunctions() -> None:
    text = "很多年轻人下班以后，喜欢去小酒馆或者咖啡店坐一坐，和朋友聊聊天。但是也有人觉得，晚上早点回家休息更重要。"
    tokens = [ch for ch in text if ch not in "，。"]
    cues = cues_for(text, tokens, "Chinese", 30.0, step=0.22)
    assert "".join(one_line(c) for c in cues) == text
    all_lines = [line for cue in cues for line in cue.text.split("\n")]
    assert all(display_width(line) <= 32 for line in all_lines)
    for line, following in pairwise(all_lines):
        assert line.endswith(("，", "。")) or following.startswith(("或者", "但是")), (line, following)


def test_japanese_lines_hold_13_characters_and_never_start_with_a_particle() -> None:
    text = "駅から歩いて十分ほどのところに、古いお寺があります。"
    tokens = [
        "駅",
        "から",
        "歩い",
        "て",
        "十",
        "分",
        "ほど",
        "の",
        "ところ",
        "に",
        "古い",
        "お",
        "寺",
        "が",
        "あり",
        "ます",
    ]
    cues = cues_for(text, tokens, "Japanese", 30.0, step=0.3)
    assert "".join(one_line(c) for c in cues) == text
    for cue in cues:
        for line in cue.text.split("\n"):
            assert display_width(line) <= 26
            assert not line.startswith(("の", "に", "が", "て", "ます"))


def test_mixed_chinese_english_keeps_english_words_apart() -> None:
    text = "我们先打开Jupyter Notebook，然后在第一个单元格里输入 import numpy as np。"
    tokens = [*"我们先打开", "Jupyter", "Notebook", *"然后在第一个单元格里输入", "import", "numpy", "as", "np"]
    cues = cues_for(text, tokens, "Chinese,English", 30.0)
    joined = " ".join(one_line(c) for c in cues)
    for phrase in ("Jupyter Notebook", "import numpy as np"):
        assert phrase in joined
    assert resolve_limits("Chinese,English", DEFAULTS, text).preset == "chinese"


def test_single_overlong_word_gets_a_cue_of_its_own() -> None:
    long_word = "https://example.com/" + "x" * 60
    words = [Word("see", 0.0, 0.3), Word(" " + long_word, 0.4, 1.0), Word(" now", 1.1, 1.3)]
    cues = build_cues(words, language="English", options=DEFAULTS, duration_s=5.0)
    assert [c.text for c in cues] == ["see", long_word, "now"]


def test_timing_extends_short_cues_to_the_minimum_duration_and_chains_small_gaps() -> None:
    words = [Word("Yes.", 1.0, 1.2), Word(" No.", 3.0, 3.2), Word(" Maybe.", 3.6, 3.9)]
    options = CueOptions(max_line_width=8, max_lines=1)
    cues = build_cues(words, language="English", options=options, duration_s=10.0)
    assert [c.text for c in cues] == ["Yes.", "No.", "Maybe."]
    assert cues[0].end_s == pytest.approx(1.0 + 5 / 6)  # minimum duration, beyond the 0.5 s linger
    assert cues[1].end_s == pytest.approx(3.6 - TWO_FRAMES_S)  # gap under 0.5 s closed to two frames
    assert cues[2].end_s == pytest.approx(3.6 + 5 / 6)


def test_reading_speed_extends_display_by_at_most_the_linger_limit() -> None:
    words = [Word("Extraordinarily", 0.0, 0.6), Word(" complicated", 0.6, 1.0), Word(" sentences", 1.0, 1.4)]
    cues = build_cues(words, language="English", options=DEFAULTS, duration_s=10.0)
    assert len(cues) == 1 and cues[0].end_s == pytest.approx(1.85)  # 37 characters need 1.85 s at 20/s
    faster = [Word("Extraordinarily", 0.0, 0.5), Word(" complicated", 0.5, 0.8), Word(" sentences", 0.8, 1.0)]
    cues = build_cues(faster, language="English", options=DEFAULTS, duration_s=10.0)
    assert cues[0].end_s == pytest.approx(1.5)  # would need 1.85 s, but lingers at most 0.5 s


def test_cues_never_run_into_the_next_cue_or_past_the_end_of_the_audio() -> None:
    words = [Word("first", 0.0, 0.5), Word(" second", 0.52, 0.9), Word(" third", 4.0, 9.5)]
    options = CueOptions(max_line_width=8, max_lines=1)
    cues = build_cues(words, language="English", options=options, duration_s=9.6)
    assert cues[0].end_s <= cues[1].start_s - TWO_FRAMES_S + 1e-9
    assert cues[-1].end_s <= 9.6


NARROW = CueOptions(max_line_width=8, max_lines=1)


def spans(cues: list[Cue]) -> list[tuple[float, float, str]]:
    return [(round(c.start_s, 4), round(c.end_s, 4), c.text) for c in cues]


def test_a_short_cue_borrows_time_before_its_first_word_but_not_from_the_cue_before() -> None:
    words = [Word("Hello.", 9.0, 9.3), Word(" Bye.", 9.8, 9.9)]
    cues = build_cues(words, language="English", options=NARROW, duration_s=10.0)
    hello_end = 9.8 - TWO_FRAMES_S  # closed up to the next cue
    assert spans(cues) == [
        (round(hello_end - 5 / 6, 4), round(hello_end, 4), "Hello."),  # minimum duration, taken before the word
        (9.8, 10.0, "Bye."),  # no room before it left: shorter, but visible
    ]


def test_words_stacked_at_the_end_after_a_silence_share_the_time_before_them() -> None:
    words = [Word("Home.", 1.0, 2.0)] + [Word(" " + w, 10.0, 10.0) for w in ("then", "nothing", "else")]
    cues = build_cues(words, language="English", options=NARROW, duration_s=10.0)
    step = 5 / 6 + TWO_FRAMES_S
    assert [c.text for c in cues] == ["Home.", "then", "nothing", "else"]
    assert spans(cues)[1:] == [
        (round(10.0 - 2 * step - 5 / 6, 4), round(10.0 - 2 * step, 4), "then"),
        (round(10.0 - step - 5 / 6, 4), round(10.0 - step, 4), "nothing"),
        (round(10.0 - 5 / 6, 4), 10.0, "else"),
    ]


def test_a_stacked_word_with_no_time_left_joins_the_cue_before_it() -> None:
    words = [Word("Goodbye", 8.0, 9.9), Word(" friend.", 10.0, 10.0)]
    cues = build_cues(words, language="English", options=NARROW, duration_s=10.0)
    assert spans(cues) == [(8.0, 10.0, "Goodbye\nfriend.")]  # one line each: the width still holds


def test_a_tiny_clip_with_stacked_words_gets_one_cue_for_all_of_its_time() -> None:
    words = [Word("Hello", 0.1, 0.1), Word(" there", 0.1, 0.1), Word(" friend.", 0.1, 0.1)]
    cues = build_cues(words, language="English", options=NARROW, duration_s=0.1)
    assert spans(cues) == [(0.0, 0.1, "Hello\nthere\nfriend.")]


def test_crowded_words_at_the_very_start_join_the_cue_after_them() -> None:
    words = [Word("a", 0.0, 0.0), Word(" extraordinary", 0.02, 0.3), Word(" words", 0.3, 0.6)]
    cues = build_cues(words, language="English", options=NARROW, duration_s=5.0)
    assert [c.text for c in cues] == ["a\nextraordinary", "words"]
    assert cues[0].start_s == 0.0 < cues[0].end_s <= cues[1].start_s - TWO_FRAMES_S + 1e-9


def test_zero_length_audio_with_words_gives_one_cue_instead_of_failing() -> None:
    words = [Word("Hi", 0.0, 0.0), Word(" there", 0.0, 0.0)]
    assert spans(build_cues(words, language="English", options=DEFAULTS, duration_s=0.0)) == [(0.0, 0.0, "Hi there")]


def test_words_on_screen_repairs_order_clamps_times_and_drops_blank_words() -> None:
    words = [Word("a", 2.0, 2.5), Word(" ", 2.5, 2.6), Word(" b", 1.0, 0.5), Word(" c", -1.0, 99.0)]
    repaired = words_on_screen(words, duration_s=10.0)
    assert [(w.text, w.start_s, w.end_s) for w in repaired] == [("a", 2.0, 2.5), (" b", 2.0, 2.0), (" c", 2.0, 10.0)]


def test_no_words_gives_no_cues() -> None:
    assert build_cues([], language="English", options=DEFAULTS, duration_s=10.0) == []
    assert build_cues([Word("  ", 0, 1)], language="", options=DEFAULTS, duration_s=10.0) == []


@pytest.mark.parametrize(
    ("language", "text", "preset"),
    [
        ("English", "", "latin"),
        ("French", "", "latin"),
        ("Chinese", "", "chinese"),
        ("Cantonese", "", "chinese"),
        ("Japanese", "", "japanese"),
        ("korean", "", "korean"),
        ("Chinese,English", "我们今天讲一个故事 ok", "chinese"),
        ("Chinese,English", "let us talk about this 好", "latin"),
        ("English,Japanese", "今日はいい天気", "japanese"),
        ("", "오늘은 날씨가 좋네요", "korean"),
        ("", "東京は大きい", "japanese"),
        ("", "北京很大", "chinese"),
        ("", "", "latin"),
    ],
)
def test_preset_follows_the_language_or_the_dominant_script(language: str, text: str, preset: str) -> None:
    assert preset_name_for(language, text) == preset


def test_options_override_the_preset_and_are_validated() -> None:
    limits = resolve_limits("Chinese", CueOptions(max_line_width=20, max_chars_per_s=7.5), "")
    assert (limits.preset, limits.max_line_width, limits.max_chars_per_s) == ("chinese", 20, 7.5)
    assert limits.max_lines == PRESETS["chinese"].max_lines
    assert resolve_limits("Chinese", CueOptions(preset="latin"), "").preset == "latin"
    with pytest.raises(ValueError):
        CueOptions(max_lines=4)
    with pytest.raises(ValueError):
        CueOptions(preset="klingon")
    with pytest.raises(ValueError):
        CueOptions(min_duration_s=3, max_duration_s=2)
    with pytest.raises(ValueError):
        resolve_limits("English", CueOptions(min_duration_s=8.0), "")  # above the preset's 7 s maximum


def test_preset_widths_are_the_documented_character_counts() -> None:
    assert PRESETS["latin"].max_line_width == 42
    assert PRESETS["chinese"].max_line_width == 2 * 16
    assert PRESETS["japanese"].max_line_width == 2 * 13
    assert PRESETS["korean"].max_line_width == 2 * 16


def test_break_penalties_rank_punctuation_conjunctions_and_bad_places() -> None:
    assert break_penalty("end.", " Next", 0.0, "latin") == SENTENCE_END
    assert break_penalty("well,", " then", 0.0, "latin") == CLAUSE_END
    assert break_penalty("tired", " and we", 0.0, "latin") < PLAIN
    assert break_penalty("the", " house", 0.0, "latin") == BAD
    assert break_penalty("Mr.", " Smith", 0.0, "latin") == BAD
    assert break_penalty("12", "月", 0.0, "chinese") == BAD
    assert break_penalty("的", "房子", 0.0, "chinese") == BAD
    assert break_penalty("觉", "但是他", 0.0, "chinese") < PLAIN
    assert break_penalty("天気", "です", 0.0, "japanese") == BAD
    assert break_penalty("house", " party", 0.6, "latin") < break_penalty("house", " party", 0.0, "latin")
    assert ends_sentence("Really?”") and not ends_sentence("e.g.")


def test_layout_keeps_one_line_when_it_fits_and_balances_two_lines() -> None:
    short = [Word("Short", 0, 1), Word(" line.", 1, 2)]
    assert layout(short, [0.0, PLAIN], 42, 2) == "Short line."
    words = [
        Word(w if i == 0 else " " + w, i, i + 1) for i, w in enumerate(("one", "two", "three", "four", "five", "six"))
    ]
    penalties = [0.0] + [PLAIN] * 5
    assert layout(words, penalties, 16, 2) == "one two three\nfour five six"


def test_layout_fills_more_lines_than_allowed_rather_than_breaking_the_width() -> None:
    words = [Word(w if i == 0 else " " + w, i, i + 1) for i, w in enumerate(("one", "two", "three", "four"))]
    assert layout(words, [0.0] + [PLAIN] * 3, 8, 1) == "one two\nthree\nfour"
    too_wide = [Word("see", 0, 1), Word(" " + "x" * 12, 1, 2), Word(" now", 2, 3)]
    assert layout(too_wide, [0.0, PLAIN, PLAIN], 8, 2) == "see\n" + "x" * 12 + "\nnow"
