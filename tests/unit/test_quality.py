"""Quality report and hallucination guards."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np

from asr_core.cues import build_cues
from asr_core.hallucination import (
    CRAMMED_WORDS,
    DENSE_TEXT,
    REPEATED_PHRASE,
    collapse_repeats,
    density_flags,
    drop_words_outside_speech,
)
from asr_core.options import CueOptions, OutputOptions, PipelineOptions
from asr_core.pipeline import PreparedFile, finish_file
from asr_core.presets import PRESETS
from asr_core.punctuate import InterpolatedWord, attach_punctuation
from asr_core.quality import QualityReport, assess, summarize
from asr_core.types import SAMPLE_RATE, AlignedUnit, Audio, Cue, Recognition, SpeechSpan, Word

DEFAULTS = CueOptions()


def spoken(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    """Words of ``text`` one every ``step`` seconds."""
    return [
        Word(w if i == 0 else " " + w, start + i * step, start + i * step + step * 0.8)
        for i, w in enumerate(text.split())
    ]


def test_clean_cues_have_no_violations_and_the_report_serialises_to_json() -> None:
    words = spoken("We walked along the river until the sun went down.")
    cues = build_cues(words, language="English", options=DEFAULTS, duration_s=10.0)
    report = assess(cues, words, language="English", options=DEFAULTS, duration_s=10.0, speech_s=4.0)
    assert report == QualityReport(
        preset="latin",
        cue_count=1,
        word_count=10,
        line_count=2,
        lines_over_width=0,
        cues_over_max_lines=0,
        too_short_cues=0,
        too_long_cues=0,
        reading_speed_violations=0,
        gap_violations=0,
        untimed_words=0,
        speech_chars_per_s=12.5,
        hallucination_flags=(),
    )
    assert json.loads(json.dumps(asdict(report)))["preset"] == "latin"


def test_each_kind_of_violation_is_counted() -> None:
    words = [Word("a", 0.0, 0.1)]
    cues = [
        Cue(0.0, 0.3, "too short!"),  # too short, and 10 chars in 0.3 s is too fast
        Cue(0.3, 9.0, "x" * 50 + "\nsecond\nthird"),  # too long, line too wide, three lines
        Cue(9.01, 9.5, "y" * 30),  # gap of 10 ms before it; too short and too fast
    ]
    report = assess(cues, words, language="English", options=DEFAULTS, duration_s=10.0)
    assert (report.too_short_cues, report.too_long_cues) == (2, 1)
    assert (report.lines_over_width, report.cues_over_max_lines, report.line_count) == (1, 1, 5)
    assert report.gap_violations == 2  # 0.3 -> 0.3 and 9.0 -> 9.01 are both under two frames
    assert report.reading_speed_violations == 2


def test_words_without_timing_are_counted() -> None:
    words = attach_punctuation("one two three", [AlignedUnit("one", 0, 0.5), AlignedUnit("three", 1, 1.5)])
    report = assess([], words, language="English", options=DEFAULTS, duration_s=5.0)
    assert report.untimed_words == 1
    assert sum(isinstance(w, InterpolatedWord) for w in words) == 1


def test_report_uses_the_preset_of_the_language_and_the_options() -> None:
    words = spoken("你 好")
    narrow = CueOptions(max_line_width=8)
    report = assess([Cue(0, 1, "你好你好你好")], words, language="Chinese", options=narrow, duration_s=5.0)
    assert report.preset == "chinese"
    assert report.lines_over_width == 1


def test_collapse_repeats_keeps_one_copy_of_a_looping_phrase() -> None:
    words = spoken("thank you " * 8 + "for watching", step=0.2)
    collapsed = collapse_repeats(words)
    assert "".join(w.text for w in collapsed) == "thank you for watching"
    assert collapsed[0] is words[0]


def test_collapse_repeats_ignores_punctuation_and_case_but_keeps_short_song_refrains() -> None:
    looping = [Word(("" if i == 0 else " ") + ("Hello," if i % 2 else "hello."), i, i + 0.5) for i in range(12)]
    assert len(collapse_repeats(looping)) == 1
    refrain = spoken("la la la la la la and then")
    assert collapse_repeats(refrain) == refrain
    chinese = [Word(ch, i * 0.1, i * 0.1 + 0.1) for i, ch in enumerate("谢谢大家" * 6)]
    assert "".join(w.text for w in collapse_repeats(chinese)) == "谢谢大家"


def test_repeated_phrases_raise_a_flag_in_the_report() -> None:
    words = spoken("thank you " * 8)
    report = assess([], words, language="English", options=DEFAULTS, duration_s=60.0)
    assert REPEATED_PHRASE in report.hallucination_flags


def test_density_flags_catch_text_too_dense_for_the_speech() -> None:
    latin = PRESETS["latin"]
    normal = spoken("this is a perfectly normal sentence to say out loud")
    assert density_flags(normal, speech_s=5.0, limits=latin) == ()
    assert density_flags(normal, speech_s=1.0, limits=latin) == (DENSE_TEXT,)
    assert density_flags(normal, speech_s=0.0, limits=latin) == (DENSE_TEXT,)
    crammed = normal + [Word(" invented", 20.0, 20.0)] * 12
    assert CRAMMED_WORDS in density_flags(crammed, speech_s=60.0, limits=latin)
    assert density_flags([], speech_s=0.0, limits=latin) == ()


def test_density_uses_the_script_preset() -> None:
    chinese = [Word(ch, i * 0.25, i * 0.25 + 0.2) for i, ch in enumerate("今天我们来聊一下城市里的夜生活")]
    assert density_flags(chinese, speech_s=4.0, limits=PRESETS["chinese"]) == ()
    assert density_flags(chinese, speech_s=0.5, limits=PRESETS["chinese"]) == (DENSE_TEXT,)


def test_words_outside_speech_spans_are_dropped() -> None:
    words = [Word("intro", 1.0, 1.5), Word(" real", 10.0, 10.5), Word(" edge", 12.1, 12.3), Word(" outro", 30.0, 31.0)]
    spans = [SpeechSpan(9.0, 12.0)]
    assert [w.text for w in drop_words_outside_speech(words, spans)] == [" real", " edge"]
    assert drop_words_outside_speech(words, spans, tolerance_s=0.0) == [words[1]]
    assert drop_words_outside_speech(words, []) == []


def test_summary_names_each_problem_and_is_empty_for_clean_subtitles():
    clean = {"too_short_cues": 0, "reading_speed_violations": 0, "hallucination_flags": ()}
    assert summarize(clean) == ""
    report = {**clean, "too_short_cues": 2, "untimed_words": 1, "hallucination_flags": ("dense_text",)}
    assert summarize(report) == "2 cues too short; 1 words without timing; suspicious text: dense_text"
    real = assess([], [], language="English", options=CueOptions(), duration_s=1.0)
    assert summarize(asdict(real)) == ""


def test_a_collapsed_repeat_still_raises_the_flag_for_the_written_file(tmp_path) -> None:
    looped = "thank you so much " * 8
    units = tuple(AlignedUnit(w, i * 0.4, i * 0.4 + 0.3) for i, w in enumerate(looped.split()))
    audio = Audio(np.full(20 * SAMPLE_RATE, 0.1, dtype=np.float32))
    prepared = PreparedFile(tmp_path / "a.wav", audio, (SpeechSpan(0.0, 20.0),), vad_used=False)

    result = finish_file(prepared, tmp_path / "a", PipelineOptions(output=OutputOptions(formats=("srt",))),
                         recognitions=[Recognition("English", looped.strip(), units)], ffmpeg="ffmpeg")

    assert (tmp_path / "a.srt").read_text(encoding="utf-8").count("thank you") == 1  # one copy kept
    assert result.quality["word_count"] == 4
    assert REPEATED_PHRASE in result.quality["hallucination_flags"]
    assert REPEATED_PHRASE in summarize(result.quality)
