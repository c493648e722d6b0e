"""Punctuation re-attachment: aligner units (letters, digits and ' only) mapped back onto ASR text.

The unit lists below are written the way Qwen3-ForcedAligner tokenises: one unit per CJK character,
one per whitespace word with CJK characters split out, nagisa morphemes for Japanese, soynlp pieces
for Korean, punctuation stripped.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from asr_core.punctuate import InterpolatedWord, attach_punctuation
from asr_core.types import AlignedUnit, Word


def units(*texts: str, step: float = 0.5) -> list[AlignedUnit]:
    """Units 0.4 s long, one every ``step`` seconds, so each word's time tells which unit it got."""
    return [AlignedUnit(text, i * step, i * step + 0.4) for i, text in enumerate(texts)]


def texts(words: list[Word]) -> list[str]:
    return [w.text for w in words]


def spans(words: list[Word]) -> list[tuple[float, float]]:
    return [(round(w.start_s, 3), round(w.end_s, 3)) for w in words]


def test_english_punctuation_attaches_to_the_word_before_and_spacing_is_kept() -> None:
    text = "Hello, world! How are you?"
    words = attach_punctuation(text, units("Hello", "world", "How", "are", "you"))
    assert texts(words) == ["Hello,", " world!", " How", " are", " you?"]
    assert spans(words) == [(0.0, 0.4), (0.5, 0.9), (1.0, 1.4), (1.5, 1.9), (2.0, 2.4)]
    assert "".join(texts(words)) == text


def test_chinese_one_word_per_character_with_full_width_punctuation() -> None:
    text = "你好，世界。"
    words = attach_punctuation(text, units("你", "好", "世", "界"))
    assert texts(words) == ["你", "好，", "世", "界。"]
    assert spans(words)[3] == (1.5, 1.9)


def test_opening_quotes_and_brackets_attach_to_the_following_word() -> None:
    text = "他说：“走吧”。(Really) 「東京」"
    words = attach_punctuation(text, units("他", "说", "走", "吧", "Really", "東", "京"))
    assert texts(words) == ["他", "说：", "“走", "吧”。", "(Really)", " 「東", "京」"]


def test_japanese_morphemes_stay_whole_and_numbers_split_by_nagisa_are_rejoined() -> None:
    text = "今日はいい天気ですね。3.5キロ走った！"
    aligned = units("今日", "は", "いい", "天気", "です", "ね", "3", "5", "キロ", "走っ", "た")
    words = attach_punctuation(text, aligned)
    assert texts(words) == ["今日", "は", "いい", "天気", "です", "ね。", "3.5", "キロ", "走っ", "た！"]
    assert spans(words)[6] == (3.0, 3.9)  # "3.5" spans the units "3" and "5"


def test_korean_soynlp_pieces_are_merged_into_whole_words() -> None:
    text = "안녕하세요, 학교에서 공부해요!"
    words = attach_punctuation(text, units("안녕", "하세요", "학교", "에서", "공부", "해요"))
    assert texts(words) == ["안녕하세요,", " 학교에서", " 공부해요!"]
    assert spans(words) == [(0.0, 0.9), (1.0, 1.9), (2.0, 2.9)]


def test_mixed_chinese_and_english() -> None:
    text = "我用Python写了代码，very good。"
    words = attach_punctuation(text, units("我", "用", "Python", "写", "了", "代", "码", "very", "good"))
    assert texts(words) == ["我", "用", "Python", "写", "了", "代", "码，", "very", " good。"]
    assert spans(words)[2] == (1.0, 1.4)


def test_full_width_punctuation_splits_one_aligner_unit_into_two_words() -> None:
    # The aligner sees "OK。Let" as one whitespace token and returns the single unit "OKLet".
    text = "好的,OK。Let me see"
    words = attach_punctuation(text, units("好", "的", "OKLet", "me", "see"))
    assert texts(words) == ["好", "的,", "OK。", "Let", " me", " see"]
    ok, let = words[2], words[3]
    assert (ok.start_s, let.end_s) == (1.0, 1.4)
    assert ok.end_s == pytest.approx(1.16) and let.start_s == pytest.approx(1.16)  # shared by character count


