"""The preview reads back what the product's writers produce, and survives files edited by hand."""

from __future__ import annotations

import pytest

from asr_core.types import Cue, Word
from asr_core.writers import SubtitleDocument, write_subtitles
from webui.preview import Preview, cue_rows, format_time, parse_lrc, parse_timed_blocks, read_preview

CUES = (
    Cue(0.24, 1.5, "hello world,", (Word("hello", 0.24, 0.48), Word(" world,", 0.72, 0.96))),
    Cue(2.0, 3.84, "this is\na test.", (Word("this", 2.0, 2.3), Word(" is", 2.4, 2.6), Word(" a", 2.7, 2.9),
                                         Word(" test.", 3.0, 3.84))),
    Cue(3725.5, 3727.0, "一小时以后"),
)


@pytest.mark.parametrize("fmt", ["srt", "vtt", "lrc", "elrc"])
def test_every_timed_format_written_by_the_product_reads_back(tmp_path, fmt):
    [path] = write_subtitles(SubtitleDocument(cues=CUES, duration_s=3730.0), tmp_path / "song", [fmt])
    preview = read_preview(path)
    assert [round(c.start_s, 2) for c in preview.cues] == [0.24, 2.0, 3725.5]
    assert " ".join(preview.cues[1].text.split()) == "this is a test."
    assert "一小时以后" in preview.cues[2].text
    if fmt in ("srt", "vtt"):
        assert [round(c.end_s, 2) for c in preview.cues] == [1.5, 3.84, 3727.0]


def test_a_format_without_timing_shows_its_text(tmp_path):
    [path] = write_subtitles(SubtitleDocument(cues=CUES, duration_s=3730.0), tmp_path / "song", ["txt"])
    preview = read_preview(path)
    assert preview.cues == ()
    assert "hello world" in preview.raw_text


def test_srt_with_a_bom_crlf_and_junk_blocks(tmp_path):
    path = tmp_path / "edited.srt"
    path.write_bytes(
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\nfirst\r\nline two\r\n\r\ngarbage\r\n\r\n"
        "2\r\n00:00:03,5 --> 00:00:04,000\r\nsecond\r\n".encode()
    )
    cues = read_preview(path).cues
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(1.0, 2.5, "first\nline two"), (3.5, 4.0, "second")]
    assert parse_timed_blocks("no cues here") == []


def test_lrc_lines_last_until_the_next_and_header_tags_are_ignored():
    text = "[ar:Artist]\n[00:05.00]<00:05.00>second <00:05.50>line\n[00:01.50][00:09.00]repeated\n[00:03.00]\n"
    cues = parse_lrc(text)
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [
        (1.5, 3.0, "repeated"), (5.0, 9.0, "second line"), (9.0, None, "repeated")
    ]


def test_rows_and_times_are_formatted_like_a_player():
    assert format_time(0.24) == "00:00.24"
    assert format_time(3725.5) == "1:02:05.50"
    assert format_time(None) == ""
    assert cue_rows(Preview(cues=tuple(parse_lrc("[00:01.00]a\n")), raw_text="")) == [["00:01.00", "", "a"]]


def test_an_unreadable_file_raises_oserror(tmp_path):
    with pytest.raises(OSError):
        read_preview(tmp_path / "missing.srt")
