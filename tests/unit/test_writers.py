"""Subtitle writers: format rules, sidecar names and atomic writes."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
import srt

from asr_core.errors import OutputError
from asr_core.options import WriterOptions
from asr_core.types import Cue, Word
from asr_core.writers import WRITERS, SubtitleDocument, atomic_write, get_writer, write_subtitles
from asr_core.writers import atomic as atomic_module
from asr_core.writers.atomic import temp_path_for
from asr_core.writers.timecode import clock_ms, lrc_stamp
from worker.leftovers import is_partial_output

LRC_LINE = re.compile(r"^\[\d{2,}:\d{2}\.\d{2}\].*$")
LRC_TAG = re.compile(r"^\[(ti|ar|al|length):[^\]]*\]$")
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"


def cue(start: float, end: float, *words: tuple[str, float]) -> Cue:
    """A cue whose words start at the given times; the text is the words joined."""
    timed = tuple(Word(text, at, at + 0.2) for text, at in words)
    return Cue(start, end, "".join(w.text for w in timed).strip(), timed)


def document(*cues: Cue, duration_s: float = 100.0, **kwargs: object) -> SubtitleDocument:
    return SubtitleDocument(cues=cues, duration_s=duration_s, **kwargs)  # type: ignore[arg-type]


SAMPLE = document(
    cue(1.0, 2.5, ("Hello", 1.0), (" world.", 1.5)),
    Cue(3.0, 5.0, "Two lines\nof text", ()),
    cue(4503.2, 4505.0, ("Late", 4503.2), (" line", 4503.6)),
    duration_s=4510.0,
)


def test_registry_has_every_format_with_its_sidecar_extension() -> None:
    assert {name: writer.extension for name, writer in WRITERS.items()} == {
        "srt": ".srt",
        "vtt": ".vtt",
        "lrc": ".lrc",
        "elrc": ".elrc",
        "txt": ".txt",
    }
    assert get_writer(" SRT ") is WRITERS["srt"]
    with pytest.raises(ValueError, match="unknown subtitle format"):
        get_writer("ass")


def test_time_stamps() -> None:
    assert clock_ms(3725.0456, ",") == "01:02:05,046"
    assert clock_ms(-1.0, ".") == "00:00:00.000"
    assert lrc_stamp(4503.2) == "75:03.20"  # minutes count past 59, no hours field
    assert lrc_stamp(59.999) == "01:00.00"
    assert lrc_stamp(0.004) == "00:00.00"


def test_srt_parses_with_the_srt_package_and_keeps_line_breaks() -> None:
    parsed = list(srt.parse(WRITERS["srt"].render(SAMPLE)))
    assert [p.index for p in parsed] == [1, 2, 3]
    assert parsed[1].content == "Two lines\nof text"
    assert parsed[2].start.total_seconds() == pytest.approx(4503.2)


def test_srt_skips_empty_cues_and_numbers_the_rest_contiguously() -> None:
    text = WRITERS["srt"].render(document(Cue(0, 1, "a"), Cue(1, 2, " \n "), Cue(2, 3, "b\n\nc")))
    assert text == "1\n00:00:00,000 --> 00:00:01,000\na\n\n2\n00:00:02,000 --> 00:00:03,000\nb\nc\n"


def test_vtt_has_its_header_and_escapes_markup() -> None:
    text = WRITERS["vtt"].render(document(Cue(0.5, 1.0, "a <b> & c --> d")))
    assert text == "WEBVTT\n\n00:00:00.500 --> 00:00:01.000\na &lt;b&gt; &amp; c --&gt; d\n"


def test_lrc_lines_are_start_stamps_only_with_minutes_past_59() -> None:
    text = WRITERS["lrc"].render(replace(SAMPLE, options=WriterOptions(lrc_blank_after_gap_s=None)))
    lines = text.splitlines()
    assert lines == ["[00:01.00]Hello world.", "[00:03.00]Two lines of text", "[75:03.20]Late line"]
    assert all(LRC_LINE.match(line) for line in lines)
    assert not any(re.search(r"\S\[\d+:\d+", line) for line in lines)  # no trailing end stamps
    assert "<" not in text  # word stamps belong in .elrc only


def test_lrc_joins_cjk_lines_without_a_space_and_uses_the_words_own_spacing() -> None:
    no_words = document(Cue(0, 1, "今天我们来聊\n一下"), Cue(2, 3, "我用\nPython"), Cue(4, 5, "안녕\n하세요"))
    assert WRITERS["txt"].render(no_words).splitlines() == ["今天我们来聊一下", "我用Python", "안녕 하세요"]
    words = (Word("我", 0, 0.1), Word("用", 0.1, 0.2), Word(" Python", 0.2, 1))
    with_words = document(Cue(0, 1, "我用\nPython", words), duration_s=1.0)
    assert WRITERS["lrc"].render(with_words) == "[00:00.00]我用 Python\n"


def test_lrc_marks_the_end_of_a_line_before_a_long_instrumental_break() -> None:
    doc = document(Cue(10, 12, "verse"), Cue(30, 32, "chorus"), Cue(33, 34, "again"), duration_s=60.0)
    assert WRITERS["lrc"].render(doc).splitlines() == [
        "[00:10.00]verse",
        "[00:12.00]",
        "[00:30.00]chorus",
        "[00:33.00]again",
        "[00:34.00]",
    ]
    off = document(*doc.cues, duration_s=60.0, options=WriterOptions(lrc_blank_after_gap_s=None))
    assert len(WRITERS["lrc"].render(off).splitlines()) == 3


def test_lrc_header_tags_are_off_by_default_and_come_from_the_files_own_tags() -> None:
    tags = {"TITLE": "River [Live]", "Artist": "Band", "comment": "x"}
    assert WRITERS["lrc"].render(document(Cue(1, 2, "la"), tags=tags)) == "[00:01.00]la\n[00:02.00]\n"
    enabled = document(Cue(1, 2, "la"), tags=tags, duration_s=125.4, options=WriterOptions(lrc_header_tags=True))
    lines = WRITERS["lrc"].render(enabled).splitlines()
    assert lines[:3] == ["[ti:River (Live)]", "[ar:Band]", "[length:02:05]"]
    assert all(LRC_TAG.match(line) or LRC_LINE.match(line) for line in lines)


def test_elrc_puts_a_stamp_before_every_word() -> None:
    text = WRITERS["elrc"].render(document(cue(2.0, 3.0, ("Come", 2.5), (" on", 2.7)), Cue(5, 6, "no words")))
    assert text.splitlines()[0] == "[00:02.00]<00:02.50>Come <00:02.70>on"
    assert "[00:05.00]no words" in text.splitlines()


def test_txt_is_one_line_per_cue() -> None:
    assert WRITERS["txt"].render(SAMPLE) == "Hello world.\nTwo lines of text\nLate line\n"


@pytest.mark.parametrize(
    ("name", "expected"), [("srt", ""), ("vtt", "WEBVTT\n"), ("lrc", ""), ("elrc", ""), ("txt", "")]
)
def test_no_cues_give_valid_empty_files(name: str, expected: str) -> None:
    assert WRITERS[name].render(document(duration_s=30.0)) == expected


def test_empty_lrc_with_header_tags_enabled_has_only_the_tags() -> None:
    doc = document(duration_s=0.0, tags={"title": "Silence"}, options=WriterOptions(lrc_header_tags=True))
    assert WRITERS["lrc"].render(doc) == "[ti:Silence]\n"


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN_DIR.iterdir() if p.is_dir()))
def test_golden_outputs_are_well_formed(case: str) -> None:
    folder = GOLDEN_DIR / case
    raw_srt = (folder / "expected.srt").read_bytes()
    assert not raw_srt.startswith(b"\xef\xbb\xbf") and b"\r" not in raw_srt
    subtitles = list(srt.parse(raw_srt.decode("utf-8")))
    assert all(a.end <= b.start for a, b in pairwise(subtitles))
    for name in ("expected.lrc", "expected.elrc"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            assert LRC_LINE.match(line) or LRC_TAG.match(line), line
    assert (folder / "expected.vtt").read_text(encoding="utf-8").startswith("WEBVTT\n")


def test_write_subtitles_names_sidecars_after_the_media_file(tmp_path: Path) -> None:
    written = write_subtitles(SAMPLE, tmp_path / "01 song.v2.flac", ["srt", "lrc", "elrc", "txt", "vtt"])
    assert [p.name for p in written] == [
        "01 song.v2.srt",
        "01 song.v2.lrc",
        "01 song.v2.elrc",
        "01 song.v2.txt",
        "01 song.v2.vtt",
    ]
    assert written[1].read_text(encoding="utf-8") == WRITERS["lrc"].render(SAMPLE)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_write_subtitles_writes_nothing_for_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_subtitles(SAMPLE, tmp_path / "a.mp3", ["srt", "bogus"])
    assert list(tmp_path.iterdir()) == []


def test_write_subtitles_removes_its_own_files_when_a_later_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def fail_on_lrc(src: str, dst: str) -> None:
        if str(dst).endswith(".lrc"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic_module.os, "replace", fail_on_lrc)
    with pytest.raises(OutputError, match="No space left"):
        write_subtitles(SAMPLE, tmp_path / "a.mp3", ["srt", "lrc"])
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_is_utf8_without_bom_with_unix_newlines(tmp_path: Path) -> None:
    target = tmp_path / "x.lrc"
    atomic_write(target, "[00:01.00]你好\n")
    assert target.read_bytes() == "[00:01.00]你好\n".encode()


def test_atomic_write_keeps_an_existing_files_permissions(tmp_path: Path) -> None:
    target = tmp_path / "x.srt"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="umask is POSIX")
def test_atomic_write_gives_new_files_the_usual_permissions(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "x.srt", "new")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "x.srt").stat().st_mode) == 0o644


def test_atomic_write_failure_leaves_no_temp_file_and_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "x.srt"
    target.write_text("old")

    def broken_replace(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic_module.os, "replace", broken_replace)
    with pytest.raises(OutputError, match=r"x\.srt"):
        atomic_write(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["x.srt"]
    assert target.read_text() == "old"


def test_atomic_write_into_a_missing_folder_raises_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        atomic_write(tmp_path / "missing" / "x.srt", "text")


def test_temp_names_are_the_ones_the_worker_cleans_up_after_a_crash(tmp_path: Path) -> None:
    name = temp_path_for(tmp_path / "01 song.srt").name
    assert name.startswith(".01 song.srt.tmp-")
    assert is_partial_output(name)