@pytest.mark.parametrize(
    ("text", "unit", "word"),
    [
        ("It 3.5 times.", "35", " 3.5"),
        ("It 1,000 times.", "1000", " 1,000"),
        ("It $1,000 times.", "1000", " $1,000"),
        ("It 12% times.", "12", " 12%"),
        ("It 50/50 times.", "5050", " 50/50"),
        ("It well-known times.", "wellknown", " well-known"),
        ("It don’t times.", "dont", " don’t"),
        ("It isn't times.", "isn't", " isn't"),
        ("It U.S. times.", "US", " U.S."),
    ],
)
def test_numbers_contractions_hyphens_and_symbols_stay_one_word(text: str, unit: str, word: str) -> None:
    words = attach_punctuation(text, units("It", unit, "times"))
    assert texts(words)[1] == word
    assert spans(words)[1] == (0.5, 0.9)
    assert not any(isinstance(w, InterpolatedWord) for w in words)


def test_standalone_punctuation_joins_the_word_before_or_the_first_word() -> None:
    text = "♪ la - la ♪"
    words = attach_punctuation(text, units("la", "la"))
    assert texts(words) == ["♪ la -", " la ♪"]


def test_sentences_glued_at_a_chunk_border_get_their_space_back() -> None:
    # Two chunks "... the end." and "Next one" were joined without a space; the aligner ran per chunk.
    words = attach_punctuation("the end.Next one", units("the", "end", "Next", "one"))
    assert texts(words) == ["the", " end.", " Next", " one"]


def test_abbreviation_inside_one_unit_is_not_split() -> None:
    words = attach_punctuation("e.g. this", units("eg", "this"))
    assert texts(words) == ["e.g.", " this"]


def test_case_and_width_differences_still_match() -> None:
    words = attach_punctuation("ＡＢＣ hello", units("abc", "HELLO"))
    assert spans(words) == [(0.0, 0.4), (0.5, 0.9)]
    assert not any(isinstance(w, InterpolatedWord) for w in words)


def test_missing_units_give_interpolated_words_between_their_neighbours() -> None:
    words = attach_punctuation("one two three four", [AlignedUnit("one", 0.0, 1.0), AlignedUnit("four", 3.0, 4.0)])
    assert texts(words) == ["one", " two", " three", " four"]
    assert [type(w) for w in words] == [Word, InterpolatedWord, InterpolatedWord, Word]
    assert spans(words) == [(0.0, 1.0), (1.0, 1.75), (1.75, 3.0), (3.0, 4.0)]  # split 3:5 by letters


def test_missing_units_at_the_edges_get_a_nominal_duration() -> None:
    words = attach_punctuation("one two three", [AlignedUnit("two", 5.0, 5.5)])
    assert [type(w) for w in words] == [InterpolatedWord, Word, InterpolatedWord]
    assert spans(words) == [(4.7, 5.0), (5.0, 5.5), (5.5, 5.8)]


def test_extra_units_are_ignored_without_losing_text() -> None:
    text = "hello world"
    words = attach_punctuation(text, units("hello", "uh", "world"))
    assert texts(words) == ["hello", " world"]
    assert spans(words) == [(0.0, 0.4), (1.0, 1.4)]


def test_units_for_different_text_never_crash_and_never_lose_text() -> None:
    text = "completely different words here"
    words = attach_punctuation(text, units("nothing", "alike", "xyz"))
    assert "".join(texts(words)) == text
    assert all(w.start_s <= w.end_s for w in words)


def test_zero_length_and_reversed_units_give_valid_spans() -> None:
    aligned = [AlignedUnit("a", 1.0, 1.0), AlignedUnit("b", 2.0, 1.5), AlignedUnit("c", 1.8, 2.2)]
    words = attach_punctuation("a b c", aligned)
    assert spans(words) == [(1.0, 1.0), (2.0, 2.0), (1.8, 2.2)]  # times kept; order is the cue builder's job


def test_no_units_at_all_interpolates_every_word_from_zero() -> None:
    words = attach_punctuation("one two", [])
    assert all(isinstance(w, InterpolatedWord) for w in words)
    assert spans(words) == [(0.0, 0.3), (0.3, 0.6)]


def test_empty_and_blank_text_give_no_words() -> None:
    assert attach_punctuation("", units("stray")) == []
    assert attach_punctuation("  \n", []) == []


def test_text_without_letters_is_kept_as_one_untimed_word() -> None:
    words = attach_punctuation("...", [])
    assert texts(words) == ["..."]
    assert isinstance(words[0], InterpolatedWord)


def test_interpolated_words_keep_their_class_when_shifted_onto_the_file_timeline() -> None:
    word = attach_punctuation("one", [])[0]
    shifted = replace(word, start_s=word.start_s + 10, end_s=word.end_s + 10)
    assert isinstance(shifted, InterpolatedWord) and shifted.start_s == 10.0
