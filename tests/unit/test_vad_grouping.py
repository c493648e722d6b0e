"""group_segments: speech segments -> spans of at most max_span_s on the file's timeline (no model)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr_core.types import SpeechSpan
from asr_core.vad import group_segments

S = SpeechSpan


def test_neighbours_merge_while_the_span_stays_within_the_limit():
    segments = [S(1.0, 4.0), S(6.0, 9.0), S(12.0, 20.0), S(25.0, 31.0)]
    assert group_segments(segments, max_span_s=10.0, duration_s=40.0) == [S(1.0, 9.0), S(12.0, 20.0), S(25.0, 31.0)]


def test_a_span_may_reach_the_limit_exactly():
    assert group_segments([S(0.0, 2.0), S(8.0, 10.0)], max_span_s=10.0, duration_s=10.0) == [S(0.0, 10.0)]


def test_an_over_long_segment_is_cut_at_the_limit():
    assert group_segments([S(2.0, 27.0)], max_span_s=10.0, duration_s=30.0) == [
        S(2.0, 12.0),
        S(12.0, 22.0),
        S(22.0, 27.0),
    ]


def test_the_tail_of_a_cut_segment_still_merges_with_the_next_one():
    assert group_segments([S(0.0, 12.0), S(14.0, 15.0)], max_span_s=10.0, duration_s=20.0) == [
        S(0.0, 10.0),
        S(10.0, 15.0),
    ]


def test_segments_are_clamped_to_the_file_and_empty_ones_dropped():
    segments = [S(-0.3, 1.0), S(4.0, 5.5), S(6.0, 7.0)]
    assert group_segments(segments, max_span_s=1.0, duration_s=5.0) == [S(0.0, 1.0), S(4.0, 5.0)]


def test_unsorted_and_overlapping_segments_give_sorted_disjoint_spans():
    segments = [S(5.0, 9.0), S(0.0, 6.0)]
    assert group_segments(segments, max_span_s=6.0, duration_s=10.0) == [S(0.0, 6.0), S(6.0, 9.0)]


def test_no_segments_no_spans():
    assert group_segments([], max_span_s=30.0, duration_s=12.0) == []


def test_the_limit_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        group_segments([S(0.0, 1.0)], max_span_s=0.0, duration_s=1.0)


def overlap(a: SpeechSpan, start: float, end: float) -> float:
    return max(0.0, min(a.end_s, end) - max(a.start_s, start))


segment_lists = st.lists(
    st.tuples(st.floats(-5, 120, allow_subnormal=False), st.floats(0.01, 70, allow_subnormal=False)).map(
        lambda t: S(t[0], t[0] + t[1])
    ),
    max_size=12,
)


@given(
    segments=segment_lists,
    max_span_s=st.floats(1.0, 40.0, allow_subnormal=False),
    duration_s=st.floats(0.0, 120.0, allow_subnormal=False),
)
def test_spans_are_bounded_ordered_disjoint_maximal_and_cover_all_speech(segments, max_span_s, duration_s):
    spans = group_segments(segments, max_span_s, duration_s)
    eps = 1e-9
    for span in spans:
        assert 0.0 <= span.start_s < span.end_s <= duration_s
        assert span.duration_s <= max_span_s + eps
    for earlier, later in itertools.pairwise(spans):
        assert earlier.end_s <= later.start_s + eps
        # Greedy merging: a span only starts where merging into the previous one would exceed the limit.
        assert later.end_s - earlier.start_s > max_span_s
    for segment in segments:
        start, end = max(0.0, segment.start_s), min(duration_s, segment.end_s)
        if end > start:
            covered = sum(overlap(span, start, end) for span in spans)
            assert covered == pytest.approx(end - start, abs=1e-6)
