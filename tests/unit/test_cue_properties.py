"""Properties of the cue builder (and of punctuation re-attachment) over random word streams."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr_core.breaks import boundary_penalties
from asr_core.cues import build_cues, group_words, words_on_screen
from asr_core.options import CueOptions
from asr_core.presets import TWO_FRAMES_S, resolve_limits
from asr_core.punctuate import attach_punctuation
from asr_core.textwidth import display_width, is_kept_char, is_no_space_char
from asr_core.types import AlignedUnit, Word

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LATIN_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz'", min_size=1, max_size=12)
LONG_WORD = st.text(alphabet="xyz", min_size=43, max_size=70)
CJK_WORD = st.sampled_from(list("我们今天聊一下城市的夜生活今日は東京へ行きます"))
HANGUL_WORD = st.sampled_from(["안녕하세요", "학교에서", "공부해요", "그리고"])
PUNCTUATION = st.sampled_from(["", "", "", ",", ".", "?", "，", "。", "!", "…"])


def _drawn_word(draw: st.DrawFn, first: bool, start: float, end: float) -> Word:
    kind = draw(st.sampled_from(["latin", "latin", "cjk", "hangul", "long"]))
    core = draw({"latin": LATIN_WORD, "cjk": CJK_WORD, "hangul": HANGUL_WORD, "long": LONG_WORD}[kind])
    space = "" if kind == "cjk" or first else " "
    return Word(space + core + draw(PUNCTUATION), start, end)


@st.composite
def word_streams(draw: st.DrawFn) -> tuple[list[Word], float]:
    """Words with leading spaces where the script uses them; times mostly increasing, sometimes not.

    Some words take no time, and some streams end in words an aligner stacked at the audio's end.
    """
    words, t = [], draw(st.floats(0, 3, allow_subnormal=False))
    for _ in range(draw(st.integers(0, 60))):
        start = t + draw(st.sampled_from([0.0, 0.0, 0.05, 0.3, 0.8, 2.5, -0.4]))
        end = start + draw(st.sampled_from([0.0, 0.1, 0.3, 0.6, 9.0, -0.1]))
        words.append(_drawn_word(draw, not words, start, end))
        t = max(t, start, end)
    duration = draw(st.sampled_from([t + 5.0, t, max(t - 2.0, 0.0), 0.1]))
    for _ in range(draw(st.integers(0, 12))):
        words.append(_drawn_word(draw, not words, duration, duration))
    return words, duration


CUE_OPTIONS = st.builds(
    CueOptions,
    max_line_width=st.sampled_from([None, 8, 20, 42]),
    max_lines=st.sampled_from([None, 1, 2, 3]),
    max_duration_s=st.sampled_from([None, 2.0, 7.0]),
    split_gap_s=st.sampled_from([None, 0.5, 3.0]),
    min_duration_s=st.sampled_from([None, 0.02, 1.5]),
    min_gap_s=st.sampled_from([None, 0.0, 0.5]),
)
LANGUAGES = st.sampled_from(["English", "Chinese", "Japanese", "Korean", "Chinese,English", ""])


@PROPERTY_SETTINGS
@given(stream=word_streams(), options=CUE_OPTIONS, language=LANGUAGES)
def test_cues_are_ordered_disjoint_complete_and_within_limits(
    stream: tuple[list[Word], float], options: CueOptions, language: str
) -> None:
    words, duration = stream
    cues = build_cues(words, language=language, options=options, duration_s=duration)
    visible = words_on_screen(words, duration)
    limits = resolve_limits(language, options, "".join(w.text for w in visible))
    groups = group_words(visible, boundary_penalties(visible, limits.preset), limits, duration)

    assert [w.text for cue in cues for w in cue.words] == [w.text for w in visible]
    for start, end in groups:
        if end - start > 1:
            assert max(w.end_s for w in visible[start:end]) - visible[start].start_s <= limits.max_duration_s + 1e-9
    boundaries = {start for start, _ in groups} | {len(visible)}
    shortest = min(TWO_FRAMES_S, limits.min_duration_s, duration)  # two frames, or all the audio there is
    first = 0
    for cue in cues:
        stop = first + len(cue.words)
        assert first in boundaries and stop in boundaries  # timing joins whole groups or none
        one_group = (first, stop) in groups
        first = stop
        assert 0.0 <= cue.start_s <= cue.end_s <= duration
        assert cue.end_s - cue.start_s >= shortest - 1e-9
        assert cue.end_s > cue.start_s or duration == 0.0
        assert "".join(cue.text.split()) == "".join("".join(w.text for w in cue.words).split())
        lines = cue.text.split("\n")
        fitting = [display_width(line) <= limits.max_line_width for line in lines]
        if len(cue.words) > 1 and one_group:
            assert all(fitting) and len(lines) <= limits.max_lines
            assert cue.end_s - cue.start_s <= limits.max_duration_s + 1e-9
        else:  # one word too wide on its own, or groups joined because their words had no time of their own
            lone_words = {w.text.strip() for w in cue.words}
            assert all(fits or line in lone_words for fits, line in zip(fitting, lines, strict=True))
    for earlier, later in pairwise(cues):
        assert earlier.start_s <= later.start_s
        assert later.start_s - earlier.end_s >= limits.min_gap_s - 1e-9


@st.composite
def texts_and_units(draw: st.DrawFn) -> tuple[str, list[AlignedUnit]]:
    """A punctuated text and aligner-style units for it, with units randomly dropped, added or garbled."""
    pieces = draw(
        st.lists(
            st.one_of(LATIN_WORD, CJK_WORD, st.sampled_from(["3.5", "1,000", "don’t", "50%", "well-known", "“Hi”"])),
            max_size=30,
        )
    )
    text = "".join(
        (piece if is_no_space_char(piece[0]) else " " + piece) + draw(PUNCTUATION) for piece in pieces
    ).lstrip()
    units: list[AlignedUnit] = []
    t = 0.0
    for token in text.split():
        cleaned = "".join(ch for ch in token if is_kept_char(ch))
        for unit in _split_out_cjk(cleaned):
            action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "extra", "garble"]))
            if action == "drop":
                continue
            if action == "extra":
                units.append(AlignedUnit("uh", t, t + 0.1))
            units.append(
                AlignedUnit(
                    unit if action != "garble" else unit[::-1] + "q",
                    t,
                    t + draw(st.floats(-0.1, 0.5, allow_subnormal=False)),
                )
            )
            t += draw(st.floats(0, 0.6, allow_subnormal=False))
    return text, units


def _split_out_cjk(cleaned: str) -> list[str]:
    parts: list[str] = []
    for ch in cleaned:
        if is_no_space_char(ch) or not parts or is_no_space_char(parts[-1][-1]):
            parts.append(ch)
        else:
            parts[-1] += ch
    return parts


@PROPERTY_SETTINGS
@given(case=texts_and_units())
def test_attach_punctuation_never_loses_text_and_gives_valid_times(case: tuple[str, list[AlignedUnit]]) -> None:
    text, units = case
    words = attach_punctuation(text, units)
    assert "".join("".join(w.text for w in words).split()) == "".join(text.split())
    assert all(w.start_s <= w.end_s for w in words)
    assert all(w.text.strip() for w in words)
